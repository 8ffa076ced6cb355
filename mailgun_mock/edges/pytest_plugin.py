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

INTERCEPT_INI = "mailgun_mock_intercept"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INTERCEPT_INI, type="bool", default=True,
                  help="mailgun-mock: the mailgun_mock fixture answers calls to api.mailgun.net and "
                       "api.eu.mailgun.net in process (default true; false to call only mailgun_mock.url)")


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
def mailgun_mock(mailgun_mock_server: MailgunMock, request: pytest.FixtureRequest) -> Iterator[MailgunMock]:
    """The session's server, reset before the test; calls to Mailgun's API hosts are answered by it in
    process (ini ``mailgun_mock_intercept = false`` turns that off); errors on its thread, and calls to
    those hosts it could not serve, fail the test."""
    mailgun_mock_server.reset()
    if not request.config.getini(INTERCEPT_INI):
        yield mailgun_mock_server
        mailgun_mock_server.raise_errors()
        return
    with mailgun_mock_server.intercept() as interception:
        yield mailgun_mock_server
    mailgun_mock_server.raise_errors()
    if interception.refused:
        pytest.fail("mailgun-mock refused calls to an intercepted Mailgun host it cannot serve (they were not "
                    f"sent to the real host): {', '.join(interception.refused)}", pytrace=False)
