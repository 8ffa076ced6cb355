"""The v3 Stats API and tag statistics, counted from the events the mock logged: ``/v3/stats/total``,
``/v3/stats/total/domains``, ``/v3/stats/filter``, ``/v3/<domain>/stats/total``,
``/v3/<domain>/aggregates/{providers,devices,countries}``, ``/v3/<domain>/tag/stats[/aggregates]``,
``/v3/domains/<domain>/tag/{devices,providers,countries}``, and the older tag paths the official
Python SDK calls (``/v3/<domain>/tags/<tag>[/stats[/aggregates/<kind>]]``).

Buckets are whole hours, days (UTC) or months: every event in a bucket that the window touches is
counted. What each event counts as: :mod:`mailgun_mock.wire.stats_counts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.logtext import shorten
from ..lang.analytics_query import STAT_EVENTS, Window, bucket_start, buckets, parse_date, parse_window, rfc2822
from ..wire.stats_counts import Tally
from .context import Context
from .tags import live_tags

__all__ = ["AGGREGATE_KINDS", "StatsOperations", "field_value", "stat_events"]

#: The aggregates: kind -> the name of its answer's object.
AGGREGATE_KINDS = {"provider": "providers", "device": "devices", "country": "countries"}
_ENGAGEMENT = ("opened", "clicked", "unsubscribed", "complained")
#: What the tag lists answer beside the values seen (the document's own lists).
_KNOWN = {
    "devices": ("desktop", "mobile", "tablet", "unknown"),
    "providers": ("gmail.com", "yahoo.com", "hotmail.com", "aol.com", "icloud.com", "mail.ru", "comcast.net",
                  "outlook.com", "msn.com", "live.com", "orange.fr", "sbcglobal.net", "att.net", "ymail.com",
                  "hotmail.co.uk", "verizon.net", "bellsouth.net", "me.com", "yandex.ru", "seznam.cz",
                  "yahoo.co.uk", "hotmail.fr", "yahoo.com.tw", "rocketmail.com", "mailinator.com", "qq.com"),
    "countries": ("au", "br", "ca", "cn", "de", "es", "fr", "gb", "in", "it", "jp", "mx", "nl", "ru", "se", "us",
                  "unknown"),
}
_GROUPS = ("total", "time", "day", "month", "domain", "ip", "provider", "tag", "country")


def _values(params: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(key)]
    value = params.get(key)
    return [] if value is None else [str(v) for v in (value if isinstance(value, list) else [value])]


def stat_events(params: Mapping[str, Any]) -> list[str]:
    """The ``event`` parameters (repeated), checked.

    :raises BadRequest: when none is given or one is not a stats event.
    """
    names = _values(params, "event")
    if not names:
        raise BadRequest("'event' parameter is required: give one or more of " + ", ".join(STAT_EVENTS))
    for name in names:
        if name not in STAT_EVENTS:
            raise BadRequest(f"Invalid event {shorten(name)}: supported events are {', '.join(STAT_EVENTS)} "
                             "(repeat 'event' for several)")
    return list(dict.fromkeys(names))


def field_value(event: dict[str, Any], kind: str) -> str:
    """An event's provider (its recipient domain), device type or country code (lowercase), ``unknown`` if none."""
    if kind == "provider":
        return str(event.get("recipient-domain") or "unknown").lower()
    if kind == "device":
        return str(event.get("client-info", {}).get("device-type") or "unknown").lower()
    return str(event.get("geolocation", {}).get("country") or "unknown").lower()


