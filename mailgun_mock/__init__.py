"""mailgun-mock: a Mailgun-compatible mock server for tests and local development."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Config", "MailgunMock", "ServerError", "__version__"]

if TYPE_CHECKING:
    from .config import Config
    from .server import MailgunMock, ServerError


def __getattr__(name: str) -> Any:
    # Lazy: the pytest plugin imports this package in every session of every project that
    # installs it, and Flask alone costs ~150 ms to import.
    if name == "Config":
        from .config import Config

        return Config
    if name in ("MailgunMock", "ServerError"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module 'mailgun_mock' has no attribute {name!r}")
