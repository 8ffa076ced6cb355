"""The webhook attack lab: does the application's receiver refuse forged Mailgun webhooks?

One valid webhook of a kind (a route ``forward()``, a ``store(notify=…)`` notification, or a domain
event webhook) goes to the receiver, then forged ones: a wrong signature, one made with the API key,
a stale and a future timestamp, the valid request replayed, no signature fields, and an oversized
body. Every probe but the first must be refused (any answer but 2xx); the first must be accepted.

The bodies are built with the same builders and encoder as real deliveries (``wire.message_fields``, ``wire.event_bodies``,
``wire.signing``, :func:`~mailgun_mock.wire.form.encode_form`) and sent through a :class:`.transport.Transport`, one
after another, in the order listed. Signatures use the wall-clock time of the POST, never the
mock's clock: receivers check freshness against their own clock.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..base.errors import BadRequest
from ..base.ids import new_event_id
from ..lang.actions import is_url
from ..mail.compose import build_message
from ..mail.parse import ParsedMessage
from ..wire import event_bodies, message_fields
from ..wire.form import FieldValue, FilePart, encode_form
from ..wire.signing import sign, signature_fields
from .domain_webhooks import WEBHOOK_NAMES
from .transport import HttpTransport, Transport

__all__ = ["KINDS", "Probe", "ProbeReport", "ProbeResult", "build_probes", "check_kind", "check_url",
           "check_recipient", "oversize_for", "run_probes", "sample_message", "send_probes"]

#: ``webhook`` is an event webhook for ``delivered``; ``webhook:<name>`` picks another (``webhook:opened``…).
KINDS = ("forward", "notify", "webhook")
DEFAULT_RECIPIENT = "webhook-probe@example.com"
SENDER = "probe-sender@example.net"
#: How far off the stale and future timestamps are: clearly outside the ±15 minutes receivers allow.
SKEW = 20 * 60
_EVENTS = {"permanent_fail": ("failed", "permanent"), "temporary_fail": ("failed", "temporary")}


@dataclasses.dataclass(frozen=True)
class Probe:
    """One request of the set.

    :param forged: whether the receiver must refuse it (``False`` only for the valid one).
    :param check: what a receiver that gets this one wrong fails to do.
    """

    name: str
    forged: bool
    body: bytes
    content_type: str
    check: str


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """A probe and the receiver's answer: a status, or the error that stood for one."""

    probe: Probe
    status: int | None
    error: str | None

    @property
    def accepted(self) -> bool:
        """The receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def ok(self) -> bool:
        """The valid one was accepted, or a forged one refused."""
        return self.accepted != self.probe.forged

    @property
    def verdict(self) -> str:
        if self.probe.forged:
            return "ACCEPTED a forged webhook" if self.accepted else "refused as it should"
        return "accepted as it should" if self.accepted else "REFUSED a valid webhook"

    @property
    def answer(self) -> str:
        return str(self.status) if self.status is not None else f"no answer ({self.error})"

    def to_json(self) -> dict[str, Any]:
        return {"probe": self.probe.name, "forged": self.probe.forged, "status": self.status, "error": self.error,
                "size": len(self.probe.body), "accepted": self.accepted, "ok": self.ok, "verdict": self.verdict,
                "check": self.probe.check}


@dataclasses.dataclass(frozen=True)
class ProbeReport:
    """Every probe's result, and the verdict table."""

    url: str
    kind: str
    results: tuple[ProbeResult, ...]

    @property
    def passed(self) -> bool:
        """No forgery was accepted and the valid webhook was not refused."""
        return all(r.ok for r in self.results)

    @property
    def problems(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.ok]

    def table(self) -> str:
        """The verdict table, with what to fix under it when something went wrong."""
        problems = self.problems
        head = f"{len(problems)} problem{'s' * (len(problems) != 1)}" if problems else "all as it should"
        width = max(len("probe"), *(len(r.probe.name) for r in self.results))
        answer = max(len("answer"), *(len(r.answer) for r in self.results))
        lines = [f"webhook probe of {self.url} ({self.kind}): {head}",
                 f"  {'probe'.ljust(width)}  {'answer'.ljust(answer)}  verdict"]
        lines += [f"  {r.probe.name.ljust(width)}  {r.answer.ljust(answer)}  {r.verdict}" for r in self.results]
        lines += [f"  - {r.probe.name}: {r.probe.check}" for r in problems]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "kind": self.kind, "passed": self.passed, "problems": len(self.problems),
                "probes": [r.to_json() for r in self.results], "table": self.table()}


