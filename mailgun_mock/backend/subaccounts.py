"""Subaccounts (``/v5/accounts/subaccounts…``), custom monthly limits (``…/limit/custom/…``), the
subaccounts' IP pools and the users (``/v5/users``); and the check every send gets.

A subaccount is a record in its parent's store (id, name, status, features, limit, its own
webhook signing key) and an account state of its own (:func:`.accounts.subaccount_state`), which a
request reaches with ``X-Mailgun-On-Behalf-Of: <id>``. Sends count towards a monthly limit by
recipient, in the mock clock's calendar month (UTC).
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.logtext import printable
from .accounts import subaccount_state
from .context import Context
from .params import integer

__all__ = ["FEATURES", "MIN_LIMIT", "SubaccountOperations"]

#: The features a subaccount can have switched on or off, and their defaults.
FEATURES = {"email_preview": False, "inbox_placement": False, "sending": True, "validations": False,
            "validations_bulk": False}
#: Mailgun's smallest custom monthly limit.
MIN_LIMIT = 1000
_SHOWN = ("id", "name", "created_at", "updated_at", "status", "features")


def _month(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m")


def _flag(value: Any, name: str) -> bool | None:
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise BadRequest(f"'{name}' must be true or false")
    return text == "true"


class SubaccountOperations(Context):
    """Subaccounts, monthly limits, users; the send check."""

    # -- the state a subaccount acts in ---------------------------------------------------

    def subaccount(self, subaccount_id: str) -> Any:
        """The own state of an open or disabled subaccount of this account, or ``None``."""
        record = self.store.resources.admin.subaccount(subaccount_id)
        if self.parent is not None or record is None or record["status"] == "closed":
            return None
        return subaccount_state(self, subaccount_id, record["signing_key"])

    def _subaccount_record(self, subaccount_id: str) -> dict[str, Any]:
        record = self.store.resources.admin.subaccount(subaccount_id)
        if record is None or self.parent is not None:
            raise NotFound("Not Found")
        return record

    def _save_subaccount(self, record: dict[str, Any]) -> dict[str, Any]:
        record["updated_at"] = formatdate(self.clock.now(), usegmt=True)
        self.store.resources.admin.put_subaccount(record)
        return {"subaccount": {key: record[key] for key in _SHOWN}}

    # -- /v5/accounts/subaccounts -----------------------------------------------------------

    def create_subaccount(self, params: Any) -> dict[str, Any]:
        """``POST /v5/accounts/subaccounts?name=``."""
        if self.parent is not None:
            raise BadRequest("a subaccount cannot have subaccounts")
        name = str(params.get("name") or "").strip()
        if not name:
            raise BadRequest("name is required")
        now = self.clock.now()
        record = {"id": self.ids.new(now), "name": name[:255], "created_at": formatdate(now, usegmt=True),
                  "status": "open", "features": {k: {"enabled": v} for k, v in FEATURES.items()},
                  "signing_key": secrets.token_hex(16), "limit": None, "ip_pool": None, "created": now,
                  "enabled_period": ""}
        return self._save_subaccount(record)

    def list_subaccounts(self, params: Any) -> dict[str, Any]:
        """``GET /v5/accounts/subaccounts``: ``sort`` (by name), ``filter`` (name contains), ``limit``
        (1–1000, default 10), ``skip``, ``enabled``, ``closed``."""
        limit, skip = integer(params.get("limit"), "limit", 10), integer(params.get("skip"), "skip", 0)
        if not 1 <= limit <= 1000:
            raise BadRequest("limit must be between 1 and 1000")
        if skip < 0:
            raise BadRequest("skip must not be negative")
        sort = params.get("sort") or ""
        if sort not in ("", "asc", "desc"):
            raise BadRequest("sort must be asc or desc")
        enabled, closed = _flag(params.get("enabled"), "enabled"), _flag(params.get("closed"), "closed")
        found = self.store.resources.admin.subaccounts() if self.parent is None else []
        term = str(params.get("filter") or "").lower()
        found = [r for r in found if term in r["name"].lower()
                 and (r["status"] == "closed") == bool(closed)
                 and (enabled is None or (r["status"] == "open") == enabled)]
        if sort:
            found.sort(key=lambda r: r["name"].lower(), reverse=sort == "desc")
        return {"subaccounts": [{k: r[k] for k in _SHOWN} for r in found[skip:skip + limit]], "total": len(found)}

    def get_subaccount(self, subaccount_id: str) -> dict[str, Any]:
        """``GET /v5/accounts/subaccounts/<id>``."""
        record = self._subaccount_record(subaccount_id)
        return {"subaccount": {key: record[key] for key in _SHOWN}}

    def disable_subaccount(self, subaccount_id: str) -> dict[str, Any]:
        """``POST …/<id>/disable``: it can no longer send."""
        record = self._subaccount_record(subaccount_id)
        if record["status"] == "disabled":
            raise BadRequest("subaccount is already disabled")
        if record["status"] == "closed":
            raise BadRequest("subaccount is closed")
        record["status"] = "disabled"
        return self._save_subaccount(record)

    def enable_subaccount(self, subaccount_id: str) -> dict[str, Any]:
        """``POST …/<id>/enable``."""
        record = self._subaccount_record(subaccount_id)
        if record["status"] == "open":
            raise BadRequest("subaccount is already enabled")
        if record["status"] == "closed":
            raise BadRequest("subaccount is closed")
        record["status"] = "open"
        return self._save_subaccount(record)

    def delete_this_subaccount(self) -> dict[str, Any]:
        """``DELETE /v5/accounts/subaccounts`` on behalf of a subaccount: it is closed (listed with
        ``closed=true``, no longer reachable) and its own state is dropped."""
        parent = self.parent
        if not isinstance(parent, SubaccountOperations):
            raise BadRequest("the X-Mailgun-On-Behalf-Of header must name the subaccount to delete")
        record = parent._subaccount_record(self.account_id)
        # Its state leaves the parent's store before its record says closed: a snapshot taken between
        # the two must not hold the state of a closed subaccount (it would not load).
        parent.store.children.disown(self.account_id)
        parent.subaccount_states.pop(self.account_id, None)
        record["status"] = "closed"
        parent._save_subaccount(record)
        self.delivery.clear()
        self.delivery.stop()
        return {"message": "Subaccount successfully deleted"}

    def update_features(self, subaccount_id: str, params: Any) -> dict[str, Any]:
        """``PUT …/<id>/features``: each feature a form field holding ``{"enabled": bool}`` (JSON)."""
        record = self._subaccount_record(subaccount_id)
        changed = {}
        for name in FEATURES:
            raw = params.get(name)
            if raw in (None, ""):
                continue
            try:
                value = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                raise BadRequest(f"{name} must be a JSON object like {{\"enabled\": true}}") from None
            if not isinstance(value, dict) or not isinstance(value.get("enabled"), bool):
                raise BadRequest(f"{name} must be a JSON object like {{\"enabled\": true}}")
            changed[name] = {"enabled": value["enabled"]}
        if not changed:
            raise BadRequest("No valid updates provided")
        record["features"].update(changed)
        self._save_subaccount(record)
        return {"features": record["features"]}

    # -- IP pools -------------------------------------------------------------------------

    def list_subaccount_pools(self) -> dict[str, Any]:
        """``GET /v5/accounts/subaccounts/ip_pools/all``: each subaccount's pool (``None``: none)."""
        found = [r for r in self.store.resources.admin.subaccounts() if r["status"] != "closed"]
        return {"items": [{"subaccount_id": r["id"], "pool_id": r["ip_pool"]} for r in found], "total_count": len(found)}

    def set_subaccount_pool(self, subaccount_id: str, pool_id: Any) -> dict[str, Any]:
        """``PUT …/<id>/ip_pool`` (``pool_id``): the pool it sends from."""
        record = self._subaccount_record(subaccount_id)
        if not str(pool_id or "").strip():
            raise BadRequest("pool_id is required")
        record["ip_pool"] = str(pool_id).strip()
        self._save_subaccount(record)
        return {"message": "success", "reference_id": str(uuid.uuid4())}

    def remove_subaccount_pool(self, subaccount_id: str, pool_id: Any) -> dict[str, Any]:
        """``DELETE …/<id>/ip_pool?pool_id=``."""
        record = self._subaccount_record(subaccount_id)
        if not str(pool_id or "").strip():
            raise BadRequest("pool_id is required")
        if record["ip_pool"] != str(pool_id).strip():
            raise NotFound(f"pool {printable(str(pool_id), 60)} is not assigned to this subaccount")
        record["ip_pool"] = None
        self._save_subaccount(record)
        return {"message": "success", "reference_id": str(uuid.uuid4())}

    # -- custom monthly limits --------------------------------------------------------------

    def sent_this_month(self) -> int:
        """Recipients this account sent to in the mock clock's current month (UTC)."""
        month = _month(self.clock.now())
        return sum(len(s.recipients) for s in self.store.sent() if _month(s.sent_at) == month)

    def _limit_answer(self, limit: int | None) -> dict[str, Any]:
        if limit is None:
            raise NotFound("No threshold for account")
        return {"limit": limit, "current": self.sent_this_month(), "period": "1m"}

    @staticmethod
    def _new_limit(params: Any) -> int:
        limit = integer(params.get("limit"), "limit", 0)
        if limit < MIN_LIMIT:
            raise BadRequest(f"The limit parameter minumum is {MIN_LIMIT}")  # sic: Mailgun's spelling
        return limit

    def get_monthly_limit(self) -> dict[str, Any]:
        """``GET /v5/accounts/limit/custom/monthly``."""
        return self._limit_answer(self.store.resources.admin.limit().get("limit"))

    def set_monthly_limit(self, params: Any) -> dict[str, Any]:
        """``PUT /v5/accounts/limit/custom/monthly?limit=``."""
        self.store.resources.admin.set_limit({"limit": self._new_limit(params), "enabled_period": ""})
        return {"success": True}

    def delete_monthly_limit(self) -> dict[str, Any]:
        """``DELETE /v5/accounts/limit/custom/monthly``."""
        if not self.store.resources.admin.limit():
            raise BadRequest("Could not delete threshold for account")
        self.store.resources.admin.set_limit({})
        return {"success": True}

    def enable_past_limit(self) -> dict[str, Any]:
        """``PUT /v5/accounts/limit/custom/enable``: sending goes on past a reached limit (the account's
        own, or for a subaccount the one its parent set) for the rest of this month."""
        month, sent, lifted = _month(self.clock.now()), self.sent_this_month(), False
        limit = self.store.resources.admin.limit()
        if limit and sent >= limit["limit"]:
            self.store.resources.admin.set_limit({**limit, "enabled_period": month})
            lifted = True
        parent = self.parent
        if isinstance(parent, SubaccountOperations):
            record = parent._subaccount_record(self.account_id)
            if record["limit"] and sent >= record["limit"]:
                record["enabled_period"] = month
                parent._save_subaccount(record)
                lifted = True
        if not lifted:
            raise BadRequest("Unable to re-enable account with current account disablement")
        return {"success": True}

    def get_subaccount_limit(self, subaccount_id: str) -> dict[str, Any]:
        """``GET …/<id>/limit/custom/monthly``: counted in the subaccount's own state."""
        record = self._subaccount_record(subaccount_id)
        state = self.subaccount(subaccount_id)
        if state is None:
            raise NotFound("Not Found")
        return state._limit_answer(record["limit"])  # type: ignore[no-any-return]

    def set_subaccount_limit(self, subaccount_id: str, params: Any) -> dict[str, Any]:
        """``PUT …/<id>/limit/custom/monthly?limit=``."""
        record = self._subaccount_record(subaccount_id)
        record["limit"] = self._new_limit(params)
        self._save_subaccount(record)
        return {"success": True}

    def delete_subaccount_limit(self, subaccount_id: str) -> dict[str, Any]:
        """``DELETE …/<id>/limit/custom/monthly``."""
        record = self._subaccount_record(subaccount_id)
        if record["limit"] is None:
            raise BadRequest("Could not delete threshold for account")
        record["limit"] = None
        self._save_subaccount(record)
        return {"success": True}

    def check_may_send(self, domain: str) -> None:
        """Refuse a send when this account is a disabled or sending-disabled subaccount, or when a
        custom monthly limit (its own, or its parent's for it) is reached and not lifted."""
        refusal = f"Domain {printable(domain, 100)} is not allowed to send: "
        limits = [self.store.resources.admin.limit()]
        parent = self.parent
        if isinstance(parent, SubaccountOperations):
            record = parent.store.resources.admin.subaccount(self.account_id) or {"status": "closed"}
            if record["status"] != "open":
                raise BadRequest(refusal + f"the subaccount is {record['status']}")
            if not record["features"]["sending"]["enabled"]:
                raise BadRequest(refusal + "sending is disabled for the subaccount")
            limits.append({"limit": record["limit"], "enabled_period": record.get("enabled_period", "")})
        month = _month(self.clock.now())
        for limit in limits:
            if limit.get("limit") and limit.get("enabled_period") != month and self.sent_this_month() >= limit["limit"]:
                raise BadRequest(refusal + f"the custom monthly message limit ({limit['limit']}) is reached")

    # -- /v5/users ----------------------------------------------------------------------------

    def _user(self) -> dict[str, Any]:
        account = self.account_id or "0"
        email = f"owner@{account}.accounts.mailgun-mock.invalid"
        return {"id": account[:24], "name": "Mailgun Mock", "email": email, "activated": True, "is_disabled": False,
                "email_details": {"address": email, "is_valid": True, "reason": "",
                                  "parts": {"domain": email.split("@")[1], "local_part": "owner", "display_name": ""}},
                "role": "admin", "account_id": account, "opened_ip": "127.0.0.1", "is_master": True, "metadata": {},
                "tfa_enabled": False, "tfa_active": False, "tfa_created_at": None, "password_updated_at": None,
                "preferences": {"time_zone": "UTC", "time_format": "24", "programming_language": "python"},
                "auth": {"method": "password"}, "github_user_id": None, "salesforce_user_id": None,
                "migration_status": "complete"}

    def list_users(self, params: Any) -> dict[str, Any]:
        """``GET /v5/users``: the account's one user (its owner, an admin); ``role``, ``limit``, ``skip``."""
        limit, skip = integer(params.get("limit"), "limit", 10), integer(params.get("skip"), "skip", 0)
        if limit < 1 or skip < 0:
            raise BadRequest("limit must be positive and skip not negative")
        users = [u for u in [self._user()] if params.get("role") in (None, "", u["role"])]
        return {"users": users[skip:skip + limit], "total": len(users)}

    def get_user(self, user_id: str) -> dict[str, Any]:
        """``GET /v5/users/<id>`` (``me``: the user of the request's key)."""
        user = self._user()
        if user_id not in ("me", user["id"]):
            raise NotFound("User not found")
        return user
