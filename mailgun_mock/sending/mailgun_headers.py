"""``X-Mailgun-*`` headers of a ready MIME message read as Mailgun reads them: the options of a message
sent over the SMTP relay (or uploaded to ``messages.mime``) that has no form to carry ``o:`` fields. Pure.

:func:`read_mailgun_headers` turns them into the ``/messages`` form fields they stand for and removes
the ones Mailgun does not deliver. What each header does, and whether the delivered copy keeps it::

    header                           form field            value                        delivered copy
    X-Mailgun-Tag (repeatable)       o:tag                 any text                     kept
    X-Mailgun-Variables (repeatable) (read from the MIME)  a JSON object; merged        kept
    X-Mailgun-Track                  o:tracking            yes/no/true/false/htmlonly   removed
    X-Mailgun-Track-Clicks           o:tracking-clicks     yes/no/true/false/htmlonly   removed
    X-Mailgun-Track-Opens            o:tracking-opens      yes/no/true/false            removed
    X-Mailgun-Deliver-By             o:deliverytime        an RFC 2822 date             removed
    X-Mailgun-Drop-Message           o:testmode            yes/no/true/false            removed
    X-Mailgun-Require-TLS            o:require-tls         yes/no/true/false            removed
    X-Mailgun-Skip-Verification      o:skip-verification   yes/no/true/false            removed
    X-Mailgun-Dkim                   o:dkim                yes/no/true/false            removed
    X-Mailgun-Sending-Ip             o:sending-ip          an IPv4 or IPv6 address      removed
    X-Mailgun-Sending-Ip-Pool        o:sending-ip-pool     a pool id                    removed
    X-Mailgun-Recipient-Variables    recipient-variables   a JSON object                removed
    X-Mailgun-Template-Name          template              a template's name            kept (the template's own spelling)
    X-Mailgun-Template-Version       t:version             a version tag                removed
    X-Mailgun-Template-Variables     t:variables           a JSON object                kept

Where Mailgun's docs are silent this follows its documented message shapes: the tag, the variables
and the template name and variables are what its stored messages show (the reference's stored-message
sample, and ``o:suppress-headers``, which exists to remove tags and variables from delivered mail);
the steering headers are instructions to Mailgun, and the recipient variables would show every
recipient's data to each of them, so they are removed. Other ``X-Mailgun-*`` headers pass unchanged.

An invalid value raises :class:`~mailgun_mock.base.errors.BadRequest` naming the header (the SMTP
relay answers it as ``554 5.6.0``, ``messages.mime`` as a 400); a date that is not RFC 2822 gets the
HTTP API's own message when the form is parsed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Callable

from ..base.errors import BadRequest
from ..base.logtext import printable
from ..mail.headers import decode_header_value, drop_fields, split_head

__all__ = ["HEADERS", "MailgunHeaders", "REMOVED", "read_mailgun_headers"]

_YES_NO = ("yes", "no", "true", "false")
_TRACKING = (*_YES_NO, "htmlonly")


def _choice(allowed: tuple[str, ...]) -> Callable[[str, str], str]:
    def check(name: str, value: str) -> str:
        if value.lower() not in allowed:
            raise BadRequest(f"'{name}' header value {printable(value, 60)!r} is not valid: use "
                             f"{', '.join(allowed[:-1])} or {allowed[-1]}")
        return value.lower()
    return check


def _json_object(name: str, value: str) -> str:
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise BadRequest(f"'{name}' header is not a valid JSON object")
    return value


def _ip(name: str, value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise BadRequest(f"'{name}' header value {printable(value, 60)!r} is not an IP address") from None


def _text(name: str, value: str) -> str:
    if not value:
        raise BadRequest(f"'{name}' header is empty")
    return value


def _any(name: str, value: str) -> str:
    return value


#: Each header Mailgun reads: its form field (``""``: it stays in the MIME only), the check of its
#: value, and whether the delivered copy keeps it.
HEADERS: dict[str, tuple[str, Callable[[str, str], str], bool]] = {
    "X-Mailgun-Tag": ("o:tag", _any, True),
    "X-Mailgun-Variables": ("", _json_object, True),
    "X-Mailgun-Track": ("o:tracking", _choice(_TRACKING), False),
    "X-Mailgun-Track-Clicks": ("o:tracking-clicks", _choice(_TRACKING), False),
    "X-Mailgun-Track-Opens": ("o:tracking-opens", _choice(_YES_NO), False),
    "X-Mailgun-Deliver-By": ("o:deliverytime", _text, False),
    "X-Mailgun-Drop-Message": ("o:testmode", _choice(_YES_NO), False),
    "X-Mailgun-Require-TLS": ("o:require-tls", _choice(_YES_NO), False),
    "X-Mailgun-Skip-Verification": ("o:skip-verification", _choice(_YES_NO), False),
    "X-Mailgun-Dkim": ("o:dkim", _choice(_YES_NO), False),
    "X-Mailgun-Sending-Ip": ("o:sending-ip", _ip, False),
    "X-Mailgun-Sending-Ip-Pool": ("o:sending-ip-pool", _text, False),
    "X-Mailgun-Recipient-Variables": ("recipient-variables", _json_object, False),
    "X-Mailgun-Template-Name": ("template", _text, True),
    "X-Mailgun-Template-Version": ("t:version", _text, False),
    "X-Mailgun-Template-Variables": ("t:variables", _json_object, True),
}
_BY_NAME = {name.lower(): name for name in HEADERS}
#: The headers Mailgun takes out of the message it delivers (lower-case).
REMOVED = frozenset(name.lower() for name, (_, _, kept) in HEADERS.items() if not kept)


@dataclasses.dataclass(frozen=True)
class MailgunHeaders:
    """What a message's ``X-Mailgun-*`` headers ask for.

    :param fields: ``(name, value)`` pairs as ``/messages`` form fields (``o:tag``, ``template``…), in
        the order of the headers; a repeated header gives repeated fields.
    :param raw: the message without the :data:`REMOVED` headers (the very bytes when it had none).
    """

    fields: tuple[tuple[str, str], ...]
    raw: bytes


def read_mailgun_headers(raw: bytes) -> MailgunHeaders:
    """The options a message's ``X-Mailgun-*`` headers carry, and the message Mailgun would deliver.

    :raises BadRequest: for a value Mailgun would refuse, naming the header.
    """
    head, _, _ = split_head(raw)
    fields: list[tuple[str, str]] = []
    for name, value in head:
        shown = _BY_NAME.get(name.lower())
        if shown is None:
            continue
        field, check, _ = HEADERS[shown]
        checked = check(shown, decode_header_value(value))
        if field and checked:
            fields.append((field, checked))
    return MailgunHeaders(tuple(fields), drop_fields(raw, REMOVED))

