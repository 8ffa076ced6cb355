"""``/v3/domains/<domain>/webhooks``: the domain event webhooks API."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params

bp = Blueprint("webhooks", __name__)


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
