"""A newcomer's first hour: helpful errors for common slips, and logs that say why."""

from __future__ import annotations

import logging

import pytest
import requests

from mailgun_mock import MailgunMock
from mailgun_mock.base.config import Config, ConfigError


def test_inject_headers_accepts_a_mapping_or_pairs(mailgun_mock: MailgunMock) -> None:
    """inject(headers=...) takes a dict or a list of pairs; both reach the message."""
    mailgun_mock.create_route("catch_all()", "store()")
    for headers in ({"In-Reply-To": "<a@example.net>"}, [("In-Reply-To", "<a@example.net>")]):
        answer = mailgun_mock.inject(from_="bob@example.net", to=["in@example.com"], subject="Re: hi", text="x",
                                     headers=headers)
        url = answer["recipients"][0]["actions"][0]["storage"]["url"]
        assert mailgun_mock.stored_message(url)["In-Reply-To"] == "<a@example.net>"


@pytest.mark.parametrize("headers", ["In-Reply-To: <a@b>", 42, [("only-a-name",)], [("a", 1)]])
def test_inject_headers_of_another_type_names_the_parameter(mailgun_mock: MailgunMock, headers: object) -> None:
    """Anything but a mapping or (name, value) pairs is a TypeError naming headers= and the accepted types."""
    with pytest.raises(TypeError, match=r"inject\(headers=\.\.\.\) takes a mapping .* or a list of \(name, value\)"):
        mailgun_mock.inject(from_="bob@example.net", to=["in@example.com"], text="x", headers=headers)


def test_helpers_refuse_misspelled_keywords(mailgun_mock: MailgunMock) -> None:
    """wait_for_deliveries, wait_for_events and assert_sent raise TypeError naming the valid keywords."""
    with pytest.raises(TypeError, match=r"wait_for_deliveries\(\) got unexpected keyword argument\(s\) 'outcom'; "
                                        r"it matches on .*outcome"):
        mailgun_mock.wait_for_deliveries(outcom="delivered", timeout=0.1)
    with pytest.raises(TypeError, match=r"wait_for_events\(\) got .*'evnt'.* event"):
        mailgun_mock.wait_for_events(evnt="accepted", timeout=0.1)
    with pytest.raises(TypeError, match=r"assert_sent\(\) got .*'subjct'.* subject"):
        mailgun_mock.assert_sent(subjct="Hi")


def test_domains_given_as_one_string_are_split_on_commas() -> None:
    """MailgunMock(domains="mg.example.com") serves that domain instead of splitting it into characters."""
    assert Config(domains="mg.example.com").domains == ("mg.example.com",)  # type: ignore[arg-type]
    assert Config(domains="a.example, B.example").domains == ("a.example", "b.example")  # type: ignore[arg-type]
    with MailgunMock(domains="mg.example.com") as mock:
        assert mock.session.get(f"{mock.url}/v3/mg.example.com/events", timeout=5).status_code == 200
        assert mock.session.get(f"{mock.url}/v3/other.example/events", timeout=5).status_code == 404
    with pytest.raises(ConfigError, match="domains must be a string or an iterable of strings"):
        Config(domains=5)  # type: ignore[arg-type]


def test_first_use_of_a_domain_is_logged_once(mailgun_mock: MailgunMock, caplog: pytest.LogCaptureFixture) -> None:
    """With no --domain, the first use of each domain is logged once, so a typo is visible."""
    with caplog.at_level(logging.INFO, logger="mailgun_mock"):
        for _ in range(3):
            mailgun_mock.session.get(f"{mailgun_mock.url}/v3/mg.exmaple.com/events", timeout=5)
    lines = [r.getMessage() for r in caplog.records if "first use of domain" in r.getMessage()]
    assert lines == ["first use of domain mg.exmaple.com (no --domain given, so every domain is accepted; "
                     "check its spelling)"]


@pytest.mark.parametrize(("auth", "why"), [
    (None, "no HTTP Basic credentials"),
    (("user", "key-x"), "the user is 'user', not 'api'"),
    (("api", "key-wrong-secret"), "the key is neither the configured API key nor a key allowed this request"),
])
def test_401_logs_why_without_the_key(mailgun_mock: MailgunMock, caplog: pytest.LogCaptureFixture,
                                      auth: tuple[str, str] | None, why: str) -> None:
    """A refused request still answers Mailgun's bare 401 Forbidden, and the log says why, never the key."""
    with caplog.at_level(logging.INFO, logger="mailgun_mock"):
        reply = requests.get(f"{mailgun_mock.url}/v3/routes", auth=auth, timeout=5)
    assert (reply.status_code, reply.text) == (401, "Forbidden")
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("401 Forbidden")]
    assert line == f"401 Forbidden for GET /v3/routes: {why}"
    assert "key-wrong-secret" not in caplog.text and "key-x" not in caplog.text