def check_url(url: object) -> str:
    """The receiver's URL, or :class:`BadRequest` saying what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise BadRequest("'url' parameter is missing: the receiver's URL, e.g. http://127.0.0.1:8000/hooks/mailgun")
    url = url.strip()
    if not is_url(url) or any(c.isspace() for c in url) or len(url) > 2048:
        raise BadRequest(f"{url[:100]!r} is not an http:// or https:// URL")
    return url


def check_kind(kind: object) -> str:
    """``forward``, ``notify``, ``webhook`` or ``webhook:<name>``, or :class:`BadRequest` listing them."""
    if isinstance(kind, str):
        base, _, name = kind.strip().partition(":")
        if base in ("forward", "notify") and not name or base == "webhook" and (not name or name in WEBHOOK_NAMES):
            return kind.strip()
    choices = ", ".join([*KINDS, *(f"webhook:{n}" for n in WEBHOOK_NAMES)])
    raise BadRequest(f"'kind' must be one of {choices}; got {str(kind)[:40]!r}")


def check_recipient(recipient: object) -> str:
    """The recipient the probes' message is addressed to, or :class:`BadRequest`."""
    if recipient is None or recipient == "":
        return DEFAULT_RECIPIENT
    if not isinstance(recipient, str) or "@" not in recipient or any(c.isspace() for c in recipient.strip()) \
            or len(recipient) > 320:
        raise BadRequest(f"'recipient' must be one email address; got {str(recipient)[:60]!r}")
    return recipient.strip()


def oversize_for(max_message_size: int) -> int:
    """The oversized probe's body size: more than any webhook of a message Mailgun accepts (the
    mock's own request limit, twice the message size limit plus 64 KiB), plus one byte."""
    return 2 * max_message_size + 65536 + 1


def sample_message(recipient: str = DEFAULT_RECIPIENT) -> bytes:
    """The inbound message every probe of a set describes."""
    return build_message(from_=f"Webhook Probe <{SENDER}>", to=[recipient], subject="mailgun-mock webhook probe",
                         text="A webhook from mailgun-mock's probe.\n\n-- \nThe probe",
                         html="<p>A webhook from mailgun-mock's probe.</p>")


def _event(name: str, msg: ParsedMessage, recipient: str, now: float, message_url: str) -> dict[str, Any]:
    kind, severity = _EVENTS.get(name, (name, None))
    status = {"code": 250, "message": "OK", "attempt-no": 1, "description": "", "session-seconds": 0.1}
    if kind == "failed":
        status = {"code": 550, "message": "5.1.1 mailbox unavailable", "attempt-no": 1, "description": "",
                  "session-seconds": 0.1}
    storage = {"key": message_url.rpartition("/")[2], "url": message_url}
    return event_bodies.sent_event(kind, new_event_id(), now, recipient=recipient, sender=SENDER,
                               message=event_bodies.event_message(msg), storage=storage, tags=["webhook-probe"],
                               user_variables={}, test_mode=False, status=status, severity=severity,
                               url="https://example.com/probe")


