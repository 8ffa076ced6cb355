"""mailgun-mock: a Mailgun-compatible mock server for tests and local development."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = ["Config", "MailgunMock", "ServerError", "__version__"]

if TYPE_CHECKING:
    from .base.config import Config
    from .edges.server import MailgunMock, ServerError


def __getattr__(name: str) -> Any:
    # Lazy: the pytest plugin imports this package in every session of every project that
    # installs it, and Flask alone costs ~150 ms to import.
    if name == "Config":
        from .base.config import Config

        return Config
    if name in ("MailgunMock", "ServerError"):
        from .edges import server

        return getattr(server, name)
    raise AttributeError(f"module 'mailgun_mock' has no attribute {name!r}")
