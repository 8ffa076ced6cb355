"""Dedicated IP pools (DIPPs, ``/v3/ip_pools``) and dynamic IP pools (``/v3/dynamic_pools``,
``/v1/dynamic_pools``), over the IP records of :mod:`.ips`.

A DIPP holds dedicated IPs of the account, each in at most one DIPP; a domain linked to a DIPP sends
from the DIPP's IPs as they are now. Dynamic pools (``dynamic_good``, ``dynamic_poor``,
``dynamic_new``) are set up with ``POST /v3/dynamic_pools/all``; an enrolled domain is placed by a
health check on its own sending (:meth:`PoolOperations.preview_dynamic_pool`), unless overridden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..base.errors import BadRequest, FieldError, NotFound
from ..base.logtext import printable
from .dkim import account_id
from .ips import IpOperations, domain_entry, parse_ip, rfc3339
from .params import integer

__all__ = ["DYNAMIC_POOLS", "HEALTH", "PoolOperations"]

#: The dynamic pools, by the form field that sets each up.
DYNAMIC_POOLS = {"good_reputation": "dynamic_good", "poor_reputation": "dynamic_poor", "new_senders": "dynamic_new"}
#: The health check: fewer than ``processed`` messages sent is a new sender; a bounce rate above
#: ``bounce_rate`` or a complaint rate above ``complaint_rate`` is poor; else good.
HEALTH = {"processed": 100, "bounce_rate": 0.05, "complaint_rate": 0.001}


class PoolOperations(IpOperations):
    """Dedicated and dynamic IP pools."""

    # -- dedicated IP pools ---------------------------------------------------------------

    def _pool(self, data: Mapping[str, Any], pool_id: str) -> dict[str, Any]:
        pool = data["pools"].get(pool_id)
        if pool is None:
            raise NotFound("IP pool not found")
        return dict(pool)

    def _pool_ips(self, data: Mapping[str, Any], ips: Sequence[str], pool_id: str | None) -> list[str]:
        """IPs fit for a DIPP: dedicated, the account's, in no other DIPP nor dynamic pool."""
        found = []
        for ip in ips:
            address = self._dedicated(data, ip)
            if any(address in p["ips"] for i, p in data["pools"].items() if i != pool_id) or \
                    any(address in ips for ips in data["dynamic"].values()):
                raise BadRequest(f"IP {address} already belongs to another IP pool")
            if address not in found:
                found.append(address)
        return found

    @staticmethod
    def _linked(data: Mapping[str, Any], pool_id: str) -> list[str]:
        return sorted(name for name, entry in data["domains"].items() if entry.get("pool_id") == pool_id)

    def list_ip_pools(self) -> dict[str, Any]:
        """``GET /v3/ip_pools``."""

        def look(data: dict[str, Any]) -> dict[str, Any]:
            return {"ip_pools": [{**{k: p[k] for k in ("pool_id", "name", "description", "ips")}, "is_inherited": False,
                                  "is_linked": bool(self._linked(data, p["pool_id"]))} for p in data["pools"].values()],
                    "message": "success"}

        return self._net(look)

    def create_ip_pool(self, form: Any) -> dict[str, Any]:
        """``POST /v3/ip_pools``: ``name``, ``description``, ``ip`` (repeatable)."""
        name, description = str(form.get("name") or "").strip(), str(form.get("description") or "")
        if not name:
            raise BadRequest("name is required")
        pool_id = self.ids.new(self.clock.now())

        def create(data: dict[str, Any]) -> None:
            ips = self._pool_ips(data, form.getlist("ip") if hasattr(form, "getlist") else [], None)
            data["pools"][pool_id] = {"pool_id": pool_id, "name": name, "description": description, "ips": ips}

        self._net(create, write=True)
        return {"message": "success", "pool_id": pool_id}

    def get_ip_pool(self, pool_id: str) -> dict[str, Any]:
        """``GET /v3/ip_pools/<id>``."""

        def look(data: dict[str, Any]) -> dict[str, Any]:
            pool, linked = self._pool(data, pool_id), self._linked(data, pool_id)
            return {"details": {**pool, "is_linked": bool(linked), "linked_domains": linked}, "message": "success"}

        return self._net(look)

    def update_ip_pool(self, pool_id: str, form: Any) -> dict[str, Any]:
        """``PATCH /v3/ip_pools/<id>``: ``name``, ``description``, ``add_ip``/``remove_ip``,
        ``link_domain``/``unlink_domain`` (domain names or ids; each repeatable)."""
        many = form.getlist if hasattr(form, "getlist") else (lambda key: [form[key]] if form.get(key) else [])
        names = {r["id"]: r["name"] for r in self.store.resources.domains.all()}
        names.update({n: n for n in names.values()})

        def update(data: dict[str, Any]) -> None:
            pool = data["pools"].get(pool_id) or self._pool(data, pool_id)
            before = {**pool, "ips": list(pool["ips"])}
            for key in ("name", "description"):
                if form.get(key) is not None:
                    pool[key] = str(form[key])
            removed = {parse_ip(ip) for ip in many("remove_ip")}
            if removed - set(pool["ips"]):
                raise BadRequest(f"IP {sorted(removed - set(pool['ips']))[0]} is not in the pool")
            pool["ips"] = [ip for ip in pool["ips"] if ip not in removed]
            pool["ips"] += [ip for ip in self._pool_ips(data, many("add_ip"), pool_id) if ip not in pool["ips"]]
            links = [(d, pool_id) for d in many("link_domain")] + [(d, None) for d in many("unlink_domain")]
            for domain, link in links:
                if domain not in names:
                    raise NotFound(f"Domain not found: {printable(domain, 100)}")
                domain_entry(data, names[domain])["pool_id"] = link
            if pool == before and not links:
                raise BadRequest("the parameters make no change to the IP pool")

        self._net(update, write=True)
        return {"message": "success"}

    def delete_ip_pool(self, pool_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``DELETE /v3/ip_pools/<id>``: linked domains move to the ``pool_id`` or ``ip`` replacement (else
        back to their own IPs)."""

        def delete(data: dict[str, Any]) -> None:
            self._pool(data, pool_id)
            replacement = params.get("pool_id")
            if replacement is not None and (replacement == pool_id or not self._pool(data, replacement)["ips"]):
                raise BadRequest("the replacement IP pool must be another pool with at least one IP")
            ip = self._account_ip(data, params["ip"])["ip"] if params.get("ip") not in (None, "", "shared") else None
            for name in self._linked(data, pool_id):
                entry = data["domains"][name]
                entry["pool_id"] = replacement
                if ip is not None:
                    entry["ips"] = [ip]
            del data["pools"][pool_id]

        self._net(delete, write=True)
        return {"message": "started"}

    def ip_pool_domains(self, pool_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/ip_pools/<id>/domains``: ``limit`` (10 to 500), ``page`` (an offset)."""
        limit, start = integer(params.get("limit") or None, "limit", 10), integer(params.get("page") or None, "page", 0)
        if not 10 <= limit <= 500 or start < 0:
            raise BadRequest("limit must be between 10 and 500")
        linked = self._net(lambda d: (self._pool(d, pool_id), self._linked(d, pool_id))[1])
        ids = {r["name"]: r["id"] for r in self.store.resources.domains.all()}
        link = f"{self.base_url}/v3/ip_pools/{pool_id}/domains?limit={limit}&page="
        return {"domains": [{"id": ids.get(n, ""), "name": n} for n in linked[start:start + limit]],
                "paging": {"first": f"{link}0", "next": f"{link}{start + limit}"}}

    def add_pool_ips(self, pool_id: str, ips: Sequence[str]) -> dict[str, Any]:
        """``PUT /v3/ip_pools/<id>/ips/<ip>`` and ``POST /v3/ip_pools/<id>/ips.json`` (``{"ips": [...]}``)."""
        if not ips:
            raise BadRequest("ips is required")

        def add(data: dict[str, Any]) -> None:
            self._pool(data, pool_id)
            pool = data["pools"][pool_id]
            pool["ips"] += [ip for ip in self._pool_ips(data, ips, pool_id) if ip not in pool["ips"]]

        self._net(add, write=True)
        return {"message": "started"}

    def remove_pool_ip(self, pool_id: str, ip: str) -> dict[str, Any]:
        """``DELETE /v3/ip_pools/<id>/ips/<ip>``: the IP leaves the pool, and so every domain linked to it."""

        def remove(data: dict[str, Any]) -> None:
            pool = data["pools"].get(pool_id) or self._pool(data, pool_id)
            if parse_ip(ip) not in pool["ips"]:
                raise NotFound("IP not found in the pool")
            pool["ips"].remove(parse_ip(ip))

        self._net(remove, write=True)
        return {"message": "started"}

    # -- dynamic IP pools -----------------------------------------------------------------

    def _dynamic_json(self, data: Mapping[str, Any]) -> dict[str, Any]:
        account = account_id(self.config.api_key)
        shown: dict[str, Any] = {field: list(data["dynamic"].get(pool, [])) for field, pool in DYNAMIC_POOLS.items()}
        shown["pools"] = [{"account_id": account, "enabled": True, "id": f"{account[:18]}{n:06x}", "ips": data["dynamic"][p],
                           "name": p} for n, p in enumerate(DYNAMIC_POOLS.values()) if p in data["dynamic"]]
        return shown

    def list_dynamic_pools(self) -> dict[str, Any]:
        """``GET /v3/dynamic_pools``."""
        return self._net(self._dynamic_json)

    def setup_dynamic_pools(self, form: Any) -> dict[str, Any]:
        """``POST /v3/dynamic_pools/all``: each pool's IPs (``good_reputation``, ``poor_reputation``,
        ``new_senders``; repeatable or comma-separated), replacing what was there."""

        def setup(data: dict[str, Any]) -> dict[str, Any]:
            pools: dict[str, list[str]] = {}
            for field, pool in DYNAMIC_POOLS.items():
                raw = form.getlist(field) if hasattr(form, "getlist") else [form.get(field) or ""]
                ips = [self._dedicated(data, ip) for value in raw for ip in str(value).split(",") if ip.strip()]
                if not ips:
                    raise BadRequest(f"{field} needs at least one IP")
                pools[pool] = ips
            every = [ip for ips in pools.values() for ip in ips]
            if len(every) != len(set(every)) or any(ip in p["ips"] for p in data["pools"].values() for ip in every):
                raise BadRequest("an IP can belong to one IP pool only")
            data["dynamic"] = pools
            return {"message": "success", **self._dynamic_json(data)}

        return self._net(setup, write=True)

    def remove_dynamic_pools(self) -> dict[str, Any]:
        """``DELETE /v3/dynamic_pools/all``: only once no domain is enrolled."""

        def remove(data: dict[str, Any]) -> None:
            if data["enrolled"]:
                raise BadRequest("all domains must be removed from dynamic IP pools first")
            data["dynamic"] = {}

        self._net(remove, write=True)
        return {"message": "success"}

    def change_dynamic_pool(self, pool: str, add: Sequence[str], remove: Sequence[str]) -> dict[str, Any]:
        """``POST /v3/dynamic_pools/<pool>/<ip>`` and ``PATCH /v3/dynamic_pools/<pool>`` (``add_ip``, ``remove_ip``)."""

        def change(data: dict[str, Any]) -> None:
            if pool not in data["dynamic"]:
                raise NotFound(f"dynamic IP pool {printable(pool, 40)!r} not found")
            for ip in add:
                address = self._dedicated(data, ip)
                if any(address in ips for ips in data["dynamic"].values()) or \
                        any(address in p["ips"] for p in data["pools"].values()):
                    raise BadRequest(f"IP {address} already belongs to an IP pool")
                data["dynamic"][pool].append(address)
            for ip in remove:
                if parse_ip(ip) not in data["dynamic"][pool]:
                    raise BadRequest(f"IP {parse_ip(ip)} is not in {pool}")
                data["dynamic"][pool].remove(parse_ip(ip))
            if not data["dynamic"][pool]:
                raise BadRequest(f"{pool} must keep at least one IP")

        self._net(change, write=True)
        return {"message": "success"}

    def _health(self, name: str) -> dict[str, Any]:
        """The health check's figures for a domain, from its own sends and events."""
        sent = [s for s in self.store.sent() if s.domain == name]
        processed, ids = sum(len(s.recipients) for s in sent), {s.message_id.strip("<>") for s in sent}
        counts = {"failed": 0, "complained": 0}
        for event in self.store.all_events():
            kind = event.get("event")
            if kind in counts and (event.get("message") or {}).get("headers", {}).get("message-id") in ids \
                    and (kind != "failed" or event.get("severity") == "permanent"):
                counts[kind] += 1
        bounce = counts["failed"] / processed if processed else 0.0
        complaint = counts["complained"] / processed if processed else 0.0
        bands = {"bounce_rate": (bounce, "dynamic_poor" if bounce > HEALTH["bounce_rate"] else "dynamic_good"),
                 "complaint_rate": (complaint, "dynamic_poor" if complaint > HEALTH["complaint_rate"] else "dynamic_good"),
                 "processed_count": (processed, "dynamic_new" if processed < HEALTH["processed"] else "dynamic_good")}
        pool = "dynamic_new" if processed < HEALTH["processed"] else (
            "dynamic_poor" if any(b == "dynamic_poor" for _, b in bands.values()) else "dynamic_good")
        return {"pool": pool, "results": {k: {"value": v, "band": b} for k, (v, b) in bands.items()}}

    def preview_dynamic_pool(self, name: str) -> dict[str, Any]:
        """``GET /v1/dynamic_pools/domains/<name>/preview``: the pool the health check picks (no change)."""
        return self._health(self._domain(name)["name"])

    def _history(self, data: dict[str, Any], name: str, new: str, prev: str, reason: str, health: Mapping[str, Any],
                 by: str) -> None:
        results = health["results"]
        data["history"].append({
            "id": self.ids.new(self.clock.now()), "owning_account_id": account_id(self.config.api_key),
            "account_id": account_id(self.config.api_key), "account_name": "mailgun-mock", "domain_name": name,
            "domain_id": (self.store.resources.domains.get(name) or {}).get("id", ""), "new_band": new,
            "prev_band": prev, "reason": reason, "bounce_rate": results["bounce_rate"]["value"],
            "complaint_rate": results["complaint_rate"]["value"], "processed_count": results["processed_count"]["value"],
            "initiated_by": by, "timestamp": rfc3339(self.clock.now())})

    def enroll_dynamic(self, name: str | None) -> dict[str, Any]:
        """``POST /v3/domains/<name>/dynamic_pools`` (``POST /v3/domains/all/dynamic_pools/enroll`` when
        ``name`` is ``None``): enroll the domain (every domain not enrolled yet) in the pool its health check picks."""
        names = self._domain_names() if name is None else [self._domain(name)["name"]]
        checks = {n: self._health(n) for n in names}

        def enroll(data: dict[str, Any]) -> None:
            if not data["dynamic"]:
                raise BadRequest("dynamic IP pools are not set up for the account")
            for name, health in checks.items():
                if name not in data["enrolled"]:
                    data["enrolled"][name] = {"pool": health["pool"], "override": False,
                                              "registered_at": self.clock.now()}
                    self._history(data, name, health["pool"], "", "Enrolled", health, "user")

        self._net(enroll, write=True)
        return {"message": "success" if name else "started"}

    def unenroll_dynamic(self, name: str, params: Any) -> dict[str, Any]:
        """``DELETE /v3/domains/<name>/dynamic_pools``: ``replacement_ip`` (repeatable, or ``shared``) or
        ``replacement_pool_id``, one of them."""
        record = self._domain(name)
        ips = params.getlist("replacement_ip") if hasattr(params, "getlist") else []
        pool_id = params.get("replacement_pool_id")
        if bool(ips) == bool(pool_id):
            raise BadRequest("give one of replacement_ip and replacement_pool_id")

        def unenroll(data: dict[str, Any]) -> None:
            if data["enrolled"].pop(record["name"], None) is None:
                raise BadRequest(f"domain {record['name']} is not enrolled in dynamic IP pools")
            entry = domain_entry(data, record["name"])
            if pool_id:
                self._pool(data, str(pool_id))
                entry["pool_id"] = str(pool_id)
            elif ips != ["shared"]:
                entry["ips"] = [self._account_ip(data, ip)["ip"] for ip in ips]

        self._net(unenroll, write=True)
        return {"message": "success"}

    def assignable_domains(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/domains/dynamic_pools/assignable``: domains not enrolled, ``domain`` a regex on the name."""
        pattern = str(params.get("domain") or "")
        try:
            matcher = re.compile(pattern)
        except re.error as exc:
            raise BadRequest(f"invalid domain search {printable(pattern, 60)!r}: {exc}") from None
        enrolled = self._net(lambda d: set(d["enrolled"]))
        records = [r for r in self.store.resources.domains.all() if r["name"] not in enrolled and matcher.search(r["name"])]
        return {"items": [{"account_id": account_id(self.config.api_key), "id": r["id"], "name": r["name"]}
                          for r in sorted(records, key=lambda r: r["name"])], "message": "success"}

    def enrolled_domains(self, params: Any) -> dict[str, Any]:
        """``GET /v1/dynamic_pools/domains``: ``limit``, ``pool`` (repeatable), ``sort_by``, ``sort_order``."""
        limit = integer(params.get("limit") or None, "limit", 100)
        sort_by, order = params.get("sort_by") or "name", params.get("sort_order") or "ascending"
        if not 1 <= limit <= 100 or sort_by not in ("name", "bounce_rate", "complaint_rate") or \
                order not in ("ascending", "descending"):
            raise BadRequest("limit is 1 to 100, sort_by name, bounce_rate or complaint_rate, sort_order ascending or descending")
        pools = set(params.getlist("pool")) if hasattr(params, "getlist") else set()
        enrolled = self._net(lambda d: d["enrolled"])
        items = []
        for name, entry in enrolled.items():
            if pools and entry["pool"] not in pools:
                continue
            results = self._health(name)["results"]
            items.append({"id": (self.store.resources.domains.get(name) or {}).get("id", ""),
                          "account_id": account_id(self.config.api_key), "account_name": "mailgun-mock", "name": name,
                          "registered_at": rfc3339(entry["registered_at"]), "pool": entry["pool"],
                          "override": entry["override"], **{k: results[k]["value"] for k in results}})
        items.sort(key=lambda i: i[sort_by], reverse=order == "descending")
        link = f"{self.base_url}/v1/dynamic_pools/domains?limit={limit}"
        return {"items": items[:limit], "total_items": len(items),
                "paging": {"Next": link, "Previous": link, "First": link, "Last": link}}

    def override_dynamic_pool(self, name: str, pool: str | None) -> dict[str, Any]:
        """``PUT /v1/dynamic_pools/domains/<name>/override`` (``pool``) and ``DELETE`` (``pool`` None)."""
        record = self._domain(name)
        if pool is not None and pool not in DYNAMIC_POOLS.values():
            raise FieldError(f"invalid pool {printable(pool, 40)!r}: use {', '.join(DYNAMIC_POOLS.values())}", "pool",
                             printable(pool, 100))
        health = self._health(record["name"])

        def override(data: dict[str, Any]) -> None:
            entry = data["enrolled"].get(record["name"])
            if entry is None:
                raise FieldError(f"domain {record['name']} is not enrolled in dynamic IP pools", "name", record["name"])
            new = pool or health["pool"]
            if new != entry["pool"]:
                self._history(data, record["name"], new, entry["pool"], "Override" if pool else "Override removed",
                              health, "user")
            entry.update(pool=new, override=pool is not None)

        self._net(override, write=True)
        return {"message": "success"}

    def dynamic_history(self, params: Mapping[str, Any], name: str | None = None) -> dict[str, Any]:
        """``GET /v1/dynamic_pools/history`` (``/v1/dynamic_pools/domains/<name>/history`` with ``name``):
        moves between dynamic pools, newest first: ``domain``, ``moved_to``, ``moved_from``, ``Limit``."""
        if name is not None:
            name = self._domain(name)["name"]
        limit = integer(params.get("Limit") or params.get("limit") or None, "Limit", 100)
        if not 1 <= limit <= 100:
            raise BadRequest("Limit must be between 1 and 100")
        found = [h for h in reversed(self._net(lambda d: d["history"]))
                 if (name or params.get("domain") or h["domain_name"]) == h["domain_name"]
                 and (params.get("moved_to") or h["new_band"]) == h["new_band"]
                 and (params.get("moved_from") or h["prev_band"]) == h["prev_band"]]
        link = f"{self.base_url}/v1/dynamic_pools/{f'domains/{name}/' if name else ''}history?Limit={limit}"
        return {"items": found[:limit], "total_items": len(found),
                "paging": {"Next": link, "Previous": link, "First": link, "Last": link}}
