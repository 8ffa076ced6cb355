"""An Events API event in the Logs API's shape (``POST /v1/analytics/logs``; pure): ``@timestamp`` as
ISO 8601, ``domain.name``, ``recipient-provider``, ``user-variables`` as a JSON string,
``storage.url`` a list, ``routes`` the first matched route."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from .stats_counts import provider_name

__all__ = ["log_event", "log_values"]

_FLAGS = ("is-authenticated", "is-system-test", "is-routed", "is-amp", "is-test-mode", "is-delayed-bounce",
          "is-callback", "is-encrypted")
_COPIED = ("id", "event", "tags", "method", "recipient", "recipient-domain", "log-level", "ip", "geolocation",
           "client-info", "severity", "reason", "url", "delivery-status", "envelope")


def _stamp(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def log_event(event: dict[str, Any], domain: str) -> dict[str, Any]:
    """The Logs API's item for one logged event of ``domain``."""
    item: dict[str, Any] = {key: event[key] for key in _COPIED if key in event}
    item["@timestamp"] = _stamp(float(event["timestamp"]))
    item["domain"] = {"name": domain}
    if "recipient-domain" in event:
        item["recipient-provider"] = provider_name(str(event["recipient-domain"]))
    item["campaigns"] = [{"id": str(c), "name": str(c)} if not isinstance(c, dict) else c
                         for c in event.get("campaigns") or []]
    item["user-variables"] = json.dumps(event.get("user-variables") or {}, separators=(",", ":"))
    flags = event.get("flags") or {}
    item["flags"] = {name: bool(flags.get(name, False)) for name in _FLAGS}
    if "storage" in event:
        storage = event["storage"]
        item["storage"] = {"key": storage.get("key", ""), "url": [storage["url"]] if storage.get("url") else []}
    if "message" in event:
        message = event["message"]
        item["message"] = {k: message[k] for k in ("headers", "attachments", "recipients", "size") if k in message}
    routes = event.get("routes") or []
    if routes:
        item["routes"] = dict(routes[0])
    return item


def log_values(item: dict[str, Any], attribute: str) -> list[str]:
    """The values a Logs item has for a filter attribute: a dotted path into the item (``domain.name``,
    ``message.headers.subject``), or the short names ``domain``, ``tag``, ``message-id``, ``subject``,
    ``from``, ``to``; lists give each element."""
    alias = {"domain": "domain.name", "tag": "tags", "message-id": "message.headers.message-id",
             "subject": "message.headers.subject", "from": "message.headers.from", "to": "message.headers.to",
             "sending-ip": "envelope.sending-ip"}.get(attribute, attribute)
    node: Any = item
    for part in alias.split("."):
        if not isinstance(node, dict) or part not in node:
            return []
        node = node[part]
    if isinstance(node, list):
        return [str(v) for v in node]
    if isinstance(node, dict):
        return []
    return [str(node).lower() if isinstance(node, bool) else str(node)]
