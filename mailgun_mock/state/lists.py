"""Mailing lists and their members (a store section).

Records are plain JSON: ``lists[address]`` (lower-case) is ``{"address", "name", "description",
"access_level", "reply_preference", "created_at", "members": {address: member}}`` and a member
``{"address", "name", "vars", "subscribed"}``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from .section import Section, check_records

__all__ = ["MailingLists"]


class MailingLists(Section):
    """Lists by address; every method takes the store's lock and answers copies."""

    name = "lists"

    @classmethod
    def decode(cls, data: Any) -> dict[str, Any]:
        decoded = super().decode(data)
        check_records(cls.name, decoded, {"address": str, "name": str, "description": str, "access_level": str,
                                          "reply_preference": str, "created_at": (int, float), "members": dict})
        for key, record in decoded.items():
            check_records(f"lists {key}", record["members"], {"address": str, "name": str, "vars": dict,
                                                               "subscribed": bool})
        return decoded

    def get(self, address: str) -> dict[str, Any] | None:
        """A list with its members, or ``None``."""
        with self._lock:
            found = self._data.get(address.lower())
            return None if found is None else copy.deepcopy(found)

    def summaries(self) -> list[dict[str, Any]]:
        """Every list by address, without members but with ``members_count``."""
        with self._lock:
            return [{**{k: v for k, v in self._data[key].items() if k != "members"},
                     "members_count": len(self._data[key]["members"])} for key in sorted(self._data)]

    def create(self, record: dict[str, Any]) -> bool:
        """Add a list; ``False`` when one has that address."""
        with self._lock:
            key = record["address"].lower()
            if key in self._data:
                return False
            self._data[key] = {**record, "members": {}}
            self._changed()
            return True

    def update(self, address: str, changes: Mapping[str, Any]) -> str | None:
        """Change a list (a new ``address`` renames it); ``None``, or why not: ``missing`` or ``exists``."""
        with self._lock:
            record = self._data.get(address.lower())
            if record is None:
                return "missing"
            new = str(changes.get("address", record["address"])).lower()
            if new != address.lower() and new in self._data:
                return "exists"
            record.update(changes)
            if new != address.lower():
                self._data[new] = self._data.pop(address.lower())
            self._changed()
            return None

    def delete(self, address: str) -> bool:
        """Delete a list and its members; whether it existed."""
        with self._lock:
            if self._data.pop(address.lower(), None) is None:
                return False
            self._changed()
            return True

    def put_members(self, address: str, members: Sequence[dict[str, Any]], *, upsert: bool) -> str | None:
        """Add members (an existing one is replaced only with ``upsert``); ``None``, or why not:
        ``missing`` (no list) or ``exists:<address>`` (a member exists and ``upsert`` is off)."""
        with self._lock:
            record = self._data.get(address.lower())
            if record is None:
                return "missing"
            existing: dict[str, Any] = record["members"]
            for member in members:
                if not upsert and member["address"].lower() in existing:
                    return f"exists:{member['address']}"
            for member in members:
                existing[member["address"].lower()] = dict(member)
            self._changed()
            return None

    def update_member(self, address: str, member: str, changes: Mapping[str, Any]) -> dict[str, Any] | str:
        """Change a member (a new ``address`` renames it); answers it, or ``missing``/``unknown``/``exists``."""
        with self._lock:
            record = self._data.get(address.lower())
            if record is None:
                return "missing"
            members: dict[str, Any] = record["members"]
            found = members.get(member.lower())
            if found is None:
                return "unknown"
            new = str(changes.get("address", found["address"])).lower()
            if new != member.lower() and new in members:
                return "exists"
            found.update(changes)
            if new != member.lower():
                members[new] = members.pop(member.lower())
            self._changed()
            return copy.deepcopy(dict(found))

    def delete_member(self, address: str, member: str) -> str | None:
        """Remove a member; ``None``, or ``missing`` (no list) or ``unknown`` (no member)."""
        with self._lock:
            record = self._data.get(address.lower())
            if record is None:
                return "missing"
            if record["members"].pop(member.lower(), None) is None:
                return "unknown"
            self._changed()
            return None
