"""Mailgun's sending API without the HTTP: validate ``/messages`` and ``/messages.mime`` forms. Pure.

:func:`parse_send` and :func:`parse_send_mime` turn a form (a werkzeug MultiDict or a plain dict) and its
file parts into a :class:`SendRequest`, raising :class:`~mailgun_mock.base.errors.BadRequest` or
:class:`~mailgun_mock.base.errors.PayloadTooLarge` with Mailgun's documented messages; :func:`parse_mime`
does it for a ready message and its envelope (``messages.mime`` and the SMTP relay), reading the
message's ``X-Mailgun-*`` headers as options (``sending/mailgun_headers.py``). ``sending/build.py`` turns a
request into the messages to deliver. No I/O and no clock: ``now`` is passed in.

Choices where Mailgun's docs are silent:

- Only the first :data:`MAX_TAGS` (10) tags are kept: the docs say 3, Mailgun's SDKs moved to 10 in 2025, and no
  error for too many is documented. A ``template`` is rendered into ``html`` by the backend before this
  parser sees the form (``backend/templates.py``).
- The recipient limit counts To, Cc and Bcc together, after case-insensitive deduplication.
- ``h:Message-Id`` becomes the message's id (and the answer's); other ``h:`` headers clashing with ones the mock
  writes (From, To, Cc, Bcc, Subject, MIME structure) are ignored; ``h:Date`` replaces the generated Date.
  ``messages.mime`` delivers the MIME as given (but for the ``X-Mailgun-*`` headers Mailgun removes) to every
  ``to`` address, adding a Message-Id only when it has none; its ``h:`` options are only recorded. A form field
  wins over the ``X-Mailgun-*`` header of the same option, and the tags of both are kept.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, Protocol, Union

from ..base.errors import BadRequest, PayloadTooLarge
from ..mail.headers import decode_header_value, parse_addresses, split_address_list, split_head, unfold
from .mailgun_headers import read_mailgun_headers

__all__ = [
    "MAX_RECIPIENTS", "MAX_TAGS", "SendRequest", "TemplateChoice", "mime_content_type_error", "parse_mime",
    "parse_send", "parse_send_mime",
]

#: Most recipients (To, Cc and Bcc together) one API call may address.
MAX_RECIPIENTS = 1000
#: Most ``o:tag`` values kept per message; later ones are dropped.
MAX_TAGS = 10
_OPTIONS_LIMIT = 16 * 1024  # bytes of o:, h:, v: and t: names plus values
_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_FILE_FIELD = re.compile(r"(attachment|inline)(?:\[\d*\])?")
_TRUE, _FALSE = frozenset({"yes", "true", "1"}), frozenset({"no", "false", "0"})


class _MultiDict(Protocol):
    def getlist(self, key: str) -> list[Any]: ...  # pragma: no cover - a protocol
    def get(self, key: str, default: Any = None) -> Any: ...  # pragma: no cover - a protocol


#: What the HTTP layer hands over: a werkzeug MultiDict, or a plain dict of strings or lists of strings.
Form = Union[_MultiDict, Mapping[str, Union[str, Sequence[str]]]]
#: Uploaded files as ``(field_name, filename, content, content_type)``.
FileParts = Iterable[tuple[str, str, bytes, str]]
_File = tuple[str, bytes, str]


@dataclass(frozen=True)
class TemplateChoice:
    """The template a ready message is to be rendered with (``template``, ``t:version``, ``t:variables``,
    ``t:text``, or their ``X-Mailgun-Template-*`` headers)."""

    name: str
    version: str | None = None
    variables: str | None = None
    text: bool = False


@dataclass(frozen=True)
class SendRequest:
    """Everything one accepted send request asked for, validated. Treat the dicts as read-only.

    ``to``/``cc``/``bcc`` hold the addresses as given (display names kept); ``recipients`` holds every envelope
    recipient as a plain address (To, then Cc, then Bcc, deduplicated case-insensitively). Files are
    ``(filename, content, content_type)``. Yes/no options are ``None`` when not given (the domain default
    applies). ``mime`` is set only for a ready message (``messages.mime``, the SMTP relay), and ``template``
    only for a ready message to render with a template. ``method`` is the ``accepted`` event's: ``http``
    for the API, ``smtp`` for the relay.
    """

    domain: str
    from_: str
    sender: str
    to: tuple[str, ...]
    recipients: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    text: str | None = None
    html: str | None = None
    amp_html: str | None = None
    attachments: tuple[_File, ...] = ()
    inline: tuple[_File, ...] = ()
    tags: tuple[str, ...] = ()
    user_variables: dict[str, str] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, str], ...] = ()
    recipient_variables: dict[str, Any] | None = None
    test_mode: bool = False
    deliver_at: float | None = None
    tracking: bool | None = None
    tracking_clicks: str | None = None
    tracking_opens: bool | None = None
    dkim: bool | None = None
    require_tls: bool | None = None
    skip_verification: bool | None = None
    mime: bytes | None = None
    mime_message_id: str | None = None
    template: TemplateChoice | None = None
    sending_ip: str | None = None
    method: str = "http"
    accepted_at: float = 0.0
    #: mailing-list members (lower-case) -> the To item they see: the list's (see ``sending/lists.py``)
    list_to: Mapping[str, str] = field(default_factory=dict)


def mime_content_type_error(content_type: str) -> str | None:
    """Mailgun's 400 message for a ``messages.mime`` request that is not ``multipart/form-data``, else None.

    :param content_type: the request's Content-Type header.
    """
    mimetype = content_type.split(";", 1)[0].strip()
    if mimetype.lower() == "multipart/form-data":
        return None
    return f"Invalid request content type. Expecting 'multipart/form-data' but got '{mimetype}'"


def parse_send(domain: str, params: Form, files: FileParts, *, now: float, max_size: int) -> SendRequest:
    """Validate a ``POST /v3/<domain>/messages`` form.

    :param domain: the sending domain from the URL.
    :param params: the form fields; repeated fields as lists.
    :param files: the file parts; ``attachment`` and ``inline`` are used.
    :param now: the time of the request (seconds since the epoch).
    :param max_size: the largest request accepted, in bytes.
    :raises PayloadTooLarge: for a request over ``max_size``.
    :raises BadRequest: with Mailgun's message for anything Mailgun refuses.
    """
    files = list(files)
    _check_size(params, files, max_size)
    senders, to, cc, bcc = (_address_param(params, name) for name in ("from", "to", "cc", "bcc"))
    text, html, amp = (_first(params, name) or None for name in ("text", "html", "amp-html"))
    template = _first(params, "template") or None
    if text is None and html is None and amp is None and template is None:
        raise BadRequest("Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified")
    if template is not None and html is not None:
        raise BadRequest("Only one parameters 'html' or 'template' is allowed")
    options = _option_fields(params)
    own_id = next((v.strip() for n, v in options["headers"] if n.lower() == "message-id" and v.strip()), None)
    if own_id is not None and not re.fullmatch(r"<?[^<>\s@]+@[^<>\s@]+>?", own_id):
        raise BadRequest(f"'h:Message-Id' is not a valid Message-Id: {own_id[:100]!r}")
    return SendRequest(
        domain=domain, from_=", ".join(item for item, _ in senders), sender=senders[0][1],
        to=tuple(item for item, _ in to), cc=tuple(item for item, _ in cc), bcc=tuple(item for item, _ in bcc),
        recipients=_recipients(to + cc + bcc), subject=_first(params, "subject") or "", text=text, html=html,
        amp_html=amp, attachments=_files(files, "attachment"), inline=_files(files, "inline"), accepted_at=now,
        mime_message_id=None if own_id is None else f"<{own_id.strip('<>')}>", **options,
    )


def parse_send_mime(domain: str, params: Form, files: FileParts, *, now: float, max_size: int,
                    mailgun_headers: bool = True) -> SendRequest:
    """Validate a ``POST /v3/<domain>/messages.mime`` form: ``to``, a ``message`` file part and options.

    The caller checks the content type first, with :func:`mime_content_type_error`. Parameters and errors are
    those of :func:`parse_send` and :func:`parse_mime`, except that ``message`` in ``params`` means it was not
    sent as a file part.
    """
    files = list(files)
    _check_size(params, files, max_size)
    mime = next((bytes(content) for name, _, content, _ in files if name == "message" and content), None)
    if mime is None:
        if any(_values(params, "message")):
            raise BadRequest("'message' parameter is not a file")
        raise BadRequest("message parameter is missing")
    return parse_mime(domain, mime, _address_param(params, "to"), params, now=now, max_size=max_size,
                      mailgun_headers=mailgun_headers)


def parse_mime(domain: str, mime: bytes, to: Sequence[tuple[str, str]], options: Form | None = None, *,
               now: float, max_size: int, sender: str = "", method: str = "http",
               mailgun_headers: bool = True) -> SendRequest:
    """Validate a ready message sent to ``to``: the upload of ``messages.mime``, or a message the SMTP relay
    received (``to`` its ``RCPT TO`` addresses, ``sender`` its ``MAIL FROM``).

    :param to: ``(item as given, plain address)`` pairs: every recipient, Bcc included.
    :param options: ``o:``, ``v:``, ``t:``, ``template`` and ``recipient-variables`` fields, as in a form.
    :param sender: the envelope sender; ``""``: the From address.
    :param method: ``http`` or ``smtp``, for the ``accepted`` event.
    :param mailgun_headers: read the message's ``X-Mailgun-*`` headers as options and remove those Mailgun
        does not deliver (not for a resend: the stored copy is already what Mailgun delivered).
    :raises PayloadTooLarge: for a message over ``max_size`` bytes.
    :raises BadRequest: with Mailgun's message for anything Mailgun refuses, and for an invalid
        ``X-Mailgun-*`` value.
    """
    if len(mime) > max_size:
        raise PayloadTooLarge(f"request size exceeds {max_size / 1048576:.1f}MiB limit")
    form: dict[str, list[str]] = {key: _values(options, key) for key in _keys(options)} if options else {}
    if mailgun_headers:
        found = read_mailgun_headers(mime)
        mime = found.raw
        for name, value in found.fields:  # after the form's: _option_fields keeps the first of each option
            form.setdefault(name, []).append(value)
    head = {name.lower(): value for name, value in reversed(split_head(mime)[0])}  # the first of each wins
    raw_from = head.get("from", "")
    chosen = _first(form, "template")
    template = None if not chosen else TemplateChoice(
        chosen, _first(form, "t:version") or None, _first(form, "t:variables"),
        _flag(_first(form, "t:text")) is True)
    return SendRequest(
        domain=domain, from_=decode_header_value(raw_from, address=True),
        sender=sender or next(iter(parse_addresses(unfold(raw_from))), ""), to=tuple(item for item, _ in to),
        recipients=_recipients(list(to)), subject=decode_header_value(head.get("subject", "")), mime=mime,
        mime_message_id=decode_header_value(head["message-id"]) if "message-id" in head else None,
        template=template, method=method, accepted_at=now, **_option_fields(form),
    )


def _values(params: Form, name: str) -> list[str]:
    """Every value of a form field, as strings (``[]`` when absent)."""
    getlist = getattr(params, "getlist", None)
    raw = list(getlist(name)) if callable(getlist) else params.get(name)
    if raw is None:
        return []
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in items]


def _first(params: Form, name: str) -> str | None:
    """The first value of a form field, or None."""
    values = _values(params, name)
    return values[0] if values else None


def _keys(params: Form) -> list[str]:
    """The form's field names in order."""
    keys = getattr(params, "keys", None)
    return [str(k) for k in keys()] if callable(keys) else []


