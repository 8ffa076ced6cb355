"""The stores of an account's subaccounts, kept beside the account's own store so that one snapshot
holds them all and a change in any of them is a change of the account's store (its snapshot
writer saves it).

Lock order: a subaccount's store calls its listeners with its own lock held, and the listener
takes the account store's lock; the account store never takes a subaccount store's lock while
holding its own (:meth:`Children.stores` hands out the stores, the caller reads them after).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

__all__ = ["Children"]


class Children:
    """Named child stores (subaccount id -> store), guarded by the owning store's lock.

    :param lock: the owning store's lock.
    :param changed: the owning store's change notifier (called with the lock held).
    """

    def __init__(self, lock: threading.RLock, changed: Callable[[], None]) -> None:
        self._lock = lock
        self._changed = changed
        self._stores: dict[str, Store] = {}

    def adopt(self, name: str, store: Store) -> None:
        """Keep ``store`` under ``name`` (replacing any other), and count its changes as the owner's."""
        with self._lock:
            self._stores[name] = store

        def listener(version: int) -> None:
            with self._lock:
                if self._stores.get(name) is store:  # a store dropped since is no longer told about
                    self._changed()

        store.add_listener(listener)

    def disown(self, name: str) -> None:
        """Forget the store kept under ``name`` (no error if none)."""
        with self._lock:
            if self._stores.pop(name, None) is not None:
                self._changed()

    def clear(self) -> None:
        """Forget every child store (the owner calls this with its lock held)."""
        self._stores = {}

    def stores(self) -> dict[str, Store]:
        """The child stores by name (read them after this returns, not under the owner's lock)."""
        with self._lock:
            return dict(self._stores)
