"""What belongs to the account rather than a domain (a store section): account-level event webhooks
(``/v1/webhooks``), API keys (``/v1/keys``), the webhook signing key once rotated, and a sandbox's
authorized recipients.

Records are plain JSON under ``webhooks`` (id -> ``{"webhook_id", "url", "event_types",
"description", "created_at"}``), ``keys`` (id -> key record, its ``secret`` included),
``signing_key`` (``""`` until rotated: the configured key applies) and ``recipients`` (email ->
``{"email", "activated"}``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .section import Section

__all__ = ["Account", "MAX_URLS_PER_EVENT"]

#: Mailgun's limit for account webhooks: URLs per event type.
MAX_URLS_PER_EVENT = 3


class Account(Section):
    """The account's records; every method takes the store's lock and answers copies."""

    name = "account"

    @classmethod
    def empty(cls) -> dict[str, Any]:
        return {"webhooks": {}, "keys": {}, "signing_key": "", "recipients": {}}

    @classmethod
    def decode(cls, data: Any) -> dict[str, Any]:
        decoded = super().decode(data)
        if set(decoded) != set(cls.empty()) or not isinstance(decoded["signing_key"], str) or not all(
                isinstance(decoded[k], dict) for k in ("webhooks", "keys", "recipients")):
            raise ValueError("account: expected webhooks, keys, recipients (objects) and signing_key (a string)")
        return decoded

    # -- webhooks -------------------------------------------------------------------------

    def webhooks(self) -> list[dict[str, Any]]:
        """Every account webhook, oldest first."""
        with self._lock:
            return sorted((copy.deepcopy(w) for w in self._data["webhooks"].values()),
                          key=lambda w: (w["created_at"], w["webhook_id"]))

    def webhook(self, webhook_id: str) -> dict[str, Any] | None:
        """One account webhook, or ``None``."""
        with self._lock:
            found = self._data["webhooks"].get(webhook_id)
            return None if found is None else copy.deepcopy(found)

    def urls_for(self, event_type: str) -> list[str]:
        """The URLs of the account webhooks registered for an event type, oldest first."""
        return [w["url"] for w in self.webhooks() if event_type in w["event_types"]]

    def put_webhook(self, record: dict[str, Any], *, create: bool) -> str | None:
        """Add (``create``) or replace a webhook; ``None``, or why not: ``missing`` or
        ``full:<event type>`` (already :data:`MAX_URLS_PER_EVENT` other URLs for it)."""
        with self._lock:
            hooks: dict[str, Any] = self._data["webhooks"]
            if not create and record["webhook_id"] not in hooks:
                return "missing"
            for event_type in record["event_types"]:
                others = {w["url"] for w in hooks.values()
                          if event_type in w["event_types"] and w["webhook_id"] != record["webhook_id"]}
                if record["url"] not in others and len(others) >= MAX_URLS_PER_EVENT:
                    return f"full:{event_type}"
            hooks[record["webhook_id"]] = {**hooks.get(record["webhook_id"], {}), **record}
            self._changed()
            return None

    def delete_webhooks(self, ids: list[str] | None) -> int:
        """Delete these webhooks (``None``: every one); answers how many went."""
        with self._lock:
            hooks: dict[str, Any] = self._data["webhooks"]
            doomed = list(hooks) if ids is None else [i for i in ids if i in hooks]
            for webhook_id in doomed:
                del hooks[webhook_id]
            if doomed:
                self._changed()
            return len(doomed)

    # -- keys and the signing key ---------------------------------------------------------

    def keys(self) -> list[dict[str, Any]]:
        """Every API key created through ``/v1/keys``, oldest first (secrets included)."""
        with self._lock:
            return sorted((copy.deepcopy(k) for k in self._data["keys"].values()), key=lambda k: k["created"])

    def add_key(self, record: dict[str, Any]) -> None:
        """Keep a new key."""
        with self._lock:
            self._data["keys"][record["id"]] = dict(record)
            self._changed()

    def delete_key(self, key_id: str) -> bool:
        """Forget a key; whether it existed."""
        with self._lock:
            if self._data["keys"].pop(key_id, None) is None:
                return False
            self._changed()
            return True

    def key_with_secret(self, secret: str) -> dict[str, Any] | None:
        """The key whose secret this is, or ``None``."""
        with self._lock:
            found = next((k for k in self._data["keys"].values() if k["secret"] == secret), None)
            return None if found is None else copy.deepcopy(found)

    def signing_key(self) -> str:
        """The rotated signing key, or ``""`` while the configured one applies."""
        with self._lock:
            return str(self._data["signing_key"])

    def set_signing_key(self, key: str) -> None:
        """Replace the webhook signing key from now on."""
        with self._lock:
            self._data["signing_key"] = key
            self._changed()

    # -- sandbox recipients ---------------------------------------------------------------

    def recipients(self) -> list[dict[str, Any]]:
        """A sandbox's authorized recipients, by address."""
        with self._lock:
            found: Mapping[str, Any] = self._data["recipients"]
            return [dict(found[key]) for key in sorted(found)]

    def add_recipient(self, email: str, limit: int) -> str | None:
        """Authorize a recipient; ``None``, or ``full`` past ``limit`` recipients."""
        with self._lock:
            found: dict[str, Any] = self._data["recipients"]
            if email.lower() not in found and len(found) >= limit:
                return "full"
            found[email.lower()] = {"email": email, "activated": False}
            self._changed()
            return None

    def delete_recipient(self, email: str) -> bool:
        """Remove an authorized recipient; whether there was one."""
        with self._lock:
            if self._data["recipients"].pop(email.lower(), None) is None:
                return False
            self._changed()
            return True
