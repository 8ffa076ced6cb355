"""The pytest plugin as a user meets it: fixtures, isolation, xdist, config override, errors, waiting."""

from __future__ import annotations

import pytest

from mailgun_mock import MailgunMock

SAMPLE = '''
import requests

def test_creates_a_route_and_receives_mail(mailgun_mock, httpserver):
    """A route forwards injected mail to the app."""
    httpserver.expect_request("/inbound").respond_with_data("ok")
    mailgun_mock.create_route('match_recipient("support@.*")', f'forward("{httpserver.url_for("/inbound")}")')
    mailgun_mock.inject(from_="Bob <bob@example.net>", to=["support@example.com"], subject="Help", text="Hi")
    (attempt,) = mailgun_mock.wait_for_deliveries(1, outcome="delivered")
    assert attempt["recipient"] == "support@example.com"
    assert len(httpserver.log) == 1

def test_starts_clean(mailgun_mock):
    """Every test sees an empty mock, whatever ran before."""
    reply = mailgun_mock.session.get(f"{mailgun_mock.url}/v3/routes")
    assert reply.json()["total_count"] == 0
    assert mailgun_mock.events == [] and mailgun_mock.deliveries == []

def test_clock_is_reset(mailgun_mock):
    """The clock offset of an earlier test does not leak."""
    assert mailgun_mock.backend.clock.offset == 0
    mailgun_mock.advance_clock(3600)
'''


def test_plugin_sample_project_passes_isolated_under_xdist(pytester: pytest.Pytester) -> None:
    """A user's test file using only the installed plugin passes, test by test isolated, under xdist -n 2."""
    pytester.makepyfile(test_sample=SAMPLE + "".join(
        f"\ndef test_isolated_{i}(mailgun_mock):\n    assert mailgun_mock.session.get(f'{{mailgun_mock.url}}/v3/routes').json()['total_count'] == 0\n"
        f"    mailgun_mock.create_route('catch_all()', 'store()')\n" for i in range(6)))
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=9)


def test_plugin_sample_project_passes_in_one_process(pytester: pytest.Pytester) -> None:
    """The same file passes without xdist, in any order."""
    pytester.makepyfile(test_sample=SAMPLE)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-k", "clean or clock").assert_outcomes(passed=2)


