"""Event webhooks: a domain's (``/v3/domains/<d>/webhooks`` by name, ``/v4/domains/<d>/webhooks`` by
URL, and a test POST), over :class:`~mailgun_mock.delivery.domain_webhooks.DomainWebhooks`, and the
account's (``/v1/webhooks``)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ..base.errors import BadRequest, Conflict, NotFound
from ..base.ids import new_hex_id
from ..base.logtext import printable
from ..delivery.domain_webhooks import WEBHOOK_NAMES, DomainWebhooks
from ..state.account import MAX_URLS_PER_EVENT
from ..wire.event_bodies import sample_event
from ..wire.signing import sign, signature_fields
from .context import Context

__all__ = ["WebhookOperations"]


class WebhookOperations(Context):
    """List, get, create, update and delete a domain's event webhooks."""

    def list_webhooks(self, domain: str) -> dict[str, Any]:
        """``GET /v3/domains/<domain>/webhooks``."""
        self.check_domain(domain)
        return self.webhooks.all(domain)

    def get_webhook(self, domain: str, name: str) -> dict[str, Any]:
        """``GET /v3/domains/<domain>/webhooks/<name>``."""
        self.check_domain(domain)
        return self.webhooks.get(domain, name)

    def create_webhook(self, domain: str, name: str | None, urls: Sequence[str]) -> dict[str, Any]:
        """``POST /v3/domains/<domain>/webhooks`` (``id`` and up to 3 ``url``)."""
        self.check_domain(domain)
        return self.webhooks.create(domain, name, urls)

    def update_webhook(self, domain: str, name: str, urls: Sequence[str]) -> dict[str, Any]:
        """``PUT /v3/domains/<domain>/webhooks/<name>``."""
        self.check_domain(domain)
        return self.webhooks.update(domain, name, urls)

    def delete_webhook(self, domain: str, name: str) -> dict[str, Any]:
        """``DELETE /v3/domains/<domain>/webhooks/<name>``."""
        self.check_domain(domain)
        return self.webhooks.delete(domain, name)

    # -- v4: one URL on many event types --------------------------------------------------

    def add_webhook_url(self, domain: str, url: str | None, event_types: Sequence[str],
                        replace: bool = False) -> dict[str, Any]:
        """``POST /v4/domains/<domain>/webhooks`` (``PUT`` with ``replace``): ``url`` and ``event_types``."""
        self.check_domain(domain)
        return self.webhooks.add_url(domain, url, event_types, replace=replace)

    def delete_webhook_urls(self, domain: str, urls: Sequence[str]) -> dict[str, Any]:
        """``DELETE /v4/domains/<domain>/webhooks?url=a,b``."""
        self.check_domain(domain)
        return self.webhooks.remove_urls(domain, urls)

    # -- the test POST --------------------------------------------------------------------

    def test_webhook(self, domain: str, name: str, url: str | None) -> dict[str, Any]:
        """``PUT /v3/domains/<domain>/webhooks/<name>/test``: POST a signed sample event of that kind to
        ``url`` (default: the webhook's first URL) now, and answer the receiver's status and body."""
        self.check_domain(domain)
        target = (url or "").strip() or next(iter(self.webhooks.get(domain, name)["webhook"]["urls"]), "")
        DomainWebhooks.check(target)
        event = sample_event(name, domain.lower(), self.clock.now())
        signature = signature_fields(self.signing_key(), time.time())
        if self.parent is not None:  # a subaccount's: Mailgun's parent-signature too
            signature["parent-signature"] = sign(self.parent.signing_key(), signature["timestamp"], signature["token"])
        body = json.dumps({"signature": signature, "event-data": event})
        try:
            status = self.delivery.transport.post(target, body.encode(), "application/json", self.config.delivery_timeout)
        except (OSError, TimeoutError) as exc:
            return {"code": 0, "message": f"no answer: {exc}"[:300]}
        return {"code": status, "message": f"the receiver answered {status}"}

    # -- account level: /v1/webhooks -------------------------------------------------------

    def _account_webhook(self, form: Mapping[str, Any], webhook_id: str, created_at: float) -> dict[str, Any]:
        url = str(form.get("url") or "").strip()
        DomainWebhooks.check(url)
        raw = form.getlist("event_types") if hasattr(form, "getlist") else form.get("event_types") or []
        names = [n.strip() for value in ([raw] if isinstance(raw, str) else raw) for n in str(value).split(",")
                 if n.strip()]
        if not names:
            raise BadRequest("'event_types' parameter is missing")
        for name in names:
            if name not in WEBHOOK_NAMES:
                raise BadRequest(f"Invalid event type {printable(name, 40)!r}: use {', '.join(WEBHOOK_NAMES)}")
        return {"webhook_id": webhook_id, "url": url, "event_types": list(dict.fromkeys(names)),
                "description": str(form.get("description") or ""), "created_at": created_at}

    def _put_account_webhook(self, record: dict[str, Any], create: bool) -> None:
        problem = self.store.resources.account.put_webhook(record, create=create)
        if problem == "missing":
            raise NotFound("Webhook not found")
        if problem is not None:
            raise Conflict(f"Event type '{problem[5:]}' already has {MAX_URLS_PER_EVENT} webhook URLs")

    def list_account_webhooks(self) -> dict[str, Any]:
        """``GET /v1/webhooks``."""
        return {"webhooks": [_account_json(w) for w in self.store.resources.account.webhooks()]}

    def create_account_webhook(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/webhooks``: ``url``, ``event_types`` (repeatable or comma-separated), ``description``;
        at most 3 URLs per event type (409 beyond)."""
        record = self._account_webhook(form, new_hex_id(12), self.clock.now())
        self._put_account_webhook(record, create=True)
        return {"webhook_id": record["webhook_id"]}

    def get_account_webhook(self, webhook_id: str) -> dict[str, Any]:
        """``GET /v1/webhooks/<id>``."""
        found = self.store.resources.account.webhook(webhook_id)
        if found is None:
            raise NotFound("Webhook not found")
        return _account_json(found)

    def update_account_webhook(self, webhook_id: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /v1/webhooks/<id>``: a new ``url``, ``event_types`` and ``description``."""
        found = self.store.resources.account.webhook(webhook_id)
        if found is None:
            raise NotFound("Webhook not found")
        self._put_account_webhook(self._account_webhook(form, webhook_id, found["created_at"]), create=False)
        return {"message": "Webhook has been updated"}

    def delete_account_webhooks(self, webhook_id: str | None = None, ids: str | None = None,
                                everything: str | None = None) -> dict[str, Any]:
        """``DELETE /v1/webhooks/<id>``, or ``DELETE /v1/webhooks`` with ``webhook_ids=a,b`` or ``all=true``."""
        if webhook_id is not None:
            if not self.store.resources.account.delete_webhooks([webhook_id]):
                raise NotFound("Webhook not found")
            return {"message": "Webhook has been deleted"}
        if str(everything or "").lower() == "true":
            self.store.resources.account.delete_webhooks(None)
        elif ids:
            self.store.resources.account.delete_webhooks([i.strip() for i in ids.split(",") if i.strip()])
        else:
            raise BadRequest("give webhook_ids (comma-separated) or all=true")
        return {"message": "Webhooks have been deleted"}


def _account_json(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"webhook_id": record["webhook_id"], "description": record["description"], "url": record["url"],
            "event_types": list(record["event_types"]),
            "created_at": datetime.fromtimestamp(record["created_at"], timezone.utc).isoformat(timespec="seconds")
            .replace("+00:00", "Z")}
