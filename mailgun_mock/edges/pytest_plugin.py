"""pytest fixtures (registered through the ``pytest11`` entry point only).

Nothing heavy is imported here at module level: pytest loads this module in every session of
every project that installs mailgun-mock, and the server (Flask, werkzeug) loads only when a
fixture is first requested.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .server import MailgunMock


@pytest.fixture(scope="session")
def mailgun_mock_config() -> dict[str, Any]:
    """Keyword arguments for the session's :class:`MailgunMock`; override it in ``conftest.py``."""
    return {}


@pytest.fixture(scope="session")
def mailgun_mock_server(mailgun_mock_config: dict[str, Any]) -> Iterator[MailgunMock]:
    """One mock server for the whole session, on a free port."""
    from .server import MailgunMock

    config = {"port": 0, **mailgun_mock_config}
    with MailgunMock(**config) as server:
        yield server


@pytest.fixture
def mailgun_mock(mailgun_mock_server: MailgunMock) -> Iterator[MailgunMock]:
    """The session's server, reset before the test; errors on its thread fail the test."""
    mailgun_mock_server.reset()
    yield mailgun_mock_server
    mailgun_mock_server.raise_errors()
