"""``/v3/<domain>/messages`` and ``messages.mime``: sending, and the suppression lists it feeds."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from ...base.errors import NotFound
from .common import backend, files, params

bp = Blueprint("sending", __name__)

SUPPRESSION_LISTS = ("bounces", "unsubscribes", "complaints")


@bp.post("/<domain>/messages")
def send_message(domain: str) -> ResponseReturnValue:
    return jsonify(backend().send_message(domain, params(), files()))


@bp.post("/<domain>/messages.mime")
def send_mime(domain: str) -> ResponseReturnValue:
    return jsonify(backend().send_mime(domain, params(), files(), request.content_type or ""))


@bp.get("/<domain>/<kind>")
def list_suppressions(domain: str, kind: str) -> ResponseReturnValue:
    if kind not in SUPPRESSION_LISTS:
        raise NotFound(f"Not Found: no endpoint GET {request.path}")
    items = backend().list_suppressions(domain, kind)
    here = request.host_url.rstrip("/") + quote(request.path)  # a URI even for an IDN domain
    return jsonify(items=items, paging={"first": here, "last": here, "next": here, "previous": here})
