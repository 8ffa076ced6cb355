"""The webhook attack lab: a valid webhook and forged ones sent to receivers of our own and to anymail's.

The receivers are real HTTP servers on 127.0.0.1: a careful one (HMAC with the signing key compared
with hmac.compare_digest, timestamp within ±15 minutes of its own clock, tokens remembered, required
fields, a body size cap) that must pass every probe, and naive ones the probe must flag.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import django
import pytest
from django.conf import settings
from werkzeug import Request, Response
from werkzeug.serving import make_server

from mailgun_mock import MailgunMock
from mailgun_mock.delivery import probe
from mailgun_mock.wire.signing import verify

from .conftest import Api
from .test_openapi import assert_conforms

# Configured once per process, whichever test module is imported first (as in tests/test_send_clients.py).
if not settings.configured:
    settings.configure(ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": "set-per-test"}, LOGGING_CONFIG=None)
    django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402  (Django settings must be configured first)
from django.test import override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

urlpatterns = [path("anymail/", include("anymail.urls"))]  # as an app includes anymail

LIMIT = 1_000_000  # the careful receiver's body cap
OVERSIZE = LIMIT + 100_000
FORGED = ["wrong signature", "signed with the API key", "stale timestamp (20 min old)",
          "future timestamp (20 min ahead)", "replayed token", "signature fields missing"]
KINDS = ["forward", "notify", "webhook", "webhook:permanent_fail"]

App = Callable[[Request], Response]


def signature_of(request: Request) -> dict[str, str]:
    """The timestamp, token and signature a webhook carries (form fields, or the JSON signature block)."""
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        block = body.get("signature") if isinstance(body, dict) else None
        return {k: str(v) for k, v in block.items()} if isinstance(block, dict) else {}
    return {k: v for k, v in request.form.items() if k in ("timestamp", "token", "signature")}


def careful(signing_key: str) -> App:
    """A receiver doing every check Mailgun's docs suggest, and capping the body size."""
    seen: set[str] = set()
    lock = threading.Lock()

    def handle(request: Request) -> Response:
        if request.content_length is None or request.content_length > LIMIT:
            return Response("too large", 413)
        sig = signature_of(request)
        timestamp, token, signature = (sig.get(k, "") for k in ("timestamp", "token", "signature"))
        if not (timestamp.isdigit() and token and signature):
            return Response("signature fields missing", 400)
        expected = hmac.new(signing_key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return Response("bad signature", 403)
        if abs(time.time() - int(timestamp)) > 15 * 60:
            return Response("stale or future timestamp", 403)
        with lock:
            if token in seen:
                return Response("replayed token", 403)
            seen.add(token)
        return Response("ok", 200)

    return handle


def signature_only(signing_key: str) -> App:
    """A naive receiver: checks the HMAC, and nothing else."""
    def handle(request: Request) -> Response:
        sig = signature_of(request)
        ok = verify(signing_key, sig.get("timestamp", ""), sig.get("token", ""), sig.get("signature", ""))
        return Response("ok" if ok else "bad signature", 200 if ok else 403)

    return handle


def accept_all(request: Request) -> Response:
    """The most naive receiver: whatever comes is fine."""
    request.get_data()
    return Response("ok", 200)


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Serves a receiver (a Request -> Response function, or a WSGI app) on 127.0.0.1, a free port; stops it after."""
    servers: list[tuple[Any, threading.Thread]] = []

    def start(handler: Any, wsgi: bool = False) -> str:
        app = handler if wsgi else Request.application(handler)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.port}/hooks/mailgun"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(10)


def rows(report: probe.ProbeReport) -> dict[str, str]:
    return {r.probe.name.split(" (")[0] if r.probe.name.startswith("oversized") else r.probe.name: r.verdict
            for r in report.results}


# -- building the probe set --------------------------------------------------------------------


def test_probe_set_forges_each_field_as_named() -> None:
    """Each forged probe differs from the valid one in exactly the way its name says."""
    now = time.time()
    probes = {p.name.split(" (")[0] if p.name.startswith("oversized") else p.name: p
              for p in probe.build_probes("forward", "http://app.test/in", "sk", "ak", now=now, oversize=50_000)}
    sig = {name: dict(parse_qsl(p.body.decode())) for name, p in probes.items()}
    assert verify("sk", sig["valid"]["timestamp"], sig["valid"]["token"], sig["valid"]["signature"])
    assert abs(int(sig["valid"]["timestamp"]) - now) <= 1 and not probes["valid"].forged
    assert not verify("sk", sig["wrong signature"]["timestamp"], sig["wrong signature"]["token"],
                      sig["wrong signature"]["signature"])
    api = sig["signed with the API key"]
    assert verify("ak", api["timestamp"], api["token"], api["signature"]) and not verify("sk", api["timestamp"], api["token"], api["signature"])
    assert int(sig["stale timestamp (20 min old)"]["timestamp"]) == int(now) - 1200
    assert int(sig["future timestamp (20 min ahead)"]["timestamp"]) == int(now) + 1200
    assert probes["replayed token"].body == probes["valid"].body
    assert not {"timestamp", "token", "signature"} & set(sig["signature fields missing"])
    big = sig["oversized body"]
    assert len(probes["oversized body"].body) >= 50_000 and verify("sk", big["timestamp"], big["token"], big["signature"])
    tokens = [sig[n]["token"] for n in sig if n not in ("replayed token", "signature fields missing")]
    assert len(set(tokens)) == len(tokens)  # fresh tokens: a replay cache refuses only the replay


def test_probe_event_webhook_is_json_with_a_signature_block() -> None:
    """A `webhook` probe is JSON {signature: {timestamp, token, signature}, event-data} as Mailgun posts events."""
    valid = probe.build_probes("webhook:opened", "http://app.test/t", "sk", "ak", now=time.time(), oversize=50_000)[0]
    body = json.loads(valid.body)
    assert valid.content_type == "application/json" and body["event-data"]["event"] == "opened"
    assert verify("sk", **{k: body["signature"][k] for k in ("timestamp", "token", "signature")})


# -- against receivers -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_probe_careful_receiver_passes_every_probe(mailgun_mock: MailgunMock, serve: Any, kind: str) -> None:
    """A receiver that checks HMAC, freshness, replays, fields and size passes every probe of every kind."""
    url = serve(careful(mailgun_mock.signing_key))
    report = mailgun_mock.probe_webhook(url, kind, oversize=OVERSIZE)
    assert report.passed, report.table()
    assert rows(report) == {"valid": "accepted as it should", **{n: "refused as it should" for n in FORGED},
                            "oversized body": "refused as it should"}
    assert report.table().splitlines()[0].endswith("all as it should")


def test_probe_signature_only_receiver_is_flagged(mailgun_mock: MailgunMock, serve: Any) -> None:
    """A receiver that checks only the HMAC fails the helper, with a table naming what it accepted."""
    url = serve(signature_only(mailgun_mock.signing_key))
    with pytest.raises(AssertionError) as failed:
        mailgun_mock.probe_webhook(url, "forward", oversize=OVERSIZE)
    table = str(failed.value)
    assert table.splitlines()[0] == f"webhook probe of {url} (forward): 4 problems"
    for name in ("stale timestamp", "future timestamp", "replayed token", "oversized body"):
        assert any(line.strip().startswith(name) and line.endswith("ACCEPTED a forged webhook")
                   for line in table.splitlines()), name
    for name in ("wrong signature", "signed with the API key", "signature fields missing"):
        assert any(line.strip().startswith(name) and line.endswith("refused as it should") for line in table.splitlines())
    assert "remember the tokens" in table and "cap request bodies" in table


def test_probe_accept_all_receiver_fails_every_forgery(mailgun_mock: MailgunMock, serve: Any) -> None:
    """A receiver that accepts everything has every forged probe reported as accepted."""
    report = mailgun_mock.probe_webhook(serve(accept_all), "webhook", check=False, oversize=OVERSIZE)
    assert not report.passed
    assert [r.probe.name for r in report.problems] == [r.probe.name for r in report.results if r.probe.forged]


def test_probe_receiver_refusing_everything_is_flagged(mailgun_mock: MailgunMock, serve: Any) -> None:
    """A receiver that refuses the valid webhook too is reported as 'REFUSED a valid webhook'."""
    with pytest.raises(AssertionError, match=r"valid\s+403\s+REFUSED a valid webhook"):
        mailgun_mock.probe_webhook(serve(lambda request: Response("no", 403)), oversize=OVERSIZE)


def test_probe_dead_receiver_refuses_the_valid_webhook(mailgun_mock: MailgunMock) -> None:
    """Nothing listening: the valid probe is reported refused, with the transport's error as its answer."""
    report = mailgun_mock.probe_webhook("http://127.0.0.1:9/hooks", check=False, oversize=OVERSIZE)
    first = report.results[0]
    assert first.verdict == "REFUSED a valid webhook" and first.status is None and first.error
    assert first.answer == f"no answer ({first.error})" and not report.passed


def test_probe_signs_with_the_wall_clock_not_the_mock_clock(mailgun_mock: MailgunMock, serve: Any) -> None:
    """After the mock's clock moves a day ahead, the valid probe still carries the wall-clock time."""
    mailgun_mock.advance_clock(86400)
    report = mailgun_mock.probe_webhook(serve(careful(mailgun_mock.signing_key)), oversize=OVERSIZE)
    assert report.passed, report.table()


def test_probe_notify_message_url_answers(mailgun_mock: MailgunMock, serve: Any) -> None:
    """The notify probe's message-url is a stored message of the mock, fetchable with the API key."""
    got: list[dict[str, str]] = []
    check = careful(mailgun_mock.signing_key)

    def keep(request: Request) -> Response:
        got.append(dict(request.form))
        return check(request)

    mailgun_mock.probe_webhook(serve(keep), "notify", oversize=OVERSIZE)
    reply = mailgun_mock.session.get(got[0]["message-url"], timeout=10)
    assert reply.status_code == 200 and reply.json()["subject"] == "mailgun-mock webhook probe"


def test_probe_default_oversize_follows_the_message_size_limit(serve: Any) -> None:
    """Without `oversize`, the oversized probe is twice max_message_size plus 64 KiB, and a capped receiver refuses it."""
    with MailgunMock(max_message_size=600_000) as mock:
        report = mock.probe_webhook(serve(careful(mock.signing_key)))
    assert report.results[-1].probe.name == f"oversized body ({len(report.results[-1].probe.body)} bytes)"
    assert len(report.results[-1].probe.body) >= 2 * 600_000 + 65536 + 1 and report.passed, report.table()


# -- the HTTP endpoint and the command line ---------------------------------------------------


@pytest.mark.parametrize("encoding", ["json", "data"])
def test_probe_endpoint_answers_the_report(api: Api, serve: Any, encoding: str) -> None:
    """POST /mock/webhook-probe (JSON or form) answers the report, as documented: verdict per probe, and the table."""
    url = serve(signature_only(api.backend.config.signing_key))
    reply = api.post("/mock/webhook-probe", **{encoding: {"url": url, "kind": "webhook", "oversize": OVERSIZE}})
    assert reply.status == 200, reply.text
    body = reply.json()
    assert (body["passed"], body["problems"], body["kind"]) == (False, 4, "webhook")
    verdicts = {p["probe"]: p["verdict"] for p in body["probes"]}
    assert verdicts["valid"] == "accepted as it should" and verdicts["replayed token"] == "ACCEPTED a forged webhook"
    assert "ACCEPTED a forged webhook" in body["table"]
    assert_conforms(reply, "POST", "/mock/webhook-probe")


@pytest.mark.parametrize(("payload", "message"), [
    ({}, "'url' parameter is missing"),
    ({"url": "ftp://x"}, "is not an http:// or https:// URL"),
    ({"url": "http://127.0.0.1:9/", "kind": "bounce"}, "'kind' must be one of forward, notify, webhook"),
    ({"url": "http://127.0.0.1:9/", "oversize": "lots"}, "'oversize' must be a number of bytes"),
    ({"url": "http://127.0.0.1:9/", "recipient": "nobody"}, "'recipient' must be one email address"),
    ({"url": ["http://127.0.0.1:9/"]}, "'url' parameter is missing"),
    ({"url": "http://127.0.0.1:9/", "kind": "notify", "oversize": 0}, "'oversize' must be between 1 and"),
    (["http://127.0.0.1:9/"], "send url and kind as a JSON object or as form fields"),
    ({"url": "http://127.0.0.1:9/", "kind": "notify", "oversize": 100}, "'oversize' must be well above an ordinary"),
])
def test_probe_endpoint_bad_input_is_a_400_that_says_why(api: Api, payload: Any, message: str) -> None:
    """Bad input to /mock/webhook-probe is a 400 JSON message naming the problem, and nothing is sent."""
    reply = api.post("/mock/webhook-probe", json=payload)
    assert reply.status == 400 and message in reply.json()["message"]
    assert api.backend.store.counts()["stored_messages"] == 0


def test_probe_endpoint_needs_the_api_key(api: Api) -> None:
    """/mock/webhook-probe answers 401 Forbidden without the API key, like every /mock endpoint."""
    reply = api.post("/mock/webhook-probe", json={"url": "http://127.0.0.1:9/"}, auth=None)
    assert (reply.status, reply.text) == (401, "Forbidden")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailgun_mock", "probe", *args], capture_output=True, text=True,
                          timeout=120)


