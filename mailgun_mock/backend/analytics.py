"""The account's analytics under ``/v1/analytics``, counted from the events the mock logged: Metrics
(``metrics``, ``usage/metrics``), Logs (``logs``) and the account's tags (``tags``, ``tags/limits``).

Metrics count the events inside ``[start, end]`` exactly (the buckets of ``resolution`` only label
them); what each event counts as: :mod:`mailgun_mock.wire.stats_counts`. Logs are the events in
the Logs API's shape (:mod:`mailgun_mock.wire.log_events`), newest first unless sorted
``timestamp:asc``, paged by opaque tokens.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.logtext import shorten
from ..lang.analytics_query import bucket_start, buckets, parse_filter, parse_window, passes, rfc2822
from ..wire.log_events import log_event, log_values
from ..wire.stats_counts import COUNT_METRICS, DIMENSIONS, RATE_METRICS, Tally, dimension_values
from .context import Context
from .params import integer
from .tags import TAG_LIMIT, live_tags

__all__ = ["ACCOUNT_ID", "ACCOUNT_NAME", "AnalyticsOperations", "USAGE_METRICS"]

#: The mock's one account, as the analytics APIs name it.
ACCOUNT_ID = "000000000000000000000001"
ACCOUNT_NAME = "mailgun-mock"
#: The usage metrics; of these the mock does only ``processed_count`` (the others count services it lacks: 0).
USAGE_METRICS = ("email_validation_count", "email_validation_public_count", "email_validation_valid_count",
                 "email_validation_single_count", "email_validation_bulk_count", "email_validation_list_count",
                 "email_validation_mailgun_count", "email_validation_mailjet_count", "email_preview_count",
                 "email_preview_failed_count", "link_validation_count", "link_validation_failed_count",
                 "seed_test_count", "ip_blocklist_monitoring_count", "domain_blocklist_monitoring_count",
                 "accessibility_count", "accessibility_failed_count", "image_validation_count",
                 "image_validation_failed_count", "archived_count", "processed_count")
_FILTER_ATTRIBUTES = tuple(d for d in DIMENSIONS if d != "time")
_LOG_SORTS = ("timestamp:asc", "timestamp:desc")


def _body(data: object) -> Mapping[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise BadRequest("the request body must be a JSON object")
    return data


def _names(data: Mapping[str, Any], key: str, allowed: tuple[str, ...], what: str) -> list[str]:
    values = data.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BadRequest(f"'{key}' must be a list of strings")
    for value in values:
        if value not in allowed:
            raise BadRequest(f"Invalid {what} {shorten(value)}: use one of {', '.join(allowed)}")
    return list(dict.fromkeys(values))


def _pagination(data: Mapping[str, Any], default_limit: int, max_limit: int) -> tuple[int, int, str]:
    paging = data.get("pagination") or {}
    if not isinstance(paging, Mapping):
        raise BadRequest("'pagination' must be an object")
    skip = integer(paging.get("skip"), "pagination.skip", 0)
    limit = integer(paging.get("limit"), "pagination.limit", default_limit)
    if skip < 0 or not 1 <= limit <= max_limit:
        raise BadRequest(f"'pagination.limit' must be from 1 to {max_limit} and 'pagination.skip' at least 0")
    return skip, limit, str(paging.get("sort") or "")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).rstrip(b"=").decode()


def _offset(token: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = data["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("invalid pagination token") from None


class AnalyticsOperations(Context):
    """Metrics, usage metrics, logs and the account's tags."""

    def _window_events(self, data: Mapping[str, Any], **window_options: Any) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
        window = parse_window(data, self.clock.now(), **window_options)
        events = [(domain, event) for domain, log in sorted(self.store.events_by_domain().items()) for event in log
                  if window.start <= float(event["timestamp"]) <= window.end]
        return window, events

    def metrics(self, data: object) -> dict[str, Any]:
        """``POST /v1/analytics/metrics``: counts and rates by ``dimensions`` (at most 3), ``filter``ed,
        over ``start``/``end``/``duration`` at ``resolution``; ``include_aggregates`` adds the totals."""
        data = _body(data)
        dims = _names(data, "dimensions", DIMENSIONS, "dimension")
        if len(dims) > 3:
            raise BadRequest("at most 3 dimensions may be given")
        wanted = _names(data, "metrics", (*COUNT_METRICS, *RATE_METRICS), "metric")
        predicates = parse_filter(data.get("filter"), _FILTER_ATTRIBUTES)
        window, events = self._window_events(data)
        skip, limit, sort = _pagination(data, 1500 if "time" in dims else 10, 1500 if "time" in dims else 1000)
        groups: dict[tuple[str, ...], Tally] = {}
        if dims == ["time"]:  # the whole series, empty buckets too
            groups = {(rfc2822(at, "+0000"),): Tally() for at in buckets(window.start, window.end, window.resolution)}
        total = Tally()
        for domain, event in events:
            if not passes(predicates, lambda attribute: dimension_values(event, domain, attribute)):
                continue
            total.add(event)
            values = [[rfc2822(bucket_start(float(event["timestamp"]), window.resolution), "+0000")] if dim == "time"
                      else dimension_values(event, domain, dim) for dim in dims]
            for key in itertools.product(*values):
                groups.setdefault(key, Tally()).add(event)
        sort = sort or (f"{dims[0]}:asc" if dims else "")
        keys = list(groups)
        if sort:
            column, _, direction = sort.partition(":")
            if column not in dims or direction not in ("", "asc", "desc"):
                raise BadRequest(f"Invalid sort {shorten(sort)}: use <dimension>:asc or <dimension>:desc")
            at = dims.index(column)
            keys.sort(key=lambda k: _order(k[at], column), reverse=direction == "desc")
        items = [{"dimensions": [{"dimension": d, "value": v, "display_value": v} for d, v in zip(dims, key)],
                  "metrics": groups[key].metrics(wanted)} for key in keys[skip:skip + limit]]
        answer: dict[str, Any] = {
            "start": rfc2822(window.start, "+0000"), "end": rfc2822(window.end, "+0000"),
            "resolution": window.resolution, "duration": window.duration, "dimensions": dims,
            "pagination": {"sort": sort, "skip": skip, "limit": limit, "total": len(keys)}, "items": items}
        if data.get("include_aggregates"):
            answer["aggregates"] = {"metrics": total.metrics(wanted)}
        return answer

    def usage_metrics(self, data: object) -> dict[str, Any]:
        """``POST /v1/analytics/usage/metrics``: ``processed_count`` from the events; the services the
        mock does not run (validations, previews, seed tests…) count 0."""
        data = _body(data)
        dims = _names(data, "dimensions", ("time", "subaccount"), "dimension")
        wanted = _names(data, "metrics", USAGE_METRICS, "metric")
        parse_filter(data.get("filter"), ("subaccount",))
        window, events = self._window_events(data)
        skip, limit, sort = _pagination(data, 1500, 1500)
        series = buckets(window.start, window.end, window.resolution) if "time" in dims else [window.start]
        tallies = {at: Tally() for at in series}
        total = Tally()
        for _, event in events:
            total.add(event)
            tallies[bucket_start(float(event["timestamp"]), window.resolution) if "time" in dims else window.start].add(event)

        def usage(tally: Tally) -> dict[str, int]:
            return {name: tally.count("processed_count") if name == "processed_count" else 0 for name in wanted}

        def labels(at: float) -> list[dict[str, str]]:
            values = {"time": rfc2822(at, "+0000"), "subaccount": "none"}
            return [{"dimension": d, "value": values[d], "display_value": values[d]} for d in dims]

        items = [{"dimensions": labels(at), "metrics": usage(tally)} for at, tally in tallies.items()]
        answer: dict[str, Any] = {
            "start": rfc2822(window.start, "+0000"), "end": rfc2822(window.end, "+0000"),
            "resolution": window.resolution, "duration": window.duration, "dimensions": dims,
            "pagination": {"sort": sort or ("time:asc" if "time" in dims else ""), "skip": skip, "limit": limit,
                           "total": len(items)}, "items": items[skip:skip + limit]}
        if data.get("include_aggregates"):
            answer["aggregates"] = {"metrics": usage(total)}
        return answer

    def logs(self, data: object) -> dict[str, Any]:
        """``POST /v1/analytics/logs``: the events between ``start`` (default: a day ago) and ``end``, of
        the ``events`` named, ``filter``ed on any attribute of a log item; ``pagination.sort``
        (``timestamp:desc`` by default), ``limit`` (at most 100) and ``token`` (from a previous answer)."""
        data = _body(data)
        window, events = self._window_events({k: data.get(k) for k in ("start", "end")}, default_days=1.0)
        kinds = data.get("events") or []
        metric_events = data.get("metric_events") or []
        if not isinstance(kinds, list) or not isinstance(metric_events, list):
            raise BadRequest("'events' and 'metric_events' must be lists of event names")
        kinds = [*kinds, *(str(m).removesuffix("_count").split("_")[-1] for m in metric_events)]
        predicates = parse_filter(data.get("filter"))
        paging = data.get("pagination") or {}
        if not isinstance(paging, Mapping):
            raise BadRequest("'pagination' must be an object")
        sort = str(paging.get("sort") or "timestamp:desc")
        if sort not in _LOG_SORTS:
            raise BadRequest(f"Invalid sort {shorten(sort)}: use timestamp:asc or timestamp:desc")
        limit = integer(paging.get("limit"), "pagination.limit", 100)
        if not 1 <= limit <= 100:
            raise BadRequest("'pagination.limit' must be from 1 to 100")
        offset = _offset(str(paging["token"])) if paging.get("token") else 0
        items = [log_event(event, domain) for domain, event in events if not kinds or event.get("event") in kinds]
        items = [item for item in items if passes(predicates, lambda attribute: log_values(item, attribute))]
        items.sort(key=lambda item: item["@timestamp"], reverse=sort == "timestamp:desc")
        last = max(0, (len(items) - 1) // limit * limit)
        pagination: dict[str, Any] = {"first": _token(0), "last": _token(last)}
        if offset + limit < len(items):
            pagination["next"] = _token(offset + limit)
        if offset > 0:
            pagination["previous"] = _token(max(0, offset - limit))
        answer: dict[str, Any] = {"start": rfc2822(window.start, "+0000"), "end": rfc2822(window.end, "+0000"),
                                  "items": items[offset:offset + limit], "pagination": pagination}
        if data.get("include_totals"):
            pagination["total"] = len(items)
            answer["aggregates"] = {"all": len(items)}
        return answer

    # -- the account's tags ----------------------------------------------------------------

    def _account_tags(self) -> dict[str, dict[str, Any]]:
        """Every domain's live tags, merged by name: first and last seen across domains, their domains."""
        merged: dict[str, dict[str, Any]] = {}
        for record in self.store.resources.domains.all():
            domain = str(record["name"])
            for name, tag in live_tags(self.store, domain).items():
                entry = merged.setdefault(name, {"tag": name, "description": "", "first": tag["first"],
                                                 "last": tag["last"], "domains": []})
                entry["first"], entry["last"] = min(entry["first"], tag["first"]), max(entry["last"], tag["last"])
                entry["description"] = entry["description"] or tag["description"]
                entry["domains"].append(domain)
        return merged

    def list_account_tags(self, data: object) -> dict[str, Any]:
        """``POST /v1/analytics/tags``: the account's tags (``tag``: a prefix), sorted by ``lastseen``,
        ``firstseen`` or ``tag``; ``include_metrics`` adds each tag's counts (then at most 20 a page)."""
        data = _body(data)
        with_metrics = bool(data.get("include_metrics"))
        skip, limit, sort = _pagination(data, 10, 20 if with_metrics else 1000)
        sort = sort or "lastseen:desc"
        column, _, direction = sort.partition(":")
        if column not in ("lastseen", "firstseen", "tag") or direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort {shorten(sort)}: use lastseen, firstseen or tag, then :asc or :desc")
        prefix = str(data.get("tag") or "")
        tags = [t for t in self._account_tags().values() if t["tag"].startswith(prefix)]
        field = {"lastseen": "last", "firstseen": "first", "tag": "tag"}[column]
        tags.sort(key=lambda t: t[field], reverse=direction == "desc")
        page = tags[skip:skip + limit]
        counts = self._tag_counts({t["tag"] for t in page}) if with_metrics else {}
        items = []
        for tag in page:
            item = {"account_id": self.account_id or ACCOUNT_ID,
                    "parent_account_id": (self.parent.account_id if self.parent else self.account_id) or ACCOUNT_ID,
                    "tag": tag["tag"],
                    "description": tag["description"], "first_seen": rfc2822(tag["first"], "+0000"),
                    "last_seen": rfc2822(tag["last"], "+0000"), "account_name": ACCOUNT_NAME}
            if with_metrics:
                item["metrics"] = counts[tag["tag"]].metrics(COUNT_METRICS)
            items.append(item)
        pagination: dict[str, Any] = {"sort": sort, "skip": skip, "limit": limit}
        if (data.get("pagination") or {}).get("include_total"):
            pagination["total"] = len(tags)
        return {"items": items, "pagination": pagination}

    def _tag_counts(self, names: set[str]) -> dict[str, Tally]:
        tallies = {name: Tally() for name in names}
        for log in self.store.events_by_domain().values():
            for event in log:
                for tag in set(event.get("tags") or []) & names:
                    tallies[tag].add(event)
        return tallies

    def _account_tag(self, data: object) -> dict[str, Any]:
        data = _body(data)
        name = data.get("tag")
        if not isinstance(name, str) or not name:
            raise BadRequest("'tag' is required")
        found = self._account_tags().get(name)
        if found is None:
            raise NotFound("Tag not found")
        return {**found, "input": data}

    def update_account_tag(self, data: object) -> dict[str, Any]:
        """``PUT /v1/analytics/tags``: a tag's ``description``, on every domain that has the tag."""
        found = self._account_tag(data)
        description = found["input"].get("description")
        if not isinstance(description, str):
            raise BadRequest("'description' is required")
        for domain in found["domains"]:
            self.store.resources.domains.note_tag(domain, found["tag"], description=description)
        return {"message": "Tag updated"}

    def delete_account_tag(self, data: object) -> dict[str, Any]:
        """``DELETE /v1/analytics/tags``: the tag is gone from every domain until a send carries it again."""
        found = self._account_tag(data)
        for domain in found["domains"]:
            self.store.resources.domains.note_tag(domain, found["tag"], deleted_at=self.clock.now())
        return {"message": "Tag deleted"}

    def account_tag_limits(self) -> dict[str, Any]:
        """``GET /v1/analytics/tags/limits``: how many tags the account has, of how many it may have."""
        count = len(self._account_tags())
        return {"limit": TAG_LIMIT, "count": count, "limit_reached": count >= TAG_LIMIT}


def _order(value: str, column: str) -> Any:
    """How a dimension's values sort: times by date, the rest as text."""
    return parsedate_to_datetime(value).timestamp() if column == "time" else value.lower()
