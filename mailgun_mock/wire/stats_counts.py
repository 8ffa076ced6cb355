"""Counting logged events into Mailgun's numbers (pure): the v3 stats items, the Metrics API's counts
and rates, and the dimension values an event has (its tag, recipient domain and provider, country,
device…).

What each event counts as:

- ``accepted``: ``accepted_count``; sent mail (``method`` http or smtp) is *outgoing*, routed inbound
  mail (``flags.is-routed``) *incoming*.
- ``delivered``: ``delivered_count``; to a recipient's mail server (envelope transport ``smtp``) it is
  ``delivered_smtp_count``, to a route's URL ``delivered_http_count``; attempt 1 is a first-attempt
  delivery, a later attempt a delivery after two or more.
- ``failed`` temporary: ``temporary_failed_count`` (attempt 1 also ``delayed_first_attempt_count``).
- ``failed`` permanent: ``permanent_failed_count``; reason ``suppress-bounce``/``-unsubscribe``/
  ``-complaint`` are suppressions; a route's URL that failed is a ``webhook`` failure; reason ``old``
  (retries ran out) a soft bounce; any other a bounce, hard for a 5xx code and soft otherwise.
- ``opened``, ``clicked``, ``unsubscribed``, ``complained``, ``stored``: their own counts; *unique*
  opens and clicks count each (message id, recipient) once.

``processed_count`` is deliveries plus permanent failures that were not suppressions or webhooks;
``sent_count`` the same; rates are percentages of it (or of deliveries, for engagement) as text with
two decimals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["COUNT_METRICS", "DIMENSIONS", "RATE_METRICS", "Tally", "dimension_values", "provider_name"]

#: The Metrics API's count metrics the mock computes.
COUNT_METRICS = (
    "accepted_incoming_count", "accepted_outgoing_count", "accepted_count", "delivered_smtp_count",
    "delivered_http_count", "delivered_optimized_count", "delivered_count", "stored_count", "processed_count",
    "sent_count", "opened_count", "clicked_count", "unique_opened_count", "unique_clicked_count",
    "unsubscribed_count", "complained_count", "failed_count", "temporary_failed_count", "permanent_failed_count",
    "temporary_failed_esp_block_count", "permanent_failed_esp_block_count", "webhook_count", "rate_limit_count",
    "permanent_failed_optimized_count", "permanent_failed_old_count", "bounced_count", "hard_bounces_count",
    "soft_bounces_count", "delayed_bounce_count", "suppressed_bounces_count", "suppressed_unsubscribed_count",
    "suppressed_complaints_count", "delivered_first_attempt_count", "delayed_first_attempt_count",
    "delivered_subsequent_count", "delivered_two_plus_attempts_count")
#: The rates: metric -> (numerator, denominator).
RATE_METRICS: dict[str, tuple[str, str]] = {
    "delivered_rate": ("delivered_count", "sent_count"),
    "opened_rate": ("opened_count", "delivered_count"),
    "clicked_rate": ("clicked_count", "delivered_count"),
    "unique_opened_rate": ("unique_opened_count", "delivered_count"),
    "unique_clicked_rate": ("unique_clicked_count", "delivered_count"),
    "unsubscribed_rate": ("unsubscribed_count", "delivered_count"),
    "complained_rate": ("complained_count", "delivered_count"),
    "bounce_rate": ("bounced_count", "processed_count"),
    "hard_bounce_rate": ("hard_bounces_count", "processed_count"),
    "soft_bounce_rate": ("soft_bounces_count", "processed_count"),
    "fail_rate": ("failed_count", "processed_count"),
    "permanent_fail_rate": ("permanent_failed_count", "processed_count"),
    "temporary_fail_rate": ("temporary_failed_count", "processed_count"),
    "delayed_rate": ("delivered_two_plus_attempts_count", "delivered_count"),
    "delayed_first_attempt_rate": ("delayed_first_attempt_count", "processed_count"),
}
#: The Metrics API's dimensions.
DIMENSIONS = ("time", "domain", "tag", "recipient_domain", "recipient_provider", "country", "device", "ip",
              "ip_pool", "subaccount", "bot")
_SUPPRESSED = {"suppress-bounce": "suppressed_bounces_count", "suppress-unsubscribe": "suppressed_unsubscribed_count",
               "suppress-complaint": "suppressed_complaints_count"}
_PROVIDERS = (("Gmail", ("gmail.com", "googlemail.com")),
              ("Yahoo", ("yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk", "yahoo.com.tw")),
              ("Microsoft", ("hotmail.com", "outlook.com", "live.com", "msn.com", "hotmail.co.uk", "hotmail.fr")),
              ("Apple", ("icloud.com", "me.com", "mac.com")), ("AOL", ("aol.com",)),
              ("Yandex", ("yandex.ru",)), ("Mail.ru", ("mail.ru",)))
_ENGAGEMENT = ("opened", "clicked", "unsubscribed", "complained")


def provider_name(recipient_domain: str) -> str:
    """The mailbox provider of a recipient domain, as the Metrics API names it (``Other`` when unknown)."""
    domain = recipient_domain.lower()
    return next((name for name, domains in _PROVIDERS if domain in domains), "Other")


def _routed_url(event: dict[str, Any]) -> bool:
    return bool(event.get("flags", {}).get("is-routed")) and event.get("envelope", {}).get("transport") == "http"


def _counts(event: dict[str, Any]) -> list[str]:
    """The count metrics one event adds 1 to (unique counts and processed/sent are worked out later)."""
    kind = event.get("event")
    status = event.get("delivery-status") or {}
    first = status.get("attempt-no", 1) == 1
    if kind == "accepted":
        routed = bool(event.get("flags", {}).get("is-routed"))
        return ["accepted_count", "accepted_incoming_count" if routed else "accepted_outgoing_count"]
    if kind == "delivered":
        found = ["delivered_count", "delivered_http_count" if _routed_url(event) else "delivered_smtp_count"]
        return found + (["delivered_first_attempt_count"] if first else
                        ["delivered_subsequent_count", "delivered_two_plus_attempts_count"])
    if kind == "failed":
        if event.get("severity") == "temporary":
            return ["failed_count", "temporary_failed_count"] + (["delayed_first_attempt_count"] if first else [])
        found = ["failed_count", "permanent_failed_count"]
        reason = event.get("reason") or ""
        if reason in _SUPPRESSED:
            return found + [_SUPPRESSED[reason]]
        if _routed_url(event):
            return found + ["webhook_count"]
        if reason == "old":
            return found + ["permanent_failed_old_count", "bounced_count", "soft_bounces_count"]
        hard = 500 <= int(status.get("code") or 0) < 600
        return found + ["bounced_count", "hard_bounces_count" if hard else "soft_bounces_count"]
    if kind in (*_ENGAGEMENT, "stored"):
        return [f"{kind}_count"]
    return []


class Tally:
    """The counts of a set of events (add them with :meth:`add`), read as metrics or as a v3 stats item."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._unique: dict[str, set[tuple[str, str]]] = {"opened": set(), "clicked": set()}

    def add(self, event: dict[str, Any]) -> None:
        """Count one event."""
        self.counts.update(_counts(event))
        seen = self._unique.get(str(event.get("event")))
        if seen is not None:
            key = (str(event.get("message", {}).get("headers", {}).get("message-id", "")), str(event.get("recipient", "")))
            if key not in seen:
                seen.add(key)
                self.counts[f"unique_{event['event']}_count"] += 1

    def add_all(self, events: Iterable[dict[str, Any]]) -> Tally:
        """Count every event; answers the tally."""
        for event in events:
            self.add(event)
        return self

    def count(self, metric: str) -> int:
        """One count metric (processed and sent are derived)."""
        if metric in ("processed_count", "sent_count"):
            c = self.counts
            return (c["delivered_count"] + c["permanent_failed_count"] - c["webhook_count"]
                    - sum(c[name] for name in _SUPPRESSED.values()))
        return self.counts[metric]

    def metric(self, metric: str) -> int | str:
        """A count (an integer) or a rate (a percentage as text, ``"0.00"`` when nothing to divide by)."""
        if metric in RATE_METRICS:
            top, bottom = (self.count(name) for name in RATE_METRICS[metric])
            return f"{100.0 * top / bottom:.2f}" if bottom else "0.00"
        return self.count(metric)

    def metrics(self, names: Sequence[str]) -> dict[str, int | str]:
        """The metrics named, in that order."""
        return {name: self.metric(name) for name in names}

    def stats_item(self, time: str, events: Sequence[str]) -> dict[str, Any]:
        """A v3 stats item (``StatsItem``) with the blocks of the events asked for."""
        c = self.count
        blocks: dict[str, Any] = {
            "accepted": {"incoming": c("accepted_incoming_count"), "outgoing": c("accepted_outgoing_count"),
                         "total": c("accepted_count")},
            "delivered": {"smtp": c("delivered_smtp_count"), "http": c("delivered_http_count"),
                          "optimized": c("delivered_optimized_count"), "total": c("delivered_count")},
            "failed": {"temporary": {"espblock": c("temporary_failed_esp_block_count"),
                                     "total": c("temporary_failed_count")},
                       "permanent": {"suppress-bounce": c("suppressed_bounces_count"),
                                     "suppress-unsubscribe": c("suppressed_unsubscribed_count"),
                                     "suppress-complaint": c("suppressed_complaints_count"),
                                     "bounce": c("bounced_count"), "delayed-bounce": c("delayed_bounce_count"),
                                     "webhook": c("webhook_count"), "optimized": c("permanent_failed_optimized_count"),
                                     "total": c("permanent_failed_count")}},
            "stored": {"total": c("stored_count")},
            "opened": {"total": c("opened_count"), "unique": c("unique_opened_count")},
            "clicked": {"total": c("clicked_count"), "unique": c("unique_clicked_count")},
            "unsubscribed": {"total": c("unsubscribed_count")},
            "complained": {"total": c("complained_count")},
        }
        return {"time": time, **{name: blocks[name] for name in events}}

    def aggregate(self) -> dict[str, int]:
        """The counts of a v3 aggregate (``/aggregates/providers`` and kin)."""
        c = self.count
        return {"accepted": c("accepted_count"), "delivered": c("delivered_count"), "opened": c("opened_count"),
                "unique_opened": c("unique_opened_count"), "clicked": c("clicked_count"),
                "unique_clicked": c("unique_clicked_count"), "unsubscribed": c("unsubscribed_count"),
                "complained": c("complained_count")}


def dimension_values(event: dict[str, Any], domain: str, dimension: str) -> list[str]:
    """The values an event has for a Metrics dimension or filter attribute (``tag``: each of its tags;
    ``country`` and ``device``: from an engagement event's geolocation and client info, else ``unknown``)."""
    if dimension == "domain":
        return [domain]
    if dimension == "tag":
        return [str(t) for t in event.get("tags") or []]
    if dimension == "recipient_domain":
        return [str(event.get("recipient-domain") or "unknown")]
    if dimension == "recipient_provider":
        return [provider_name(str(event.get("recipient-domain") or ""))]
    if dimension == "country":
        return [str(event.get("geolocation", {}).get("country") or "unknown")]
    if dimension == "device":
        return [str(event.get("client-info", {}).get("device-type") or "unknown")]
    if dimension == "ip":
        return [str(event.get("envelope", {}).get("sending-ip") or "unknown")]
    if dimension == "bot":
        return [str(event.get("client-info", {}).get("bot") or "none")]
    return ["none"]  # ip_pool, subaccount: the mock has one of each, unnamed