def test_probe_cli_exit_status_follows_the_verdict(serve: Any) -> None:
    """`mailgun-mock probe URL` exits 0 for a careful receiver and 1, with the table, for a naive one."""
    good = run_cli(serve(careful("key-probe")), "--signing-key", "key-probe", "--oversize", str(OVERSIZE))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "all as it should" in good.stdout and "ACCEPTED" not in good.stdout
    bad = run_cli(serve(signature_only("key-probe")), "--signing-key", "key-probe", "--kind", "notify",
                  "--oversize", str(OVERSIZE))
    assert bad.returncode == 1 and "4 problems" in bad.stdout and "ACCEPTED a forged webhook" in bad.stdout


def test_probe_cli_bad_kind_is_a_usage_error() -> None:
    """An unknown --kind exits 2 with a message listing the kinds, before anything is sent."""
    done = run_cli("http://127.0.0.1:9/", "--kind", "bounce")
    assert done.returncode == 2 and "'kind' must be one of forward, notify, webhook" in done.stderr


# -- django-anymail's Mailgun tracking webhook --------------------------------------------------


def test_probe_anymail_tracking_view_checks_the_signature_but_not_freshness_or_replays(
        mailgun_mock: MailgunMock, serve: Any) -> None:
    """anymail's tracking view refuses bad signatures and bodies over Django's 2.5 MB limit, but accepts
    stale, future and replayed webhooks: it checks no timestamp and keeps no token cache (anymail 15.2)."""
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1"],
                           ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": mailgun_mock.signing_key}):
        url = serve(WSGIHandler(), wsgi=True).replace("/hooks/mailgun", "/anymail/mailgun/tracking/")
        report = mailgun_mock.probe_webhook(url, "webhook", check=False, oversize=3_000_000)
    accepted = {name for name, verdict in rows(report).items() if "ACCEPTED" in verdict or verdict.startswith("accepted")}
    assert accepted == {"valid", "stale timestamp (20 min old)", "future timestamp (20 min ahead)", "replayed token"}
    assert {r.status for r in report.results if not r.accepted} == {400}