def _check_size(params: Form, files: list[tuple[str, str, bytes, str]], max_size: int) -> None:
    """Raise 413 when the fields and files together exceed ``max_size`` bytes."""
    size = sum(len(name) + len(filename) + len(content) for name, filename, content, _ in files)
    for key in _keys(params):
        size += sum(_nbytes(key) + _nbytes(value) for value in _values(params, key))
    if size > max_size:
        raise PayloadTooLarge(f"request size exceeds {max_size / 1048576:.1f}MiB limit")


def _nbytes(text: str) -> int:
    """The UTF-8 size of a form value."""
    return len(text.encode("utf-8", "replace"))


def _address_param(params: Form, name: str) -> list[tuple[str, str]]:
    """Every address in every value of an address field; Mailgun's 400 when invalid, or missing for from and to."""
    pairs: list[tuple[str, str]] = []
    for value in _values(params, name):
        parsed = split_address_list(value)
        if parsed is None:
            raise BadRequest(f"{name} parameter is not a valid address. please check documentation")
        pairs.extend(parsed)
    if not pairs and name in ("from", "to"):  # absent, blank or only separators such as ","
        raise BadRequest(f"{name} parameter is missing")
    return pairs


def _recipients(pairs: list[tuple[str, str]]) -> tuple[str, ...]:
    """Plain addresses deduplicated case-insensitively, in order; refuses more than MAX_RECIPIENTS."""
    seen: dict[str, str] = {}
    for _, address in pairs:
        seen.setdefault(address.lower(), address)
    if len(seen) > MAX_RECIPIENTS:
        raise BadRequest(f"Too many recipients, max is {MAX_RECIPIENTS}")
    return tuple(seen.values())


