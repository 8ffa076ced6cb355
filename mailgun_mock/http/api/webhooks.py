"""Event webhooks: a domain's (``/v3/domains/<domain>/webhooks``, the test POST, and
``/v4/domains/<domain>/webhooks``) and the account's (``/v1/webhooks``)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params, query

#: Under /v3 (and /v2).
bp = Blueprint("webhooks", __name__)
#: /v4/domains/<domain>/webhooks and /v1/webhooks, registered at the root.
bp_root = Blueprint("webhooks_root", __name__)


@bp.get("/domains/<domain>/webhooks")
def list_webhooks(domain: str) -> ResponseReturnValue:
    return jsonify(backend().list_webhooks(domain))


@bp.post("/domains/<domain>/webhooks")
def create_webhook(domain: str) -> ResponseReturnValue:
    form = params()
    return jsonify(backend().create_webhook(domain, form.get("id"), form.getlist("url")))


@bp.get("/domains/<domain>/webhooks/<name>")
def get_webhook(domain: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().get_webhook(domain, name))


@bp.put("/domains/<domain>/webhooks/<name>")
def update_webhook(domain: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().update_webhook(domain, name, params().getlist("url")))


@bp.delete("/domains/<domain>/webhooks/<name>")
def delete_webhook(domain: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().delete_webhook(domain, name))


@bp.put("/domains/<domain>/webhooks/<name>/test")
@bp.post("/domains/<domain>/webhooks/<name>/test")
def test_webhook(domain: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().test_webhook(domain, name, params().get("url")))


@bp_root.post("/v4/domains/<domain>/webhooks")
def add_webhook_url(domain: str) -> ResponseReturnValue:
    form = params()
    return jsonify(backend().add_webhook_url(domain, form.get("url"), form.getlist("event_types")))


@bp_root.put("/v4/domains/<domain>/webhooks")
def replace_webhook_url(domain: str) -> ResponseReturnValue:
    form = params()
    return jsonify(backend().add_webhook_url(domain, form.get("url"), form.getlist("event_types"), replace=True))


@bp_root.delete("/v4/domains/<domain>/webhooks")
def delete_webhook_urls(domain: str) -> ResponseReturnValue:
    return jsonify(backend().delete_webhook_urls(domain, params().getlist("url")))


@bp_root.get("/v1/webhooks")
def list_account_webhooks() -> ResponseReturnValue:
    return jsonify(backend().list_account_webhooks())


@bp_root.post("/v1/webhooks")
def create_account_webhook() -> ResponseReturnValue:
    return jsonify(backend().create_account_webhook(params()))


@bp_root.delete("/v1/webhooks")
def delete_account_webhooks() -> ResponseReturnValue:
    args = query()
    return jsonify(backend().delete_account_webhooks(None, args.get("webhook_ids"), args.get("all")))


@bp_root.get("/v1/webhooks/<webhook_id>")
def get_account_webhook(webhook_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_account_webhook(webhook_id))


@bp_root.put("/v1/webhooks/<webhook_id>")
def update_account_webhook(webhook_id: str) -> ResponseReturnValue:
    return jsonify(backend().update_account_webhook(webhook_id, params()))


@bp_root.delete("/v1/webhooks/<webhook_id>")
def delete_account_webhook(webhook_id: str) -> ResponseReturnValue:
    return jsonify(backend().delete_account_webhooks(webhook_id))