def test_plugin_config_override_in_conftest(pytester: pytest.Pytester) -> None:
    """Overriding mailgun_mock_config in conftest.py configures the session's server."""
    pytester.makeconftest('''
import pytest

@pytest.fixture(scope="session")
def mailgun_mock_config():
    return {"api_key": "key-from-conftest", "retry_schedule": (1.0,)}
''')
    pytester.makepyfile(test_cfg='''
def test_uses_config(mailgun_mock):
    assert mailgun_mock.api_key == "key-from-conftest"
    assert mailgun_mock.config.retry_schedule == (1.0,)
    assert mailgun_mock.session.get(f"{mailgun_mock.url}/v3/routes").status_code == 200
''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_plugin_server_error_fails_the_test(pytester: pytest.Pytester) -> None:
    """An exception on the server thread during a test is re-raised after it, failing that test only."""
    pytester.makepyfile(test_err='''
def test_hits_a_bug(mailgun_mock, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("bug in the mock")
    monkeypatch.setattr(mailgun_mock.backend, "list_routes", boom)
    assert mailgun_mock.session.get(f"{mailgun_mock.url}/v3/routes").status_code == 500

def test_next_is_fine(mailgun_mock):
    assert mailgun_mock.session.get(f"{mailgun_mock.url}/v3/routes").status_code == 200
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ServerError: the mock server hit an internal error: RuntimeError('bug in the mock')*"])


def test_wait_for_deliveries_lists_near_misses(mailgun_mock: MailgunMock, receiver) -> None:
    """A wait that is not satisfied fails with what was wanted and the attempts that came closest."""
    receiver.expect_request("/in").respond_with_data("no", status=500)
    mailgun_mock.create_route("catch_all()", f'forward("{receiver.url_for("/in")}")')
    mailgun_mock.inject(from_="a@example.net", to=["b@example.com"], text="x")
    with pytest.raises(AssertionError) as info:
        mailgun_mock.wait_for_deliveries(1, outcome="delivered", timeout=0.2)
    message = str(info.value)
    assert "waited 0.2 s for 1 webhook attempt(s) with outcome='delivered'; 0 matched" in message
    assert "near miss: forward" in message and "-> 500 (differs: outcome='retrying')" in message


def test_wait_for_deliveries_wakes_on_the_attempt(mailgun_mock: MailgunMock, receiver) -> None:
    """A wait started before the webhook is attempted returns once it is, with the matching attempts."""
    receiver.expect_request("/in").respond_with_data("ok")
    mailgun_mock.create_route("catch_all()", f'forward("{receiver.url_for("/in")}")')
    mailgun_mock.inject(from_="a@example.net", to=["b@example.com", "c@example.com"], text="x", wait=False)
    found = mailgun_mock.wait_for_deliveries(2, url=receiver.url_for("/in"), status=200)
    assert sorted(a["recipient"] for a in found) == ["b@example.com", "c@example.com"]


def test_wait_for_deliveries_says_when_nothing_was_attempted(mailgun_mock: MailgunMock) -> None:
    """With no webhook at all, the failure says so."""
    with pytest.raises(AssertionError, match="no webhook was attempted at all"):
        mailgun_mock.wait_for_deliveries(timeout=0.05)


NO_NETWORK_CONFTEST = '''
import socket

import pytest


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """No name but loopback resolves: a call that escaped the mock fails here, never reaching Mailgun."""
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if str(host) not in ("127.0.0.1", "localhost", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: not resolved in this test")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
'''

HARD_CODED = '''
import pytest
import requests

FORM = {"from": "a@example.com", "to": "b@example.net", "subject": "Hi", "text": "x"}


def test_app_with_the_real_url(mailgun_mock):
    """An app's hard-coded Mailgun URL reaches the mock, and the test asserts on the outbox."""
    reply = requests.post("https://api.mailgun.net/v3/example.com/messages", auth=("api", mailgun_mock.api_key),
                          data=FORM, timeout=5)
    assert reply.status_code == 200
    mailgun_mock.assert_sent(to="b@example.net", subject="Hi")


def test_without_the_fixture_nothing_is_intercepted():
    """A test that does not ask for the mock gets no interception."""
    with pytest.raises(requests.ConnectionError):
        requests.post("https://api.mailgun.net/v3/example.com/messages", data=FORM, timeout=5)
'''


def test_plugin_intercepts_mailgun_hosts_by_default(pytester: pytest.Pytester) -> None:
    """With no configuration, the fixture answers calls to https://api.mailgun.net, and only in tests using it."""
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(test_app=HARD_CODED)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly").assert_outcomes(passed=2)


def test_plugin_intercept_ini_option_turns_it_off(pytester: pytest.Pytester) -> None:
    """mailgun_mock_intercept = false: the real URL is not intercepted (here it fails to resolve), mock.url still works."""
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makeini("[pytest]\nmailgun_mock_intercept = false\n")
    pytester.makepyfile(test_off='''
import pytest
import requests

def test_real_url_is_not_intercepted(mailgun_mock):
    """The call goes to the network, where the conftest refuses to resolve the name."""
    with pytest.raises(requests.ConnectionError):
        requests.get("https://api.mailgun.net/v3/routes", auth=("api", mailgun_mock.api_key), timeout=5)
    assert mailgun_mock.session.get(f"{mailgun_mock.url}/v3/routes").status_code == 200
''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_plugin_swallowed_refusal_fails_the_test(pytester: pytest.Pytester) -> None:
    """A call to an intercepted host the mock cannot serve fails the test, even when the app swallowed the error."""
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(test_swallow='''
import requests

def test_app_swallows_errors(mailgun_mock):
    """The app catches everything, as some do."""
    try:
        requests.get("https://api.mailgun.net:8080/v3/routes", timeout=5)
    except Exception:
        pass
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*refused calls to an intercepted Mailgun host*https://api.mailgun.net:8080/v3/routes*"])
