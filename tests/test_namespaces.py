"""Namespaces (``serve --namespaces``): each API key is an account of its own on one shared server."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import requests

from mailgun_mock import MailgunMock

SEND = {"from": "app@shared.example", "to": "delivered@test-recipients.mailgun-mock.invalid", "subject": "s",
        "text": "t"}


def _send(mock: MailgunMock, key: str, subject: str) -> requests.Response:
    return requests.post(f"{mock.url}/v3/shared.example/messages", auth=("api", key), data={**SEND, "subject": subject},
                         timeout=10)


def _subjects(mock: MailgunMock, key: str) -> list[str]:
    outbox = requests.get(f"{mock.url}/mock/outbox", auth=("api", key), timeout=10).json()
    return [item["subject"] for item in outbox["items"]]


def test_namespaces_keep_each_keys_state_apart() -> None:
    """With namespaces, any key is accepted and is an account of its own: routes, sent mail, events
    and webhooks made with one key are invisible to another and to the default key."""
    with MailgunMock(namespaces=True) as mock:
        for key in ("key-a", "key-b"):
            assert _send(mock, key, f"from {key}").status_code == 200
            created = requests.post(f"{mock.url}/v3/routes", auth=("api", key), timeout=10,
                                    data={"expression": "catch_all()", "action": "store()", "description": key})
            assert created.status_code == 200
        assert _subjects(mock, "key-a") == ["from key-a"] and _subjects(mock, "key-b") == ["from key-b"]
        routes = requests.get(f"{mock.url}/v3/routes", auth=("api", "key-a"), timeout=10).json()
        assert [r["description"] for r in routes["items"]] == ["key-a"]
        events = requests.get(f"{mock.url}/v3/shared.example/events", auth=("api", "key-b"), timeout=10).json()
        assert {e["message"]["headers"]["subject"] for e in events["items"]} == {"from key-b"}
        assert _subjects(mock, mock.api_key) == [] and mock.outbox == []
        assert mock.accounts.for_key("key-a").store.sent()[0].subject == "from key-a"


def test_namespace_reset_leaves_other_keys() -> None:
    """POST /mock/reset with one key forgets that key's account alone; MailgunMock.reset() forgets all."""
    with MailgunMock(namespaces=True) as mock:
        for key in ("key-a", "key-b", mock.api_key):
            _send(mock, key, key)
        assert requests.post(f"{mock.url}/mock/reset", auth=("api", "key-a"), timeout=10).status_code == 200
        assert _subjects(mock, "key-a") == []
        assert _subjects(mock, "key-b") == ["key-b"] and _subjects(mock, mock.api_key) == [mock.api_key]
        mock.reset()
        assert _subjects(mock, "key-b") == [] and _subjects(mock, mock.api_key) == []


def test_without_namespaces_other_keys_are_refused() -> None:
    """Without namespaces only the configured key (and keys made with /v1/keys) authenticates."""
    with MailgunMock() as mock:
        refused = _send(mock, "key-a", "x")
        assert (refused.status_code, refused.text) == (401, "Forbidden")


def test_namespaces_default_accounts_own_keys_stay_in_it() -> None:
    """A key made with the default account's /v1/keys acts on the default account, not a namespace of its own."""
    with MailgunMock(namespaces=True) as mock:
        made = mock.session.post(f"{mock.url}/v1/keys", data={"role": "admin"}).json()["key"]["secret"]
        _send(mock, made, "with a made key")
        assert [m["subject"] for m in mock.outbox] == ["with a made key"]
        assert mock.accounts.named() == {}


WORKER_MODULE = '''
import os
import pytest
import requests

URL = os.environ["NS_URL"]
KEY = "key-" + os.environ.get("PYTEST_XDIST_WORKER", "solo")
SENT = []


@pytest.mark.parametrize("n", range({count}))
def test_send_sees_only_own_mail(n):
    subject = f"{{KEY}} #{{n}}"
    reply = requests.post(f"{{URL}}/v3/shared.example/messages", auth=("api", KEY), timeout=30,
                          data={{"from": "app@shared.example", "to": "someone@else.example", "subject": subject,
                                "text": "t"}})
    assert reply.status_code == 200, reply.text
    SENT.append(subject)
    outbox = requests.get(f"{{URL}}/mock/outbox", auth=("api", KEY), timeout=30).json()
    assert [item["subject"] for item in outbox["items"]] == SENT
    events = requests.get(f"{{URL}}/v3/shared.example/events", params={{"event": "accepted", "limit": 300}},
                          auth=("api", KEY), timeout=30).json()
    assert sorted(e["message"]["headers"]["subject"] for e in events["items"]) == sorted(SENT)
'''


