"""Running a route plan's actions for one recipient: store, forward, notify, and their events.

This is where Mailgun's side effects happen: stored copies, webhooks queued on the delivery
worker, and the ``accepted``, ``stored``, ``delivered`` and ``failed`` events they produce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..base.addresses import domain_of
from ..base.clock import Clock
from ..base.config import Config
from ..base.ids import new_event_id, new_hex_id, new_storage_key
from ..base.records import DeliveryAttempt, StoredMessage
from ..delivery.worker import Webhook
from ..lang.actions import is_url
from ..mail.parse import ParsedMessage
from ..state.store import Store
from ..wire import event_bodies, message_fields
from .plan import RecipientPlan

__all__ = ["ActionRunner"]


class ActionRunner:
    """Carries out what routing decided.

    :param base_url: answers the URL storage links are built on (it is known only once the server binds).
    :param submit: queues a webhook for delivery.
    :param emit: records an event (and POSTs it to the domain's webhooks).
    """

    def __init__(self, config: Config, clock: Clock, store: Store, base_url: Callable[[], str], *,
                 submit: Callable[[Webhook], Webhook], emit: Callable[[str, dict[str, Any]], None]) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.base_url = base_url
        #: queues a webhook for delivery.
        self.submit = submit
        #: records an event (and POSTs it to the domain's webhooks).
        self.emit = emit

    def run(self, msg: ParsedMessage, plan: RecipientPlan, sender: str, message_id: str) -> dict[str, Any]:
        """Carry out one recipient's planned actions; answers that recipient's part of the inject answer."""
        now = self.clock.now()
        rcpt = plan.recipient
        domain = domain_of(rcpt).lower() or "unknown"
        refs = event_bodies.route_refs([(r.id, r.expression) for r in plan.matched], rcpt)
        taken: list[dict[str, Any]] = []
        stored: StoredMessage | None = None
        event_message = event_bodies.event_message(msg) if plan.matched else {}
        for route, action in plan.actions:
            if action.kind == "store":
                if stored is None:
                    stored = self._store(msg, domain, (rcpt,), sender, message_id, now)
                url = stored.storage_url(self.base_url())
                taken.append({"route": route.id, "action": "store", "storage": {"key": stored.key, "url": url}})
                if action.notify:
                    fields = message_fields.notify_fields(msg, rcpt, sender, domain, url)
                    hook = self._webhook("notify", action.notify, rcpt, message_id, fields, [], sender,
                                         event_message, refs, multipart=bool(msg.attachments))
                    taken.append({"route": route.id, "action": "notify", "url": action.notify, "delivery": hook.id})
                continue
            for dest in action.destinations:
                if is_url(dest):
                    fields, files = message_fields.forward_fields(msg, rcpt, sender, dest)
                    kind = "forward-mime" if message_fields.is_mime_url(dest) else "forward"
                    hook = self._webhook(kind, dest, rcpt, message_id, fields, files, sender, event_message, refs)
                    taken.append({"route": route.id, "action": kind, "url": dest, "delivery": hook.id})
                else:
                    copy = self._forward_to_address(msg, dest, domain, sender, message_id, refs, now)
                    taken.append({"route": route.id, "action": "forward", "address": dest,
                                  "storage": {"key": copy.key, "url": copy.storage_url(self.base_url())}})
        storage = {"key": stored.key, "url": stored.storage_url(self.base_url())} if stored else None
        if plan.matched:
            self.emit(domain, event_bodies.accepted_event(new_event_id(), now, event_message, rcpt, sender,
                                                                 refs, storage))
        if stored is not None and storage is not None:
            self.emit(domain, event_bodies.stored_event(new_event_id(), now,
                                                               event_bodies.event_message(msg, [rcpt]), storage))
        return {
            "recipient": rcpt,
            "matched": [r.id for r in plan.matched],
            "routes": [o.to_json() for o in plan.outcomes],
            "stopped_by": plan.stopped_by,
            "actions": taken,
        }

    def _store(self, msg: ParsedMessage, domain: str, recipients: Sequence[str], sender: str, message_id: str,
               now: float) -> StoredMessage:
        stored = StoredMessage(
            key=new_storage_key(), domain=domain, raw=msg.raw, recipients=tuple(recipients),
            sender=sender, message_id=message_id, stored_at=now, expires_at=now + self.config.retention,
        )
        self.store.add_message(stored)
        return stored

    def _forward_to_address(self, msg: ParsedMessage, address: str, domain: str, sender: str, message_id: str,
                            refs: list[dict[str, Any]], now: float) -> StoredMessage:
        # Forwarding to an address is an outgoing message: kept (so it can be fetched or resent)
        # and shown as accepted then delivered, as Mailgun's own relay would log it.
        copy = self._store(msg, domain, (address,), sender, message_id, now)
        storage = {"key": copy.key, "url": copy.storage_url(self.base_url())}
        block = event_bodies.event_message(msg)
        self.emit(domain, event_bodies.accepted_event(new_event_id(), now, block, address, sender, refs, storage))
        status = {"code": 250, "message": "OK", "attempt-no": 1, "description": "", "session-seconds": 0.0}
        self.emit(domain, event_bodies.delivery_event(
            new_event_id(), now, delivered=True, permanent=False, recipient=address, sender=sender,
            target=address, transport="smtp", message=block, routes=refs, status=status))
        return copy

    def _webhook(self, kind: str, url: str, recipient: str, message_id: str, fields: list[tuple[str, Any]],
                 files: list[tuple[str, str, bytes, str]], sender: str, message: dict[str, Any],
                 refs: list[dict[str, Any]], multipart: bool = False) -> Webhook:
        hook = Webhook(id=new_hex_id(8), kind=kind, url=url, recipient=recipient, message_id=message_id,
                       fields=fields, files=files, multipart=multipart,
                       context={"sender": sender, "message": message, "routes": refs})
        return self.submit(hook)

    def record_attempt(self, hook: Webhook, attempt: DeliveryAttempt) -> None:
        """Log a webhook attempt and, for a forward, its ``delivered`` or ``failed`` event."""
        self.store.add_attempt(attempt)
        if hook.kind not in ("forward", "forward-mime"):
            return  # Mailgun logs no delivered/failed event for a store() notification or an event webhook
        delivered = attempt.outcome == "delivered"
        status: dict[str, Any] = {
            "code": attempt.status or 0,
            "message": "OK" if delivered else (attempt.error or f"HTTP {attempt.status}"),
            "attempt-no": attempt.attempt,
            "description": "" if delivered else (attempt.error or f"the receiver answered {attempt.status}"),
            "session-seconds": round(attempt.duration, 3),
        }
        if attempt.next_retry is not None:
            status["retry-seconds"] = int(attempt.next_retry - attempt.scheduled_at)
        ctx = hook.context
        domain = domain_of(hook.recipient).lower() or "unknown"
        self.emit(domain, event_bodies.delivery_event(
            new_event_id(), attempt.scheduled_at, delivered=delivered, permanent=attempt.outcome in ("failed", "rejected"),
            recipient=hook.recipient, sender=ctx["sender"], target=hook.url, transport="http",
            message=ctx["message"], routes=ctx["routes"], status=status))
