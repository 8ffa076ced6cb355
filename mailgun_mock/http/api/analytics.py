"""The account's analytics (``/v1/analytics``: metrics, usage metrics, logs, tags) and bounce
classification (``/v1/bounce-classification/*``, ``/v2/bounce-classification/metrics``): JSON bodies."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from ...base.errors import BadRequest
from .common import backend, params, query

bp = Blueprint("analytics", __name__)


def body() -> Any:
    """The JSON body (query parameters beside it, for the SDK's ``filters=``), or a form's fields; ``None`` if empty."""
    raw = request.get_data(cache=True)
    if raw.strip() and (request.is_json or raw.lstrip()[:1] in (b"{", b"[")):
        try:
            data = request.get_json(force=True)
        except Exception:  # werkzeug's BadRequest, or a decoding error: one answer for all
            raise BadRequest("the request body is not valid JSON") from None
        return {**query().to_dict(), **data} if isinstance(data, dict) else data
    fields = params()
    return fields.to_dict() if fields else None


@bp.post("/v1/analytics/metrics")
def metrics() -> ResponseReturnValue:
    return jsonify(backend().metrics(body()))


@bp.post("/v1/analytics/usage/metrics")
def usage_metrics() -> ResponseReturnValue:
    return jsonify(backend().usage_metrics(body()))


@bp.post("/v1/analytics/logs")
def logs() -> ResponseReturnValue:
    return jsonify(backend().logs(body()))


@bp.post("/v1/analytics/tags")
def list_account_tags() -> ResponseReturnValue:
    return jsonify(backend().list_account_tags(body()))


@bp.put("/v1/analytics/tags")
def update_account_tag() -> ResponseReturnValue:
    return jsonify(backend().update_account_tag(body()))


@bp.delete("/v1/analytics/tags")
def delete_account_tag() -> ResponseReturnValue:
    return jsonify(backend().delete_account_tag(body()))


@bp.get("/v1/analytics/tags/limits")
def account_tag_limits() -> ResponseReturnValue:
    return jsonify(backend().account_tag_limits())


@bp.get("/v1/bounce-classification/stats")
def bounce_stats() -> ResponseReturnValue:
    return jsonify(backend().bounce_stats(query()))


@bp.get("/v1/bounce-classification/domains")
def bounce_domains() -> ResponseReturnValue:
    return jsonify(backend().bounce_domains(query()))


@bp.get("/v1/bounce-classification/domains/<domain>/entities")
def bounce_entities(domain: str) -> ResponseReturnValue:
    return jsonify(backend().bounce_entities(domain))


@bp.get("/v1/bounce-classification/domains/<domain>/entities/<entity_id>/rules")
def bounce_entity_rules(domain: str, entity_id: str) -> ResponseReturnValue:
    return jsonify(backend().bounce_entity_rules(domain, entity_id))


@bp.get("/v1/bounce-classification/domains/<domain>/events")
def bounce_events(domain: str) -> ResponseReturnValue:
    return jsonify(backend().bounce_events(domain, query()))


@bp.get("/v1/bounce-classification/config/entities")
def bounce_config_entities() -> ResponseReturnValue:
    return jsonify(backend().bounce_config_entities())


@bp.get("/v1/bounce-classification/config/rules")
def bounce_config_rules() -> ResponseReturnValue:
    return jsonify(backend().bounce_config_rules())


@bp.post("/v2/bounce-classification/metrics")
def bounce_metrics() -> ResponseReturnValue:
    return jsonify(backend().bounce_metrics(body()))
