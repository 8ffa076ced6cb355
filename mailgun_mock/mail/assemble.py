"""The bytes :func:`~.compose.build_message` writes, assembled as strings: no ``EmailMessage``, no header
registry for the headers whose rendering is plain. Pure, no I/O.

:func:`assemble` replays what the stdlib does in ``build_message`` (``EmailMessage`` under
``policy.SMTP`` with 998-character lines: ``set_content``, ``add_alternative``, ``add_related``,
``add_attachment``, then ``as_bytes``) on a light tree of parts, and writes the same bytes:

- each part's headers in the stdlib's order, with its quirks (the ``MIME-Version: 1.0`` every part
  made by ``set_content`` carries, the ``Content-*`` headers that move into the first subpart when a
  part becomes multipart, ``set_param``'s ``filename`` and ``charset`` values);
- a header is written ``Name: value`` when its value is in a small language whose rendering the
  registry leaves unchanged (plain ASCII text, plain addresses, the Date and Message-Id the mock
  writes, the MIME headers it makes); any other value is rendered by the registry itself, one header
  at a time, exactly as the generator would;
- bodies are encoded by the stdlib's own content-manager helpers, and boundaries are drawn by the
  generator's own ``_make_boundary``, in its order (children before their parent), so a seeded
  ``random`` gives the same boundaries.

Anything off that path answers ``None`` before drawing a random number, and the caller builds with
the stdlib (AMP bodies, internationalised addresses, extra ``Content-*``/``MIME-Version`` headers, a
repeated unique header, ``message/*`` or ``multipart/*`` files, a header the registry refuses).
``tests/test_assemble.py`` pins the bytes against a frozen copy of the stdlib builder.
"""

from __future__ import annotations

import email.contentmanager
import email.utils
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from email import policy as email_policy
from email.generator import BytesGenerator
from typing import cast

from ..base.addresses import domain_of
from .headers import parse_addresses

__all__ = ["POLICY", "assemble", "render_header"]

#: The policy build_message writes with: SMTP's CRLF, folding only past RFC 5322's 998 characters.
POLICY = email_policy.SMTP.clone(max_line_length=998)
_CRLF = b"\r\n"
_NLCRE = re.compile(r"\r\n|\r|\n")  # the generator's line split
# The content manager's encoders (private, stable since 3.6): the same bytes by construction. Without
# them (a future Python), assemble() declines and the stdlib builds everything.
_encode_text = cast("Callable[[str, str, str | None, object], tuple[str, str]] | None",
                    getattr(email.contentmanager, "_encode_text", None))
_encode_base64 = cast("Callable[[bytes, int], str] | None", getattr(email.contentmanager, "_encode_base64", None))

_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")

# -- the values written as they are (tests/test_assemble.py checks each against the registry) --------
_MAX_PLAIN = 900  # a line this long is never folded (the fold starts past 998)
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, single spaces, nothing around
_ATOM = r"[A-Za-z0-9_+-]+"
_ADDR_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_ADDRESS = rf"(?:{_ATOM}(?: {_ATOM})* <{_ADDR_SPEC}>|{_ADDR_SPEC})"
_ADDRESSES = re.compile(rf"{_ADDRESS}(?:, {_ADDRESS})*")
_MSG_ID = re.compile(rf"<[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>")
_DATE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   r"\d{4} \d\d:\d\d:\d\d [+-]\d{4}")
_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]*"
_CONTENT_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:; (?:charset|boundary)=\"[A-Za-z0-9=._-]+\")?")
_DISPOSITION = re.compile(r"(?:inline|attachment); filename=\"[A-Za-z0-9_.+-]+(?: [A-Za-z0-9_.+-]+)*\"")
_CTE = frozenset({"7bit", "8bit", "base64", "quoted-printable"})
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to"})
#: Headers the registry allows once (``policy.header_max_count``): a second one makes the stdlib raise.
_UNIQUE = frozenset(name for name, cls in POLICY.header_factory.registry.items()  # type: ignore[attr-defined]
                    if getattr(cls, "max_count", None) == 1)
_REGISTERED = frozenset(POLICY.header_factory.registry)  # type: ignore[attr-defined]


#: ``MIMEPart.make_<subtype>``'s refusals: the multipart subtypes each cannot be made from.
_CANNOT_BECOME = {"related": ("alternative", "mixed"), "alternative": ("related", "mixed"), "mixed": ()}


class _Decline(Exception):
    """This message is not for the fast path: build it with the stdlib."""


