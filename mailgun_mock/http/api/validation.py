"""``/v4/address/validate``: single address validation, by query (GET) or form (POST)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params

#: Registered at the root: the path carries its version.
bp = Blueprint("validation", __name__)


@bp.route("/v4/address/validate", methods=["GET", "POST"])
def validate_address() -> ResponseReturnValue:
    return jsonify(backend().validate_address(params()))
