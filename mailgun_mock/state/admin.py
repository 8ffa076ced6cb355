"""What an account administers (a store section): its subaccounts, its custom monthly sending limit
and its send-threshold alerts.

Records are plain JSON under ``subaccounts`` (id -> ``{"id", "name", "created_at", "updated_at",
"status", "features", "signing_key", "limit", "ip_pool", "created", "enabled_period"}``),
``limit`` (``{"limit", "enabled_period"}``, or ``{}`` when none is set; ``enabled_period`` is the
``YYYY-MM`` for which ``PUT /v5/accounts/limit/custom/enable`` lifted a reached limit) and
``alerts`` (name -> the alert as the API answers it).
"""

from __future__ import annotations

import copy
from typing import Any

from .section import Section, check_records

__all__ = ["Admin"]


class Admin(Section):
    """The account's subaccounts, limit and alerts; every method takes the store's lock and answers copies."""

    name = "admin"

    @classmethod
    def empty(cls) -> dict[str, Any]:
        return {"subaccounts": {}, "limit": {}, "alerts": {}}

    @classmethod
    def decode(cls, data: Any) -> dict[str, Any]:
        decoded = super().decode(data)
        if set(decoded) != set(cls.empty()) or not all(isinstance(v, dict) for v in decoded.values()):
            raise ValueError("admin: expected subaccounts, limit and alerts (objects)")
        check_records("admin.subaccounts", decoded["subaccounts"],
                      {"id": str, "name": str, "status": str, "features": dict, "signing_key": str,
                       "created": (int, float)})
        check_records("admin.alerts", decoded["alerts"], {"name": str, "metric": str, "limit": str})
        return decoded

    # -- subaccounts ----------------------------------------------------------------------

    def subaccounts(self) -> list[dict[str, Any]]:
        """Every subaccount, oldest first."""
        with self._lock:
            return sorted((copy.deepcopy(r) for r in self._data["subaccounts"].values()),
                          key=lambda r: (r["created"], r["id"]))

    def subaccount(self, subaccount_id: str) -> dict[str, Any] | None:
        """One subaccount, or ``None``."""
        with self._lock:
            found = self._data["subaccounts"].get(subaccount_id)
            return None if found is None else copy.deepcopy(found)

    def put_subaccount(self, record: dict[str, Any]) -> None:
        """Add or replace a subaccount under its id."""
        with self._lock:
            self._data["subaccounts"][record["id"]] = copy.deepcopy(record)
            self._changed()

    # -- the account's own monthly limit --------------------------------------------------

    def limit(self) -> dict[str, Any]:
        """The custom monthly limit (``{}``: none)."""
        with self._lock:
            return dict(self._data["limit"])

    def set_limit(self, limit: dict[str, Any]) -> None:
        """Replace the custom monthly limit (``{}`` removes it)."""
        with self._lock:
            self._data["limit"] = dict(limit)
            self._changed()

    # -- alerts ---------------------------------------------------------------------------

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert, oldest first."""
        with self._lock:
            return sorted((copy.deepcopy(a) for a in self._data["alerts"].values()),
                          key=lambda a: (a["created_at"], a["name"]))

    def alert(self, name: str) -> dict[str, Any] | None:
        """One alert, or ``None``."""
        with self._lock:
            found = self._data["alerts"].get(name)
            return None if found is None else copy.deepcopy(found)

    def put_alert(self, record: dict[str, Any], replaces: str | None = None) -> None:
        """Add an alert, or replace the one named ``replaces`` (which may be renamed)."""
        with self._lock:
            if replaces is not None:
                self._data["alerts"].pop(replaces, None)
            self._data["alerts"][record["name"]] = copy.deepcopy(record)
            self._changed()

    def delete_alert(self, name: str) -> bool:
        """Forget an alert; whether it existed."""
        with self._lock:
            if self._data["alerts"].pop(name, None) is None:
                return False
            self._changed()
            return True
