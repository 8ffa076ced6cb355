"""Real key material for DKIM and tracking certificates, made with ``cryptography`` (pure: no state).

RSA key generation costs about 15 ms for 1024 bits and 50-150 ms for 2048, so the key a domain shows
before anyone asked for one (its selector, 1024 bits unless created with ``dkim_key_size``) comes
from a per-process cache by authority, selector and size: a test suite that creates ``example.com``
a thousand times generates its key once. Keys created through ``POST /v1/dkim/keys`` or a rotation
are always fresh.
"""

from __future__ import annotations

import base64
import functools
import threading
from datetime import datetime, timedelta, timezone

from ..base.errors import BadRequest

__all__ = ["BITS", "CERTIFICATE_DAYS", "default_key", "dns_value", "generate_key", "import_key",
           "self_signed_certificate"]

#: Key sizes Mailgun accepts.
BITS = (1024, 2048)
#: How long a tracking certificate the mock makes is valid, on the mock's clock.
CERTIFICATE_DAYS = 90
_cache: dict[tuple[str, str, int], str] = {}
_cache_lock = threading.Lock()


def generate_key(bits: int = 2048) -> str:
    """A new RSA private key, PEM (PKCS #1)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode("ascii")


def default_key(authority: str, selector: str, bits: int = 2048) -> str:
    """The key a domain shows for a selector nobody created: generated once per process and name."""
    name = (authority.lower(), selector, bits)
    with _cache_lock:
        found = _cache.get(name)
    if found is None:
        found = generate_key(bits)
        with _cache_lock:
            found = _cache.setdefault(name, found)
    return found


def import_key(pem: str) -> tuple[str, int]:
    """An imported RSA private key (PEM, PKCS #1 or #8), as PKCS #1 PEM, with its size in bits.

    :raises BadRequest: for anything that is not an unencrypted RSA private key of 1024 or 2048 bits.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"invalid PEM: {str(exc)[:120]}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise BadRequest("invalid PEM: the key is not an RSA private key")
    if key.key_size not in BITS:
        raise BadRequest(f"invalid key size {key.key_size}: use 1024 or 2048 bits")
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode("ascii"), key.key_size


@functools.lru_cache(maxsize=4096)
def dns_value(pem: str) -> str:
    """The DKIM TXT record value of a private key: ``k=rsa; p=<base64 DER public key>``."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "k=rsa; p=" + base64.b64encode(der).decode("ascii")


def self_signed_certificate(host: str, now: float) -> tuple[str, float]:
    """A self-signed certificate for a tracking host (an EC P-256 key: quick to make), valid from ``now``
    for :data:`CERTIFICATE_DAYS` days; answers the PEM and its end as epoch seconds."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.fromtimestamp(now, timezone.utc).replace(microsecond=0)
    end = start + timedelta(days=CERTIFICATE_DAYS)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"), end.timestamp()
