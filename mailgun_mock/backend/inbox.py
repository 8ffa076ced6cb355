"""What the web inbox and scripts read and do over sent and received mail: ``/mock/messages`` (with
links, one-time codes and a long poll), one message in full (headers, parts, options, event
timeline, webhook attempts, route trace), deleting, read marks, and engagement events on demand.

The webhook attempt log, retry now, replay, route dry runs and suppression edits are in
:mod:`.inbox_tools`; the index the list is cut from is :mod:`.inbox_index`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..base.errors import BadRequest, NotFound, RequestTimeout
from ..base.logtext import shorten
from ..mail.extract import find_codes, find_links
from ..mail.parse import ParsedMessage
from ..lang.send_rules import DEVICES
from ..sending.outbox import user_variables
from .inbox_index import Entry, Filters, InboxIndex, Snapshot
from .inbox_tools import InboxTools
from .params import integer

__all__ = ["InboxOperations", "Mail", "previewable"]

LIMIT_MAX = 500
WAIT_MAX = 300.0
_ENGAGEMENT = ("opened", "clicked", "unsubscribed", "complained")


class Mail(dict[str, Any]):
    """One message as ``/mock/messages`` answers it, with attribute access to what a test wants.

    ::

        mail = mailgun_mock.wait_for_mail(to="bob@example.com", subject="Confirm")
        requests.get(mail.links[0]); form.submit(code=mail.code)
    """

    @property
    def links(self) -> list[str]:
        """The http(s) links of the HTML part then the text part, de-duplicated, in order."""
        return list(self["links"])

    @property
    def codes(self) -> list[str]:
        """The one-time codes found (or what ``pattern`` matched), in order."""
        return list(self["codes"])

    @property
    def code(self) -> str | None:
        """The first one-time code, or ``None``."""
        return self["codes"][0] if self["codes"] else None

    @property
    def subject(self) -> str:
        """The decoded Subject."""
        return str(self["subject"])

    @property
    def text(self) -> str:
        """The text part (or text made from the HTML part)."""
        return str(self["text"])


class InboxOperations(InboxTools):
    """The inbox's reads and actions, over the outbox, the mailbox, events and delivery attempts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inbox = InboxIndex(self.store)
        self._inbox_changed = threading.Condition()
        #: bumped by close_inbox(): waits and live streams begun before it end
        self.inbox_generation = 0
        # The store's version as the listener last saw it: waiters read this under the condition and
        # never take the store's lock while holding it (the listener holds the store's lock and then
        # takes the condition, so the other order would deadlock).
        self._inbox_version = self.store.version
        self.store.add_listener(self._wake_inbox)

    def _wake_inbox(self, version: int) -> None:
        # A store listener: runs with the store's lock held, so it only records and notifies.
        with self._inbox_changed:
            self._inbox_version = version
            self._inbox_changed.notify_all()

    def close_inbox(self) -> None:
        """End every long poll and live stream begun so far (the server is stopping)."""
        with self._inbox_changed:
            self.inbox_generation += 1
            self._inbox_changed.notify_all()

    def wait_for_change(self, version: int, timeout: float, generation: int | None = None) -> int:
        """Block until the store's version differs from ``version``, ``timeout`` passes, or
        :meth:`close_inbox` is called; answers the version."""
        deadline = time.monotonic() + timeout
        with self._inbox_changed:
            generation = self.inbox_generation if generation is None else generation
            while self._inbox_version == version and self.inbox_generation == generation:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._inbox_changed.wait(remaining)
            return self._inbox_version

    # -- lists ----------------------------------------------------------------------------

    def list_messages(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``GET /mock/messages``: sent and received mail, newest first, filtered, one page of it.

        :param params: ``to``, ``from``, ``subject``, ``q``, ``direction``, ``tag``, ``domain``, ``status``,
            ``message_id``, ``unread``; ``limit`` (default 50, at most 500), ``skip``; ``pattern`` (the
            code finder's replacement); ``wait`` (seconds to wait for a first match).
        :raises BadRequest: for a parameter out of its range, naming it.
        :raises RequestTimeout: when ``wait`` passed with nothing matching.
        """
        filters = Filters.from_params(params)
        limit = integer(params.get("limit"), "limit", 50)
        skip = integer(params.get("skip"), "skip", 0)
        if not 1 <= limit <= LIMIT_MAX:
            raise BadRequest(f"The 'limit' parameter must be from 1 to {LIMIT_MAX}")
        if skip < 0:
            raise BadRequest("The 'skip' parameter can't be negative")
        wait = _seconds(params.get("wait"))
        pattern = _pattern(params.get("pattern") or None)
        snapshot, hits = self._wait_for(filters, wait)
        page = hits[skip:skip + limit]
        snapshot.statuses_for(page)  # one pass for the page
        return {"items": [self._item(e, snapshot, pattern) for e in page], "total_count": len(hits),
                "unread_count": snapshot.unread_count, "facets": snapshot.facets}

    def wait_for_mail(self, filters: Filters, timeout: float, pattern: str | None = None) -> Mail:
        """The newest message matching ``filters``, waiting up to ``timeout`` seconds for one to come.

        :raises RequestTimeout: when none came.
        """
        pattern = _pattern(pattern)
        snapshot, hits = self._wait_for(filters, timeout)
        return self._item(hits[0], snapshot, pattern)

    def _wait_for(self, filters: Filters, wait: float) -> tuple[Snapshot, list[Entry]]:
        deadline = time.monotonic() + wait
        generation = self.inbox_generation
        while True:
            snapshot = self.inbox.snapshot(self.clock.now())
            hits = snapshot.matching(filters)
            remaining = deadline - time.monotonic()
            if hits or wait <= 0:
                return snapshot, hits
            if remaining <= 0 or self.inbox_generation != generation:
                raise RequestTimeout(f"no message matched within {wait:g} s ({filters.describe()})")
            self.wait_for_change(snapshot.version, remaining, generation)

    def _item(self, entry: Entry, snapshot: Snapshot, pattern: str | None, parsed: ParsedMessage | None = None) -> Mail:
        parsed = parsed or ParsedMessage(self._raw(entry))
        text = parsed.body_plain
        item = Mail(entry.summary())
        item.update(status=snapshot.status(entry), read=entry.id in snapshot.read, text=text,
                    links=find_links(parsed.body_html, text),
                    codes=find_codes("\n".join([entry.subject, text]), pattern))
        return item

    # -- one message ----------------------------------------------------------------------

    def _entry(self, entry_id: str) -> Entry:
        entry = self.inbox.get(entry_id, self.clock.now())
        if entry is None:
            raise NotFound("Message not found")
        return entry

    def _raw(self, entry: Entry) -> bytes:
        if entry.direction == "received":
            received = self.store.mailbox.get(entry.id)
            if received is not None:
                return received.raw
        else:
            stored = self.store.get_message(entry.id, self.clock.now())
            if stored is not None:
                return stored.raw
        raise NotFound("Message not found")

    def latest_message_id(self) -> str:
        """The inbox id of the newest message.

        :raises NotFound: when there is none.
        """
        entries = self.inbox.snapshot(self.clock.now()).entries
        if not entries:
            raise NotFound("No message yet")
        return entries[0].id

    def message_source(self, entry_id: str) -> tuple[Entry, ParsedMessage]:
        """A message's entry and its parsed source (raw bytes in ``.raw``)."""
        entry = self._entry(entry_id)
        return entry, ParsedMessage(self._raw(entry))

    def message_attachment(self, entry_id: str, index: str) -> tuple[bytes, str, str]:
        """Attachment ``index`` (from 0) of a message: bytes, content type, filename."""
        _, parsed = self.message_source(entry_id)
        attachments = parsed.attachments
        if not re.fullmatch(r"[0-9]{1,9}", index) or int(index) >= len(attachments):
            raise NotFound("Attachment not found")
        attachment = attachments[int(index)]
        return attachment.content, attachment.content_type, attachment.filename

    def message_detail(self, entry_id: str) -> dict[str, Any]:
        """``GET /mock/messages/<id>``: the message in full, for the inbox's message view."""
        entry, parsed = self.message_source(entry_id)
        snapshot = self.inbox.snapshot(self.clock.now())
        detail: dict[str, Any] = dict(self._item(entry, snapshot, None, parsed))
        detail.update(
            headers=[list(h) for h in parsed.headers], html=parsed.body_html, stripped_text=parsed.stripped_text,
            stripped_signature=parsed.stripped_signature,
            attachments=[{"index": a.index, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                          "content_id": a.content_id, "image": previewable(a.content_type)} for a in parsed.attachments],
            timeline=self._timeline(entry), deliveries=self.delivery_attempts(entry),
            options=self._options(entry, parsed) if entry.direction == "sent" else None,
            trace=list(received.trace) if (received := self.store.mailbox.get(entry.id)) is not None else None,
            engagement=list(_ENGAGEMENT) if entry.direction == "sent" and not entry.test_mode else [],
        )
        return detail

    def _options(self, entry: Entry, parsed: ParsedMessage) -> dict[str, Any]:
        sent = next((s for s in self.store.sent() if entry.id in s.storage_keys), None)
        variables = user_variables(parsed)
        options = self.store.mailbox.options(entry.message_id)
        return {"tags": list(entry.tags), "test_mode": entry.test_mode,
                "sent_at": sent.sent_at if sent else entry.time, "deliver_at": sent.deliver_at if sent else None,
                "options": [list(o) for o in options] if options is not None else None, "variables": variables,
                "mailgun_headers": [[n, v] for n, v in parsed.headers if n.lower().startswith("x-mailgun-")]}

    def _timeline(self, entry: Entry) -> list[dict[str, Any]]:
        recipients = {r.lower() for r in entry.recipients}
        out = []
        for event in self.inbox.events_of(entry, self.clock.now()):
            inbound = bool(event.get("flags", {}).get("is-routed")) or event["event"] == "stored"
            if inbound != (entry.direction == "received"):
                continue
            recipient = str(event.get("recipient", ""))
            if entry.direction == "sent" and recipient.lower() not in recipients:
                continue
            status = event.get("delivery-status", {})
            reason = str(event.get("reason", ""))
            note = ""
            if reason.startswith("suppress-"):
                note = f"dropped: {recipient} is on the {reason[len('suppress-'):]} suppression list"
            out.append({"id": event.get("id"), "time": event["timestamp"], "event": event["event"],
                        "recipient": recipient, "severity": event.get("severity"), "reason": reason or None,
                        "description": status.get("description") or status.get("message") or "",
                        "url": event.get("url"), "target": event.get("envelope", {}).get("targets"), "note": note})
        return out

    # -- actions --------------------------------------------------------------------------

    def delete_messages(self, ids: Sequence[str]) -> int:
        """Delete inbox messages (a sent copy's stored message goes with it); answers how many went."""
        ids = _ids(ids)
        gone = self.store.mailbox.delete(ids)
        sent_keys = {key for sent in self.store.sent() for key in sent.storage_keys}
        for entry_id in ids:
            if entry_id in sent_keys and self.store.delete_message(entry_id) is not None:
                gone += 1
        self.store.mailbox.mark_read(ids, False)
        return gone

    def mark_read(self, ids: Sequence[str], read: bool = True) -> None:
        """Mark inbox messages read (or unread)."""
        self.store.mailbox.mark_read(_ids(ids), read)

    def trigger_event(self, entry_id: str, event: str | None, recipient: str | None = None, *,
                      country: str | None = None, device: str | None = None) -> dict[str, Any]:
        """Emit an engagement event (opened, clicked, unsubscribed, complained) for a sent message now,
        as a delivery rule would: logged, posted to the domain's webhooks, suppression added.

        :param recipient: which recipient engaged (default: the only one).
        :param country: the engagement's ``geolocation.country``, a two-letter code (default ``US``).
        :param device: its ``client-info.device-type``: desktop (the default), mobile, tablet or unknown.
        :raises BadRequest: for received mail, an unknown event or recipient.
        """
        entry = self._entry(entry_id)
        if entry.direction != "sent":
            raise BadRequest("engagement events happen to sent mail only; this message was received")
        if not event:
            raise BadRequest("'event' parameter is missing")
        if recipient is None or not recipient.strip():
            if len(entry.recipients) != 1:
                raise BadRequest(f"'recipient' parameter is missing (one of {', '.join(entry.recipients)})")
            recipient = entry.recipients[0]
        known = {r.lower(): r for r in entry.recipients}
        if recipient.strip().lower() not in known:
            raise BadRequest(f"{shorten(recipient)} is not a recipient of this message")
        recipient = known[recipient.strip().lower()]
        sent = next((s for s in self.store.sent() if entry.id in s.storage_keys), None)
        stored = self.store.get_message(entry.id, self.clock.now())
        if sent is None or stored is None:
            raise NotFound("Message not found")
        self.outbound.engage(sent, stored, recipient, event, _engagement(country, device))
        return {"message": f"{event} event recorded for {recipient}"}


def _engagement(country: object, device: object) -> dict[str, str]:
    """The checked ``country`` and ``device`` of a triggered engagement (empty: the defaults)."""
    found: dict[str, str] = {}
    if country not in (None, ""):
        if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{2}", country):
            raise BadRequest(f"'country' must be a two-letter country code, got {shorten(country)}")
        found["country"] = country.upper()
    if device not in (None, ""):
        if device not in DEVICES:
            raise BadRequest(f"'device' must be one of {', '.join(DEVICES)}, got {shorten(device)}")
        found["device"] = str(device)
    return found


def _pattern(pattern: str | None) -> str | None:
    """``pattern``, once it compiles (a bad one is a 400 before any waiting)."""
    if pattern is not None:
        try:
            find_codes("", pattern)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    return pattern


def _seconds(value: str | None) -> float:
    if value is None or value == "":
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        raise BadRequest(f"'wait' must be a number of seconds, got {shorten(value)}") from None
    if not 0 <= seconds <= WAIT_MAX:
        raise BadRequest(f"'wait' must be from 0 to {WAIT_MAX:g} seconds, got {shorten(value)}")
    return seconds


def _ids(ids: object) -> list[str]:
    if not isinstance(ids, (list, tuple)) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise BadRequest("'ids' must be a non-empty list of message ids")
    return list(ids)


def previewable(content_type: str) -> bool:
    """Raster images a browser shows inline without running anything (SVG may carry script)."""
    return content_type.lower() in ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")