def build_probes(kind: str, url: str, signing_key: str, api_key: str, *, now: float, oversize: int,
                 recipient: str = DEFAULT_RECIPIENT, message_url: str = "", message: bytes = b"") -> list[Probe]:
    """The probe set for ``kind``, in sending order (the valid one first, the replay after it).

    :param now: wall-clock seconds; the valid request's timestamp.
    :param oversize: the oversized probe's body size in bytes.
    :param message_url: a notify's ``message-url`` (default: a URL on ``http://localhost`` that stores nothing).
    :param message: the raw message described (default: a fresh :func:`sample_message`).
    """
    msg = ParsedMessage(message or sample_message(recipient))
    message_url = message_url or f"http://localhost/v3/domains/example.com/messages/{secrets.token_urlsafe(24)}"
    fields: list[tuple[str, FieldValue]] = []
    files: list[FilePart] = []
    event: dict[str, Any] | None = None
    if kind == "forward":
        fields, files = message_fields.forward_fields(msg, recipient, SENDER, url)
    elif kind == "notify":
        fields = message_fields.notify_fields(msg, recipient, SENDER, recipient.rpartition("@")[2], message_url)
    else:
        event = _event(kind.partition(":")[2] or "delivered", msg, recipient, now, message_url)

    def encode(signature: dict[str, str] | None, padding: int = 0) -> tuple[bytes, str]:
        if event is not None:
            body: dict[str, Any] = {"event-data": event}
            if padding:
                body["event-data"] = {**event, "user-variables": {"padding": "x" * padding}}
            if signature is not None:
                body = {"signature": signature, **body}
            return json.dumps(body).encode(), "application/json"
        sent = list(fields)
        if padding:
            sent = [(n, v) for n, v in sent if n != "body-plain"] + [("body-plain", "x" * padding)]
        return encode_form([*sent, *(signature or {}).items()], files)

    def probe(name: str, signature: dict[str, str] | None, check: str, padding: int = 0) -> Probe:
        body, content_type = encode(signature, padding)
        return Probe(name, True, body, content_type, check)

    signed = signature_fields
    valid_body, valid_type = encode(signed(signing_key, now))
    wrong = signed(signing_key, now)
    wrong["signature"] = sign(secrets.token_hex(16), wrong["timestamp"], wrong["token"])
    probes = [
        Probe("valid", False, valid_body, valid_type,
              "accept a fresh request signed with the signing key, or real deliveries are lost"),
        probe("wrong signature", wrong, "compare hex(HMAC-SHA256(signing key, timestamp + token)) with `signature` "
                                        "(hmac.compare_digest) and refuse a mismatch"),
    ]
    if api_key != signing_key:
        probes.append(probe("signed with the API key", signed(api_key, now),
                            "verify with the webhook signing key, not the API key"))
    probes += [
        probe(f"stale timestamp ({SKEW // 60} min old)", signed(signing_key, now - SKEW),
              "refuse a timestamp more than 15 minutes older than your clock"),
        probe(f"future timestamp ({SKEW // 60} min ahead)", signed(signing_key, now + SKEW),
              "refuse a timestamp more than 15 minutes ahead of your clock, not only old ones"),
        Probe("replayed token", True, valid_body, valid_type,
              "remember the tokens of the last 15 minutes and refuse one seen before"),
        probe("signature fields missing", None, "refuse a request without timestamp, token and signature"),
        _oversized(encode, signed(signing_key, now), oversize),
    ]
    return probes


def _oversized(encode: Callable[[dict[str, str] | None, int], tuple[bytes, str]], signature: dict[str, str],
               oversize: int) -> Probe:
    """A validly signed body of ``oversize`` bytes: only a size limit refuses it.

    :raises BadRequest: when ``oversize`` is not larger than an ordinary webhook of the kind.
    """
    smallest = len(encode(signature, 1)[0])
    if oversize <= 2 * smallest:
        raise BadRequest(f"'oversize' must be well above an ordinary webhook of this kind ({smallest} bytes); "
                         f"got {oversize}")
    body, content_type = encode(signature, oversize - smallest + 1)
    return Probe(f"oversized body ({len(body)} bytes)", True, body, content_type,
                 f"cap request bodies and refuse this one ({len(body)} bytes, more than any Mailgun webhook) unread")


def send_probes(url: str, kind: str, probes: Sequence[Probe], transport: Transport | None = None,
                timeout: float = 10.0) -> ProbeReport:
    """POST every probe in order and collect the answers; an error (refused, reset, timeout) counts as not accepted."""
    transport = transport or HttpTransport()
    results = []
    for probe in probes:
        try:
            results.append(ProbeResult(probe, transport.post(url, probe.body, probe.content_type, timeout), None))
        except (OSError, TimeoutError) as exc:
            results.append(ProbeResult(probe, None, str(exc) or type(exc).__name__))
    return ProbeReport(url, kind, tuple(results))


def run_probes(url: object, kind: object, signing_key: str, api_key: str, *, oversize: int,
               recipient: object = None, message_url: str = "", message: bytes = b"", transport: Transport | None = None,
               timeout: float = 10.0, clock: Callable[[], float] = time.time) -> ProbeReport:
    """Check the request, build the probe set on the wall clock, send it, and answer the report.

    :raises BadRequest: for a bad URL or kind.
    """
    checked_url, checked_kind = check_url(url), check_kind(kind)
    probes = build_probes(checked_kind, checked_url, signing_key, api_key, now=clock(), oversize=oversize,
                          recipient=check_recipient(recipient), message_url=message_url, message=message)
    return send_probes(checked_url, checked_kind, probes, transport, timeout)
