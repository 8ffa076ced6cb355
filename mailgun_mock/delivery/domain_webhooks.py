"""Event webhooks: Mailgun's domain registry (``/v3/domains/<domain>/webhooks``, one name -> URLs,
and ``/v4/domains/<domain>/webhooks``, one URL -> event types, over the same registry), and the
signed JSON POST of every event to the URLs registered for it at domain and account level (a URL
registered at both gets each event once), retried on the event-webhook schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..base.errors import NotFound, ReasonError
from ..base.ids import new_hex_id
from ..lang.actions import is_url
from ..state.store import Store
from .worker import Webhook

__all__ = ["DomainWebhooks", "WEBHOOK_NAMES", "webhook_name"]

#: The webhook names Mailgun's v3 API knows.
WEBHOOK_NAMES = ("accepted", "clicked", "complained", "delivered", "opened", "permanent_fail",
                 "temporary_fail", "unsubscribed")
MAX_URLS = 3


def webhook_name(event: dict[str, Any]) -> str | None:
    """The webhook an event goes to: its type, with ``failed`` split by severity; ``None`` if none."""
    kind = event.get("event")
    if kind == "failed":
        return "permanent_fail" if event.get("severity") == "permanent" else "temporary_fail"
    return kind if kind in WEBHOOK_NAMES else None


class DomainWebhooks:
    """The registry and the dispatcher.

    :param submit: queues a webhook on the delivery worker.
    """

    def __init__(self, store: Store, submit: Callable[[Webhook], Webhook],
                 schedule: Sequence[float] | None = None) -> None:
        self.store = store
        self.submit = submit
        self.schedule = None if schedule is None else tuple(schedule)

    @staticmethod
    def _name(name: str | None) -> str:
        if not name:
            raise ReasonError("'id' parameter is missing")
        if name not in WEBHOOK_NAMES:
            raise ReasonError(f"Webhook id must be one of {', '.join(WEBHOOK_NAMES)}, got {name[:40]!r}")
        return name

    @staticmethod
    def check(url: str) -> None:
        """:raises ReasonError: ``<url> is not a valid url`` (Mailgun's capitalised ``Reason``)."""
        if not url:
            raise ReasonError("'url' parameter is missing")
        if not is_url(url) or len(url) > 2048 or any(c.isspace() for c in url):
            raise ReasonError(f"{url[:100]} is not a valid url")

    @staticmethod
    def _urls(urls: Sequence[str]) -> tuple[str, ...]:
        urls = tuple(u.strip() for u in urls if u.strip())
        if not urls:
            raise ReasonError("'url' parameter is missing")
        if len(urls) > MAX_URLS:
            raise ReasonError(f"Too many URLs: a webhook takes at most {MAX_URLS}")
        for url in urls:
            DomainWebhooks.check(url)
        return urls

    def all(self, domain: str) -> dict[str, Any]:
        """``GET /v3/domains/<d>/webhooks``: ``{"webhooks": {name: {"urls": [...]}}}``."""
        return {"webhooks": {name: {"urls": list(urls)} for name, urls in sorted(self.store.webhooks(domain).items())}}

    def get(self, domain: str, name: str) -> dict[str, Any]:
        """``GET /v3/domains/<d>/webhooks/<name>``."""
        urls = self.store.webhooks(domain).get(self._name(name))
        if urls is None:
            raise NotFound("Webhook not found")
        return {"webhook": {"urls": list(urls)}}

    def create(self, domain: str, name: str | None, urls: Sequence[str]) -> dict[str, Any]:
        """``POST /v3/domains/<d>/webhooks`` with ``id`` and ``url`` (repeatable, at most 3)."""
        name = self._name(name)
        checked = self._urls(urls)
        if name in self.store.webhooks(domain):
            raise ReasonError(f"Webhook {name} already exists")
        self.store.set_webhook(domain, name, checked)
        return {"message": "Webhook has been created", "webhook": {"urls": list(checked)}}

    def update(self, domain: str, name: str, urls: Sequence[str]) -> dict[str, Any]:
        """``PUT /v3/domains/<d>/webhooks/<name>``: replace the URLs."""
        name = self._name(name)
        checked = self._urls(urls)
        if name not in self.store.webhooks(domain):
            raise NotFound("Webhook not found")
        self.store.set_webhook(domain, name, checked)
        return {"message": "Webhook has been updated", "webhook": {"urls": list(checked)}}

    def delete(self, domain: str, name: str) -> dict[str, Any]:
        """``DELETE /v3/domains/<d>/webhooks/<name>``."""
        urls = self.store.delete_webhook(domain, self._name(name))
        if urls is None:
            raise NotFound("Webhook not found")
        return {"message": "Webhook has been deleted", "webhook": {"urls": list(urls)}}

    # -- v4: one URL, many event types ----------------------------------------------------

    def _event_types(self, event_types: Sequence[str]) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(n.strip() for value in event_types for n in value.split(",") if n.strip()))
        if not names:
            raise ReasonError("'event_types' parameter is missing")
        for name in names:
            self._name(name)
        return names

    def add_url(self, domain: str, url: str | None, event_types: Sequence[str], *, replace: bool) -> dict[str, Any]:
        """``POST``/``PUT /v4/domains/<d>/webhooks``: add ``url`` to each event type (``replace``: the
        URL's event types become exactly these); answers every webhook of the domain."""
        (checked,) = self._urls([url or ""])
        names = self._event_types(event_types)
        hooks = self.store.webhooks(domain)
        if not replace:
            for name in names:
                if checked in hooks.get(name, ()):
                    raise ReasonError(f"Webhook for event type '{name}' with URL '{checked}' already exists")
        for name in WEBHOOK_NAMES:
            urls = tuple(u for u in hooks.get(name, ()) if u != checked or not replace)
            if name in names and checked not in urls:
                urls += (checked,)
            if len(urls) > MAX_URLS:
                raise ReasonError(f"Too many URLs for event type '{name}': at most {MAX_URLS}")
            if urls != hooks.get(name, ()):
                if urls:
                    self.store.set_webhook(domain, name, urls)
                else:
                    self.store.delete_webhook(domain, name)
        return self.all(domain)

    def remove_urls(self, domain: str, urls: Sequence[str]) -> dict[str, Any]:
        """``DELETE /v4/domains/<d>/webhooks?url=a,b``: take these URLs off every event type."""
        doomed = {u.strip() for value in urls for u in value.split(",") if u.strip()}
        if not doomed:
            raise ReasonError("'url' parameter is missing")
        for name, current in self.store.webhooks(domain).items():
            kept = tuple(u for u in current if u not in doomed)
            if kept != current:
                if kept:
                    self.store.set_webhook(domain, name, kept)
                else:
                    self.store.delete_webhook(domain, name)
        return self.all(domain)

    def dispatch(self, domain: str, event: dict[str, Any]) -> None:
        """POST ``event`` to every URL registered for it, at domain or account level (once each),
        signed JSON ``{"signature", "event-data"}``."""
        name = webhook_name(event)
        if name is None:
            return
        urls = [*self.store.webhooks(domain).get(name, ()), *self.store.resources.account.urls_for(name)]
        for url in dict.fromkeys(urls):
            message_id = str(event.get("message", {}).get("headers", {}).get("message-id", ""))
            self.submit(Webhook(id=new_hex_id(8), kind=f"webhook:{name}", url=url,
                                recipient=str(event.get("recipient", "")), message_id=message_id,
                                fields=[], event=event, schedule=self.schedule))