def _plain_value(name: str, value: str) -> bool:
    """Whether the registry writes ``name: value`` unchanged."""
    if len(name) + len(value) > _MAX_PLAIN or not value:
        return False
    lname = name.lower()
    if lname not in _REGISTERED or lname == "subject":  # unstructured: only encoded-word look-alikes change
        return _PLAIN.fullmatch(value) is not None and "=?" not in value
    if lname in _ADDRESS_HEADERS:
        return _ADDRESSES.fullmatch(value) is not None
    if lname == "date":  # the registry writes the date it parses: only a date it writes back unchanged is plain
        try:
            return _DATE.fullmatch(value) is not None and \
                email.utils.format_datetime(email.utils.parsedate_to_datetime(value)) == value
        except (TypeError, ValueError, OverflowError):
            return False
    if lname == "message-id":
        return _MSG_ID.fullmatch(value) is not None
    if lname == "content-type":
        return _CONTENT_TYPE.fullmatch(value) is not None
    if lname == "content-transfer-encoding":
        return value in _CTE
    if lname == "content-disposition":
        return _DISPOSITION.fullmatch(value) is not None
    if lname == "mime-version":
        return value == "1.0"
    return False


def render_header(name: str, value: str) -> bytes:
    """One header line as ``EmailMessage.as_bytes`` writes it under :data:`POLICY`, CRLF included.

    :raises Exception: whatever the registry raises for a value it cannot store or write.
    """
    if _plain_value(name, value):
        return f"{name}: {value}\r\n".encode("ascii")
    stored = POLICY.header_store_parse(name, value)[1]
    return POLICY.fold_binary(name, stored)


class _Part:
    """A MIME part as the stdlib holds it while building: headers ``(name, value)``, a payload or children."""

    __slots__ = ("headers", "lines", "payload", "children")

    def __init__(self, headers: list[tuple[str, str]] | None = None) -> None:
        self.headers = headers if headers is not None else []
        self.lines: list[bytes] = []
        self.payload = ""
        self.children: list[_Part] | None = None

    def content_type(self) -> str:
        return next((v.split(";")[0] for n, v in self.headers if n.lower() == "content-type"), "text/plain")

    def render(self) -> None:
        """Render every header now, so that a refusal happens before any random number is drawn."""
        self.lines = [render_header(n, v) for n, v in self.headers]
        for child in self.children or ():
            child.render()


def _text_part(part: _Part, text: str, subtype: str) -> None:
    """``set_content(text, subtype=...)`` on a part with no content headers (``EmailMessage``'s, with MIME-Version)."""
    assert _encode_text is not None
    cte, payload = _encode_text(text, "utf-8", None, POLICY)
    part.headers += [("Content-Type", f'text/{subtype}; charset="utf-8"'), ("Content-Transfer-Encoding", cte)]
    part.payload = payload
    if not any(n.lower() == "mime-version" for n, _ in part.headers):
        part.headers.append(("MIME-Version", "1.0"))


def _make_multipart(part: _Part, subtype: str) -> None:
    """``make_<subtype>()``: the Content-* headers and the content move into a first subpart."""
    if part.children is not None and part.content_type().partition("/")[2] in (*_CANNOT_BECOME[subtype], subtype):
        raise _Decline  # the stdlib raises "Cannot convert ...": never on build_message's path
    moved = [(n, v) for n, v in part.headers if n.lower().startswith("content-")]
    first = _Part(moved)
    first.payload, first.children = part.payload, part.children
    part.children = [first] if moved else []
    part.headers = [(n, v) for n, v in part.headers if not n.lower().startswith("content-")]
    part.headers.append(("Content-Type", f"multipart/{subtype}"))
    part.payload = ""


def _add(part: _Part, subtype: str, child: _Part) -> None:
    """``_add_multipart``: make ``part`` multipart/``subtype`` unless it is, then attach ``child``."""
    if part.content_type() != f"multipart/{subtype}":
        _make_multipart(part, subtype)
    assert part.children is not None
    part.children.append(child)


def _file_part(filename: str, content: bytes, content_type: str, *, related: bool) -> _Part:
    """``compose._add_file``'s part: ``set_content(bytes, maintype, subtype, filename=..., cte="base64")``,
    inline with ``Content-ID: <filename>`` when ``related``."""
    assert _encode_base64 is not None
    filename = _LINE_BREAKS.sub(" ", filename)
    disposition, cid = ("inline", f"<{filename}>") if related else ("attachment", None)
    maintype, _, subtype = content_type.split(";")[0].strip().lower().partition("/")
    if not _FIELD_NAME.fullmatch(maintype) or not _FIELD_NAME.fullmatch(subtype) or "/" in subtype:
        maintype, subtype = "application", "octet-stream"
    if maintype in ("message", "multipart"):
        raise _Decline  # written unencoded, through other generator paths
    part = _Part([("Content-Type", f"{maintype}/{subtype}"), ("Content-Transfer-Encoding", "base64"),
                  ("Content-Disposition", f"{disposition}; {_filename_param(filename)}")])
    part.payload = _encode_base64(bytes(content), POLICY.max_line_length or 998)
    if cid is not None:
        part.headers.append(("Content-ID", cid))
    part.headers.append(("MIME-Version", "1.0"))
    return part


