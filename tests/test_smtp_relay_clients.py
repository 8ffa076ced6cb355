"""The SMTP relay through the clients applications use: Django's SMTP EmailBackend (EMAIL_USE_TLS) and
nodemailer's SMTP transport (Node; STARTTLS, and TLS from the first byte), each pointed at a ``tls=True``
mock on 127.0.0.1 the test starts and trusting its CA.

Each sends a message with tags, variables and an attachment, and the test checks the outbox, the
events, the ``delivered`` webhook at a real receiver, and that ``messages.mime`` makes the same of the
exact bytes the client put on the wire (captured on the client's side).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings
from pytest_httpserver import HTTPServer

from mailgun_mock import MailgunMock

# Configured once per process, whichever test module is imported first (as in tests/test_send_clients.py).
if not settings.configured:
    settings.configure(ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": "set-per-test"}, LOGGING_CONFIG=None)
    django.setup()

from django.core import mail  # noqa: E402  (Django settings must be configured first)
from django.core.mail.backends.smtp import EmailBackend  # noqa: E402

DOMAIN = "mg.example.com"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
NODE_CLIENT = r"""
// One message through nodemailer's SMTP transport to the mock's relay; prints JSON: the reply, the
// envelope, and the exact bytes nodemailer put on the wire (base64), caught by a 'stream' plugin.
const fs = require('fs');
const nodemailer = require('nodemailer');

const cfg = JSON.parse(process.env.RELAY);
const transport = nodemailer.createTransport({
  host: '127.0.0.1', port: cfg.port, secure: !!cfg.implicit, requireTLS: !!cfg.starttls, ignoreTLS: !cfg.starttls,
  auth: { user: cfg.user, pass: cfg.pass }, name: 'client.test',
  tls: cfg.ca ? { ca: fs.readFileSync(cfg.ca) } : undefined,
});
let wire = null;
transport.use('stream', (mail, done) => {
  mail.message.build((err, bytes) => { wire = bytes; done(err); });
});
transport.sendMail({
  from: cfg.from, to: cfg.to, bcc: cfg.bcc, subject: 'Welcome from node', text: 'Hi from nodemailer',
  headers: { 'X-Mailgun-Tag': ['welcome', 'node'], 'X-Mailgun-Variables': JSON.stringify({ 'user-id': '7' }),
             'X-Mailgun-Track-Opens': 'no' },
  attachments: [{ filename: 'report.pdf', content: Buffer.from(cfg.pdf, 'base64'), contentType: 'application/pdf' }],
}).then((info) => {
  console.log(JSON.stringify({ ok: true, response: info.response, envelope: info.envelope, wire: wire.toString('base64') }));
}).catch((err) => {
  console.log(JSON.stringify({ ok: false, code: err.code, responseCode: err.responseCode, response: err.response }));
});
"""


@pytest.fixture(scope="module")
def relay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailgunMock]:
    """A ``tls=True`` mock with the relay (STARTTLS) and its implicit-TLS port on free ports."""
    with MailgunMock(tls=True, tls_dir=str(tmp_path_factory.mktemp("tls")), smtp_submission_port=0,
                     smtp_submission_tls_port=0, domains=(DOMAIN,)) as mock:
        yield mock


@pytest.fixture
def relay(relay_server: MailgunMock, httpserver: HTTPServer) -> Iterator[MailgunMock]:
    """The relay mock, reset, with its ``delivered`` webhook pointed at pytest-httpserver."""
    relay_server.reset()
    httpserver.expect_request("/hooks").respond_with_data("ok")
    reply = relay_server.session.post(f"{relay_server.url}/v3/domains/{DOMAIN}/webhooks",
                                      data={"id": "delivered", "url": httpserver.url_for("/hooks")}, timeout=10)
    assert reply.status_code == 200, reply.text
    yield relay_server
    relay_server.raise_errors()


@pytest.fixture(scope="module")
def node_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with nodemailer installed from the npm registry, and the client script."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed")
    folder = tmp_path_factory.mktemp("nodemailer")
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "nodemailer"], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (folder / "client.cjs").write_text(NODE_CLIENT)
    return folder


def comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what differs between two sends (ids, times, storage, method)."""
    return {k: v for k, v in event.items() if k not in ("id", "timestamp", "storage", "method")}


def check_like_messages_mime(mock: MailgunMock, wire: bytes, recipients: list[str]) -> None:
    """POST the client's wire bytes to messages.mime: the same stored copy and events as the relay made."""
    relayed = [e for e in mock.events if e["event"] == "accepted"]
    reply = mock.session.post(f"{mock.url}/v3/{DOMAIN}/messages.mime", data={"to": recipients},
                              files={"message": ("message.eml", wire, "message/rfc822")}, timeout=10)
    assert reply.status_code == 200, reply.text
    mock.settle()
    accepted = [e for e in mock.events if e["event"] == "accepted"]
    assert [e["method"] for e in accepted] == ["smtp"] * len(relayed) + ["http"] * len(relayed)
    assert [comparable(e) for e in accepted[:len(relayed)]] == [comparable(e) for e in accepted[len(relayed):]]
    copies = [mock.session.get(e["storage"]["url"], headers={"Accept": "message/rfc2822"}, timeout=10)
              .json()["body-mime"] for e in (accepted[0], accepted[len(relayed)])]
    assert copies[0] == copies[1]