def test_four_xdist_workers_share_one_server_without_cross_talk(tmp_path: Path) -> None:
    """4 pytest-xdist workers x 200 tests, each worker with its own key against one namespaced server:
    every test sees exactly its worker's mail and events, never another's."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_generated.py").write_text(textwrap.dedent(WORKER_MODULE.format(count=200)))
    with MailgunMock(namespaces=True) as mock:
        env = {**os.environ, "NS_URL": mock.url}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-n", "4", "--dist", "each", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
             "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), str(tmp_path / "test_generated.py")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "800 passed" in done.stdout
        named = mock.accounts.named()
        assert sorted(named) == [f"key-gw{i}" for i in range(4)]
        assert all(len(state.store.sent()) == 200 for state in named.values())
        assert mock.outbox == []


def test_cli_serve_namespaces_flag_and_env_twin() -> None:
    """`serve --namespaces` (or MAILGUN_MOCK_NAMESPACES=1) accepts any key as an account of its own and says so."""
    from tests.test_cli import Serving

    for args, env in ((("--namespaces",), {}), ((), {"MAILGUN_MOCK_NAMESPACES": "1"})):
        s = Serving("--port", "0", *args, env=env)
        try:
            url = s.read_until(r"serving the Mailgun API on (http://127\.0\.0\.1:\d+)").group(1)
            s.read_until(r"Namespaces:\s+on")
            sent = requests.post(f"{url}/v3/shared.example/messages", auth=("api", "key-cli-ns"), data=SEND, timeout=10)
            assert sent.status_code == 200
            assert _subjects_at(url, "key-cli-ns") == ["s"] and _subjects_at(url, "key-other") == []
            assert s.stop() == 0
        finally:
            if s.proc.poll() is None:
                s.proc.kill()
            s.proc.wait()
            for stream in (s.proc.stdout, s.proc.stderr):
                stream.close()  # type: ignore[union-attr]


def _subjects_at(url: str, key: str) -> list[str]:
    outbox = requests.get(f"{url}/mock/outbox", auth=("api", key), timeout=10).json()
    return [item["subject"] for item in outbox["items"]]


def test_namespace_webhooks_follow_the_servers_wsgi_targets() -> None:
    """A namespace's webhooks go out through the server's transport: wsgi_targets set on the mock reach them."""
    received: list[str] = []

    def app(environ, start_response):  # a WSGI receiver
        received.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    with MailgunMock(namespaces=True, deliver="inline") as mock:
        mock.wsgi_targets({"http://app.test": app})
        requests.post(f"{mock.url}/v3/routes", auth=("api", "key-a"), timeout=10,
                      data={"expression": "catch_all()", "action": 'forward("http://app.test/inbound")'})
        injected = requests.post(f"{mock.url}/mock/inbound", auth=("api", "key-a"), timeout=10,
                                 data={"from": "c@x.example", "to": "app@shared.example", "subject": "s", "text": "t"})
        assert injected.status_code == 200
        assert received == ["/inbound"]


def test_a_key_made_in_a_namespace_acts_in_it_as_that_namespace_allows() -> None:
    """With namespaces, a key made with /v1/keys under one key acts in that key's account (not a new
    one); a sending key made there sends for its domain and is refused anything else."""
    with MailgunMock(namespaces=True) as mock:
        made = requests.post(f"{mock.url}/v1/keys", auth=("api", "key-a"), data={"role": "admin"}, timeout=10)
        assert made.status_code == 200, made.text
        admin = made.json()["key"]["secret"]
        created = requests.post(f"{mock.url}/v3/routes", auth=("api", admin), timeout=10,
                                data={"expression": "catch_all()", "action": "store()", "description": "made"})
        assert created.status_code == 200, created.text
        routes = requests.get(f"{mock.url}/v3/routes", auth=("api", "key-a"), timeout=10).json()
        assert [r["description"] for r in routes["items"]] == ["made"]
        assert requests.get(f"{mock.url}/v3/routes", auth=("api", "key-b"), timeout=10).json()["items"] == []
        sending = requests.post(f"{mock.url}/v1/keys", auth=("api", "key-a"), timeout=10,
                                data={"role": "sending", "kind": "domain", "domain_name": "shared.example"})
        assert sending.status_code == 200, sending.text
        secret = sending.json()["key"]["secret"]
        assert _send(mock, secret, "with the sending key").status_code == 200
        assert _subjects(mock, "key-a") == ["with the sending key"]
        refused = requests.get(f"{mock.url}/v3/routes", auth=("api", secret), timeout=10)
        assert (refused.status_code, refused.text) == (401, "Forbidden")
        assert set(mock.accounts.named()) == {"key-a", "key-b"}
