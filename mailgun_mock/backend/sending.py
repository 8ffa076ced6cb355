"""The Mailgun sending operations of :class:`~mailgun_mock.backend.core.core.Backend`: messages,
messages.mime, the SMTP relay (a message submitted over SMTP goes the way of messages.mime),
resend, the mock's delivery rules, and the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.ids import new_hex_id
from ..lang.send_rules import parse_rule
from ..mail.parse import ParsedMessage
from ..sending.form import SendRequest, mime_content_type_error, parse_mime, parse_send, parse_send_mime
from ..sending.outbox import Outbound
from .inbound import InboundOperations
from .lists import ListOperations
from .templates import TemplateOperations

__all__ = ["SCHEDULING_HORIZON", "SendingOperations"]

#: How far ahead o:deliverytime may be: "up to 3 or 7 days in advance", by plan (Mailgun's document).
SCHEDULING_HORIZON = 7 * 86400


class SendingOperations(InboundOperations, TemplateOperations, ListOperations):
    """Sending, and what steers it in the mock. Builds on inbound: mail sent to a domain the mock
    receives for is routed inbound too (loopback).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbound = Outbound(self.config, self.clock, self.store, lambda: self.base_url, self.emit,
                                 self.delivery.call_at, self.receive_inbound)

    def send_message(self, domain: str, params: Any, files: Sequence[tuple[str, str, bytes, str]]) -> dict[str, str]:
        """``POST /v3/<domain>/messages``: build, keep and deliver (on the mock's clock) a message.

        :raises BadRequest: with Mailgun's validation messages.
        :raises PayloadTooLarge: over the size limit.
        """
        self.check_domain(domain)
        self.check_may_send(domain)
        params = self.templated_form(domain, params)
        now = self.clock.now()
        req = parse_send(domain, params, files, now=now, max_size=self.config.max_message_size)
        self._check_horizon(req.deliver_at, now)
        answer = self.outbound.send(self.expand_send(req))
        self.store.mailbox.note_options(answer["id"], req.options)  # shown by the web inbox
        return answer

    @staticmethod
    def _check_horizon(deliver_at: float | None, now: float) -> None:
        """Refuse ``o:deliverytime`` past Mailgun's scheduling horizon (its larger plan's: 7 days)."""
        if deliver_at is not None and deliver_at - now > SCHEDULING_HORIZON:
            raise BadRequest(f"'o:deliverytime' is too far in the future: messages can be scheduled at most "
                             f"{SCHEDULING_HORIZON // 86400} days ahead")

    def delete_envelopes(self, domain: str) -> dict[str, str]:
        """``DELETE /v3/<domain>/envelopes``: drop the domain's scheduled and undelivered mail."""
        self.check_domain(domain)
        self.outbound.clear_envelopes(domain)
        return {"message": "done"}

    def send_mime(self, domain: str, params: Any, files: Sequence[tuple[str, str, bytes, str]],
                  content_type: str) -> dict[str, str]:
        """``POST /v3/<domain>/messages.mime``: send a ready MIME message (multipart only), with its
        ``X-Mailgun-*`` headers read as options (``sending/mailgun_headers.py``)."""
        self.check_domain(domain)
        self.check_may_send(domain)
        problem = mime_content_type_error(content_type)
        if problem is not None:
            raise BadRequest(problem)
        req = parse_send_mime(domain, params, files, now=self.clock.now(), max_size=self.config.max_message_size)
        return self._send_ready(req)

    def send_relay(self, domain: str, raw: bytes, sender: str, recipients: Sequence[str],
                   options: Mapping[str, Any] | None = None) -> dict[str, str]:
        """A message submitted to the SMTP relay by a login of ``domain``: sent as ``messages.mime`` sends
        the same MIME (its ``X-Mailgun-*`` headers read as options), to the envelope's recipients, with
        ``method: smtp`` in its ``accepted`` events.

        :param raw: the message as received (after dot-unstuffing).
        :param sender: ``MAIL FROM`` (``""`` for the null sender: the From address is used).
        :param recipients: every ``RCPT TO``, Bcc included.
        :param options: further ``o:``/``v:``/``t:`` fields, as a ``messages.mime`` form would carry.
        :raises NotFound: ``Domain not found: <domain>``.
        :raises PayloadTooLarge: over the size limit.
        :raises BadRequest: with the HTTP API's message (too many recipients, an invalid
            ``X-Mailgun-*`` value, an unknown template…).
        :raises RuleRejection: when a ``reject`` rule (or a ``reject@`` test recipient) matches.
        """
        self.check_domain(domain)
        self.check_may_send(domain)
        req = parse_mime(domain, raw, [(r, r) for r in recipients], options, now=self.clock.now(),
                         max_size=self.config.max_message_size, sender=sender, method="smtp")
        return self._send_ready(req)

    def _send_ready(self, req: SendRequest) -> dict[str, str]:
        """Send a ready message: its template rendered, its list recipients expanded."""
        self._check_horizon(req.deliver_at, self.clock.now())
        if req.template is not None:
            req = self.templated_mime(req)
        answer = self.outbound.send(self.expand_send(req))
        self.store.mailbox.note_options(answer["id"], req.options)  # shown by the web inbox
        return answer

    def resend_message(self, domain: str, key: str, to: Sequence[str]) -> dict[str, str]:
        """``POST`` on a storage URL with ``to``: send the stored message again to new recipients.

        The stored copy is what was delivered, so its remaining ``X-Mailgun-*`` headers (a template's
        name, say) are not read as instructions again."""
        stored = self.get_stored_message(domain, key)
        self.check_may_send(domain)
        req = parse_send_mime(domain, {"to": list(to)}, [("message", "message.eml", stored.raw, "message/rfc822")],
                              now=self.clock.now(), max_size=self.config.max_message_size, mailgun_headers=False)
        return self.outbound.send(req)

    def create_rule(self, data: Any) -> dict[str, Any]:
        """``POST /mock/rules``: add a delivery rule (what happens to matching sends)."""
        if not isinstance(data, Mapping):
            raise BadRequest("a rule is a JSON object")
        rule = parse_rule(data, rule_id=new_hex_id(6))
        self.store.add_rule(rule)
        return rule.to_json()

    def list_rules(self) -> list[dict[str, Any]]:
        """``GET /mock/rules``: the rules, in the order they are tried."""
        return [rule.to_json() for rule in self.store.rules()]

    def delete_rule(self, rule_id: str) -> None:
        """``DELETE /mock/rules/<id>``.

        :raises NotFound: ``Rule not found``.
        """
        if not self.store.delete_rules(rule_id):
            raise NotFound("Rule not found")

    def clear_rules(self) -> None:
        """``DELETE /mock/rules``: forget every rule."""
        self.store.delete_rules()

    def sent_messages(self) -> list[dict[str, Any]]:
        """The outbox: every sent message, oldest first, as stored (one entry per stored copy)."""
        out = []
        for sent in self.store.sent():
            for key in sent.storage_keys:
                message = self.store.get_message(key, self.clock.now())
                if message is None:
                    continue
                parsed = ParsedMessage(message.raw)
                out.append({
                    "id": sent.message_id, "domain": sent.domain, "from": parsed.from_, "to": parsed.header("To"),
                    "cc": parsed.header("Cc"), "recipients": list(message.recipients), "subject": parsed.subject,
                    "text": parsed.body_plain, "html": parsed.body_html, "tags": list(sent.tags),
                    "test_mode": sent.test_mode, "attachments": [a.filename for a in parsed.attachments],
                    "headers": parsed.headers, "sent_at": sent.sent_at, "deliver_at": sent.deliver_at,
                    "storage_url": message.storage_url(self.base_url),
                })
        return out

