"""The SMTP relay of a ``tls=True`` mock: STARTTLS on the submission port (Mailgun's 587) and TLS from the
first byte on its own port (Mailgun's 465), with smtplib clients trusting the mock's CA."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator

import pytest
import requests

from mailgun_mock import MailgunMock
from mailgun_mock.base.config import Config, ConfigError

DOMAIN = "mg.example.com"
MESSAGE = b"From: app@mg.example.com\r\nTo: ann@example.net\r\nSubject: Over TLS\r\nX-Mailgun-Tag: tls\r\n\r\nHi\r\n"


@pytest.fixture(scope="module")
def tls_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailgunMock]:
    """A ``tls=True`` mock with the relay and its implicit-TLS port on free ports."""
    with MailgunMock(tls=True, tls_dir=str(tmp_path_factory.mktemp("tls")), smtp_submission_port=0,
                     smtp_submission_tls_port=0) as mock:
        yield mock


@pytest.fixture
def relay(tls_relay: MailgunMock) -> Iterator[MailgunMock]:
    """The module's TLS relay mock, reset before the test."""
    tls_relay.reset()
    yield tls_relay
    tls_relay.raise_errors()


def trusting(mock: MailgunMock) -> ssl.SSLContext:
    assert mock.ca_file is not None
    return ssl.create_default_context(cafile=mock.ca_file)


def test_relay_starttls_then_login_with_smtplib(relay: MailgunMock) -> None:
    """The relay offers STARTTLS and no AUTH before it (538 if tried); after starttls() login() and sendmail() work."""
    assert relay.smtp_submission_port is not None
    with smtplib.SMTP("127.0.0.1", relay.smtp_submission_port, local_hostname="client.test", timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls") and not smtp.has_extn("auth")
        assert smtp.docmd("AUTH", "PLAIN AHBvc3RtYXN0ZXIAeA==") == (
            538, b"5.7.11 Encryption required for requested authentication mechanism")
        smtp.starttls(context=trusting(relay))
        smtp.login(f"postmaster@{DOMAIN}", relay.smtp_password)
        assert smtp.sendmail(f"app@{DOMAIN}", ["ann@example.net"], MESSAGE) == {}
    (sent,) = relay.assert_sent(1, to="ann@example.net", tag="tls")
    assert sent["domain"] == DOMAIN


def test_relay_implicit_tls_port(relay: MailgunMock) -> None:
    """The implicit-TLS port is encrypted from the first byte (SMTP_SSL logs in at once); plain text gets no greeting."""
    assert relay.smtp_submission_tls_port is not None
    with smtplib.SMTP_SSL("127.0.0.1", relay.smtp_submission_tls_port, local_hostname="client.test", timeout=10,
                          context=trusting(relay)) as smtp:
        smtp.login(f"postmaster@{DOMAIN}", relay.smtp_password)
        assert smtp.sendmail(f"app@{DOMAIN}", ["ann@example.net"], MESSAGE) == {}
    with socket.create_connection(("127.0.0.1", relay.smtp_submission_tls_port), timeout=10) as plain:
        plain.sendall(b"EHLO client.test\r\n")  # not a TLS ClientHello: the handshake fails
        try:
            answer = plain.recv(1024)
        except ConnectionResetError:
            answer = b""
        assert b"220" not in answer and b"250" not in answer
    assert len(relay.outbox) == 1


def test_relay_tls_health_and_untrusted_client(relay: MailgunMock) -> None:
    """Health reports both relay ports and STARTTLS; a client without the mock's CA fails on the certificate."""
    assert relay.ca_file is not None
    health = requests.get(f"{relay.url}/mock/health", verify=relay.ca_file, timeout=10).json()
    assert health["smtp_submission"] == {"port": relay.smtp_submission_port, "tls_port": relay.smtp_submission_tls_port,
                                         "starttls": True}
    assert relay.smtp_submission_port is not None
    with smtplib.SMTP("127.0.0.1", relay.smtp_submission_port, local_hostname="client.test", timeout=10) as smtp:
        with pytest.raises(ssl.SSLCertVerificationError):
            smtp.starttls(context=ssl.create_default_context(cafile=None, capath=None, cadata=_unrelated_ca()))


def _unrelated_ca() -> str:
    """A CA certificate that signed nothing the mock serves: Python's own test CA is not at hand, so a
    throwaway one is made with cryptography (installed for --tls)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unrelated test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_relay_implicit_tls_port_needs_tls() -> None:
    """smtp_submission_tls_port without tls is a ConfigError (there is no certificate to serve it with)."""
    with pytest.raises(ConfigError, match="smtp_submission_tls_port needs tls"):
        Config(smtp_submission_tls_port=0)
    assert Config.from_env({"MAILGUN_MOCK_SMTP_SUBMISSION_TLS_PORT": "0"}).smtp_submission_tls_port is None
