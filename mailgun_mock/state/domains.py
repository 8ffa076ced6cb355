"""The account's sending domains: settings, tracking settings and SMTP credentials (a store section).

A domain record is plain JSON: ``name``, ``created_at`` (epoch seconds), ``id``, ``state``,
``settings`` (Mailgun's domain fields), ``tracking`` (open, click, unsubscribe) and
``credentials`` (login -> ``{"password", "created_at"}``). Names are kept lower-case.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from .section import Section, check_records

__all__ = ["DEFAULT_SETTINGS", "DEFAULT_TRACKING", "Domains"]

#: What a new domain is set to when the request leaves a field out (Mailgun's defaults).
DEFAULT_SETTINGS: dict[str, Any] = {
    "require_tls": False, "skip_verification": False, "spam_action": "disabled", "type": "custom",
    "use_automatic_sender_security": False, "web_prefix": "email", "web_scheme": "http", "wildcard": False,
    "encrypt_incoming_message": False, "message_ttl": 259200, "archive_to": "",
}
#: Tracking of a new domain: opens and clicks on, so engagement rules work without set-up (a
#: deliberate difference: Mailgun starts them off); unsubscribe footers off.
DEFAULT_TRACKING: dict[str, Any] = {
    "open": {"active": True, "place_at_the_top": False}, "click": {"active": True},
    "unsubscribe": {"active": False, "html_footer": "", "text_footer": ""},
}


class Domains(Section):
    """Domain records by name; every method takes the store's lock and answers copies."""

    name = "domains"

    @classmethod
    def decode(cls, data: Any) -> dict[str, Any]:
        decoded = super().decode(data)
        check_records(cls.name, decoded, {"name": str, "created_at": (int, float), "id": str, "state": str,
                                          "settings": dict, "tracking": dict, "credentials": dict})
        return decoded

    def get(self, name: str) -> dict[str, Any] | None:
        """The record of ``name``, or ``None``."""
        with self._lock:
            record = self._data.get(name.lower())
            return None if record is None else copy.deepcopy(record)

    def tracking(self, name: str) -> dict[str, Any]:
        """A copy of the tracking settings of ``name`` (``{}`` for no such domain): what a send reads,
        without copying the whole record."""
        with self._lock:
            record = self._data.get(name.lower())
            return {} if record is None else copy.deepcopy(record["tracking"])

    def all(self) -> list[dict[str, Any]]:
        """Every record, newest first (Mailgun lists domains in reverse creation order)."""
        with self._lock:
            records = [copy.deepcopy(r) for r in self._data.values()]
        return sorted(records, key=lambda r: -r["created_at"])

    def create(self, name: str, *, domain_id: str, now: float, state: str = "unverified",
               settings: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Add a domain; answers it, or ``None`` when one of that name exists."""
        with self._lock:
            record = self._add(name, domain_id=domain_id, now=now, state=state, settings=settings)
            return None if record is None else copy.deepcopy(record)

    def _add(self, name: str, *, domain_id: str, now: float, state: str,
             settings: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        # With the lock held: the new record itself (not a copy), or None when the name is taken.
        if name.lower() in self._data:
            return None
        record = {"name": name.lower(), "created_at": now, "id": domain_id, "state": state,
                  "settings": {**DEFAULT_SETTINGS, **(settings or {})},
                  "tracking": copy.deepcopy(DEFAULT_TRACKING), "credentials": {}}
        self._data[name.lower()] = record
        self._changed()
        return record

    def serve(self, name: str, *, domain_id: str, now: float, configured: Sequence[str], any_domain: bool) -> bool:
        """Whether mail and API calls for ``name`` are served; a configured domain, or any domain when
        ``any_domain``, gets its record on first use (active, since the mock checks no DNS)."""
        key = name.lower()
        with self._lock:
            if key in self._data:
                return True
            if key not in configured and not any_domain:
                return False
            self._add(key, domain_id=domain_id, now=now, state="active")
        return True

    def update(self, name: str, *, settings: Mapping[str, Any] | None = None, state: str | None = None,
               tracking: tuple[str, Mapping[str, Any]] | None = None) -> dict[str, Any] | None:
        """Change a domain's settings, state or one tracking block; answers the record, or ``None``."""
        with self._lock:
            record: dict[str, Any] | None = self._data.get(name.lower())
            if record is None:
                return None
            record["settings"].update(settings or {})
            if state is not None:
                record["state"] = state
            if tracking is not None:
                record["tracking"][tracking[0]].update(tracking[1])
            self._changed()
            return copy.deepcopy(record)

    def delete(self, name: str) -> bool:
        """Forget a domain (and its credentials); whether it existed."""
        with self._lock:
            if self._data.pop(name.lower(), None) is None:
                return False
            self._changed()
            return True

    def set_credential(self, name: str, login: str, password: str, now: float, *, create: bool) -> str | None:
        """Create (``create``) or change a login's password; answers ``None`` when done, else why not:
        ``domain``, ``exists`` or ``missing``."""
        with self._lock:
            record = self._data.get(name.lower())
            if record is None:
                return "domain"
            credentials = record["credentials"]
            if create and login.lower() in credentials:
                return "exists"
            if not create and login.lower() not in credentials:
                return "missing"
            created = credentials.get(login.lower(), {}).get("created_at", now)
            credentials[login.lower()] = {"login": login, "password": password, "created_at": created}
            self._changed()
            return None

    def delete_credentials(self, name: str, login: str | None = None) -> int:
        """Delete one login, or every one (``None``); answers how many went."""
        with self._lock:
            record = self._data.get(name.lower())
            if record is None:
                return 0
            credentials = record["credentials"]
            gone = len(credentials) if login is None else int(login.lower() in credentials)
            if login is None:
                credentials.clear()
            else:
                credentials.pop(login.lower(), None)
            if gone:
                self._changed()
            return gone

    def tags(self, name: str) -> dict[str, Any]:
        """A domain's tag notes: tag -> ``{"description", "deleted_at"}`` (``{}`` for an unknown domain)."""
        with self._lock:
            record = self._data.get(name.lower())
            return {} if record is None else copy.deepcopy(record.get("tags", {}))

    def note_tag(self, name: str, tag: str, *, description: str | None = None, deleted_at: float | None = None) -> bool:
        """Give a tag a description, or mark it deleted at a time; whether the domain exists."""
        with self._lock:
            record = self._data.get(name.lower())
            if record is None:
                return False
            note = record.setdefault("tags", {}).setdefault(tag, {"description": "", "deleted_at": None})
            if description is not None:
                note["description"] = description
            if deleted_at is not None:
                note.update(deleted_at=deleted_at, description="")
            self._changed()
            return True

    def password_of(self, name: str, login: str) -> str | None:
        """The SMTP password of ``login`` on domain ``name``, or ``None``."""
        with self._lock:
            record = self._data.get(name.lower())
            entry = None if record is None else record["credentials"].get(login.lower())
            return None if entry is None else str(entry["password"])
