"""Webhook signatures as Mailgun makes them: ``hex(HMAC-SHA256(key, timestamp + token))`` (pure)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["new_token", "sign", "signature_fields", "verify"]

TOKEN_LENGTH = 50  # every observed Mailgun token is 50 lowercase hex digits


def new_token() -> str:
    """A fresh 50-character lowercase hex token."""
    return secrets.token_hex(TOKEN_LENGTH // 2)


def sign(signing_key: str, timestamp: int | str, token: str) -> str:
    """The 64-hex-digit signature of ``timestamp`` and ``token`` (concatenated, no separator)."""
    message = f"{timestamp}{token}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def verify(signing_key: str, timestamp: int | str, token: str, signature: str) -> bool:
    """Whether ``signature`` is right for ``timestamp`` and ``token`` (constant-time)."""
    return hmac.compare_digest(sign(signing_key, timestamp, token).encode(), signature.encode())


def signature_fields(signing_key: str, now: float) -> dict[str, str]:
    """``timestamp`` (int seconds), ``token`` and ``signature`` for one delivery attempt."""
    timestamp = str(int(now))
    token = new_token()
    return {"timestamp": timestamp, "token": token, "signature": sign(signing_key, timestamp, token)}
