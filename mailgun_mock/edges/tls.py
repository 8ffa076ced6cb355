"""HTTPS for ``serve --tls``: a local certificate authority made once, and a server certificate it issues.

The official Python SDK refuses ``http://`` for any host but ``localhost``/``127.0.0.1``, so a mock
reached as ``mailgun-mock`` (docker-compose, a CI service container) must speak HTTPS. The mock
keeps a CA in a folder (created on first start, reused afterwards, so clients trust it once) and
issues from it a certificate for loopback, the ``--public-url`` host and every ``--allowed-host``;
the certificate is issued again whenever that set of names changes. Private keys are written 0600.

Files in the folder: ``ca.pem`` (hand it to clients), ``ca-key.pem``, ``server.pem``, ``server-key.pem``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import ipaddress
import os
import re
import secrets
import ssl
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..base.config import Config

__all__ = ["TlsError", "TlsFiles", "certificate_names", "client_hints", "default_tls_dir", "ensure_certificates",
           "prepare", "server_context"]

CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE = "ca.pem", "ca-key.pem", "server.pem", "server-key.pem"
CA_DAYS = 3650
CERT_DAYS = 365
#: A certificate with less than this left is issued again (the CA too, with a warning in the banner).
RENEW_BEFORE = datetime.timedelta(days=30)
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_DNS_NAME = re.compile(r"(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")


class TlsError(RuntimeError):
    """The TLS folder cannot be used: unreadable or mismatched CA files, no permission, a bad host name."""


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    """Where the CA and the server certificate are, and what this start did.

    :param names: the names the server certificate is valid for.
    :param created_ca: the CA was made on this start (clients trusting an older one must be given it).
    :param issued: the server certificate was issued on this start (new names, expiry, or first start).
    """

    directory: Path
    ca_file: Path
    cert_file: Path
    key_file: Path
    names: tuple[str, ...]
    created_ca: bool
    issued: bool


def default_tls_dir(snapshot: str = "", environ: Mapping[str, str] | None = None) -> Path:
    """The folder used when ``--tls-dir`` is not given: ``mailgun-mock-tls`` beside the snapshot file,
    else ``$XDG_DATA_HOME/mailgun-mock/tls`` (``~/.local/share/…``; ``%LOCALAPPDATA%`` on Windows)."""
    environ = os.environ if environ is None else environ
    if snapshot:
        return Path(snapshot).expanduser().resolve().parent / "mailgun-mock-tls"
    if sys.platform == "win32" and environ.get("LOCALAPPDATA"):
        base = Path(environ["LOCALAPPDATA"])
    elif environ.get("XDG_DATA_HOME"):
        base = Path(environ["XDG_DATA_HOME"])
    else:
        base = Path.home() / ".local" / "share"
    return base / "mailgun-mock" / "tls"


def _normalise(name: str) -> str:
    """A host name or IP address as a certificate names it; raises :class:`TlsError` for anything else."""
    text = name.strip().lower().rstrip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    try:
        text = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        raise TlsError(f"{name!r} cannot be named in a certificate") from None
    if not _DNS_NAME.fullmatch(text) or len(text) > 253:
        raise TlsError(f"{name!r} is not a host name a certificate can name (give a name, without port or scheme)")
    return text


def certificate_names(config: Config) -> tuple[str, ...]:
    """The names the server certificate covers: loopback, the bound address (when it is one address),
    the ``public_url`` host and every allowed host (``*`` = any host cannot be named, so it is skipped)."""
    names: list[str] = list(_LOOPBACK)
    if config.host not in ("", "0.0.0.0", "::"):
        names.append(config.host)
    if config.public_url and (host := urlsplit(config.public_url).hostname):
        names.append(host)
    # ".example.com" (a domain and its subdomains, for the Host check) is "*.example.com" in a certificate.
    names.extend("*" + h if h.startswith(".") else h for h in config.allowed_hosts if h != "*")
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(_normalise(name), None)
    return tuple(seen)


def prepare(config: Config) -> TlsFiles:
    """Make sure the CA and a server certificate for :func:`certificate_names` exist in the configured folder."""
    directory = Path(config.tls_dir).expanduser() if config.tls_dir else default_tls_dir(config.snapshot)
    return ensure_certificates(directory, certificate_names(config))


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """The server side of TLS: the issued certificate, TLS 1.2 at least, HTTP/1.1 offered by ALPN."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert_file, files.key_file)
    context.set_alpn_protocols(["http/1.1"])
    return context


