"""API keys (``/v1/keys``), the webhook signing key (``/v5/accounts/http_signing_key``), account
settings and a sandbox's authorized recipients (``/v5/…``); and the check every request's key gets.

A key created here authenticates from then on and stops when deleted or expired; a ``sending``
key (or a ``domain`` kind key) may only send mail for its domain, as Mailgun's domain sending keys.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.logtext import printable
from .context import Context
from .params import ADDRESS, integer

__all__ = ["KeyOperations"]

_KINDS = ("domain", "user", "web")
_ROLES = ("admin", "basic", "sending", "developer")
_SENDING = re.compile(r"^/v[23]/([^/]+)/messages(\.mime)?$")
MAX_SANDBOX_RECIPIENTS = 5


def _stamp(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _key_json(record: Mapping[str, Any], secret: bool = False) -> dict[str, Any]:
    shown = {key: record[key] for key in ("id", "description", "kind", "role", "created_at", "updated_at",
                                         "is_disabled", "domain_name", "requestor", "user_name")}
    if record.get("expires") is not None:
        shown["expires_at"] = _stamp(record["expires"])
    if secret:
        shown["secret"] = record["secret"]
    return shown


class KeyOperations(Context):
    """Keys, the signing key, account settings, sandbox recipients."""

    def authorize(self, password: str, method: str, path: str) -> bool:
        """Whether a request with this API key may run: the configured key always; a key made with
        ``/v1/keys`` until deleted or expired, a sending key only for sends from its domain."""
        if hmac.compare_digest(password.encode("utf-8", "replace"), self.config.api_key.encode()):
            return True
        record = self.store.resources.account.key_with_secret(password) if password else None
        if record is None or record["is_disabled"]:
            return False
        if record.get("expires") is not None and record["expires"] <= self.clock.now():
            return False
        if record["role"] == "sending" or record["kind"] == "domain":
            sending = _SENDING.match(path)
            return (method == "POST" and sending is not None
                    and (record["domain_name"] is None or sending.group(1).lower() == record["domain_name"]))
        return True

    # -- /v1/keys -------------------------------------------------------------------------

    def list_keys(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v1/keys``: filters ``domain_name`` and ``kind``."""
        kind = params.get("kind")
        if kind not in (None, "") and kind not in _KINDS:
            raise BadRequest("expected `kind` param to be one of [domain user web] or absent")
        keys = self.store.resources.account.keys()
        if kind:
            keys = [k for k in keys if k["kind"] == kind]
        if params.get("domain_name"):
            keys = [k for k in keys if k["domain_name"] == str(params["domain_name"]).lower()]
        return {"total_count": len(keys), "items": [_key_json(k) for k in keys]}

    def create_key(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/keys``: ``role`` (admin, basic, sending, developer), ``kind`` (domain, user, web;
        default user), ``domain_name`` (for domain keys), ``description``, ``expiration`` (seconds)."""
        role, kind = str(form.get("role") or ""), str(form.get("kind") or "user")
        if role not in _ROLES:
            raise BadRequest(f"expected `role` param to be one of [{' '.join(_ROLES)}]")
        if kind not in _KINDS:
            raise BadRequest("expected `kind` param to be one of [domain user web] or absent")
        domain = str(form.get("domain_name") or "").strip().lower() or None
        if kind == "domain":
            if domain is None:
                raise BadRequest("`domain_name` is required for a domain key")
            self.check_domain(domain)
        now = self.clock.now()
        expiration = integer(form.get("expiration") or None, "expiration", 0)
        if expiration < 0:
            raise BadRequest("The 'expiration' parameter can't be negative")
        record = {"id": f"{secrets.token_hex(4)}-{secrets.token_hex(4)}", "description": str(form.get("description") or ""),
                  "kind": kind, "role": role, "created_at": _stamp(now), "updated_at": _stamp(now), "created": now,
                  "expires": now + expiration if expiration else None, "is_disabled": False,
                  "domain_name": domain if kind == "domain" else None, "requestor": form.get("email") or None,
                  "user_name": form.get("user_name") or None,
                  "secret": f"{secrets.token_hex(16)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"}
        self.store.resources.account.add_key(record)
        return {"message": "great success", "key": _key_json(record, secret=True)}

    def delete_key(self, key_id: str) -> dict[str, Any]:
        """``DELETE /v1/keys/<id>``: the key stops authenticating at once."""
        if not self.store.resources.account.delete_key(key_id):
            raise NotFound("no key matching id")
        return {"message": "key deleted"}

    def regenerate_public_key(self) -> dict[str, Any]:
        """``POST /v1/keys/public``: a new public validation key (the mock validates nothing with it)."""
        return {"key": f"pubkey-{secrets.token_hex(16)}",
                "message": "The public API key has been successfully regenerated."}

    # -- /v5/accounts ----------------------------------------------------------------------

    def get_signing_key(self) -> dict[str, Any]:
        """``GET /v5/accounts/http_signing_key``."""
        return {"http_signing_key": self.signing_key()}

    def rotate_signing_key(self) -> dict[str, Any]:
        """``POST /v5/accounts/http_signing_key``: a new key, which signs every webhook attempt from now on."""
        key = f"key-{secrets.token_hex(16)}"
        self.store.resources.account.set_signing_key(key)
        return {"message": "regenerated HTTP signing key for account", "http_signing_key": key}

    def update_account(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /v5/accounts``: the mock keeps no account settings, but checks that one is given."""
        given = [k for k in ("name", "inactive_session_timeout", "absolute_session_timeout", "logout_redirect_url")
                 if params.get(k) not in (None, "")]
        if not given:
            raise BadRequest("Either `name`, `absolute_timeout`, `inactive_timeout`, or `logout_redirect_url` must "
                             "be provided to update account info.")
        for key in ("inactive_session_timeout", "absolute_session_timeout"):
            integer(params.get(key), key, 0)
        return {"message": "Account info has been updated"}

    def list_sandbox_recipients(self) -> dict[str, Any]:
        """``GET /v5/sandbox/auth_recipients``."""
        return {"recipients": self.store.resources.account.recipients()}

    def add_sandbox_recipient(self, email: str | None) -> dict[str, Any]:
        """``POST /v5/sandbox/auth_recipients?email=``: at most 5."""
        email = (email or "").strip()
        if not ADDRESS.fullmatch(email):
            raise BadRequest("Invalid email address.")
        if self.store.resources.account.add_recipient(email, MAX_SANDBOX_RECIPIENTS) is not None:
            raise BadRequest(f"Only {MAX_SANDBOX_RECIPIENTS} sandbox recipients are allowed")
        return {"recipient": {"email": email, "activated": False}}

    def delete_sandbox_recipient(self, email: str) -> dict[str, Any]:
        """``DELETE /v5/sandbox/auth_recipients/<email>``."""
        if not self.store.resources.account.delete_recipient(email):
            raise NotFound(f"Sandbox recipient {printable(email, 100)} not found")
        return {"message": "Sandbox recipient deleted."}
