"""Bounce classification (``/v1/bounce-classification/*``, ``POST /v2/bounce-classification/metrics``):
the mock's own ``failed`` events, classified by their SMTP codes and replies into entities (the
recipient's provider) and rules (:mod:`mailgun_mock.wire.bounce_rules`). Permanent failures count as
bounces, temporary ones as delays; ``ESPBLOCK`` rules are critical, the others not.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.logtext import shorten
from ..lang.analytics_query import bucket_start, parse_filter, parse_window, passes, rfc2822
from ..wire.bounce_rules import ENTITIES, RULES, BounceRule, classify, entity_of
from ..wire.log_events import log_event
from .analytics import ACCOUNT_ID, ACCOUNT_NAME
from .context import Context
from .params import integer

__all__ = ["BounceClassificationOperations", "V2_DIMENSIONS"]

#: The dimensions (and filter attributes) of ``POST /v2/bounce-classification/metrics``.
V2_DIMENSIONS = ("entity-name", "domain.name", "envelope.sending-ip", "account.name", "envelope.i-ip-pool-name",
                 "tags", "tag", "recipient-domain", "group-id", "criticality", "severity", "category", "timestamp")
_V2_METRICS = ("critical_bounce_count", "non_critical_bounce_count", "critical_delay_count",
               "non_critical_delay_count", "classified_failures_count", "delivered_smtp_count",
               "critical_bounce_rate", "non_critical_bounce_rate", "critical_delay_rate", "non_critical_delay_rate")
_Classified = tuple[str, dict[str, Any], str, BounceRule]  # domain, event, entity id, rule
_V1_GROUPS = ("subaccount.id", "domain.name", "entity-id", "rule-id")


def _values(domain: str, event: dict[str, Any], entity: str, rule: BounceRule | None, dimension: str,
            resolution: str) -> list[str]:
    """An event's values for a v2 dimension (``rule`` None: a delivery, which has no rule)."""
    if dimension == "tags":
        return [", ".join(event.get("tags") or [])]
    simple: dict[str, Any] = {
        "entity-name": ENTITIES[entity][0], "domain.name": domain, "account.name": ACCOUNT_NAME,
        "envelope.sending-ip": event.get("envelope", {}).get("sending-ip") or "", "envelope.i-ip-pool-name": "",
        "recipient-domain": event.get("recipient-domain") or "", "group-id": rule.id if rule else "",
        "criticality": rule.criticality if rule else "", "category": rule.category if rule else "",
        "severity": ("TEMPORARY" if event.get("severity") == "temporary" else "PERMANENT") if rule else "",
        "timestamp": rfc2822(bucket_start(float(event["timestamp"]), resolution), "+0000")}
    if dimension == "tag":
        return [str(t) for t in event.get("tags") or []] or [""]
    return [str(simple[dimension])]