def _files(files: list[tuple[str, str, bytes, str]], kind: str) -> tuple[_File, ...]:
    """The ``attachment`` or ``inline`` parts as ``(filename, content, content_type)``."""
    out: list[_File] = []
    for name, filename, content, content_type in files:
        m = _FILE_FIELD.fullmatch(name)
        if m and m.group(1) == kind:
            # A part without a filename still needs one (Mailgun names inline parts' Content-ID after it).
            filename = filename or f"{kind}-{len(out) + 1}"
            out.append((filename, bytes(content), content_type or "application/octet-stream"))
    return tuple(out)


def _flag(value: str | None) -> bool | None:
    """A yes/no option: True, False, or None when absent or not a recognised spelling."""
    word = (value or "").strip().lower()
    return True if word in _TRUE else False if word in _FALSE else None


def _option_fields(params: Form) -> dict[str, Any]:
    """The ``o:``, ``h:``, ``v:`` options and recipient-variables as SendRequest fields."""
    options: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    variables: dict[str, str] = {}
    size = 0
    for key in _keys(params):
        prefix, name = key[:2], key[2:]
        if prefix not in ("o:", "h:", "v:", "t:"):
            continue
        for value in _values(params, key):
            size += _nbytes(key) + _nbytes(value)
            if prefix == "o:":
                options.append((name.lower(), value))
            elif prefix == "h:":
                if not _FIELD_NAME.fullmatch(name):
                    raise BadRequest(f"'{key}' is not a valid header name")
                headers.append((name, value))
            elif prefix == "v:":
                variables.setdefault(name, value)  # kept as given: a JSON value stays a JSON string
    if size > _OPTIONS_LIMIT:
        raise BadRequest("Send options (parameters starting with o:, h:, or v:) are limited to 16 kB total")
    opts: dict[str, str] = {}
    for name, value in options:
        opts.setdefault(name, value)
    tags = list(dict.fromkeys(value for name, value in options if name == "tag" and value))[:MAX_TAGS]
    clicks = (opts.get("tracking-clicks") or "").strip().lower()
    clicks = clicks if clicks == "htmlonly" else {True: "yes", False: "no", None: ""}[_flag(clicks)]
    return dict(
        tags=tuple(tags), user_variables=variables, headers=tuple(headers), options=tuple(options),
        recipient_variables=_recipient_variables(_first(params, "recipient-variables")),
        test_mode=_flag(opts.get("testmode")) is True,
        deliver_at=_delivery_time(opts["deliverytime"]) if "deliverytime" in opts else None,
        tracking=_flag(opts.get("tracking")), tracking_opens=_flag(opts.get("tracking-opens")),
        tracking_clicks=clicks or None,
        dkim=_flag(opts.get("dkim")), require_tls=_flag(opts.get("require-tls")),
        skip_verification=_flag(opts.get("skip-verification")), sending_ip=opts.get("sending-ip") or None,
    )


def _recipient_variables(raw: str | None) -> dict[str, Any] | None:
    """The parsed recipient-variables object, or Mailgun's 400 when it is not a JSON object."""
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise BadRequest("'recipient-variables' parameter is not a valid JSON")
    return data


def _delivery_time(value: str) -> float:
    """An RFC 2822 date as epoch seconds (a date without a zone is taken as UTC)."""
    try:
        when = email.utils.parsedate_to_datetime(value)
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        raise BadRequest(f"{value} is not an RFC-2822 compliant date") from None
