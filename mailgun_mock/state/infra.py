"""The account's sending infrastructure (store sections): IPs, pools and the IP allowlist; DKIM keys,
key rotation and tracking certificates; inbox placement and email preview results.

Each section is plain JSON the backend reads and changes through one function run under the store's
lock (:meth:`Records.read`, :meth:`Records.change`), which answers a copy. Layouts:

- ``ips``: ``ips`` (address -> ``{"ip", "dedicated", "rdns", "ip_band", "warmup"}``), ``domains``
  (domain -> ``{"ips", "pool_id"}``, only for domains whose IPs were changed), ``pools`` (DIPP id ->
  ``{"pool_id", "name", "description", "ips"}``), ``dynamic`` (pool name -> IPs), ``enrolled``
  (domain -> ``{"pool", "override", "registered_at"}``), ``history`` (dynamic pool moves), ``allowlist``
  (address or CIDR -> description);
- ``dkim``: ``keys`` (``authority/selector`` -> ``{"signing_domain", "selector", "active", "bits", "pem",
  "created_at"}``), ``rotation`` (domain -> settings), ``x509`` (tracking host -> certificate record);
- ``placement``: ``inbox`` (result id -> result), ``preview`` (test id -> results).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

from .section import Section

__all__ = ["DomainKeys", "Network", "Placement", "Records"]

T = TypeVar("T")


class Records(Section):
    """A section whose records the backend reads and changes through a function, under the store's lock."""

    def read(self, look: Callable[[dict[str, Any]], T]) -> T:
        """What ``look`` answers about the records (a copy)."""
        with self._lock:
            return copy.deepcopy(look(self._data))

    def change(self, edit: Callable[[dict[str, Any]], T]) -> T:
        """Run ``edit`` on a copy of the records and keep the copy unless ``edit`` raises (all or nothing);
        answers a copy of its result."""
        with self._lock:
            draft = copy.deepcopy(self._data)
            result = edit(draft)
            self._data = draft
            self._changed()
            return copy.deepcopy(result)

    @classmethod
    def decode(cls, data: Any) -> dict[str, Any]:
        decoded = super().decode(data)
        fresh = cls.empty()
        if set(decoded) != set(fresh) or any(type(decoded[k]) is not type(v) for k, v in fresh.items()):
            raise ValueError(f"{cls.name}: expected {', '.join(f'{k} ({type(v).__name__})' for k, v in fresh.items())}")
        return decoded


class Network(Records):
    """IPs, dedicated IP pools, dynamic IP pools and the IP allowlist."""

    name = "ips"

    @classmethod
    def empty(cls) -> dict[str, Any]:
        return {"ips": {}, "domains": {}, "pools": {}, "dynamic": {}, "enrolled": {}, "history": [], "allowlist": {}}


class DomainKeys(Records):
    """DKIM keys by authority and selector, automatic rotation settings, tracking certificates."""

    name = "dkim"

    @classmethod
    def empty(cls) -> dict[str, Any]:
        return {"keys": {}, "rotation": {}, "x509": {}}


class Placement(Records):
    """Inbox placement results and email preview results the control API created."""

    name = "placement"

    @classmethod
    def empty(cls) -> dict[str, Any]:
        return {"inbox": {}, "preview": {}}
