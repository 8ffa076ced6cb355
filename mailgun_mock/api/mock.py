"""``/mock``: the mock's own control API (never collides with Mailgun's paths)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from ..exceptions import BadRequest
from .common import backend

bp = Blueprint("mock", __name__)

#: Endpoints that answer without an API key.
PUBLIC_ENDPOINTS = frozenset({"mock.health"})


@bp.get("/health")
def health() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    backend().reset()
    return jsonify(message="Mock state has been reset")


@bp.get("/clock")
def read_clock() -> ResponseReturnValue:
    clock = backend().clock
    return jsonify(now=clock.now(), offset=clock.offset)


@bp.post("/clock")
def advance_clock() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    raw = body.get("advance") if isinstance(body, dict) else request.values.get("advance")
    try:
        seconds = float(raw)  # type: ignore[arg-type]
        backend().clock.advance(seconds)
    except (TypeError, ValueError):
        raise BadRequest("'advance' must be a non-negative number of seconds") from None
    clock = backend().clock
    return jsonify(now=clock.now(), offset=clock.offset)
