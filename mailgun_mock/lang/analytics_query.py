"""What the analytics APIs ask for (pure): dates (RFC 2822 or a unix epoch), durations, resolutions and
their time buckets, and the ``{"AND": [{attribute, comparator, values}]}`` filters of the Metrics, Logs
and bounce-classification APIs.

Every check raises :class:`~mailgun_mock.base.errors.BadRequest` with a message that names the
field and what it accepts (Mailgun documents none of these messages, so they say what is wrong).
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from ..base.clock import LATEST
from ..base.errors import BadRequest
from ..base.logtext import shorten

__all__ = ["COMPARATORS", "RESOLUTIONS", "STAT_EVENTS", "Predicate", "Window", "bucket_start", "buckets",
           "next_bucket", "parse_date", "parse_filter", "parse_window", "passes", "rfc2822"]

#: The resolutions of the stats and metrics APIs, finest first.
RESOLUTIONS = ("hour", "day", "month")
#: The events the v3 stats API counts.
STAT_EVENTS = ("accepted", "delivered", "failed", "opened", "clicked", "unsubscribed", "complained", "stored")
#: The comparators of a filter predicate.
COMPARATORS = ("=", "!=", "contains", "not contains")
_DAY = 86400.0
#: Stats durations: a count and a unit, ``m`` being months (``1m``, ``7d``, ``24h``).
_STATS_DURATION = re.compile(r"(\d{1,6})([mdh])")
#: Go durations (bounce classification): ``48h``, ``60m``, ``30s``, ``24h0m0s``.
_GO_DURATION = re.compile(r"(?:(\d{1,7})h)?(?:(\d{1,9})m)?(?:(\d{1,10})s)?")


def rfc2822(timestamp: float, zone: str = "UTC") -> str:
    """``Tue, 14 Feb 2012 00:00:00 UTC`` (the stats API) or, with ``zone="+0000"``, the metrics API's form."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime(f"%a, %d %b %Y %H:%M:%S {zone}")


def parse_date(value: object, field: str) -> float:
    """A date given as RFC 2822 text or a unix epoch (seconds), as epoch seconds.

    :raises BadRequest: naming ``field`` for anything else.
    """
    text = str(value).strip()
    try:
        if re.fullmatch(r"-?\d{1,12}(\.\d+)?", text):
            stamp = float(text)
        else:
            parsed = parsedate_to_datetime(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            stamp = parsed.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        raise BadRequest(f"Invalid '{field}' {shorten(text)}: use an RFC 2822 date "
                         f"(e.g. 'Mon, 13 Nov 2023 20:56:50 -0600') or a unix epoch") from None
    if not 0 <= stamp <= LATEST:
        raise BadRequest(f"Invalid '{field}' {shorten(text)}: dates run from 1970 to 9999")
    return stamp


def bucket_start(timestamp: float, resolution: str) -> float:
    """The start of the hour, day (UTC) or month holding ``timestamp``."""
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    if resolution == "hour":
        moment = moment.replace(minute=0, second=0, microsecond=0)
    elif resolution == "day":
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        moment = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return moment.timestamp()


def next_bucket(start: float, resolution: str) -> float:
    """The start of the bucket after the one starting at ``start``."""
    if resolution == "hour":
        return start + 3600.0
    if resolution == "day":
        return start + _DAY
    moment = datetime.fromtimestamp(start, timezone.utc)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    if year > 9999:
        return float("inf")  # after the last month a date can show
    return moment.replace(year=year, month=month).timestamp()


def buckets(start: float, end: float, resolution: str, cap: int = 10000) -> list[float]:
    """The starts of every bucket from the one holding ``start`` to the one holding ``end`` (at most ``cap``)."""
    found: list[float] = []
    at = bucket_start(start, resolution)
    while at <= end and len(found) < cap:
        found.append(at)
        at = next_bucket(at, resolution)
    return found


def _months_before(timestamp: float, months: int) -> float:
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    if year < 1:
        raise BadRequest("'duration' reaches back before year 1")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day).timestamp()


def _duration_start(end: float, text: str, go_style: bool) -> float:
    if go_style:
        match = _GO_DURATION.fullmatch(text)
        if match is None or not text or not any(match.groups()):
            raise BadRequest(f"Invalid 'duration' {shorten(text)}: use a duration like '48h', '60m', '30s' or '24h0m0s'")
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return end - (hours * 3600 + minutes * 60 + seconds)
    match = _STATS_DURATION.fullmatch(text)
    if match is None:
        raise BadRequest(f"Invalid 'duration' {shorten(text)}: use a number and a unit, 'h' (hours), 'd' (days) "
                         "or 'm' (months), e.g. '1m', '7d', '24h'")
    count, unit = int(match.group(1)), match.group(2)
    if unit == "m":
        return _months_before(end, count)
    return end - count * (3600.0 if unit == "h" else _DAY)


