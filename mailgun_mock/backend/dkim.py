"""Domain keys (``/v1/dkim/keys``, ``/v4/domains/<authority>/keys``), Automatic Sender Security key
rotation (``/v1/dkim_management/domains/<name>``) and tracking certificates (``/v2/x509/<host>``).

Every key is a real RSA key pair (:mod:`.dkim_keys`); its public part is the ``k=rsa; p=…`` value of
its DNS record, and of the DKIM record the domain itself returns (``sending_dns_records``). A domain
has a key for its selector from the moment it shows one (made lazily, from a per-process cache);
keys created or rotated through the API are fresh. Keys are stored with their private part, so a
snapshot restores the same public keys.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ..base.errors import BadRequest, DescribedError, NotFound, ReasonError
from ..base.logtext import printable
from . import dkim_keys
from .context import DOMAIN_NAME, Context
from .params import integer

__all__ = ["DEFAULT_BITS", "DEFAULT_SELECTOR", "DkimOperations", "account_id"]

#: The selector of a domain that never set one (``PUT /v3/domains/<name>/dkim_selector`` changes it).
DEFAULT_SELECTOR = "pic"
#: The size of a domain's own key unless created with ``dkim_key_size`` (Mailgun's default, and ten
#: times quicker to make than 2048 bits).
DEFAULT_BITS = 1024
_SELECTOR = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}(\.[A-Za-z0-9][A-Za-z0-9-]{0,62})*")
_INTERVAL = re.compile(r"([0-9]{1,6})([dh])")
_MIN_INTERVAL = 5 * 86400
_ROTATION_SELECTORS = ("pdk1", "pdk2")


def account_id(api_key: str) -> str:
    """The mock account's id: 24 hex digits derived from the API key (stable across restarts)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:24]


def _key_id(authority: str, selector: str) -> str:
    return f"{authority.lower()}/{selector}"


