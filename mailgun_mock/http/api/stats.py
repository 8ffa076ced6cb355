"""The v3 Stats API and tag statistics (``/v3/stats/*``, ``/v3/<domain>/stats/total``,
``/v3/<domain>/aggregates/*``, ``/v3/<domain>/tag/stats[/aggregates]``, ``/v3/domains/<domain>/tag/*``),
and the older tag paths the official Python SDK builds (``/v3/<domain>/tags/<tag>…``)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params, query

bp = Blueprint("stats", __name__)
_KINDS = {"providers": "provider", "devices": "device", "countries": "country"}


@bp.get("/stats/total")
def account_stats() -> ResponseReturnValue:
    return jsonify(backend().domain_stats(None, query()))


@bp.get("/stats/total/domains")
def domains_stats() -> ResponseReturnValue:
    return jsonify(backend().domains_stats(query()))


@bp.get("/stats/filter")
def filtered_stats() -> ResponseReturnValue:
    return jsonify(backend().filtered_stats(query()))


@bp.get("/<domain>/stats/total")
def domain_stats(domain: str) -> ResponseReturnValue:
    return jsonify(backend().domain_stats(domain, query()))


def aggregates(domain: str, kind: str) -> ResponseReturnValue:
    return jsonify(backend().aggregates(domain, _KINDS[kind]))


def tag_values(domain: str, kind: str) -> ResponseReturnValue:
    return jsonify(backend().tag_dimension_values(domain, kind))


for _kind in _KINDS:
    bp.add_url_rule(f"/<domain>/aggregates/{_kind}", f"aggregates_{_kind}", aggregates, defaults={"kind": _kind})
    bp.add_url_rule(f"/domains/<domain>/tag/{_kind}", f"tag_{_kind}", tag_values, defaults={"kind": _kind})


@bp.get("/<domain>/tag/stats")
def tag_stats(domain: str) -> ResponseReturnValue:
    return jsonify(backend().tag_stats(domain, query()))


@bp.get("/<domain>/tag/stats/aggregates")
def tag_aggregates(domain: str) -> ResponseReturnValue:
    return jsonify(backend().tag_aggregates(domain, query()))


# The tag paths of Mailgun's older documentation, which the official Python SDK still builds.
@bp.get("/<domain>/tags/<tag>")
def sdk_get_tag(domain: str, tag: str) -> ResponseReturnValue:
    return jsonify(backend().get_tag(domain, tag))


@bp.put("/<domain>/tags/<tag>")
def sdk_update_tag(domain: str, tag: str) -> ResponseReturnValue:
    return jsonify(backend().update_tag(domain, tag, params().get("description")))


@bp.delete("/<domain>/tags/<tag>")
def sdk_delete_tag(domain: str, tag: str) -> ResponseReturnValue:
    return jsonify(backend().delete_tag(domain, tag))


@bp.get("/<domain>/tags/<tag>/stats")
def sdk_tag_stats(domain: str, tag: str) -> ResponseReturnValue:
    return jsonify(backend().tag_stats(domain, query(), tag))


@bp.get("/<domain>/tags/<tag>/stats/aggregates/<kind>")
def sdk_tag_aggregates(domain: str, tag: str, kind: str) -> ResponseReturnValue:
    return jsonify(backend().tag_aggregates(domain, {"type": _KINDS.get(kind, kind)}, tag))
