"""``/v3/routes``: the Routes API."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params, query

bp = Blueprint("routes", __name__)


@bp.post("/routes")
def create_route() -> ResponseReturnValue:
    form = params()
    route = backend().create_route(
        form.get("expression"), form.getlist("action"), form.get("priority"), form.get("description")
    )
    return jsonify(message="Route has been created", route=route.to_json())


@bp.get("/routes")
def list_routes() -> ResponseReturnValue:
    args = query()
    routes, total = backend().list_routes(args.get("skip"), args.get("limit"))
    return jsonify(items=[r.to_json() for r in routes], total_count=total)


@bp.get("/routes/match")
def match_route() -> ResponseReturnValue:
    return jsonify(route=backend().match_route(query().get("address")).to_json())


@bp.get("/routes/<route_id>")
def get_route(route_id: str) -> ResponseReturnValue:
    return jsonify(route=backend().get_route(route_id).to_json())


@bp.put("/routes/<route_id>")
def update_route(route_id: str) -> ResponseReturnValue:
    form = params()
    route = backend().update_route(
        route_id,
        form.get("expression"),
        form.getlist("action") if "action" in form else None,
        form.get("priority"),
        form.get("description"),
    )
    # The recorded Mailgun answer is the flat route plus "message"; the OpenAPI document shows
    # a nested "route". Both, so clients generated from either read it.
    return jsonify(message="Route has been updated", route=route.to_json(), **route.to_json())


@bp.delete("/routes/<route_id>")
def delete_route(route_id: str) -> ResponseReturnValue:
    route = backend().delete_route(route_id)
    return jsonify(id=route.id, message="Route has been deleted")
