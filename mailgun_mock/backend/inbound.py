"""Inbound mail: a message run through the routes as Mailgun does on receiving it, and the webhook
attempts that follows from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..base.addresses import domain_of
from ..base.errors import BadRequest, PayloadTooLarge
from ..base.ids import new_hex_id, new_storage_key
from ..base.records import DeliveryAttempt
from ..inbound.plan import plan_recipient
from ..mail.compose import build_message
from ..mail.parse import ParsedMessage
from ..state.mailbox import ReceivedMessage
from .context import Context
from .params import ADDRESS, clean_addresses

__all__ = ["InboundOperations"]


class InboundOperations(Context):
    """Receiving mail (``POST /mock/inbound``, SMTP, ``inject``) and its delivery log."""

    def receive_inbound(self, raw: bytes, recipients: Sequence[str] | None = None,
                        sender: str | None = None) -> dict[str, Any]:
        """Run one inbound message through the routes, as Mailgun does on receiving it.

        :param raw: the RFC 5322 message.
        :param recipients: the envelope recipients (default: To, Cc and Bcc).
        :param sender: the envelope sender (default: the From address).
        :returns: the inject answer: message id and, per recipient, routes, actions, storage.
        :raises PayloadTooLarge: over ``max_message_size``; nothing is kept.
        :raises BadRequest: empty message or no recipient.
        """
        if len(raw) > self.config.max_message_size:
            raise PayloadTooLarge(
                f"message size {len(raw)} bytes exceeds the {self.config.max_message_size} bytes limit")
        if not raw.strip():
            raise BadRequest("the message is empty")
        msg = ParsedMessage(raw)
        if len(msg.headers) > self.config.max_headers:
            raise BadRequest(f"the message has {len(msg.headers)} header lines, more than the "
                             f"{self.config.max_headers} allowed")
        rcpts = clean_addresses(recipients) if recipients else msg.addresses("To", "Cc", "Bcc")
        if not rcpts:
            raise BadRequest("no recipient: the message has no To, Cc or Bcc address and none was given")
        for rcpt in rcpts:
            if not ADDRESS.fullmatch(rcpt):
                raise BadRequest(f"recipient {rcpt[:100]!r} is not an email address")
            host = domain_of(rcpt)
            if not self.serves(host):
                raise BadRequest(f"Domain not found: {host} (the mock serves {', '.join(self.config.domains)})")
            self.note_domain(host)
        envelope_sender = sender.strip() if sender is not None else next(iter(msg.addresses("From")), "")
        message_id = msg.message_id.strip() or f"<{new_hex_id(12)}@mailgun-mock.invalid>"
        routes = self.store.routes()
        answer = [self.runner.run(msg, plan_recipient(routes, rcpt, msg, self.config.regex_timeout),
                                  envelope_sender, message_id) for rcpt in rcpts]
        # For the web inbox: the message with its route trace, whether or not a route kept it.
        self.store.mailbox.add(ReceivedMessage(new_storage_key(), raw, tuple(rcpts), envelope_sender, message_id,
                                               self.clock.now(), tuple(answer)))
        return {"id": message_id, "message": "Message received", "recipients": answer}

    def compose_message(self, *, from_: str | None, to: Sequence[str] = (), cc: Sequence[str] = (),
                        bcc: Sequence[str] = (), subject: str = "", text: str | None = None,
                        html: str | None = None, attachments: Sequence[tuple[str, bytes, str]] = (),
                        inline: Sequence[tuple[str, bytes, str]] = (), headers: Sequence[tuple[str, str]] = (),
                        recipients_given: bool = False) -> tuple[bytes, list[str]]:
        """Build a message from Mailgun-style send fields; answers it and its envelope recipients
        (To, Cc and Bcc: Bcc never shows in the headers but belongs in the envelope).

        :raises BadRequest: without ``from``, or without any recipient.
        """
        if not from_:
            raise BadRequest("'from' parameter is missing")
        if not (to or cc or bcc or recipients_given):
            raise BadRequest("'to' parameter is missing")
        try:
            raw = build_message(from_=from_, to=list(to), cc=list(cc), subject=subject, text=text, html=html,
                                attachments=list(attachments), inline=list(inline), headers=list(headers))
        except ValueError as exc:  # e.g. an address header or a header name that cannot be written
            raise BadRequest(str(exc)) from None
        return raw, [*to, *cc, *bcc]

    def wait_for_first_attempts(self, answer: Mapping[str, Any], timeout: float = 30.0) -> None:
        """Block until every webhook an inject answer lists has had its first attempt."""
        ids = {a["delivery"] for r in answer["recipients"] for a in r["actions"] if "delivery" in a}
        self.delivery.wait_first_attempts(ids, timeout)

    def list_deliveries(self) -> list[DeliveryAttempt]:
        """``GET /mock/deliveries``: every webhook attempt, oldest first."""
        return self.store.attempts()
