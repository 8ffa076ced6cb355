"""The web inbox's tools beside the mail itself: the webhook attempt log with what each attempt
posted and whether its signature checks out, "retry now" and "replay", and a dry run of the routes
for an address and headers. (Suppressions, webhooks and rules the inbox edits through the API.)
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.ids import new_hex_id
from ..base.logtext import shorten
from ..base.records import DeliveryAttempt
from ..inbound.plan import plan_recipient
from ..mail.parse import ParsedMessage
from ..wire.signing import verify
from .inbox_index import Entry, bare_id
from .params import ADDRESS
from .sending import SendingOperations

__all__ = ["InboxTools"]

_ROUTED_KINDS = ("forward", "forward-mime", "notify")
_WAIT = 30.0  # seconds an action waits for the attempt it caused


class InboxTools(SendingOperations):
    """Webhook attempts and route dry runs, for the inbox's pages."""

    # -- webhook attempts -----------------------------------------------------------------

    def _attempt_json(self, attempt: DeliveryAttempt, latest: dict[str, DeliveryAttempt]) -> dict[str, Any]:
        item = attempt.to_json()
        posted = self.posts.posted(attempt.delivery_id, attempt.attempt)
        if posted is not None:
            sig = posted.signature
            valid = bool(sig) and verify(self.config.signing_key, sig.get("timestamp", ""), sig.get("token", ""),
                                         sig.get("signature", ""))
            item["posted"] = {"content_type": posted.content_type, "size": posted.size,
                              "fields": [list(f) for f in posted.fields], "signature": dict(sig), "signature_valid": valid}
        last = latest[attempt.delivery_id]
        item["latest"] = last is attempt
        item["can_retry"] = last is attempt and attempt.outcome == "retrying"
        item["can_replay"] = last is attempt and attempt.outcome != "retrying" \
            and self.posts.webhook(attempt.delivery_id) is not None
        return item

    def _attempts_json(self, attempts: Iterable[DeliveryAttempt]) -> list[dict[str, Any]]:
        everything = self.store.attempts()
        latest = {a.delivery_id: a for a in everything}
        return [self._attempt_json(a, latest) for a in attempts]

    def delivery_log(self, limit: int = 500) -> list[dict[str, Any]]:
        """The latest webhook attempts, newest first, each with what it posted and its signature check."""
        return self._attempts_json(list(reversed(self.store.attempts()))[:limit])

    def delivery_attempts(self, entry: Entry) -> list[dict[str, Any]]:
        """The webhook attempts one inbox message caused, oldest first: route webhooks for received mail,
        domain event webhooks for either."""
        mid = bare_id(entry.message_id)
        recipients = {r.lower() for r in entry.recipients}
        mine = []
        for attempt in self.store.attempts():
            if bare_id(attempt.message_id) != mid:
                continue
            routed = attempt.kind in _ROUTED_KINDS
            if routed and entry.direction == "received" or not routed and attempt.recipient.lower() in recipients:
                mine.append(attempt)
        return self._attempts_json(mine)

    def _attempt_count(self, delivery_id: str) -> int:
        return sum(1 for a in self.store.attempts() if a.delivery_id == delivery_id)

    def retry_delivery(self, delivery_id: str) -> dict[str, Any]:
        """Run a webhook's waiting retry now, not when the clock reaches it; answers that attempt.

        :raises NotFound: when the delivery has no retry waiting.
        """
        before = self._attempt_count(delivery_id)
        if not self.delivery.retry_now(delivery_id):
            raise NotFound(f"Delivery {shorten(delivery_id)} has no retry waiting")
        self.delivery.wait_until(lambda: self._attempt_count(delivery_id) > before, _WAIT)
        return self._last_attempt(delivery_id)

    def replay_delivery(self, delivery_id: str) -> dict[str, Any]:
        """POST a finished webhook again, as a new delivery (freshly signed, with its own retries).

        :raises NotFound: when the delivery is unknown or no longer remembered.
        """
        hook = self.posts.webhook(delivery_id)
        if hook is None:
            raise NotFound(f"Delivery {shorten(delivery_id)} is not known (or too old to replay)")
        again = dataclasses.replace(hook, id=new_hex_id(8), attempts=0, due=0.0, finished=False,
                                    first_attempt=threading.Event())
        self.delivery.submit(again)
        self.delivery.wait_first_attempts({again.id}, _WAIT)
        self.delivery.wait_until(lambda: self._attempt_count(again.id) > 0, _WAIT)
        return self._last_attempt(again.id)

    def _last_attempt(self, delivery_id: str) -> dict[str, Any]:
        mine = [a for a in self.store.attempts() if a.delivery_id == delivery_id]
        if not mine:
            raise NotFound(f"Delivery {shorten(delivery_id)} made no attempt yet")
        return self._attempts_json(mine[-1:])[0]

    # -- routes ---------------------------------------------------------------------------

    def dry_run_routes(self, address: str | None, headers: str = "") -> dict[str, Any]:
        """Which routes a message to ``address`` with these headers would trigger, and why: nothing runs.

        :param headers: ``Name: value`` lines (``match_header`` sees them, decoded as in real mail).
        :raises BadRequest: without an address, or with a header line that is not ``Name: value``.
        """
        if address is None or not address.strip():
            raise BadRequest("'address' parameter is missing")
        address = address.strip()
        if not ADDRESS.fullmatch(address):
            raise BadRequest(f"{shorten(address)} is not an email address")
        lines = [line for line in headers.replace("\r\n", "\n").split("\n") if line.strip()]
        for line in lines:
            name, colon, _ = line.partition(":")
            if not colon or not name.strip() or any(c.isspace() for c in name.strip()):
                if not line[:1].isspace():  # a folded continuation line is fine
                    raise BadRequest(f"header line {shorten(line)} is not 'Name: value'")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        plan = plan_recipient(self.store.routes(), address, ParsedMessage(raw), self.config.regex_timeout)
        return {"recipient": address, "routes": [o.to_json() for o in plan.outcomes], "stopped_by": plan.stopped_by,
                "actions": [{"route": route.id, "action": action.kind, "destinations": list(action.destinations),
                             "notify": action.notify} for route, action in plan.actions]}
