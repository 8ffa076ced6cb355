"""The lifecycle the HTTP server and the SMTP listener share: bind in the caller's thread (so a busy
port fails there, at once), serve on a daemon thread, stop promptly, and be a context manager."""

from __future__ import annotations

import abc
import os
import threading
from types import TracebackType
from typing import TypeVar

__all__ = ["ListenError", "Service"]

S = TypeVar("S", bound="Service")


class ListenError(OSError):
    """A listener could not bind: which one (``HTTP``, ``SMTP``…), where, and the system's reason."""

    def __init__(self, listener: str, host: str, port: int, cause: OSError) -> None:
        reason = os.strerror(cause.errno) if cause.errno else str(cause)
        super().__init__(cause.errno, f"cannot listen for {listener} on {host}:{port}: {reason}")
        self.listener, self.host, self.port = listener, host, port


class Service(abc.ABC):
    """A server on a background thread. Subclasses say how to serve, how to halt, and where they listen."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None

    @abc.abstractmethod
    def _serve(self) -> threading.Thread:
        """Bind (raising ``OSError`` for a busy address) and start serving; answers the serving thread."""

    def _started(self) -> None:
        """Runs once serving, before :meth:`start` returns; an error here stops the service and propagates."""

    @abc.abstractmethod
    def _halt(self, thread: threading.Thread) -> None:
        """Stop serving, wait for ``thread``, release the socket and everything else held."""

    @abc.abstractmethod
    def _bound_port(self) -> int:
        """The port bound by :meth:`_serve`."""

    def start(self: S) -> S:
        """Bind in the caller's thread and serve on a daemon thread.

        :raises OSError: when the address cannot be bound.
        :raises RuntimeError: when already running.
        """
        if self._thread is not None:
            raise RuntimeError(f"this {type(self).__name__} is already running")
        self._thread = self._serve()
        try:
            self._started()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving and release everything. Safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._halt(thread)

    def __enter__(self: S) -> S:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether it is serving."""
        return self._thread is not None

    @property
    def port(self) -> int:
        """The bound port (the free one picked when asked for port 0).

        :raises RuntimeError: before :meth:`start`.
        """
        if self._thread is None:
            raise RuntimeError(f"the {type(self).__name__} is not running: call start() first")
        return self._bound_port()
