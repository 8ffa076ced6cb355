"""Send-threshold alerts (``/v1/thresholds/alerts/send…``) and their hits (``/v1/thresholds/hits``),
computed from the account's own events.

A rate is a percentage of the sends ``accepted`` in the alert's ``period`` (default ``1h``, on the
mock's clock): ``delivered_rate`` counts ``delivered`` events, ``hard_bounce_rate`` permanent
``failed``, ``temporary_fail_rate`` temporary ``failed``, ``complained_rate`` ``complained``.
Dimension values: ``domain`` each sending domain, ``subaccount`` each subaccount (its own events);
``ip``, ``ip_pool`` and ``recipient_provider`` the whole account as the one value ``all``.
Alerts notify nobody: hits are read with the API.
"""

from __future__ import annotations

import operator
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.logtext import printable
from .context import Context

__all__ = ["AlertOperations", "METRICS"]

#: Each metric: the events it counts (type, and severity for failures).
METRICS: dict[str, tuple[str, str | None]] = {
    "delivered_rate": ("delivered", None), "hard_bounce_rate": ("failed", "permanent"),
    "temporary_fail_rate": ("failed", "temporary"), "complained_rate": ("complained", None)}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_DIMENSIONS = ("domain", "ip", "ip_pool", "recipient_provider", "subaccount")
_FILTER_COMPARATORS = ("=", "!=", "contains", "not contains", "<", "<=", ">", ">=")
_CHANNELS = ("email", "slack", "webhook")
_PERIOD = re.compile(r"([1-9][0-9]{0,3})([hd])")
_FIELDS = ("name", "metric", "comparator", "limit", "dimension", "alert_channels", "filters", "period")