class BounceClassificationOperations(Context):
    """Bounce classification: statistics by domain, entity and rule, the logs behind them, and v2 metrics."""

    def _classified(self, domain: str | None = None) -> list[_Classified]:
        found = []
        for name, log in sorted(self.store.events_by_domain().items()):
            if domain is not None and name != domain.lower():
                continue
            for event in log:
                hit = classify(event)
                if hit is not None:
                    found.append((name, event, hit[0], hit[1]))
        return found

    def bounce_stats(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v1/bounce-classification/stats``: bounces (permanent failures) counted by ``group``
        (comma-separated: subaccount.id, domain.name, entity-id, rule-id; default the last three),
        most first, at most ``limit``."""
        fields = [g.strip() for g in str(params.get("group") or "domain.name,entity-id,rule-id").split(",") if g.strip()]
        for field in fields:
            if field not in _V1_GROUPS:
                raise BadRequest(f"Invalid group {shorten(field)}: use {', '.join(_V1_GROUPS)}")
        limit = integer(params.get("limit"), "limit", 100)
        counts: dict[tuple[str, ...], int] = {}
        rules: dict[tuple[str, ...], BounceRule] = {}
        account = self.account_id or ACCOUNT_ID
        for domain, event, entity, rule in self._classified():
            if event.get("severity") == "temporary":
                continue
            key = tuple({"subaccount.id": account, "domain.name": domain, "entity-id": entity, "rule-id": rule.id}[f]
                        for f in fields)
            counts[key] = counts.get(key, 0) + 1
            rules[key] = rule
        items = []
        for key, total in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max(0, limit)]:
            values = dict(zip(fields, key))
            item: dict[str, Any] = {"bounced": {"total": total}}
            if "subaccount.id" in values:
                item["subaccount"] = {"id": values["subaccount.id"]}
            if "domain.name" in values:
                item["domain"] = {"name": values["domain.name"]}
            if "entity-id" in values:
                item["entity-id"] = values["entity-id"]
            if "rule-id" in values:
                item["rule-id"] = values["rule-id"]
                item["short-explanation"] = rules[key].short_explanation
            items.append(item)
        return {"items": items, "_duration": "0s"}

    def bounce_domains(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v1/bounce-classification/domains``: bounces per sending domain (``query=domain.name:<d>``,
        ``skip``, ``limit``)."""
        wanted = str(params.get("query") or "")
        if wanted and not wanted.startswith("domain.name:"):
            raise BadRequest(f"Invalid query {shorten(wanted)}: use domain.name:<domain>")
        skip, limit = integer(params.get("skip"), "skip", 0), integer(params.get("limit"), "limit", 100)
        counts: dict[str, int] = {}
        for domain, event, _, _ in self._classified():
            if event.get("severity") != "temporary" and (not wanted or domain == wanted.partition(":")[2].lower()):
                counts[domain] = counts.get(domain, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return {"items": [{"domain": {"name": d}, "bounced": {"total": n}} for d, n in ranked[max(0, skip):][:max(0, limit)]],
                "total": len(ranked)}

    def bounce_entities(self, domain: str) -> dict[str, Any]:
        """``GET /v1/bounce-classification/domains/<domain>/entities``: a domain's bounces per entity."""
        self.check_domain(domain)
        counts: dict[str, int] = {}
        for _, event, entity, _ in self._classified(domain):
            if event.get("severity") != "temporary":
                counts[entity] = counts.get(entity, 0) + 1
        return {"items": [{"entity-id": e, "entity-name": ENTITIES[e][0], "bounced": {"total": n}}
                          for e, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]}

    def bounce_entity_rules(self, domain: str, entity_id: str) -> dict[str, Any]:
        """``GET …/domains/<domain>/entities/<entity-id>/rules``: a domain's bounces at one entity, per rule."""
        self.check_domain(domain)
        if entity_id not in ENTITIES:
            raise NotFound(f"entity not found: {shorten(entity_id)}")
        counts: dict[str, int] = {}
        for _, event, entity, rule in self._classified(domain):
            if entity == entity_id and event.get("severity") != "temporary":
                counts[rule.id] = counts.get(rule.id, 0) + 1
        by_id = {rule.id: rule for rule in RULES}
        return {"items": [{"rule-id": r, "category": by_id[r].category, "severity": by_id[r].severity or "PERMANENT",
                           "sample-text": by_id[r].sample_text, "explanation": by_id[r].explanation,
                           "bounced": {"total": n}} for r, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]}

    def bounce_events(self, domain: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET …/domains/<domain>/events``: the classified failures themselves, in the Logs shape with
        their ``entity-id`` and ``rule-id`` (filtered by either), oldest first, ``limit`` (default 100) at a
        time from ``page`` (the offset a previous answer's ``paging.next`` gives)."""
        self.check_domain(domain)
        limit, skip = integer(params.get("limit"), "limit", 100), integer(params.get("page"), "page", 0)
        if not 1 <= limit <= 1000 or skip < 0:
            raise BadRequest("'limit' must be from 1 to 1000 and 'page' at least 0")
        reverse = params.get("sort") == "@timestamp:desc"
        items = [{**log_event(event, name), "entity-id": entity, "rule-id": rule.id}
                 for name, event, entity, rule in self._classified(domain)
                 if params.get("entity-id") in (None, "", entity) and params.get("rule-id") in (None, "", rule.id)]
        items.sort(key=lambda item: item["@timestamp"], reverse=reverse)
        paging = {"next": str(skip + limit)} if skip + limit < len(items) else {}
        if skip:
            paging["previous"] = str(max(0, skip - limit))
        return {"items": items[skip:skip + limit], "paging": paging}

    @staticmethod
    def bounce_config_entities() -> dict[str, Any]:
        """``GET /v1/bounce-classification/config/entities``: entity id -> ``{"name"}``."""
        return {eid: {"name": name} for eid, (name, _) in ENTITIES.items()}

    @staticmethod
    def bounce_config_rules() -> dict[str, Any]:
        """``GET /v1/bounce-classification/config/rules``: rule id -> what it is (any entity: ``entity_id`` ``*``)."""
        return {rule.id: {"entity_id": "*", "class": rule.category, "sample-text": rule.sample_text,
                          "explanation": rule.explanation, "short-explanation": rule.short_explanation}
                for rule in RULES}

    def bounce_metrics(self, data: object) -> dict[str, Any]:
        """``POST /v2/bounce-classification/metrics``: critical and non-critical bounces and delays by
        ``dimensions``, ``filter``ed, over ``start``/``end``/``duration`` (Go durations) at ``resolution``
        (day, hour); groups with no classified failure are left out, as Mailgun does."""
        if not isinstance(data, Mapping):
            raise BadRequest("the request body must be a JSON object")
        dims = data.get("dimensions") or []
        if not isinstance(dims, list) or any(d not in V2_DIMENSIONS for d in dims):
            raise BadRequest(f"Invalid dimensions {shorten(dims)}: use {', '.join(V2_DIMENSIONS)}")
        if "tag" in dims and "tags" in dims:
            raise BadRequest("the 'tag' and 'tags' dimensions can't be combined")
        wanted = data.get("metrics") or list(_V2_METRICS)
        if not isinstance(wanted, list) or any(m not in _V2_METRICS for m in wanted):
            raise BadRequest(f"Invalid metrics {shorten(wanted)}: use {', '.join(_V2_METRICS)}")
        predicates = parse_filter(data.get("filter"), V2_DIMENSIONS[:-1])
        window = parse_window(data, self.clock.now(), resolutions=("day", "hour"), go_duration=True)
        paging = data.get("pagination") or {}
        if not isinstance(paging, Mapping):
            raise BadRequest("'pagination' must be an object")
        skip, limit = integer(paging.get("skip"), "pagination.skip", 0), integer(paging.get("limit"), "pagination.limit", 10)
        if skip < 0 or not 1 <= limit <= 50:
            raise BadRequest("'pagination.limit' must be from 1 to 50 and 'pagination.skip' at least 0")
        groups: dict[tuple[str, ...], dict[str, int]] = {}
        for domain, log in sorted(self.store.events_by_domain().items()):
            for event in log:
                if not window.start <= float(event["timestamp"]) <= window.end:
                    continue
                hit = classify(event)
                delivered = event.get("event") == "delivered" and not event.get("flags", {}).get("is-routed")
                if hit is None and not delivered:
                    continue
                entity, rule = hit if hit is not None else (entity_of(str(event.get("recipient-domain") or "")), None)

                def lookup(attribute: str) -> list[str]:
                    return _values(domain, event, entity, rule, attribute, window.resolution)

                if not passes(predicates, lookup):
                    continue
                for key in itertools.product(*(lookup(d) for d in dims)):
                    counts = groups.setdefault(key, {"bounce-c": 0, "bounce-n": 0, "delay-c": 0, "delay-n": 0,
                                                     "delivered": 0})
                    if rule is None:
                        counts["delivered"] += 1
                    else:
                        kind = "delay" if event.get("severity") == "temporary" else "bounce"
                        counts[f"{kind}-{'c' if rule.criticality == 'CRITICAL' else 'n'}"] += 1
        rows = [(key, c) for key, c in groups.items() if c["bounce-c"] + c["bounce-n"] + c["delay-c"] + c["delay-n"]]
        sort = str(paging.get("sort") or (f"{dims[0]}:asc" if dims else ""))
        if sort:
            column, _, direction = sort.partition(":")
            if column not in dims:
                raise BadRequest(f"Invalid sort {shorten(sort)}: sort by one of the dimensions asked for")
            rows.sort(key=lambda row: row[0][dims.index(column)], reverse=direction == "desc")
        # every metric, whichever were asked for: the schema requires them all (Go's struct has no omitempty)
        items = [{**dict(zip(dims, key)), "metrics": _v2_metrics(c)} for key, c in rows[skip:skip + limit]]
        return {"start": rfc2822(window.start, "+0000"), "end": rfc2822(window.end, "+0000"),
                "resolution": window.resolution, "duration": window.duration, "dimensions": dims,
                "pagination": {"sort": sort, "skip": skip, "limit": limit, "total": len(rows)}, "items": items}


def _v2_metrics(c: dict[str, int]) -> dict[str, int | None]:
    """The counts and rates of a group; rates are whole percentages of deliveries plus
    classified failures."""
    classified = c["bounce-c"] + c["bounce-n"] + c["delay-c"] + c["delay-n"]
    base = classified + c["delivered"]

    def rate(count: int) -> int | None:
        return round(100 * count / base) if base else None

    return {
        "critical_bounce_count": c["bounce-c"], "non_critical_bounce_count": c["bounce-n"],
        "critical_delay_count": c["delay-c"], "non_critical_delay_count": c["delay-n"],
        "classified_failures_count": classified, "delivered_smtp_count": c["delivered"],
        "critical_bounce_rate": rate(c["bounce-c"]), "non_critical_bounce_rate": rate(c["bounce-n"]),
        "critical_delay_rate": rate(c["delay-c"]), "non_critical_delay_rate": rate(c["delay-n"])}