@dataclasses.dataclass(frozen=True)
class Window:
    """The time a query covers, and how finely.

    :param start: epoch seconds (inclusive).
    :param end: epoch seconds (inclusive).
    :param resolution: ``hour``, ``day`` or ``month``.
    :param duration: the ``duration`` asked for, or ``""``.
    """

    start: float
    end: float
    resolution: str
    duration: str = ""


def parse_window(params: Mapping[str, Any], now: float, *, default_days: float = 7.0,
                 resolutions: Sequence[str] = RESOLUTIONS, go_duration: bool = False) -> Window:
    """``start``, ``end`` (default: now on the mock's clock), ``duration`` (counted back from ``end``; it
    overrides ``start``) and ``resolution`` (default ``day``).

    :param default_days: how far back ``start`` is by default.
    :param go_duration: read ``duration`` as a Go duration (``48h``, ``60m`` minutes) instead of the
        stats form (``1m`` a month).
    :raises BadRequest: for a bad date, duration or resolution, or a start after the end.
    """
    resolution = params.get("resolution") or "day"
    if resolution not in resolutions:
        raise BadRequest(f"Invalid 'resolution' {shorten(resolution)}: use one of {', '.join(resolutions)}")
    end = parse_date(params["end"], "end") if params.get("end") not in (None, "") else now
    duration = params.get("duration") or ""
    if not isinstance(duration, str):
        raise BadRequest(f"Invalid 'duration' {shorten(duration)}: it must be a string")
    if duration:
        start = _duration_start(end, duration, go_duration)
    elif params.get("start") not in (None, ""):
        start = parse_date(params["start"], "start")
    else:
        start = end - default_days * _DAY
    if start > end:
        raise BadRequest("'start' must not be after 'end'")
    if start < 0:
        raise BadRequest(f"Invalid 'duration' {shorten(duration)}: it reaches back before 1970")
    return Window(start, end, str(resolution), duration)


@dataclasses.dataclass(frozen=True)
class Predicate:
    """One ``{attribute, comparator, values}`` of a filter's ``AND`` list."""

    attribute: str
    comparator: str
    values: tuple[str, ...]

    def passes(self, actual: Collection[str]) -> bool:
        """Whether the event's values for the attribute satisfy the predicate (compared ignoring case)."""
        have = [a.lower() for a in actual]
        wanted = [v.lower() for v in self.values]
        if self.comparator in ("=", "!="):
            hit = any(w in have for w in wanted)
        else:
            hit = any(w in a for w in wanted for a in have)
        return hit if self.comparator in ("=", "contains") else not hit


def parse_filter(data: object, attributes: Collection[str] | None = None) -> tuple[Predicate, ...]:
    """The predicates of ``{"AND": [...]}`` (``None`` or ``{}``: none).

    :param attributes: the attributes allowed, or ``None`` for any.
    :raises BadRequest: for a filter that is not of that shape, or an unknown attribute or comparator.
    """
    if data is None or data == {}:
        return ()
    if not isinstance(data, Mapping) or not isinstance(data.get("AND"), list):
        raise BadRequest("'filter' must be an object with an 'AND' list of predicates")
    found = []
    for item in data["AND"]:
        if not isinstance(item, Mapping):
            raise BadRequest(f"a filter predicate must be an object, got {shorten(item)}")
        attribute, comparator, values = item.get("attribute"), item.get("comparator"), item.get("values") or []
        if not isinstance(attribute, str) or (attributes is not None and attribute not in attributes):
            allowed = f" (attributes are {', '.join(attributes)})" if attributes is not None else ""
            raise BadRequest(f"Invalid filter attribute {shorten(attribute)}{allowed}")
        if comparator not in COMPARATORS:
            raise BadRequest(f"Invalid filter comparator {shorten(comparator)} (comparators are {', '.join(COMPARATORS)})")
        if not isinstance(values, list) or not all(isinstance(v, Mapping) and isinstance(v.get("value"), str)
                                                   for v in values):
            raise BadRequest("filter 'values' must be a list of {\"label\", \"value\"} objects")
        found.append(Predicate(attribute, str(comparator), tuple(str(v["value"]) for v in values)))
    return tuple(found)


def passes(predicates: Sequence[Predicate], lookup: Callable[[str], Collection[str]]) -> bool:
    """Whether every predicate holds, ``lookup(attribute)`` giving an event's values for an attribute."""
    return all(p.passes(lookup(p.attribute)) for p in predicates)