def _filename_param(filename: str) -> str:
    """``set_param("filename", ...)``'s text (``email.message._formatparam`` with quoting on)."""
    if not filename:
        return "filename"
    if not filename.isascii():
        return "filename*=" + email.utils.encode_rfc2231(filename, "utf-8", "")
    return f'filename="{email.utils.quote(filename)}"'


def _body(payload: str) -> bytes:
    """The generator's ``_write_lines``: every line ending becomes CRLF, a last line without one stays so."""
    if not payload:
        return b""
    lines = _NLCRE.split(payload)
    return "".join(line + "\r\n" for line in lines[:-1]).encode("ascii", "surrogateescape") + \
        lines[-1].encode("ascii", "surrogateescape")


def _flatten(part: _Part) -> bytes:
    """``BytesGenerator._write``: children first (each draws its boundary), then this part's headers and body."""
    lines = part.lines
    if part.children is None:
        body = _body(part.payload)
    else:
        texts = [_flatten(child) for child in part.children]
        boundary = BytesGenerator._make_boundary(_CRLF.join(texts))  # type: ignore[attr-defined]
        # set_boundary(): the Content-Type value gains the parameter, in place
        lines = [render_header(n, f'{v}; boundary="{boundary}"') if n.lower() == "content-type" else line
                 for (n, v), line in zip(part.headers, lines)]
        dash = f"--{boundary}".encode("ascii")
        body = dash + _CRLF + (texts[0] if texts else b"") + \
            b"".join(_CRLF + dash + _CRLF + text for text in texts[1:]) + _CRLF + dash + b"--" + _CRLF
    return b"".join(lines) + _CRLF + body


def assemble(
    *,
    from_: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str = "",
    text: str | None = None,
    html: str | None = None,
    attachments: Iterable[tuple[str, bytes, str]] = (),
    inline: Iterable[tuple[str, bytes, str]] = (),
    headers: Iterable[tuple[str, str]] = (),
    amp_html: str | None = None,
) -> bytes | None:
    """The bytes :func:`~.compose.build_message` makes from the same arguments, or ``None`` when this
    message is off the fast path (see the module docstring). Raises nothing: an invalid message is
    declined too, and the stdlib raises what it raises.
    """
    if amp_html is not None or _encode_text is None or _encode_base64 is None:
        return None
    try:
        return _assemble(from_, to, cc, subject, text, html, attachments, inline, list(headers))
    except Exception:  # anything the registry refuses, or our own _Decline: the stdlib decides
        return None


def _assemble(from_: str, to: Sequence[str], cc: Sequence[str], subject: str, text: str | None, html: str | None,
              attachments: Iterable[tuple[str, bytes, str]], inline: Iterable[tuple[str, bytes, str]],
              extra: list[tuple[str, str]]) -> bytes:
    for name, _ in extra:
        lname = name.lower()
        if not _FIELD_NAME.fullmatch(name) or lname.startswith("content-") or lname == "mime-version":
            raise _Decline
    if any(not a.isascii() for a in parse_addresses(", ".join([from_, *to, *cc]))):
        raise _Decline  # internationalised addresses: SMTPUTF8 mail, the stdlib's utf8 policy
    top = _Part()

    def put(name: str, value: str) -> None:
        if name.lower() in _UNIQUE and any(n.lower() == name.lower() for n, _ in top.headers):
            raise _Decline  # the stdlib raises "There may be at most 1 ..."
        top.headers.append((name, " ".join(str(value).splitlines())))

    put("From", from_)
    for name, addresses in (("To", to), ("Cc", cc)):
        if any(a.strip() for a in addresses):
            put(name, ", ".join(a for a in addresses if a.strip()))
    put("Subject", subject)
    names = {name.lower() for name, _ in extra}
    if "date" not in names:
        put("Date", email.utils.format_datetime(datetime.now(timezone.utc)))
    position = None
    if "message-id" not in names:  # drawn below, after every refusal; the header keeps its place
        position = len(top.headers)
        top.headers.append(("Message-Id", "<placeholder@mailgun-mock.invalid>"))
    for name, value in extra:
        put(name, value)
    if html is not None and text is None:
        _text_part(top, html, "html")
        html_part = top
    else:
        _text_part(top, text or "", "plain")
        html_part = top
        if html is not None:
            html_part = _Part()
            _text_part(html_part, html, "html")
            _add(top, "alternative", html_part)
    for filename, content, content_type in inline:
        _add(html_part, "related", _file_part(filename, content, content_type, related=True))
    for filename, content, content_type in attachments:
        _add(top, "mixed", _file_part(filename, content, content_type, related=False))
    top.render()  # every refusal happens here, before make_msgid and the boundaries draw random numbers
    if position is not None:
        domain = domain_of(email.utils.parseaddr(from_)[1])
        domain = domain if _DOMAIN.fullmatch(domain) else "mailgun-mock.invalid"
        top.headers[position] = ("Message-Id", email.utils.make_msgid(domain=domain))
        top.lines[position] = render_header(*top.headers[position])
    return _flatten(top)
