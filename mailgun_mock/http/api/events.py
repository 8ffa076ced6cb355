"""``/v3/<domain>/events``: the Events API with its page tokens in the path."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, query

bp = Blueprint("events", __name__)


@bp.get("/<domain>/events")
def list_events(domain: str) -> ResponseReturnValue:
    return jsonify(backend().list_events(domain, query()))


@bp.get("/<domain>/events/<token>")
def events_page(domain: str, token: str) -> ResponseReturnValue:
    return jsonify(backend().list_events(domain, None, token))