def _stamp(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(period: str) -> float:
    match = _PERIOD.fullmatch(period)
    if match is None:
        raise BadRequest(f"invalid period {printable(period, 20)!r}: expected hours or days, like 1h or 7d")
    return int(match.group(1)) * (3600 if match.group(2) == "h" else 86400)


def _check_alert(body: Any) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise BadRequest("send the alert as a JSON object (Content-Type: application/json)")
    alert = {key: body[key] for key in _FIELDS if body.get(key) is not None}
    for key, allowed in (("metric", tuple(METRICS)), ("comparator", tuple(_COMPARE)), ("dimension", _DIMENSIONS)):
        if alert.get(key) not in allowed:
            raise BadRequest(f"'{key}' must be one of: {', '.join(allowed)}")
    if not isinstance(alert.get("name"), str) or not alert["name"].strip():
        raise BadRequest("'name' is required")
    try:
        float(str(alert.get("limit")))
    except ValueError:
        raise BadRequest("'limit' must be a number given as a string, e.g. \"5\"") from None
    alert["limit"] = str(alert["limit"])
    channels = alert.setdefault("alert_channels", [])
    if not isinstance(channels, list) or any(c not in _CHANNELS for c in channels):
        raise BadRequest(f"'alert_channels' must be a list of: {', '.join(_CHANNELS)}")
    filters = alert.setdefault("filters", [])
    if not isinstance(filters, list) or not all(
            isinstance(f, Mapping) and f.get("dimension") in _DIMENSIONS and f.get("comparator") in _FILTER_COMPARATORS
            and isinstance(f.get("values"), list) and all(isinstance(v, str) for v in f["values"]) for f in filters):
        raise BadRequest("each filter needs 'dimension', 'comparator' and 'values' (a list of strings)")
    alert["period"] = str(alert.get("period") or "1h")
    _seconds(alert["period"])
    return alert


def _keep(value: str, filters: Iterable[Mapping[str, Any]], dimension: str) -> bool:
    for f in filters:
        if f["dimension"] != dimension:
            continue
        hit = {"=": value in f["values"], "!=": value not in f["values"],
               "contains": any(v in value for v in f["values"]),
               "not contains": not any(v in value for v in f["values"])}.get(f["comparator"], True)
        if not hit:
            return False
    return True


class AlertOperations(Context):
    """Send alerts and their hits."""

    def list_alerts(self) -> dict[str, Any]:
        """``GET /v1/thresholds/alerts/send``."""
        alerts = self.store.resources.admin.alerts()
        return {"items": alerts, "total": len(alerts)}

    def get_alert(self, name: str) -> dict[str, Any]:
        """``GET /v1/thresholds/alerts/send/<name>``."""
        alert = self.store.resources.admin.alert(name)
        if alert is None:
            raise NotFound("alert not found")
        return alert

    def create_alert(self, body: Any) -> dict[str, Any]:
        """``POST /v1/thresholds/alerts/send`` (JSON): answers the alert as kept."""
        alert = _check_alert(body)
        if self.store.resources.admin.alert(alert["name"]) is not None:
            raise BadRequest(f"an alert named {printable(alert['name'], 60)!r} already exists")
        now = _stamp(self.clock.now())
        alert.update(id=str(uuid.uuid4()), parent_account_id=(self.parent.account_id if self.parent else self.account_id),
                     subaccount_id=self.account_id if self.parent else "", account_group="", created_at=now,
                     updated_at=now, last_checked=now)
        self.store.resources.admin.put_alert(alert)
        return alert

    def update_alert(self, name: str, body: Any) -> dict[str, Any]:
        """``PUT /v1/thresholds/alerts/send/<name>`` (JSON, the whole alert)."""
        old = self.get_alert(name)
        alert = _check_alert(body)
        if alert["name"] != name and self.store.resources.admin.alert(alert["name"]) is not None:
            raise BadRequest(f"an alert named {printable(alert['name'], 60)!r} already exists")
        for key in ("id", "parent_account_id", "subaccount_id", "account_group", "created_at", "last_checked"):
            alert[key] = old[key]
        alert["updated_at"] = _stamp(self.clock.now())
        self.store.resources.admin.put_alert(alert, replaces=name)
        return {"message": "alert updated"}

    def delete_alert(self, name: str) -> dict[str, Any]:
        """``DELETE /v1/thresholds/alerts/send/<name>``."""
        if not self.store.resources.admin.delete_alert(name):
            raise NotFound("alert not found")
        return {"message": "alert deleted"}

    # -- hits -------------------------------------------------------------------------------

    def _groups(self, dimension: str, since: float) -> dict[str, list[dict[str, Any]]]:
        """This account's sent-mail events since ``since``, by value of ``dimension``."""
        groups: dict[str, list[dict[str, Any]]] = {}
        if dimension == "subaccount":
            for sub_id, state in list(self.subaccount_states.items()):
                groups[sub_id] = [e for e in state.store.all_events() if e["timestamp"] >= since]
            return groups
        domains = {sent.message_id.strip("<>"): sent.domain for sent in self.store.sent()}
        for event in self.store.all_events():
            if event["timestamp"] < since or event.get("flags", {}).get("is-routed"):
                continue
            message_id = str(event.get("message", {}).get("headers", {}).get("message-id", ""))
            value = domains.get(message_id, "all") if dimension == "domain" else "all"
            groups.setdefault(value.lower(), []).append(event)
        return groups

    def list_alert_hits(self) -> dict[str, Any]:
        """``GET /v1/thresholds/hits``: each alert's latest value per dimension value, and whether it triggered."""
        now = self.clock.now()
        items = []
        for alert in self.store.resources.admin.alerts():
            kind, severity = METRICS[alert["metric"]]
            for value, events in sorted(self._groups(alert["dimension"], now - _seconds(alert["period"])).items()):
                if not _keep(value, alert["filters"], alert["dimension"]):
                    continue
                accepted = sum(1 for e in events if e["event"] == "accepted" and not e.get("flags", {}).get("is-routed"))
                if not accepted:
                    continue
                counted = sum(1 for e in events if e["event"] == kind and (severity is None or e.get("severity") == severity))
                rate = 100.0 * counted / accepted
                items.append({"id": alert["id"], "name": alert["name"], "created_at": alert["created_at"],
                              "updated_at": alert["updated_at"],
                              "triggered": _COMPARE[alert["comparator"]](rate, float(alert["limit"])),
                              "expires_at": _stamp(now + _seconds(alert["period"])), "latest_value": f"{rate:.2f}",
                              "metric": alert["metric"], "comparator": alert["comparator"], "limit": alert["limit"],
                              "parent_account_id": alert["parent_account_id"], "subaccount_id": alert["subaccount_id"],
                              "dimension": alert["dimension"], "dimension_value": value})
        return {"items": items, "total": len(items)}
