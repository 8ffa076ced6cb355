"""The stdlib builder of ``mail/compose.py`` as it stood before ``mail/assemble.py`` (frozen here as the
reference the fast path is pinned against; do not edit, except to follow a deliberate change of the bytes)."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser

from mailgun_mock.base.addresses import domain_of
from mailgun_mock.mail.headers import parse_addresses

_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_BUILD_POLICY = policy.SMTP.clone(max_line_length=998)


def reference_build_message(
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
) -> bytes:
    """Build an RFC 5322 message the way Mailgun assembles one from API fields.

    text+html become multipart/alternative, ``inline`` files join the HTML in multipart/related with
    ``Content-ID: <filename>`` (as Mailgun does), and ``attachments`` make it multipart/mixed. ``amp_html``
    adds a text/x-amp-html alternative between text/plain and text/html. Date and Message-Id are added
    when ``headers`` lacks them; non-ASCII headers are RFC 2047 encoded.

    :param from_: the From header.
    :param to: To addresses (display names allowed).
    :param cc: Cc addresses.
    :param subject: the Subject.
    :param text: the text/plain body.
    :param html: the text/html body.
    :param attachments: ``(filename, content, content_type)`` files.
    :param inline: ``(filename, content, content_type)`` files referenced as ``cid:filename``.
    :param headers: extra headers, added in order after the standard ones.
    :param amp_html: the text/x-amp-html (AMP for Email) body.
    :return: the message bytes with CRLF line endings.
    :raises ValueError: for a header name that is not printable ASCII without ``:`` or space, or an
        address header so malformed that no address can be written.
    """
    extra = list(headers)
    for name, _ in extra:
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"invalid header name {name!r}")
    # Internationalised addresses cannot be RFC 2047-encoded (the stdlib would try), so such a
    # message is written as SMTPUTF8 mail with raw UTF-8 headers.
    eai = any(not a.isascii() for a in parse_addresses(", ".join([from_, *to, *cc])))
    msg = EmailMessage(policy=_BUILD_POLICY.clone(utf8=True) if eai else _BUILD_POLICY)

    def put(name: str, value: str) -> None:
        value = " ".join(str(value).splitlines())  # a header must not smuggle in a line break
        try:
            msg[name] = value
            return
        except Exception:  # the stdlib's address parser trips on odd display names such as "."
            pass
        pairs = [pair for pair in email.utils.getaddresses([value]) if "@" in pair[1]]
        try:
            msg[name] = ", ".join(email.utils.formataddr(pair, charset="utf-8") for pair in pairs)
        except Exception as exc:
            raise ValueError(f"cannot write a {name} header from {value!r}") from exc

    put("From", from_)
    for name, addresses in (("To", to), ("Cc", cc)):
        if any(a.strip() for a in addresses):
            put(name, ", ".join(a for a in addresses if a.strip()))
    put("Subject", subject)
    names = {name.lower() for name, _ in extra}
    if "date" not in names:
        put("Date", email.utils.format_datetime(datetime.now(timezone.utc)))
    if "message-id" not in names:
        domain = domain_of(email.utils.parseaddr(from_)[1])
        domain = domain if _DOMAIN.fullmatch(domain) else "mailgun-mock.invalid"
        put("Message-Id", email.utils.make_msgid(domain=domain))
    for name, value in extra:
        put(name, value)
    if html is not None and text is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text or "")
        if html is not None:
            msg.add_alternative(html, subtype="html")
    html_part = next((p for p in msg.walk() if p.get_content_type() == "text/html"), msg)
    for filename, content, content_type in inline:
        _add_file(html_part, filename, content, content_type, related=True)
    for filename, content, content_type in attachments:
        _add_file(msg, filename, content, content_type, related=False)
    try:
        raw = msg.as_bytes()
    except UnicodeEncodeError:  # a non-ASCII address (EAI) cannot be encoded: send it as SMTPUTF8 does
        raw = msg.as_bytes(policy=_BUILD_POLICY.clone(utf8=True))
    except Exception as exc:  # the stdlib's header folder gives up on some malformed address headers
        raise ValueError(f"cannot serialise the message: {exc!r}") from exc
    return raw if amp_html is None else _add_amp(raw, amp_html)


def _add_file(part: EmailMessage, filename: str, content: bytes, content_type: str, *, related: bool) -> None:
    """Attach one file to ``part`` as an attachment or as an inline related part."""
    filename = _LINE_BREAKS.sub(" ", filename)  # a line break would end the header it is written in
    maintype, _, subtype = content_type.split(";")[0].strip().lower().partition("/")
    if not _FIELD_NAME.fullmatch(maintype) or not _FIELD_NAME.fullmatch(subtype) or "/" in subtype:
        maintype, subtype = "application", "octet-stream"
    # message/* may not be base64-encoded (RFC 2046 §5.2.1), so keep the bytes as they are.
    cte = ("7bit" if content.isascii() else "8bit") if maintype == "message" else "base64"
    if related:
        part.add_related(bytes(content), maintype=maintype, subtype=subtype, filename=filename, cte=cte,
                         cid=f"<{filename}>", disposition="inline")
    else:
        part.add_attachment(bytes(content), maintype=maintype, subtype=subtype, filename=filename, cte=cte)


def _add_amp(raw: bytes, amp: str) -> bytes:
    """Insert a text/x-amp-html alternative before the HTML one (after text/plain), as AMP email requires."""
    # Done on the serialised bytes, re-parsed with the policy they were written with so nothing is refolded:
    # inserting the part into the message before serialising would save a parse but could change the bytes.
    msg = BytesParser(policy=_BUILD_POLICY).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    body: MIMEPart | None = next((p for p in msg.walk() if p.get_content_type() == "multipart/alternative"), None)
    if body is None:
        first = msg.get_payload(0) if msg.get_content_type() == "multipart/mixed" else msg
        assert isinstance(first, MIMEPart)
        body = first
        body.make_alternative()
    part = MIMEPart(policy=_BUILD_POLICY)
    part.set_content(amp, subtype="x-amp-html")
    children = body.get_payload()
    assert isinstance(children, list)
    html_types = ("text/html", "multipart/related")
    children.insert(next((n for n, c in enumerate(children) if c.get_content_type() in html_types), len(children)),
                    part)
    head = raw.split(b"\r\n\r\n", 1)[0]
    return msg.as_bytes(policy=_BUILD_POLICY if head.isascii() else _BUILD_POLICY.clone(utf8=True))
