"""Domain keys (``/v1/dkim/keys``, ``/v4/domains/<authority_name>/keys``), DKIM rotation
(``/v1/dkim_management/domains/<name>``) and tracking certificates (``/v2/x509/<domain>``)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, files, params

#: Registered at the root: these paths carry their own versions.
bp = Blueprint("dkim", __name__)


@bp.get("/v1/dkim/keys")
def list_dkim_keys() -> ResponseReturnValue:
    return jsonify(backend().list_dkim_keys(params()))


@bp.post("/v1/dkim/keys")
def create_dkim_key() -> ResponseReturnValue:
    form = params()
    for field, _, content, _ in files():  # the PEM may come as a file attachment
        if field == "pem":
            form["pem"] = content.decode("utf-8", "replace")
    return jsonify(backend().create_dkim_key(form))


@bp.delete("/v1/dkim/keys")
def delete_dkim_key() -> ResponseReturnValue:
    return jsonify(backend().delete_dkim_key(params()))


@bp.get("/v4/domains/<authority_name>/keys")
def authority_keys(authority_name: str) -> ResponseReturnValue:
    return jsonify(backend().authority_keys(authority_name))


@bp.put("/v4/domains/<authority_name>/keys/<selector>/activate")
def activate_key(authority_name: str, selector: str) -> ResponseReturnValue:
    return jsonify(backend().set_dkim_key_active(authority_name, selector, True))


@bp.put("/v4/domains/<authority_name>/keys/<selector>/deactivate")
def deactivate_key(authority_name: str, selector: str) -> ResponseReturnValue:
    return jsonify(backend().set_dkim_key_active(authority_name, selector, False))


@bp.put("/v1/dkim_management/domains/<name>/rotation")
def update_rotation(name: str) -> ResponseReturnValue:
    return jsonify(backend().update_dkim_rotation(name, params()))


@bp.post("/v1/dkim_management/domains/<name>/rotate")
def rotate(name: str) -> ResponseReturnValue:
    return jsonify(backend().rotate_dkim_key(name))


@bp.get("/v2/x509/<domain>/status")
def certificate_status(domain: str) -> ResponseReturnValue:
    return jsonify(backend().certificate_status(domain))


@bp.post("/v2/x509/<domain>")
def generate_certificate(domain: str) -> ResponseReturnValue:
    return jsonify(backend().generate_certificate(domain)), 202


@bp.put("/v2/x509/<domain>")
def regenerate_certificate(domain: str) -> ResponseReturnValue:
    return jsonify(backend().regenerate_certificate(domain)), 202
