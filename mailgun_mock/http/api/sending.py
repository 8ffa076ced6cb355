"""``/v3/<domain>/messages`` and ``messages.mime``: sending; ``envelopes``: dropping what is still to go."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from .common import backend, files, params

bp = Blueprint("sending", __name__)


@bp.post("/<domain>/messages")
def send_message(domain: str) -> ResponseReturnValue:
    return jsonify(backend().send_message(domain, params(), files()))


@bp.post("/<domain>/messages.mime")
def send_mime(domain: str) -> ResponseReturnValue:
    return jsonify(backend().send_mime(domain, params(), files(), request.content_type or ""))


@bp.delete("/<domain>/envelopes")
def delete_envelopes(domain: str) -> ResponseReturnValue:
    return jsonify(backend().delete_envelopes(domain))