def client_hints(ca_file: Path | str) -> list[str]:
    """How to hand the CA to clients, one line each, for the start-up banner."""
    return [
        f"Python (requests, the mailgun SDK): REQUESTS_CA_BUNDLE={ca_file}",
        f"Node (mailgun.js, axios, fetch):    NODE_EXTRA_CA_CERTS={ca_file}",
        f"OpenSSL-based (httpx, Ruby, PHP):   SSL_CERT_FILE={ca_file}   curl: --cacert {ca_file}",
    ]


def ensure_certificates(directory: Path, names: Iterable[str], now: datetime.datetime | None = None) -> TlsFiles:
    """Reuse or create the CA in ``directory``, and reuse or issue the server certificate for ``names``.

    Two mocks starting at once on the same folder take turns (a lock file), so they agree on one CA.

    :raises TlsError: when the folder cannot be used; the CA files are then left as they are.
    """
    wanted = tuple(dict.fromkeys(_normalise(n) for n in names))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(directory):
            ca_cert, ca_key, created_ca = _ca(directory, now)
            issued = created_ca or not _cert_fits(directory, ca_cert, wanted, now)
            if issued:
                _issue(directory, ca_cert, ca_key, wanted, now)
    except OSError as exc:
        raise TlsError(f"cannot keep the TLS files in {directory}: {exc.strerror or exc}") from None
    return TlsFiles(directory, directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE, wanted,
                    created_ca, issued)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / ".lock", "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; two first starts at once are unlikely there
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write(path: Path, data: bytes, *, private: bool) -> None:
    """Atomically replace ``path``: mode 0600 for a private key, 0644 for a certificate."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # created 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o600 if private else 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _ca(directory: Path, now: datetime.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, bool]:
    cert_path, key_path = directory / CA_FILE, directory / CA_KEY_FILE
    if cert_path.exists() or key_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise TlsError(f"the CA in {directory} cannot be read ({exc}); "
                           "remove the folder to start afresh (clients must then be given the new ca.pem)") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
            raise TlsError(f"{key_path} is not the key of {cert_path}; remove the folder to start afresh")
        if cert.not_valid_after_utc - now > RENEW_BEFORE:
            return cert, key, False
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mailgun-mock"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"mailgun-mock local CA {secrets.token_hex(4)}"),
    ])
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(key_path, _key_pem(key), private=True)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), private=False)
    return cert, key, True


def _san(names: Iterable[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return entries


def _names_in(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*san.get_values_for_type(x509.DNSName), *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))}


def _cert_fits(directory: Path, ca_cert: x509.Certificate, names: tuple[str, ...], now: datetime.datetime) -> bool:
    """Whether the server certificate on disk can be served again: issued by this CA, for exactly
    these names, with its key beside it, and not about to expire."""
    try:
        cert = x509.load_pem_x509_certificate((directory / CERT_FILE).read_bytes())
        key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), password=None)
        cert.verify_directly_issued_by(ca_cert)
        return (key.public_key() == cert.public_key() and _names_in(cert) == set(names)
                and cert.not_valid_after_utc - now > RENEW_BEFORE)
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False


def _issue(directory: Path, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, names: tuple[str, ...],
           now: datetime.datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailgun-mock")]))
        .issuer_name(ca_cert.subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(x509.SubjectAlternativeName(_san(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(directory / KEY_FILE, _key_pem(key), private=True)
    _write(directory / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), private=False)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
