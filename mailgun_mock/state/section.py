"""A part of the store's state kept in a module of its own, guarded by the store's one lock.

Each resource of Mailgun's account API (domains, templates, mailing lists, keys…) is a
:class:`Section`: its public methods take the store's lock, change or read plain JSON-ready
records, tell the store about a change, and hand back copies. The store owns the lock and the
sections (:class:`~mailgun_mock.state.resources.Resources`); nothing else locks.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

__all__ = ["Section", "check_records"]


class Section:
    """One resource's records: ``self._data`` (JSON-ready), read and changed under ``self._lock``.

    :param lock: the store's lock.
    :param changed: the store's change notifier (call it with the lock held, after a change).
    """

    #: The key of this section in a snapshot's ``resources``.
    name: ClassVar[str] = ""

    def __init__(self, lock: threading.RLock, changed: Callable[[], None]) -> None:
        self._lock = lock
        self._changed = changed
        self._data: dict[str, Any] = self.empty()

    @classmethod
    def empty(cls) -> dict[str, Any]:
        """The state of a fresh section."""
        return {}

    @classmethod
    def decode(cls, data: Any) -> dict[str, Any]:
        """A snapshot's records for this section, checked (override to check more).

        :raises ValueError: naming what does not fit.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{cls.name}: expected an object")
        return copy.deepcopy(dict(data))

    def clear(self) -> None:
        """Forget everything (the store calls this with its lock held)."""
        self._data = self.empty()

    def to_dict(self) -> dict[str, Any]:
        """The records as a snapshot keeps them (a copy; the store calls this with its lock held)."""
        return copy.deepcopy(self._data)

    def load(self, decoded: dict[str, Any]) -> None:
        """Replace the records with :meth:`decode`'s result (the store calls this with its lock held)."""
        self._data = decoded


def check_records(section: str, records: Any, fields: Mapping[str, type | tuple[type, ...]]) -> None:
    """Check that ``records`` maps keys to objects carrying at least ``fields`` of those types.

    :raises ValueError: naming the section and the record that does not fit.
    """
    if not isinstance(records, Mapping):
        raise ValueError(f"{section}: expected an object of records")
    for key, record in records.items():
        if not isinstance(key, str) or not isinstance(record, Mapping):
            raise ValueError(f"{section}: record {str(key)[:60]!r} is not an object")
        for field, kind in fields.items():
            value = record.get(field)
            if not isinstance(value, kind) or isinstance(value, bool) and bool not in _types(kind):
                raise ValueError(f"{section}: record {key[:60]!r}: field {field!r} is missing or mistyped")


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
