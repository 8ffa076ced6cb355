"""Domain webhooks (``/v3/domains/<d>/webhooks``): the API over :class:`~mailgun_mock.delivery.worker.domain_webhooks.DomainWebhooks`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
