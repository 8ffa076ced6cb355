"""The SMTP relay with a certificate: STARTTLS (port 587 style) and implicit TLS (port 465 style), with
smtplib and Django's SMTP backend trusting a CA the test makes with the openssl command line."""

from __future__ import annotations

import shutil
import smtplib
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import django
import pytest
from django.conf import settings

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.edges.submission import SubmissionListener

if not settings.configured:  # as in tests/test_send_clients.py
    settings.configure(ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": "set-per-test"}, LOGGING_CONFIG=None)
    django.setup()

from django.core import mail  # noqa: E402  (Django settings must be configured first)

DOMAIN = "mg.example.com"
MESSAGE = b"From: app@mg.example.com\r\nTo: ann@example.net\r\nSubject: Over TLS\r\nX-Mailgun-Tag: tls\r\n\r\nHi\r\n"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA and a server certificate for localhost and 127.0.0.1 it signed (openssl CLI)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    folder = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (folder / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                    "extendedKeyUsage=serverAuth\n")
    for command in (
        ["req", "-x509", *ec, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=relay test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
        ["req", *ec, "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
         "-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf"],
    ):
        done = subprocess.run([openssl, *command], cwd=folder, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture
def backend() -> Iterator[Backend]:
    made = Backend(Config())
    yield made
    made.close()


def server_context(folder: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def test_relay_starttls_then_auth_with_smtplib(backend: Backend, certificates: Path) -> None:
    """With a certificate the relay offers STARTTLS, answers 538 to AUTH before it, and takes AUTH and mail after."""
    with SubmissionListener(backend, "127.0.0.1", 0, server_context(certificates)) as relay:
        with smtplib.SMTP("127.0.0.1", relay.port, local_hostname="client.test", timeout=10) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls") and not smtp.has_extn("auth")
            assert smtp.docmd("AUTH", "PLAIN AHBvc3RtYXN0ZXIAeA==") == (
                538, b"5.7.11 Encryption required for requested authentication mechanism")
            smtp.starttls(context=ssl.create_default_context(cafile=str(certificates / "ca.pem")))
            smtp.login(f"postmaster@{DOMAIN}", backend.config.smtp_password)
            assert smtp.sendmail(f"app@{DOMAIN}", ["ann@example.net"], MESSAGE) == {}
    (sent,) = backend.sent_messages()
    assert (sent["domain"], sent["tags"], sent["recipients"]) == (DOMAIN, ["tls"], ["ann@example.net"])


def test_relay_implicit_tls_port(backend: Backend, certificates: Path) -> None:
    """On an implicit-TLS port (Mailgun's 465) the session is encrypted from the first byte and AUTH is offered at once."""
    with SubmissionListener(backend, "127.0.0.1", 0, server_context(certificates), implicit_tls=True) as relay:
        trusting = ssl.create_default_context(cafile=str(certificates / "ca.pem"))
        with smtplib.SMTP_SSL("127.0.0.1", relay.port, local_hostname="client.test", timeout=10,
                              context=trusting) as smtp:
            smtp.login(f"postmaster@{DOMAIN}", backend.config.smtp_password)
            assert smtp.sendmail(f"app@{DOMAIN}", ["ann@example.net"], MESSAGE) == {}
        with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as plain:
            plain.sendall(b"EHLO client.test\r\n")  # not TLS: the handshake fails and nothing is served
            try:
                answer = plain.recv(1024)
            except ConnectionResetError:
                answer = b""
            assert b"250" not in answer
    assert len(backend.sent_messages()) == 1


def test_relay_django_email_use_tls(backend: Backend, certificates: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Django's SMTP backend with EMAIL_USE_TLS, trusting the CA through SSL_CERT_FILE, logs in and sends."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates / "ca.pem"))  # read by ssl.create_default_context()
    with SubmissionListener(backend, "127.0.0.1", 0, server_context(certificates)) as relay:
        connection = mail.get_connection("django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1",
                                         port=relay.port, username=f"postmaster@{DOMAIN}",
                                         password=backend.config.smtp_password, use_tls=True, timeout=10)
        sent = mail.EmailMessage("Over TLS", "Hi", f"app@{DOMAIN}", ["ann@example.net"], connection=connection,
                                 headers={"X-Mailgun-Tag": "django-tls"}).send()
    assert sent == 1
    (message,) = backend.sent_messages()
    assert message["tags"] == ["django-tls"] and message["subject"] == "Over TLS"


def test_relay_implicit_tls_needs_a_context(backend: Backend) -> None:
    """Asking for implicit TLS without a certificate is a ValueError, not a plain-text port."""
    with pytest.raises(ValueError, match="implicit TLS needs a tls_context"):
        SubmissionListener(backend, "127.0.0.1", 0, implicit_tls=True)
