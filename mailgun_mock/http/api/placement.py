"""``/v4/inbox/results/<id>`` (inbox placement) and ``/v1/preview/tests/<id>/results`` (email preview):
results the control API created (``/mock/inbox_results``, ``/mock/preview_tests`` in :mod:`.mock`)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, query

#: Registered at the root: these paths carry their own versions.
bp = Blueprint("placement", __name__)


@bp.get("/v4/inbox/results/<result>")
def get_inbox_result(result: str) -> ResponseReturnValue:
    return jsonify(backend().get_inbox_result(result, query().get("provider")))


@bp.get("/v1/preview/tests/<test_id>/results")
def preview_results(test_id: str) -> ResponseReturnValue:
    return jsonify(backend().preview_results(test_id))
