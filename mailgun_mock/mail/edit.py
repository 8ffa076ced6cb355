"""Changes to a ready message that Mailgun makes before delivering it: a body replaced (a template
rendered into a message sent as MIME), or one recipient's copy of a batch (placeholders filled in,
To showing that recipient). Pure, no I/O; stdlib ``email`` does the MIME work.

Only what changes is rewritten: headers left alone keep their bytes (the stdlib keeps a parsed
header's source unless a line is longer than RFC 5322's 998 characters), attachments keep their
parts, and lines end in CRLF as on the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["replace_body", "rewrite_copy", "text_body"]

# As mail/compose.py: CRLF, and folding only past 998 characters, so source headers stay as they were.
_POLICY = policy.SMTP.clone(max_line_length=998)
# Headers whose text is not the message's to personalize: its structure, its identity, its route.
_STRUCTURAL = frozenset({"to", "content-type", "content-transfer-encoding", "content-disposition", "content-id",
                         "mime-version", "message-id", "date", "received", "return-path"})


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=_POLICY).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # the policy's message factory makes EmailMessage
    return message


def _set(message: EmailMessage, name: str, value: str | None) -> None:
    """Make ``value`` the header's only value (in place when it had one); ``None`` removes it."""
    if value is not None and len(message.get_all(name, [])) == 1:
        message.replace_header(name, value)
        return
    del message[name]
    if value is not None:
        message[name] = value


def text_body(raw: bytes) -> str | None:
    """The message's text/plain body (not an attachment), or ``None`` when it has none."""
    part = _parse(raw).get_body(preferencelist=("plain",))
    if part is None:
        return None
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError):  # a charset Python does not know
        return None


def replace_body(raw: bytes, *, html: str, text: str | None = None,
                 headers: Sequence[tuple[str, str | None]] = ()) -> bytes:
    """``raw`` with its body made of ``text`` and ``html`` (multipart/alternative when both), its
    attachments kept after them (multipart/mixed), and ``headers`` set.

    :param html: the new text/html body.
    :param text: the new text/plain body, or ``None`` for HTML alone.
    :param headers: ``(name, value)``: the header's value from now on; ``None`` removes it.
    :raises ValueError: for a header value the stdlib cannot write.
    """
    message = _parse(raw)
    attachments: list[EmailMessage] = list(message.iter_attachments()) if message.is_multipart() else []
    message.clear_content()
    if text is None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    if attachments:
        message.make_mixed()
        for part in attachments:
            message.attach(part)
    for name, value in headers:
        _set(message, name, value)
    return message.as_bytes()


def rewrite_copy(raw: bytes, *, to: str, substitute: Callable[[str], str]) -> bytes:
    """One recipient's copy of a batch message: ``To: <to>``, and ``substitute`` applied to the text
    of every other header but the structural ones and to every text part that is not an attachment.

    A text part whose charset Python does not know is left as it is.
    """
    message = _parse(raw)
    _set(message, "To", to)
    for name in dict.fromkeys(message.keys()):
        if name.lower() in _STRUCTURAL:
            continue
        values = [str(value) for value in message.get_all(name, [])]
        changed = [substitute(value) for value in values]
        if changed != values:
            del message[name]
            for value in changed:
                message[name] = value
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text" or part.is_attachment():
            continue
        try:
            content = part.get_content()
        except (LookupError, UnicodeError):
            continue
        new = substitute(content)
        if new != content:
            cid, disposition = part["Content-ID"], part.get_content_disposition()
            part.set_content(new, subtype=part.get_content_subtype(), cid=cid, disposition=disposition)
    return message.as_bytes()
