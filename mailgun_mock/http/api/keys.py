"""``/v1/keys`` (API keys) and ``/v5/accounts``, ``/v5/sandbox`` (signing key, account, sandbox recipients)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params, query

#: Registered at the root: these paths carry their own versions.
bp = Blueprint("keys", __name__)


@bp.get("/v1/keys")
def list_keys() -> ResponseReturnValue:
    return jsonify(backend().list_keys(query()))


@bp.post("/v1/keys")
def create_key() -> ResponseReturnValue:
    return jsonify(backend().create_key(params()))


@bp.post("/v1/keys/public")
def regenerate_public_key() -> ResponseReturnValue:
    return jsonify(backend().regenerate_public_key())


@bp.delete("/v1/keys/<key_id>")
def delete_key(key_id: str) -> ResponseReturnValue:
    return jsonify(backend().delete_key(key_id))


@bp.get("/v5/accounts/http_signing_key")
def get_signing_key() -> ResponseReturnValue:
    return jsonify(backend().get_signing_key())


@bp.post("/v5/accounts/http_signing_key")
def rotate_signing_key() -> ResponseReturnValue:
    return jsonify(backend().rotate_signing_key())


@bp.put("/v5/accounts")
def update_account() -> ResponseReturnValue:
    return jsonify(backend().update_account(params()))


@bp.post("/v5/accounts/resend_activation_email")
def resend_activation_email() -> ResponseReturnValue:
    return jsonify(success=True)


@bp.get("/v5/sandbox/auth_recipients")
def list_sandbox_recipients() -> ResponseReturnValue:
    return jsonify(backend().list_sandbox_recipients())


@bp.post("/v5/sandbox/auth_recipients")
def add_sandbox_recipient() -> ResponseReturnValue:
    return jsonify(backend().add_sandbox_recipient(params().get("email")))


@bp.delete("/v5/sandbox/auth_recipients/<email>")
def delete_sandbox_recipient(email: str) -> ResponseReturnValue:
    return jsonify(backend().delete_sandbox_recipient(email))