def check_delivered_webhooks(mock: MailgunMock, receiver: HTTPServer, recipients: list[str],
                             tags: list[str], variables: dict[str, str]) -> None:
    """Each recipient's delivered event reached the receiver with the tags and variables."""
    mock.settle()
    mock.wait_for_deliveries(len(recipients), outcome="delivered")
    hooked = [json.loads(request.get_data())["event-data"] for request, _ in receiver.log]
    assert sorted(e["recipient"] for e in hooked) == sorted(recipients)
    assert all(e["event"] == "delivered" and e["tags"] == tags and e["user-variables"] == variables for e in hooked)


def test_relay_django_smtp_backend(relay: MailgunMock, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's SMTP EmailBackend with EMAIL_USE_TLS trusts the mock's CA, logs in and sends a tag, variables, a Bcc, a PDF."""
    assert relay.smtp_submission_port is not None and relay.ca_file is not None
    monkeypatch.setenv("SSL_CERT_FILE", relay.ca_file)  # Django's context is ssl.create_default_context()
    backend = mail.get_connection("django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1",
                                  port=relay.smtp_submission_port, username=f"postmaster@{DOMAIN}",
                                  password=relay.smtp_password, use_tls=True, timeout=10, fail_silently=False)
    assert isinstance(backend, EmailBackend)
    message = mail.EmailMessage(
        "Welcome from Django", "Hi from Django", f"App <app@{DOMAIN}>", ["Ann <ann@example.net>"],
        bcc=["audit@example.org"], connection=backend,
        headers={"X-Mailgun-Tag": "welcome", "X-Mailgun-Variables": json.dumps({"user-id": "42"})})
    message.attach("report.pdf", PDF, "application/pdf")
    wires: list[bytes] = []
    with backend:
        assert backend.connection is not None
        sendmail = backend.connection.sendmail

        def recording(from_addr: str, to_addrs: list[str], msg: bytes, *args: Any, **kwargs: Any) -> Any:
            wires.append(msg)
            return sendmail(from_addr, to_addrs, msg, *args, **kwargs)

        backend.connection.sendmail = recording  # type: ignore[method-assign]
        assert backend.send_messages([message]) == 1

    recipients = ["ann@example.net", "audit@example.org"]
    (sent,) = relay.assert_sent(1, to="audit@example.org", tag="welcome", subject="Welcome from Django")
    assert sent["recipients"] == recipients and sent["attachments"] == ["report.pdf"]
    assert sent["text"].strip() == "Hi from Django" and sent["from"] == f"App <app@{DOMAIN}>"
    check_delivered_webhooks(relay, httpserver, recipients, ["welcome"], {"user-id": "42"})
    check_like_messages_mime(relay, wires[0], recipients)


def run_node(folder: Path, mock: MailgunMock, password: str, **cfg: Any) -> dict[str, Any]:
    """Run the nodemailer client against the mock's relay (STARTTLS, trusting the mock's CA); answers what it printed."""
    cfg = {"port": mock.smtp_submission_port, "starttls": True, "ca": mock.ca_file, "user": f"postmaster@{DOMAIN}",
           "pass": password,
           "from": f"App <app@{DOMAIN}>", "to": ["ann@example.net"], "bcc": ["audit@example.org"],
           "pdf": base64.b64encode(PDF).decode(), **cfg}
    done = subprocess.run(["node", str(folder / "client.cjs")], cwd=folder, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "RELAY": json.dumps(cfg)})
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_relay_nodemailer_smtp_transport(relay: MailgunMock, httpserver: HTTPServer, node_client: Path) -> None:
    """nodemailer's SMTP transport logs in and sends repeated tags, variables, a Bcc and a PDF; opens untracked."""
    relay.session.post(f"{relay.url}/mock/rules", json={"match": {"tag": "node"}, "outcome": ["open", "click"]},
                       timeout=10)
    out = run_node(node_client, relay, relay.smtp_password)
    assert out["ok"], out
    assert out["response"].startswith("250 2.0.0 Great success <")
    recipients = ["ann@example.net", "audit@example.org"]
    assert out["envelope"] == {"from": f"app@{DOMAIN}", "to": recipients}
    (sent,) = relay.assert_sent(1, to="ann@example.net", tag="node", subject="Welcome from node")
    assert sent["tags"] == ["welcome", "node"] and sent["attachments"] == ["report.pdf"]
    check_delivered_webhooks(relay, httpserver, recipients, ["welcome", "node"], {"user-id": "7"})
    relay.advance_clock(24 * 3600)
    kinds = sorted({e["event"] for e in relay.events})
    assert kinds == ["accepted", "clicked", "delivered"]  # X-Mailgun-Track-Opens: no
    wire = base64.b64decode(out["wire"])
    assert b"X-Mailgun-Track-Opens: no\r\n" in wire
    check_like_messages_mime(relay, wire, recipients)


def test_relay_nodemailer_wrong_password_is_refused(relay: MailgunMock, node_client: Path) -> None:
    """Over the implicit-TLS port (secure: true), nodemailer reports the relay's 535 for a wrong password; nothing is sent."""
    out = run_node(node_client, relay, "not-the-password", port=relay.smtp_submission_tls_port, starttls=False,
                   implicit=True)
    assert (out["ok"], out["code"], out["responseCode"]) == (False, "EAUTH", 535)
    assert "Mailgun is not loving your login or password" in out["response"]
    assert relay.outbox == []
