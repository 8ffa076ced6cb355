"""The account's IPs (``/v3/ips``), a domain's IPs (``/v3/domains/<name>/ips``), IP warmups
(``/v3/ip_warmups``) and the account's IP allowlist (``/v2/ip_whitelist``).

The account starts with the shared IPs of the configuration (``ips``; by default one address of the
documentation range, 192.0.2.10); ``POST /v3/ips/request/new`` adds dedicated ones from 198.51.100.0/24,
up to :data:`DEDICATED_LIMIT`. A domain sends from, first that applies: the dedicated IP pool linked to
it, the IPs assigned to it, its dynamic IP pool, else the shared IPs. Those are computed when asked,
so an IP removed from a pool leaves the pool's domains at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

from ..base.errors import BadRequest, NotFound
from ..base.logtext import printable
from .domains import DomainOperations
from .params import integer

__all__ = ["DEDICATED_LIMIT", "IpOperations", "WARMUP_STAGES", "domain_entry", "domain_ips", "parse_ip", "rfc3339",
           "warmup_stage"]

T = TypeVar("T")
#: How many dedicated IPs the mock account may have.
DEDICATED_LIMIT = 10
_DEDICATED_RANGE = ipaddress.ip_network("198.51.100.0/24")
#: Warmup: stages last a day of the mock's clock; stage ``n`` allows ``500 * 2**(n-1)`` messages.
WARMUP_STAGES = 15


def rfc3339(timestamp: float) -> str:
    """``2025-01-01T00:00:00Z``."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def warmup_stage(started: float, now: float) -> tuple[int, float, int]:
    """A warmup's stage on the mock's clock: number, when it began, its volume limit."""
    stage = min(1 + int(max(now - started, 0) // 86400), WARMUP_STAGES)
    return stage, started + (stage - 1) * 86400, 500 * 2 ** (stage - 1)


def _ip_record(ip: str, dedicated: bool) -> dict[str, Any]:
    return {"ip": ip, "dedicated": dedicated, "rdns": f"ip{ip.replace('.', '-').replace(':', '-')}.mailgun-mock.invalid",
            "ip_band": "", "warmup": None}


def _shared(data: Mapping[str, Any]) -> list[str]:
    return [ip for ip, record in data["ips"].items() if not record["dedicated"]]


def domain_ips(data: Mapping[str, Any], domain: str) -> list[str]:
    """The IPs ``domain`` sends from (see the module docstring)."""
    entry = data["domains"].get(domain.lower()) or {}
    if entry.get("pool_id") in data["pools"]:
        return list(data["pools"][entry["pool_id"]]["ips"])
    if entry.get("ips"):
        return list(entry["ips"])
    enrolled = data["enrolled"].get(domain.lower())
    if enrolled is not None and data["dynamic"].get(enrolled["pool"]):
        return list(data["dynamic"][enrolled["pool"]])
    return _shared(data)


def domain_entry(data: dict[str, Any], domain: str) -> dict[str, Any]:
    entry: dict[str, Any] = data["domains"].setdefault(domain.lower(), {"ips": [], "pool_id": None})
    return entry


def parse_ip(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(str(ip).strip()))
    except ValueError:
        raise BadRequest(f"Invalid IP address {printable(str(ip), 60)!r}") from None


class IpOperations(DomainOperations):
    """IPs, domain IPs, warmups and the IP allowlist."""

    def _net(self, look: Callable[[dict[str, Any]], T], *, write: bool = False) -> T:
        """Run ``look`` on the IP records (under the store's lock), with the configured IPs present."""
        section = self.store.resources.ips
        if not write and section.read(lambda d: all(ip in d["ips"] for ip in self.config.ips)):
            return section.read(look)

        def run(data: dict[str, Any]) -> T:
            for ip in self.config.ips:
                data["ips"].setdefault(ip, _ip_record(ip, False))
            return look(data)

        return section.change(run)

    def _account_ip(self, data: Mapping[str, Any], ip: str) -> dict[str, Any]:
        """The record of one of the account's IPs. :raises NotFound: ``IP not found``."""
        record = data["ips"].get(parse_ip(ip))
        if record is None:
            raise NotFound("IP not found")
        return dict(record)

    def _dedicated(self, data: Mapping[str, Any], ip: str) -> str:
        record = self._account_ip(data, ip)
        if not record["dedicated"]:
            raise BadRequest(f"IP {record['ip']} is not a dedicated IP")
        return str(record["ip"])

    def _domain_names(self) -> list[str]:
        for name in self.config.domains:
            self.check_domain(name)
        return sorted(r["name"] for r in self.store.resources.domains.all())

    # -- account IPs ----------------------------------------------------------------------

    def list_ips(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/ips``: ``dedicated``, ``enabled`` filters."""
        dedicated = str(params.get("dedicated") or "").lower() in ("true", "yes", "1")

        def look(data: dict[str, Any]) -> dict[str, Any]:
            records = [r for r in data["ips"].values() if r["dedicated"] or not dedicated]
            pooled = {ip for pool in data["pools"].values() for ip in pool["ips"]}
            items = sorted((r["ip"] for r in records), key=ipaddress.ip_address)
            details = [{"ip": ip, **({"is_on_warmup": True} if data["ips"][ip]["warmup"] else {})} for ip in items]
            return {"items": items, "total_count": len(items), "details": details,
                    "assignable_to_pools": [ip for ip in items if data["ips"][ip]["dedicated"] and ip not in pooled]}

        return self._net(look)

    def get_ip(self, ip: str) -> dict[str, Any]:
        """``GET /v3/ips/<ip>``."""
        record = self._net(lambda d: self._account_ip(d, ip))
        return {"ip": record["ip"], "dedicated": record["dedicated"], "rdns": record["rdns"]}

    def ip_domains(self, ip: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/ips/<ip>/domains``: ``limit``, ``skip``, ``search`` (any word of it in the name)."""
        limit, skip = integer(params.get("limit") or None, "limit", 100), integer(params.get("skip") or None, "skip", 0)
        if not 1 <= limit <= 1000 or skip < 0:
            raise BadRequest("limit must be between 1 and 1000, skip at least 0")
        words = [w for w in str(params.get("search") or "").replace(".", " ").lower().split() if w]
        names = [n for n in self._domain_names() if not words or any(w in n for w in words)]

        def look(data: dict[str, Any]) -> list[dict[str, Any]]:
            address = self._account_ip(data, ip)["ip"]
            return [{"domain": n, "ips": domain_ips(data, n)} for n in names if address in domain_ips(data, n)]

        found = self._net(look)
        return {"items": found[skip:skip + limit], "total_count": len(found)}

    def assign_ip_everywhere(self, ip: str) -> dict[str, Any]:
        """``POST /v3/ips/<ip>/domains``: the IP joins every domain not linked to a dedicated IP pool."""
        names = self._domain_names()

        def assign(data: dict[str, Any]) -> None:
            address = self._account_ip(data, ip)["ip"]
            for name in names:
                entry = domain_entry(data, name)
                if entry["pool_id"] is None and address not in entry["ips"]:
                    entry["ips"] = [*(entry["ips"] or domain_ips(data, name)), address]

        self._net(assign, write=True)
        return {"message": "started", "reference_id": self.ids.new(self.clock.now())}

    def remove_ip_everywhere(self, ip: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``DELETE /v3/ips/<ip>/domains``: off every domain, replaced by ``alternative`` if given."""
        names = self._domain_names()

        def remove(data: dict[str, Any]) -> None:
            address = self._account_ip(data, ip)["ip"]
            alternative = self._account_ip(data, params["alternative"])["ip"] if params.get("alternative") else None
            for name in names:
                entry = domain_entry(data, name)
                if entry["pool_id"] is None and address in domain_ips(data, name):
                    kept = [i for i in domain_ips(data, name) if i != address]
                    entry["ips"] = kept + ([alternative] if alternative and alternative not in kept else [])

        self._net(remove, write=True)
        return {"message": "started", "reference_id": self.ids.new(self.clock.now())}

    def set_ip_band(self, ip: str, band: str | None) -> dict[str, Any]:
        """``POST /v3/ips/<ip>/ip_band``: a dedicated IP's band."""
        if not band:
            raise BadRequest("ip_band is required")

        def place(data: dict[str, Any]) -> None:
            data["ips"][self._dedicated(data, ip)]["ip_band"] = str(band)

        self._net(place, write=True)
        return {"message": "success"}

    def ip_allowance(self) -> dict[str, Any]:
        """``GET /v3/ips/request/new``: how many more dedicated IPs the account may add."""
        dedicated = self._net(lambda d: sum(1 for r in d["ips"].values() if r["dedicated"]))
        return {"allowed": {"dedicated": max(DEDICATED_LIMIT - dedicated, 0), "shared": len(self.config.ips)}}

    def request_ip(self) -> dict[str, Any]:
        """``POST /v3/ips/request/new``: a new dedicated IP (the mock also answers which, as ``ip``)."""

        def add(data: dict[str, Any]) -> str:
            if sum(1 for r in data["ips"].values() if r["dedicated"]) >= DEDICATED_LIMIT:
                raise BadRequest(f"the account already has {DEDICATED_LIMIT} dedicated IPs, its plan's limit")
            address = next(str(a) for a in _DEDICATED_RANGE.hosts() if str(a) not in data["ips"])
            data["ips"][address] = _ip_record(address, True)
            return address

        return {"message": "success", "ip": self._net(add, write=True)}

    # -- a domain's IPs -------------------------------------------------------------------

    def list_domain_ips(self, name: str) -> dict[str, Any]:
        """``GET /v3/domains/<name>/ips``."""
        record = self._domain(name)
        items = self._net(lambda d: domain_ips(d, record["name"]))
        return {"items": items, "total_count": len(items)}

    def add_domain_ip(self, name: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v3/domains/<name>/ips``: ``ip`` (one of the account's) or ``pool_id`` (link a dedicated IP pool)."""
        record = self._domain(name)

        def add(data: dict[str, Any]) -> None:
            entry = domain_entry(data, record["name"])
            if form.get("pool_id"):
                if form["pool_id"] not in data["pools"]:
                    raise NotFound("IP pool not found")
                entry["pool_id"] = str(form["pool_id"])
                return
            if not form.get("ip"):
                raise BadRequest("ip or pool_id is required")
            if entry["pool_id"] is not None:
                raise BadRequest("can't change the IPs of a domain linked to a dedicated IP pool")
            address = self._account_ip(data, form["ip"])["ip"]
            if address not in entry["ips"]:
                entry["ips"].append(address)

        self._net(add, write=True)
        return {"message": "success"}

    def remove_domain_ip(self, name: str, ip: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``DELETE /v3/domains/<name>/ips/<ip>`` (or ``/pool/<ip>``): an IP, ``all`` of them, or the linked
        pool (``ip_pool``), replaced by the ``ip`` or ``pool_id`` parameter if given."""
        record = self._domain(name)

        def remove(data: dict[str, Any]) -> None:
            entry = domain_entry(data, record["name"])
            if ip in ("all", "ip_pool"):
                if ip == "ip_pool" and entry["pool_id"] is None:
                    raise BadRequest("the domain is not linked to a dedicated IP pool")
                entry["pool_id"] = None
                if ip == "all":
                    entry["ips"] = []
            else:
                if entry["pool_id"] is not None:
                    raise BadRequest("can't change the IPs of a domain linked to a dedicated IP pool")
                address = parse_ip(ip)
                current = domain_ips(data, record["name"])
                if address not in current:
                    raise NotFound("IP not found on the domain")
                entry["ips"] = [i for i in current if i != address]
            if params.get("pool_id"):
                if params["pool_id"] not in data["pools"]:
                    raise NotFound("IP pool not found")
                entry["pool_id"] = str(params["pool_id"])
            elif params.get("ip") and params["ip"] != "shared":
                replacement = self._account_ip(data, params["ip"])["ip"]
                entry["ips"] = [*(i for i in entry["ips"] if i != replacement), replacement]

        self._net(remove, write=True)
        return {"message": "success"}

    # -- warmups --------------------------------------------------------------------------

    def _warmup_json(self, record: Mapping[str, Any]) -> dict[str, Any]:
        stage, began, limit = warmup_stage(record["warmup"]["started_at"], self.clock.now())
        return {"ip": record["ip"], "sent_within_stage": "0%", "throttle": max(limit // 24, 1),
                "stage_number": stage, "stage_start_volume": limit // 2 if stage > 1 else 0,
                "stage_start_time": rfc3339(began), "stage_volume_limit": limit}

    def list_warmups(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/ip_warmups``: IPs warming up, ``limit`` (default 10) from ``page`` (an offset)."""
        limit, start = integer(params.get("limit") or None, "limit", 10), integer(params.get("page") or None, "page", 0)
        if not 1 <= limit <= 1000 or start < 0:
            raise BadRequest("limit must be between 1 and 1000")
        records = self._net(lambda d: [r for r in d["ips"].values() if r["warmup"]])
        items = [self._warmup_json(r) for r in sorted(records, key=lambda r: ipaddress.ip_address(r["ip"]))]
        link = f"{self.base_url}/v3/ip_warmups?limit={limit}&page="
        return {"items": items[start:start + limit], "paging": {
            "first": f"{link}0", "next": f"{link}{start + limit}", "previous": f"{link}{max(start - limit, 0)}",
            "last": f"{link}{max(len(items) - 1, 0) // limit * limit}"}}

    def get_warmup(self, ip: str) -> dict[str, Any]:
        """``GET /v3/ip_warmups/<ip>``: the plan's stage on the mock's clock."""
        record = self._net(lambda d: self._account_ip(d, ip))
        if not record["warmup"]:
            raise NotFound("warmup plan not found")
        shown = self._warmup_json(record)
        started = record["warmup"]["started_at"]
        history = [{"first_updated_at": rfc3339(started + n * 86400), "completed_at": rfc3339(started + (n + 1) * 86400),
                    "limit": 500 * 2 ** n} for n in range(shown["stage_number"] - 1)]
        return {"details": {
            "sent_within_stage": "0%", "throttle": shown["throttle"], "start_volume": shown["stage_start_volume"],
            "stage": shown["stage_number"], "stage_limit": shown["stage_volume_limit"],
            "hourly_limit": shown["throttle"], "stage_started_at": shown["stage_start_time"],
            "hour_started_at": rfc3339(self.clock.now() // 3600 * 3600), "plan_started_at": rfc3339(started),
            "plan_last_updated_at": rfc3339(record["warmup"]["updated_at"]), "total_stages": WARMUP_STAGES,
            "stage_history": history}}

    def start_warmup(self, ip: str) -> dict[str, Any]:
        """``POST /v3/ip_warmups/<ip>``: a dedicated IP starts a warmup plan now."""

        def start(data: dict[str, Any]) -> None:
            address = self._dedicated(data, ip)
            if data["ips"][address]["warmup"]:
                raise BadRequest(f"IP {address} is already warming up")
            data["ips"][address]["warmup"] = {"started_at": self.clock.now(), "updated_at": self.clock.now()}

        self._net(start, write=True)
        return {"message": "success"}

    def cancel_warmup(self, ip: str) -> dict[str, Any]:
        """``DELETE /v3/ip_warmups/<ip>``."""

        def cancel(data: dict[str, Any]) -> None:
            address = self._dedicated(data, ip)
            if not data["ips"][address]["warmup"]:
                raise NotFound("warmup plan not found")
            data["ips"][address]["warmup"] = None

        self._net(cancel, write=True)
        return {"message": "success"}

    # -- the account's IP allowlist -------------------------------------------------------

    def _allowlist(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"addresses": [{"ip_address": a, "description": d} for a, d in data["allowlist"].items()]}

    def list_allowlist(self) -> dict[str, Any]:
        """``GET /v2/ip_whitelist`` (the mock records the list; it refuses no client for it)."""
        return self.store.resources.ips.read(self._allowlist)

    def put_allowlist(self, form: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
        """``POST`` (add) or ``PUT`` (describe) ``/v2/ip_whitelist``: ``address`` (an IP or CIDR), ``description``."""
        raw = str(form.get("address") or "").strip()
        if not raw:
            raise BadRequest("IP address can not be blank")
        try:
            address = str(ipaddress.ip_network(raw, strict=False)) if "/" in raw else str(ipaddress.ip_address(raw))
        except ValueError:
            raise BadRequest("Invalid IP Address or CIDR") from None

        def put(data: dict[str, Any]) -> dict[str, Any]:
            if create and address in data["allowlist"]:
                raise BadRequest("IP address already exists")
            if not create and address not in data["allowlist"]:
                raise BadRequest("IP not found")
            data["allowlist"][address] = str(form.get("description") or "")
            return self._allowlist(data)

        return self.store.resources.ips.change(put)

    def delete_allowlist(self, address: str | None) -> dict[str, Any]:
        """``DELETE /v2/ip_whitelist?address=``."""
        if not (address or "").strip():
            raise BadRequest("IP address can not be blank")

        def delete(data: dict[str, Any]) -> dict[str, Any]:
            if data["allowlist"].pop(str(address).strip(), None) is None:
                raise BadRequest("IP not found")
            return self._allowlist(data)

        return self.store.resources.ips.change(delete)
