"""Stored messages (``/v3/domains/<d>/messages/<key>``) and the Events API (``/v3/<d>/events``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..base.errors import NotFound
from ..lang.event_query import EventQuery, parse_event_query
from ..mail.parse import ParsedMessage
from ..wire import message_fields
from .context import Context

__all__ = ["MessageOperations"]


class MessageOperations(Context):
    """Reading and deleting stored messages and their attachments; paging through events."""

    def stored_message_json(self, domain: str, key: str, raw_mime: bool = False) -> dict[str, Any]:
        """``GET /v3/domains/<domain>/messages/<key>``: JSON, or JSON with ``body-mime``."""
        stored = self.get_stored_message(domain, key)
        msg = ParsedMessage(stored.raw)
        if raw_mime:
            return message_fields.stored_mime_json(msg, stored.recipients, stored.sender)
        return message_fields.stored_json(msg, stored.recipients, stored.sender, stored.storage_url(self.base_url))

    def get_attachment(self, domain: str, key: str, index: str) -> tuple[bytes, str, str]:
        """``GET …/attachments/<n>``: the bytes, content type and filename of attachment ``n`` (from 0).

        :raises NotFound: for an unknown message or an index out of range.
        """
        stored = self.get_stored_message(domain, key)
        attachments = ParsedMessage(stored.raw).attachments
        if not re.fullmatch(r"[0-9]{1,9}", index) or int(index) >= len(attachments):
            raise NotFound("Attachment not found")
        attachment = attachments[int(index)]
        return attachment.content, attachment.content_type, attachment.filename

    def delete_stored_message(self, domain: str, key: str) -> None:
        """``DELETE`` a stored message (documented by the store() announcement).

        :raises NotFound: ``Message not found``.
        """
        self.get_stored_message(domain, key)
        self.store.delete_message(key)

    def list_events(self, domain: str, params: Mapping[str, Any] | None, token: str | None = None) -> dict[str, Any]:
        """``GET /v3/<domain>/events[/<token>]``: one page with its four paging links."""
        self.check_domain(domain)
        now = self.clock.now()
        query: EventQuery | None = parse_event_query(params or {}, now) if token is None else None
        return self.store.events_response(domain, query, token, self.base_url, now)