def _body(window: Window, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    first = bucket_start(window.start, window.resolution)
    return {"description": "", **extra, "start": rfc2822(first),
            "end": rfc2822(bucket_start(window.end, window.resolution)), "resolution": window.resolution,
            "stats": items}


def _series(events: Iterable[dict[str, Any]], window: Window, names: list[str]) -> list[dict[str, Any]]:
    """One stats item per bucket of the window (empty buckets too), oldest first."""
    tallies = {start: Tally() for start in buckets(window.start, window.end, window.resolution)}
    for event in events:
        tally = tallies.get(bucket_start(float(event["timestamp"]), window.resolution))
        if tally is not None:
            tally.add(event)
    return [tally.stats_item(rfc2822(start), names) for start, tally in tallies.items()]


class StatsOperations(Context):
    """The v3 stats, aggregates and tag statistics."""

    def _events(self, domain: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """``(domain, event)`` of one domain (checked) or of the whole account."""
        if domain is not None:
            self.check_domain(domain)
        found = self.store.events_by_domain()
        return [(name, event) for name, events in sorted(found.items()) if domain is None or name == domain.lower()
                for event in events]

    def domain_stats(self, domain: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/<domain>/stats/total`` (and ``/v3/stats/total`` with no domain)."""
        names = stat_events(params)
        window = parse_window(params, self.clock.now())
        return _body(window, _series((e for _, e in self._events(domain)), window, names))

    def domains_stats(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/stats/total/domains``: each domain's counts in the one bucket holding ``timestamp``;
        ``limit`` skips that many domains, as the document says."""
        names = stat_events(params)
        if not params.get("timestamp"):
            raise BadRequest("'timestamp' parameter is required")
        at = parse_date(params["timestamp"], "timestamp")
        window = parse_window({"resolution": params.get("resolution"), "start": at, "end": at}, self.clock.now())
        skip = params.get("limit") or "0"
        if not str(skip).isdigit():
            raise BadRequest(f"Invalid 'limit' {shorten(skip)}: the number of domains to skip")
        per_domain: dict[str, Tally] = {}
        start = bucket_start(at, window.resolution)
        for name, event in self._events():
            if bucket_start(float(event["timestamp"]), window.resolution) == start:
                per_domain.setdefault(name, Tally()).add(event)
        items = [{**tally.stats_item(rfc2822(start), names), "domain": name}
                 for name, tally in sorted(per_domain.items())][int(skip):]
        return _body(window, items)

    def filtered_stats(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/stats/filter``: ``filter=<field>:<value>`` (domain, tag, provider, country, device, ip)
        and ``group`` (total, time, day, month, domain, ip, provider, tag, country)."""
        names = stat_events(params)
        group = params.get("group") or "time"
        if group not in _GROUPS:
            raise BadRequest(f"Invalid group {shorten(group)}: use one of {', '.join(_GROUPS)}")
        resolution = {"day": "day", "month": "month"}.get(group, params.get("resolution"))
        window = parse_window({**dict(params.items()), "resolution": resolution}, self.clock.now())
        chosen = [(d, e) for d, e in self._events() if self._keep(d, e, params.get("filter"))]
        if group in ("time", "day", "month"):
            return _body(window, _series((e for _, e in chosen), window, names))
        low, high = bucket_start(window.start, window.resolution), window.end
        inside = [(d, e) for d, e in chosen if low <= float(e["timestamp"]) <= high]
        if group == "total":
            return _body(window, [Tally().add_all(e for _, e in inside).stats_item(rfc2822(low), names)])
        tallies: dict[str, Tally] = {}
        for name, event in inside:
            for value in self._group_values(name, event, group):
                tallies.setdefault(value, Tally()).add(event)
        return _body(window, [{**tally.stats_item(rfc2822(low), names), group: value}
                              for value, tally in sorted(tallies.items())])

    @staticmethod
    def _group_values(domain: str, event: dict[str, Any], field: str) -> list[str]:
        if field == "domain":
            return [domain]
        if field == "tag":
            return [str(t) for t in event.get("tags") or []]
        if field == "ip":
            return [str(event.get("envelope", {}).get("sending-ip") or "unknown")]
        return [field_value(event, field)]

    def _keep(self, domain: str, event: dict[str, Any], spec: str | None) -> bool:
        if not spec:
            return True
        field, sep, value = str(spec).partition(":")
        if not sep or field not in ("domain", "tag", "ip", "provider", "country", "device"):
            raise BadRequest(f"Invalid filter {shorten(spec)}: use <field>:<value>, the field one of domain, tag, "
                             "ip, provider, country, device")
        return value.lower() in [v.lower() for v in self._group_values(domain, event, field)]

    def aggregates(self, domain: str, kind: str) -> dict[str, Any]:
        """``GET /v3/<domain>/aggregates/<providers|devices|countries>``: counts per value over every logged event."""
        return {AGGREGATE_KINDS[kind]: self._aggregate((e for _, e in self._events(domain)), kind)}

    @staticmethod
    def _aggregate(events: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, int]]:
        tallies: dict[str, Tally] = {}
        for event in events:
            if kind != "provider" and event.get("event") not in _ENGAGEMENT:
                continue  # devices and countries are known from engagement only
            tallies.setdefault(field_value(event, kind), Tally()).add(event)
        return {value: tally.aggregate() for value, tally in sorted(tallies.items())}

    def _tag_events(self, domain: str, tag: str | None, params: Mapping[str, Any]) -> tuple[dict[str, Any],
                                                                                          list[dict[str, Any]]]:
        if not tag:
            raise BadRequest("Parameter 'tag' is missing")
        self.check_domain(domain)
        found = live_tags(self.store, domain).get(tag)
        if found is None:
            raise NotFound("tag not found")
        deleted = (self.store.resources.domains.tags(domain).get(tag) or {}).get("deleted_at") or float("-inf")
        events = [e for _, e in self._events(domain) if tag in (e.get("tags") or []) and float(e["timestamp"]) > deleted]
        for kind in AGGREGATE_KINDS:
            if params.get(kind):
                events = [e for e in events if field_value(e, kind) == str(params[kind]).lower()]
        return found, events

    def tag_stats(self, domain: str, params: Mapping[str, Any], tag: str | None = None) -> dict[str, Any]:
        """``GET /v3/<domain>/tag/stats?tag=&event=`` (optionally by ``provider``, ``device``, ``country``)."""
        names = stat_events(params)
        window = parse_window(params, self.clock.now())
        found, events = self._tag_events(domain, tag if tag is not None else params.get("tag"), params)
        return _body(window, _series(events, window, names), tag=found["tag"], description=found["description"])

    def tag_aggregates(self, domain: str, params: Mapping[str, Any], tag: str | None = None) -> dict[str, Any]:
        """``GET /v3/<domain>/tag/stats/aggregates?tag=&type=country|device|provider``."""
        kind = params.get("type")
        if kind not in AGGREGATE_KINDS:
            raise BadRequest(f"Invalid type {shorten(kind)}: use country, device or provider")
        found, events = self._tag_events(domain, tag if tag is not None else params.get("tag"), {})
        return {"tag": found["tag"], str(kind): self._aggregate(events, str(kind))}

    def tag_dimension_values(self, domain: str, kind: str) -> dict[str, Any]:
        """``GET /v3/domains/<domain>/tag/<devices|providers|countries>``: the values tag stats can be
        filtered by: the usual ones and every one the domain's events carry."""
        single = {v: k for k, v in AGGREGATE_KINDS.items()}[kind]
        seen = {field_value(e, single) for _, e in self._events(domain)
                if single == "provider" or e.get("event") in _ENGAGEMENT}
        return {"items": list(dict.fromkeys([*_KNOWN[kind], *sorted(seen)]))}
