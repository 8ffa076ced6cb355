"""A send to a mailing list expanded to its subscribed members, and the per-recipient placeholders
Mailgun fills in (``%unsubscribe_url%``, ``%tag_unsubscribe_url%``, ``%tag_unsubscribe_email%``,
``%mailing_list_unsubscribe_url%``). Pure: the lists and the link maker are passed in.

Both work through recipient-variables: a list member's ``vars`` become its ``%recipient.<var>%``
values, and each placeholder becomes a ``%recipient.…%`` of an internal name, so every recipient
gets a message of its own, as Mailgun sends them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from ..mail.headers import split_address_list
from .form import SendRequest

__all__ = ["PLACEHOLDERS", "expand_lists", "personalize"]

#: Mailgun's per-recipient placeholders, and the link kind each stands for.
PLACEHOLDERS = {"%unsubscribe_url%": "unsubscribe", "%tag_unsubscribe_url%": "tag_unsubscribe",
                "%tag_unsubscribe_email%": "tag_unsubscribe_email",
                "%mailing_list_unsubscribe_url%": "mailing_list_unsubscribe"}
_INTERNAL = "mailgun-mock:"


def expand_lists(req: SendRequest, lists: Mapping[str, Mapping[str, Any]]) -> SendRequest:
    """``req`` with every recipient that is a mailing list replaced by its subscribed members.

    :param lists: list address (lower-case) -> list record with ``members``, for the lists among
        the recipients.
    """
    if not any(r.lower() in lists for r in req.recipients):
        return req
    shown = {pairs[0][1].lower(): item for item in req.to if (pairs := split_address_list(item))}
    recipients: dict[str, str] = {}
    variables = {k.lower(): v for k, v in (req.recipient_variables or {}).items()}
    list_to: dict[str, str] = {}
    headers = list(req.headers)
    for rcpt in req.recipients:
        record = lists.get(rcpt.lower())
        if record is None:
            recipients.setdefault(rcpt.lower(), rcpt)
            continue
        if record["reply_preference"] == "list" and not any(n.lower() == "reply-to" for n, _ in headers):
            headers.append(("Reply-To", record["address"]))
        for member in record["members"].values():
            if not member["subscribed"]:
                continue
            key = member["address"].lower()
            recipients.setdefault(key, member["address"])
            mine = variables.get(key)
            variables[key] = {**member["vars"], **(mine if isinstance(mine, dict) else {}),
                              f"{_INTERNAL}list": record["address"]}
            list_to[key] = shown.get(rcpt.lower(), record["address"])
    return dataclasses.replace(req, recipients=tuple(recipients.values()), recipient_variables=variables,
                               list_to=list_to, headers=tuple(headers))


def personalize(req: SendRequest, link: Callable[[str, str, str], str]) -> SendRequest:
    """``req`` with Mailgun's per-recipient placeholders filled in for each recipient.

    :param link: ``(recipient, kind, list address)`` -> the link (or address) for a placeholder kind.
    """
    texts = [req.subject, req.text or "", req.html or "", req.amp_html or "", *(v for _, v in req.headers)]
    used = {placeholder: kind for placeholder, kind in PLACEHOLDERS.items() if any(placeholder in t for t in texts)}
    if not used or req.mime is not None:
        return req

    def rewrite(text: str | None) -> str | None:
        if text is None:
            return None
        for placeholder, kind in used.items():
            text = text.replace(placeholder, f"%recipient.{_INTERNAL}{kind}%")
        return text

    variables = {k.lower(): v for k, v in (req.recipient_variables or {}).items()}
    for rcpt in req.recipients:
        mine = variables.get(rcpt.lower())
        mine = dict(mine) if isinstance(mine, dict) else {}
        list_address = str(mine.get(f"{_INTERNAL}list", ""))
        mine.update({f"{_INTERNAL}{kind}": link(rcpt, kind, list_address) for kind in used.values()})
        variables[rcpt.lower()] = mine
    return dataclasses.replace(
        req, subject=rewrite(req.subject) or "", text=rewrite(req.text), html=rewrite(req.html),
        amp_html=rewrite(req.amp_html), headers=tuple((n, rewrite(v) or "") for n, v in req.headers),
        recipient_variables=variables)
