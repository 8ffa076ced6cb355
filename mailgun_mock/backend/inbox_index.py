"""The web inbox's index: one entry per sent copy and per received message, summarised once, with
its status, and the filters of ``/mock/messages`` (no Flask, no lock of its own over state).

Sent mail is the outbox (:meth:`~mailgun_mock.state.store.Store.sent`, one entry per stored copy,
keyed by its storage key); received mail is the store's mailbox. Each message is parsed once, when
the index first sees it; the entry list, the status of each message (from the event log and the
delivery attempts) and the facets are rebuilt only when the store's version has changed, so a
search over 10,000 messages scans short lower-case strings and nothing else.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from ..base.errors import BadRequest
from ..base.logtext import shorten
from ..lang.event_query import LIMIT_MAX, parse_event_query
from ..mail.parse import ParsedMessage
from ..state.store import Store

__all__ = ["DIRECTIONS", "STATUSES", "Entry", "Filters", "InboxIndex", "Snapshot", "bare_id"]

Direction = Literal["sent", "received"]
DIRECTIONS = ("sent", "received")
#: Sent mail: its latest event. Received mail: what the routes did with it.
STATUSES = ("accepted", "delivered", "deferred", "failed", "opened", "clicked", "unsubscribed", "complained",
            "unrouted", "routed", "retrying")
_HAYSTACK_LIMIT = 100_000  # characters of text searched per message
_SENT_EVENTS = frozenset({"accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained"})
_ROUTED_KINDS = frozenset({"forward", "forward-mime", "notify"})
_LOOKUPS_MAX = 200  # sent messages whose status is looked up one by one; more take one pass over all events


def bare_id(message_id: str) -> str:
    """A Message-Id without its angle brackets and spaces (events write it so)."""
    return message_id.strip().strip("<>").strip()


@dataclasses.dataclass(frozen=True)
class Entry:
    """One message of the inbox, summarised.

    :param id: the inbox id: a sent copy's storage key, or a received message's id.
    :param time: when it was sent or received, on the mock's clock.
    :param haystack: what a search looks in, lower-cased: addresses, subject, text.
    """

    id: str
    direction: Direction
    domain: str
    message_id: str
    time: float
    recipients: tuple[str, ...]
    sender: str
    from_: str
    to: str
    cc: str
    subject: str
    tags: tuple[str, ...]
    size: int
    attachments: tuple[dict[str, Any], ...]
    preview: str
    haystack: str
    test_mode: bool = False
    routed: bool = False

    def summary(self) -> dict[str, Any]:
        """The entry as ``/mock/messages`` lists it (without status, read mark, links or codes)."""
        return {"id": self.id, "direction": self.direction, "domain": self.domain, "message_id": self.message_id,
                "date": self.time, "from": self.from_, "to": self.to, "cc": self.cc, "recipients": list(self.recipients),
                "sender": self.sender, "subject": self.subject, "tags": list(self.tags), "size": self.size,
                "attachments": list(self.attachments), "preview": self.preview, "test_mode": self.test_mode}


def _entry(id_: str, direction: Direction, domain: str, message_id: str, time: float, raw: bytes,
           recipients: tuple[str, ...], sender: str, tags: tuple[str, ...] | None, test_mode: bool,
           routed: bool = False) -> Entry:
    parsed = ParsedMessage(raw)
    text = parsed.body_plain
    from_, to, cc, subject = parsed.from_, parsed.header("To"), parsed.header("Cc"), parsed.subject
    if tags is None:
        tags = tuple(dict.fromkeys(parsed.header_values("X-Mailgun-Tag")))
    attachments = tuple({"index": a.index, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                        for a in parsed.attachments)
    haystack = "\n".join([from_, sender, to, cc, *recipients, subject, text[:_HAYSTACK_LIMIT]]).lower()
    return Entry(id_, direction, domain, message_id, time, recipients, sender, from_, to, cc, subject, tags,
                 parsed.size, attachments, " ".join(text.split())[:160], haystack, test_mode, routed)


@dataclasses.dataclass(frozen=True)
class Filters:
    """What ``/mock/messages`` (and the inbox's search box) asks for; every field optional."""

    to: str = ""
    from_: str = ""
    subject: str = ""
    q: str = ""
    direction: str = ""
    tag: str = ""
    domain: str = ""
    status: str = ""
    message_id: str = ""
    unread: bool = False

    def __post_init__(self) -> None:
        if self.direction and self.direction not in DIRECTIONS:
            raise BadRequest(f"'direction' must be sent or received, got {shorten(self.direction)}")
        if self.status and self.status not in STATUSES:
            raise BadRequest(f"'status' must be one of {', '.join(STATUSES)}, got {shorten(self.status)}")

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Filters:
        """Filters from query parameters (``from`` spelled as in the URL)."""
        return cls(to=params.get("to", ""), from_=params.get("from", ""), subject=params.get("subject", ""),
                   q=params.get("q", ""), direction=params.get("direction", ""), tag=params.get("tag", ""),
                   domain=params.get("domain", ""), status=params.get("status", ""),
                   message_id=params.get("message_id", ""),
                   unread=params.get("unread", "").lower() in ("1", "true", "yes", "on"))

    def describe(self) -> str:
        """The filters given, as ``name='value'`` pairs (for messages)."""
        given = {("from" if k == "from_" else k): v for k, v in dataclasses.asdict(self).items() if v}
        return ", ".join(f"{k}={v!r}" for k, v in given.items()) or "no filter"


_NO_FILTER = Filters()


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The index as of one store version: entries newest first, read marks; statuses on demand.

    :param statuses_of: works out the status of some entries (a page's worth by looking their
        events up, all of them by one pass over the event log).
    """

    version: int
    entries: tuple[Entry, ...]
    read: frozenset[str]
    statuses_of: Callable[[Sequence[Entry]], dict[str, str]] = dataclasses.field(repr=False, compare=False)
    _known: dict[str, str] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def status(self, entry: Entry) -> str:
        """One entry's status (remembered for this snapshot)."""
        if entry.id not in self._known:
            self._known.update(self.statuses_of([entry]))
        return self._known[entry.id]

    def statuses_for(self, entries: Sequence[Entry]) -> dict[str, str]:
        """The status of each of ``entries`` (those not known yet are worked out together)."""
        missing = [e for e in entries if e.id not in self._known]
        if missing:
            self._known.update(self.statuses_of(missing))
        return {e.id: self._known[e.id] for e in entries}

    @functools.cached_property
    def by_id(self) -> dict[str, Entry]:
        """The entries by inbox id."""
        return {e.id: e for e in self.entries}

    def matching(self, filters: Filters) -> list[Entry]:
        """The entries that pass every filter, newest first."""
        if filters == _NO_FILTER:
            return list(self.entries)
        words = filters.q.lower().split()
        to, from_, subject = filters.to.lower(), filters.from_.lower(), filters.subject.lower()
        tag, domain, mid = filters.tag.lower(), filters.domain.lower(), bare_id(filters.message_id)
        out = []
        for e in self.entries:
            if filters.direction and e.direction != filters.direction:
                continue
            if domain and e.domain != domain:
                continue
            if to and not any(to in v.lower() for v in (e.to, e.cc, *e.recipients)):
                continue
            if from_ and from_ not in e.from_.lower() and from_ not in e.sender.lower():
                continue
            if subject and subject not in e.subject.lower():
                continue
            if tag and tag not in (t.lower() for t in e.tags):
                continue
            if mid and bare_id(e.message_id) != mid:
                continue
            if filters.unread and e.id in self.read:
                continue
            if words and not all(w in e.haystack for w in words):
                continue
            out.append(e)
        if filters.status:
            statuses = self.statuses_for(out)
            out = [e for e in out if statuses[e.id] == filters.status]
        return out

    @functools.cached_property
    def facets(self) -> dict[str, list[str]]:
        """The values the filters can take here: domains and tags present, and every status."""
        return {"domains": sorted({e.domain for e in self.entries}),
                "tags": sorted({t for e in self.entries for t in e.tags}, key=str.lower),
                "statuses": list(STATUSES)}

    @functools.cached_property
    def unread_count(self) -> int:
        """How many entries are not marked read."""
        return len(self.entries) - sum(1 for e in self.entries if e.id in self.read) if self.read else len(self.entries)


class InboxIndex:
    """Builds :class:`Snapshot` s of a store, re-parsing nothing it has parsed before.

    :param store: the store to index.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()  # guards this cache only; the store's state is read through its methods
        self._entries: dict[str, Entry] = {}
        self._snapshot: Snapshot | None = None

    def snapshot(self, now: float) -> Snapshot:
        """The index as of the store's current version (rebuilt only if the store changed)."""
        version = self.store.version
        current = self._snapshot
        if current is not None and current.version == version:
            return current
        with self._lock:
            if self._snapshot is not None and self._snapshot.version == version:
                return self._snapshot
            snapshot = self._build(version, now)
            self._snapshot = snapshot
            return snapshot

    def get(self, entry_id: str, now: float) -> Entry | None:
        """One entry by its inbox id, or ``None``."""
        return self.snapshot(now).by_id.get(entry_id)

    def events_of(self, entry: Entry, now: float) -> list[dict[str, Any]]:
        """The events of one message (by its Message-Id, through the event log's index), oldest first."""
        if entry.direction == "sent":
            domains = {entry.domain}
        else:
            domains = {r.rpartition("@")[2].lower() for r in entry.recipients}
        query = parse_event_query({"message-id": bare_id(entry.message_id), "ascending": "yes",
                                   "limit": str(LIMIT_MAX)}, now)
        found = [e for d in sorted(domains) for e in self.store.events_response(d, query, None, "", now)["items"]]
        return sorted(found, key=lambda e: e["timestamp"]) if len(domains) > 1 else found

    def _build(self, version: int, now: float) -> Snapshot:
        stored = {m.key: m for m in self.store.messages() if m.expires_at > now}
        fresh: dict[str, Entry] = {}
        for sent in self.store.sent():
            for key in sent.storage_keys:
                message = stored.get(key)
                if message is None:
                    continue
                fresh[key] = self._entries.get(key) or _entry(
                    key, "sent", sent.domain, sent.message_id, sent.sent_at, message.raw, message.recipients,
                    message.sender, sent.tags, sent.test_mode)
        for received in self.store.mailbox.received():
            domain = received.recipients[0].rpartition("@")[2].lower() if received.recipients else ""
            fresh[received.id] = self._entries.get(received.id) or _entry(
                received.id, "received", domain, received.message_id, received.received_at, received.raw,
                received.recipients, received.sender, None, False, any(p.get("matched") for p in received.trace))
        self._entries = fresh
        entries = tuple(sorted(fresh.values(), key=lambda e: e.time, reverse=True))
        return Snapshot(version, entries, self.store.mailbox.read_marks(), functools.partial(self._statuses, now=now))

    def _statuses(self, entries: Sequence[Entry], now: float) -> dict[str, str]:
        """Each entry's status: sent mail's latest event; received mail's routing and deliveries.

        A few entries (a page) look their events up in the event log's Message-Id index; many (a
        status filter over everything) take one pass over the whole log instead.
        """
        latest: dict[tuple[str, str], tuple[float, int, str]] = {}  # (message id, recipient) -> last event
        sent = [e for e in entries if e.direction == "sent"]
        if len(sent) > _LOOKUPS_MAX:
            events: Iterable[dict[str, Any]] = self.store.all_events()
        else:
            events = [event for e in sent for event in self.events_of(e, now)]
        for seq, event in enumerate(events):
            kind = event.get("event")
            if kind not in _SENT_EVENTS or event.get("flags", {}).get("is-routed"):
                continue
            mid = str(event.get("message", {}).get("headers", {}).get("message-id", ""))
            if kind == "failed" and event.get("severity") == "temporary":
                kind = "deferred"
            latest[(mid, str(event.get("recipient", "")).lower())] = (float(event["timestamp"]), seq, kind)
        outcomes: dict[str, dict[str, str]] = {}  # message id -> delivery id -> latest outcome
        for attempt in self.store.attempts() if len(sent) < len(entries) else ():
            if attempt.kind in _ROUTED_KINDS:
                outcomes.setdefault(bare_id(attempt.message_id), {})[attempt.delivery_id] = attempt.outcome
        statuses: dict[str, str] = {}
        for e in entries:
            mid = bare_id(e.message_id)
            if e.direction == "sent":
                seen = [latest[k] for r in e.recipients if (k := (mid, r.lower())) in latest]
                statuses[e.id] = max(seen)[2] if seen else "accepted"
                continue
            results = set(outcomes.get(mid, {}).values())
            if not results:
                statuses[e.id] = "routed" if e.routed else "unrouted"
            elif results & {"failed", "rejected"}:
                statuses[e.id] = "failed"
            else:
                statuses[e.id] = "retrying" if "retrying" in results else "delivered"
        return statuses
