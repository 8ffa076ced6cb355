"""The store's sections for Mailgun's account resources, held together: what the store clears,
snapshots and restores for them in one step, under its one lock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from .account import Account
from .admin import Admin
from .domains import Domains
from .infra import DomainKeys, Network, Placement
from .lists import MailingLists
from .section import Section
from .templates import Templates

__all__ = ["Resources"]


class Resources:
    """Every resource section, each guarded by the store's lock.

    :param lock: the store's lock.
    :param changed: the store's change notifier.
    """

    def __init__(self, lock: threading.RLock, changed: Callable[[], None]) -> None:
        self.domains = Domains(lock, changed)
        self.templates = Templates(lock, changed)
        self.lists = MailingLists(lock, changed)
        self.account = Account(lock, changed)
        self.admin = Admin(lock, changed)
        self.ips, self.dkim, self.placement = Network(lock, changed), DomainKeys(lock, changed), Placement(lock, changed)

    def sections(self) -> list[Section]:
        """Every section, in snapshot order."""
        return [self.domains, self.templates, self.lists, self.account, self.admin, self.ips, self.dkim, self.placement]

    def clear(self) -> None:
        """Forget every section's records (with the store's lock held)."""
        for section in self.sections():
            section.clear()

    def to_dict(self) -> dict[str, Any]:
        """Every section as a snapshot keeps it (with the store's lock held)."""
        return {section.name: section.to_dict() for section in self.sections()}

    def load(self, decoded: Mapping[str, dict[str, Any]]) -> None:
        """Replace every section with :meth:`decode`'s result (with the store's lock held)."""
        for section in self.sections():
            section.load(decoded.get(section.name, section.empty()))

    @classmethod
    def decode(cls, data: Any) -> dict[str, dict[str, Any]]:
        """A snapshot's ``resources``, each section checked; sections it lacks start empty.

        :raises ValueError: naming the section and record that does not fit.
        """
        if not isinstance(data, Mapping):
            raise ValueError("resources: expected an object of sections")
        probe = cls(threading.RLock(), lambda: None)
        known = {section.name: type(section) for section in probe.sections()}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"resources: unknown section(s) {', '.join(sorted(map(str, unknown)))}")
        return {name: kind.decode(data[name]) for name, kind in known.items() if name in data}