def _stamp(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


class DkimOperations(Context):
    """Domain keys, their activation, rotation, and tracking certificates."""

    # -- the keys -------------------------------------------------------------------------

    def _dkim_domain(self, name: str) -> dict[str, Any] | None:
        record = self.store.resources.domains.get(name)
        if record is None and name.lower() in self.config.domains:
            self.check_domain(name)
            record = self.store.resources.domains.get(name)
        return record

    def dkim_authority(self, record: Mapping[str, Any]) -> str:
        """Who signs a domain's mail: itself, or (``dkim_authority`` self=no) its parent domain on the account."""
        name = str(record["name"])
        if record["settings"].get("dkim_authority_self", True) or "." not in name:
            return name
        parent = name.partition(".")[2]
        return parent if "." in parent and self.store.resources.domains.get(parent) is not None else name

    @staticmethod
    def dkim_settings(form: Mapping[str, Any]) -> dict[str, Any]:
        """A new domain's ``dkim_key_size`` (1024, the default, or 2048) and ``dkim_selector``, as settings.

        :raises ReasonError: for another size or a selector that is not an atom.
        """
        settings: dict[str, Any] = {}
        size = str(form.get("dkim_key_size") or "").strip()
        if size:
            if size not in ("1024", "2048"):
                raise ReasonError("dkim_key_size must be 1024 or 2048")
            settings["dkim_key_size"] = int(size)
        selector = str(form.get("dkim_selector") or "").strip()
        if selector:
            if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,63}", selector):
                raise ReasonError(f"invalid dkim_selector {printable(selector, 60)!r}: it must be an atom (RFC 2822)")
            settings["dkim_selector"] = selector
        return settings

    def _ensure_key(self, authority: str, selector: str, bits: int = DEFAULT_BITS) -> dict[str, Any]:
        """The key of ``authority``/``selector``, made (active, from the cache) if it does not exist yet."""
        found: dict[str, Any] | None = self.store.resources.dkim.read(lambda d: d["keys"].get(_key_id(authority, selector)))
        if found is not None:
            return found
        pem = dkim_keys.default_key(authority, selector, bits)  # slow the first time: outside the lock
        record = {"signing_domain": authority.lower(), "selector": selector, "active": True, "bits": bits,
                  "pem": pem, "created_at": self.clock.now()}
        return self.store.resources.dkim.change(lambda d: d["keys"].setdefault(_key_id(authority, selector), record))

    def domain_dkim_record(self, record: Mapping[str, Any]) -> tuple[str, str, bool]:
        """The DKIM record a domain asks to publish: host, ``k=rsa; p=…`` value, whether the key is active.

        The key is its authority's for the domain's selector; if that one was deleted, the authority's
        first active key (else its oldest); an authority without keys gets one for the selector."""
        selector = record["settings"].get("dkim_selector") or DEFAULT_SELECTOR
        authority = self.dkim_authority(record)
        keys: list[dict[str, Any]] = self.store.resources.dkim.read(
            lambda d: [k for k in d["keys"].values() if k["signing_domain"] == authority])
        key = next((k for k in keys if k["selector"] == selector), None)
        if key is None:
            key = min(keys, key=lambda k: (not k["active"], k["created_at"])) if keys else self._ensure_key(
                authority, selector, record["settings"].get("dkim_key_size") or DEFAULT_BITS)
        return f"{key['selector']}._domainkey.{record['name']}", dkim_keys.dns_value(key["pem"]), bool(key["active"])

    def _key_json(self, key: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.store.resources.domains.get(key["signing_domain"])
        valid = "valid" if domain is not None and domain["state"] == "active" else "unknown"
        return {"signing_domain": key["signing_domain"], "selector": key["selector"], "dns_record": {
            "is_active": key["active"], "cached": [], "name": f"{key['selector']}._domainkey.{key['signing_domain']}",
            "record_type": "TXT", "valid": valid, "value": dkim_keys.dns_value(key["pem"])}}

    def _keys(self, authority: str | None = None) -> list[dict[str, Any]]:
        for record in self.store.resources.domains.all():
            if authority is None or self.dkim_authority(record) == authority.lower():
                self.domain_dkim_record(record)
        keys: list[dict[str, Any]] = self.store.resources.dkim.read(lambda d: list(d["keys"].values()))
        keys = [k for k in keys if authority is None or k["signing_domain"] == authority.lower()]
        return sorted(keys, key=lambda k: (k["signing_domain"], k["selector"]))

    def list_dkim_keys(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v1/dkim/keys``: ``limit`` (default 10, at most 100), ``page``, ``signing_domain``, ``selector``."""
        limit, start = integer(params.get("limit"), "limit", 10), integer(params.get("page") or None, "page", 0)
        if not 1 <= limit <= 100 or start < 0:
            raise BadRequest("limit must be between 1 and 100")
        keys = [k for k in self._keys(str(params.get("signing_domain") or "") or None)
                if not params.get("selector") or k["selector"] == params["selector"]]
        query = "".join(f"&{name}={params[name]}" for name in ("signing_domain", "selector") if params.get(name))

        def link(offset: int) -> str:
            return f"{self.base_url}/v1/dkim/keys?limit={limit}&page={max(offset, 0)}{query}"

        last = max(len(keys) - 1, 0) // limit * limit
        return {"items": [self._key_json(k) for k in keys[start:start + limit]],
                "paging": {"first": link(0), "last": link(last), "next": link(start + limit),
                           "previous": link(start - limit)}}

    def create_dkim_key(self, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/dkim/keys``: ``signing_domain``, ``selector``, ``bits`` (1024, 2048) or an imported ``pem``.

        A new key is inactive while its authority has an active one (activate it to sign with it).
        """
        authority = str(form.get("signing_domain") or "").strip().lower()
        selector = str(form.get("selector") or "").strip()
        if not authority or not selector:
            raise BadRequest("signing_domain and selector are required")
        if not DOMAIN_NAME.fullmatch(authority) or not _SELECTOR.fullmatch(selector):
            raise BadRequest(f"invalid signing_domain or selector: {printable(authority, 60)!r}, {printable(selector, 60)!r}")
        self.check_domain(authority)
        if form.get("pem"):
            pem, bits = dkim_keys.import_key(str(form["pem"]))
        else:
            bits = integer(form.get("bits") or None, "bits", 2048)
            if bits not in dkim_keys.BITS:
                raise BadRequest("bits must be 1024 or 2048")
            pem = dkim_keys.generate_key(bits)
        self._keys(authority)
        record = {"signing_domain": authority, "selector": selector, "active": False, "bits": bits, "pem": pem,
                  "created_at": self.clock.now()}

        def add(data: dict[str, Any]) -> bool:
            if _key_id(authority, selector) in data["keys"]:
                return False
            record["active"] = not any(k["active"] for k in data["keys"].values() if k["signing_domain"] == authority)
            data["keys"][_key_id(authority, selector)] = record
            return True

        if not self.store.resources.dkim.change(add):
            raise BadRequest(f"a domain key with selector {selector!r} already exists for {authority}")
        return self._key_json(record)

    def delete_dkim_key(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``DELETE /v1/dkim/keys?signing_domain=&selector=``: not the last active key of its authority."""
        authority, selector = (str(params.get(k) or "").strip() for k in ("signing_domain", "selector"))
        if not authority or not selector:
            raise BadRequest("signing_domain and selector are required")

        def delete(data: dict[str, Any]) -> str | None:
            key = data["keys"].get(_key_id(authority, selector))
            if key is None:
                return "missing"
            others = [k for i, k in data["keys"].items() if k["signing_domain"] == authority.lower()
                      and i != _key_id(authority, selector) and k["active"]]
            if key["active"] and not others:
                return "last"
            del data["keys"][_key_id(authority, selector)]
            return None

        problem = self.store.resources.dkim.change(delete)
        if problem == "missing":
            raise NotFound("domain key not found")
        if problem == "last":
            raise BadRequest("cannot delete domain key: must have at least one active domain key")
        return {"message": "success"}

    def authority_keys(self, authority: str) -> dict[str, Any]:
        """``GET /v4/domains/<authority>/keys``."""
        if self._dkim_domain(authority) is None:
            raise NotFound("Domain not found")
        return {"items": [self._key_json(k) for k in self._keys(authority)]}

    def set_dkim_key_active(self, authority: str, selector: str, active: bool) -> dict[str, Any]:
        """``PUT /v4/domains/<authority>/keys/<selector>/activate`` (or ``deactivate``)."""
        if self._dkim_domain(authority) is not None:
            self._keys(authority)

        def flip(data: dict[str, Any]) -> bool:
            key = data["keys"].get(_key_id(authority, selector))
            if key is None:
                return False
            key["active"] = active
            return True

        if not self.store.resources.dkim.change(flip):
            raise NotFound("domain key not found")
        return {"message": f"domain key {'activated' if active else 'deactivated'}", "authority": authority.lower(),
                "selector": selector, "active": active}

    # -- Automatic Sender Security rotation -----------------------------------------------

    def _asd_domain(self, name: str) -> dict[str, Any]:
        record = self._dkim_domain(name)
        if record is None:
            raise DescribedError("domain not found")
        return record

    def _rotation_json(self, record: Mapping[str, Any]) -> dict[str, Any]:
        name = record["name"]
        rotation = self.store.resources.dkim.read(lambda d: d["rotation"].get(name)) or {}
        sid = record["id"]
        return {"domain": {
            "id": record["id"], "account_id": account_id(self.config.api_key), "sid": sid, "name": name,
            "state": "enabled" if record["state"] == "active" else "wait_verify",
            "active_selector": record["settings"].get("dkim_selector") or DEFAULT_SELECTOR,
            "rotation_enabled": "true" if rotation.get("enabled") else "false",
            "rotation_interval": rotation.get("interval", ""),
            "records": [{"name": f"{s}._domainkey.{name}", "type": "CNAME", "identifier": "DKIM",
                         "value": f"{s}._domainkey.{sid}.service.mailgun.com", "comment": "Customer DKIM CNAME Record"}
                        for s in _ROTATION_SELECTORS]}}

    def update_dkim_rotation(self, name: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /v1/dkim_management/domains/<name>/rotation``: ``rotation_enabled``, ``rotation_interval`` (≥ 5d)."""
        record = self._asd_domain(name)
        enabled = str(form.get("rotation_enabled") or "").strip().lower()
        if enabled not in ("true", "false", "yes", "no", "1", "0"):
            raise ReasonError("rotation_enabled is required: true or false")
        on = enabled in ("true", "yes", "1")
        interval = str(form.get("rotation_interval") or "").strip()
        if interval and not on:
            raise ReasonError("rotation_interval is not allowed unless also enabling DKIM rotation")
        if interval:
            match = _INTERVAL.fullmatch(interval)
            if match is None:
                raise ReasonError(f"invalid rotation_interval {printable(interval, 40)!r}: use a number of days or hours, e.g. 5d")
            if int(match[1]) * (86400 if match[2] == "d" else 3600) < _MIN_INTERVAL:
                raise ReasonError("rotation_interval must be at least 5d")
        setting = {"enabled": on, "interval": interval or ("5d" if on else "")}
        self.store.resources.dkim.change(lambda d: d["rotation"].__setitem__(record["name"], setting))
        return self._rotation_json(record)

    def rotate_dkim_key(self, name: str) -> dict[str, Any]:
        """``POST /v1/dkim_management/domains/<name>/rotate``: a fresh key under the other rotation
        selector (``pdk1``/``pdk2``) becomes the domain's active key; the one it replaces is deactivated."""
        record = self._asd_domain(name)
        if record["state"] != "active":
            raise ReasonError("only domains in enabled can rotate their keys. Current state: wait_verify")
        authority = self.dkim_authority(record)
        old = record["settings"].get("dkim_selector") or DEFAULT_SELECTOR
        new = _ROTATION_SELECTORS[1] if old == _ROTATION_SELECTORS[0] else _ROTATION_SELECTORS[0]
        bits = record["settings"].get("dkim_key_size") or DEFAULT_BITS
        fresh = {"signing_domain": authority, "selector": new, "active": True, "bits": bits,
                 "pem": dkim_keys.generate_key(bits), "created_at": self.clock.now()}

        def rotate(data: dict[str, Any]) -> None:
            data["keys"][_key_id(authority, new)] = fresh
            if _key_id(authority, old) in data["keys"]:
                data["keys"][_key_id(authority, old)]["active"] = False

        self.store.resources.dkim.change(rotate)
        self.store.resources.domains.update(record["name"], settings={"dkim_selector": new})
        return {"message": "ok"}

    # -- tracking certificates ------------------------------------------------------------

    def _tracking_domain(self, host: str) -> dict[str, Any]:
        host = host.lower()
        for record in self.store.resources.domains.all():
            if f"{record['settings']['web_prefix'] or 'email'}.{record['name']}" == host:
                return record
        raise DescribedError("domain not found")

    def _certificate(self, host: str) -> dict[str, Any]:
        pem, until = dkim_keys.self_signed_certificate(host.lower(), self.clock.now())
        record = {"host": host.lower(), "certificate": pem, "not_after": until, "created_at": self.clock.now()}
        self.store.resources.dkim.change(lambda d: d["x509"].__setitem__(host.lower(), record))
        return {"message": "Initiated x509 key pair generation", "location": f"/v2/x509/{host.lower()}/status"}

    def generate_certificate(self, host: str) -> dict[str, Any]:
        """``POST /v2/x509/<web_prefix.domain>``: the mock makes the certificate at once (status ``active``)."""
        self._tracking_domain(host)
        if self.store.resources.dkim.read(lambda d: host.lower() in d["x509"]):
            raise DescribedError(f"x509 key pair generation has already been initiated for {host.lower()}", 409)
        return self._certificate(host)

    def regenerate_certificate(self, host: str) -> dict[str, Any]:
        """``PUT /v2/x509/<host>``: only an expired certificate (on the mock's clock) is made again."""
        self._tracking_domain(host)
        found = self.store.resources.dkim.read(lambda d: d["x509"].get(host.lower()))
        if found is None:
            raise DescribedError("x509 cert not found")
        if found["not_after"] > self.clock.now():
            raise DescribedError(f"x509 certificate is still valid until {_stamp(found['not_after'])}", 409)
        return self._certificate(host)

    def certificate_status(self, host: str) -> dict[str, Any]:
        """``GET /v2/x509/<host>/status``: ``active``, or ``expired`` once the mock's clock passes its end."""
        found = self.store.resources.dkim.read(lambda d: d["x509"].get(host.lower()))
        if found is None:
            raise DescribedError(f"Please initiate x509 key pair generation at POST /v2/x509/{host.lower()}")
        if found["not_after"] <= self.clock.now():
            return {"status": "expired", "error": "x509 certificate has expired", "certificate": found["certificate"]}
        return {"status": "active", "error": None, "certificate": found["certificate"]}
