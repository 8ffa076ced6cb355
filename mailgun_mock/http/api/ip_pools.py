"""Dedicated IP pools (``/v3/ip_pools``) and dynamic IP pools (``/v3/dynamic_pools``, ``/v1/dynamic_pools``,
``/v3/domains/<name>/dynamic_pools``)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from ...base.errors import BadRequest
from .common import backend, params, query

#: Registered under /v3 and /v2, as Mailgun serves its v3 API under both.
bp = Blueprint("ip_pools", __name__)
#: Registered at the root: these paths carry their own versions.
bp_root = Blueprint("ip_pools_root", __name__)


@bp.get("/ip_pools")
def list_ip_pools() -> ResponseReturnValue:
    return jsonify(backend().list_ip_pools())


@bp.post("/ip_pools")
def create_ip_pool() -> ResponseReturnValue:
    return jsonify(backend().create_ip_pool(params()))


@bp.get("/ip_pools/<pool_id>")
def get_ip_pool(pool_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_ip_pool(pool_id))


@bp.patch("/ip_pools/<pool_id>")
def update_ip_pool(pool_id: str) -> ResponseReturnValue:
    return jsonify(backend().update_ip_pool(pool_id, params()))


@bp.delete("/ip_pools/<pool_id>")
def delete_ip_pool(pool_id: str) -> ResponseReturnValue:
    return jsonify(backend().delete_ip_pool(pool_id, params()))


@bp.get("/ip_pools/<pool_id>/domains")
def ip_pool_domains(pool_id: str) -> ResponseReturnValue:
    return jsonify(backend().ip_pool_domains(pool_id, query()))


@bp.put("/ip_pools/<pool_id>/ips/<ip>")
def add_pool_ip(pool_id: str, ip: str) -> ResponseReturnValue:
    return jsonify(backend().add_pool_ips(pool_id, [ip]))


@bp.delete("/ip_pools/<pool_id>/ips/<ip>")
def remove_pool_ip(pool_id: str, ip: str) -> ResponseReturnValue:
    return jsonify(backend().remove_pool_ip(pool_id, ip))


@bp.post("/ip_pools/<pool_id>/ips.json")
def add_pool_ips(pool_id: str) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    ips = body.get("ips") if isinstance(body, dict) else None
    if not isinstance(ips, list) or not all(isinstance(ip, str) for ip in ips):
        raise BadRequest('send {"ips": [...]} as JSON (Content-Type: application/json)')
    return jsonify(backend().add_pool_ips(pool_id, ips))


@bp.get("/dynamic_pools")
def list_dynamic_pools() -> ResponseReturnValue:
    return jsonify(backend().list_dynamic_pools())


@bp.post("/dynamic_pools/all")
def setup_dynamic_pools() -> ResponseReturnValue:
    return jsonify(backend().setup_dynamic_pools(params()))


@bp.delete("/dynamic_pools/all")
def remove_dynamic_pools() -> ResponseReturnValue:
    return jsonify(backend().remove_dynamic_pools())


@bp.post("/dynamic_pools/<pool_name>/<ip>")
def add_dynamic_ip(pool_name: str, ip: str) -> ResponseReturnValue:
    return jsonify(backend().change_dynamic_pool(pool_name, [ip], []))


@bp.patch("/dynamic_pools/<pool_name>")
def change_dynamic_pool(pool_name: str) -> ResponseReturnValue:
    form = params()
    return jsonify(backend().change_dynamic_pool(pool_name, form.getlist("add_ip"), form.getlist("remove_ip")))


@bp.post("/domains/<name>/dynamic_pools")
def enroll_domain(name: str) -> ResponseReturnValue:
    return jsonify(backend().enroll_dynamic(name))


@bp.delete("/domains/<name>/dynamic_pools")
def unenroll_domain(name: str) -> ResponseReturnValue:
    return jsonify(backend().unenroll_dynamic(name, params()))


@bp.get("/domains/dynamic_pools/assignable")
def assignable_domains() -> ResponseReturnValue:
    return jsonify(backend().assignable_domains(query()))


@bp.post("/domains/all/dynamic_pools/enroll")
def enroll_all() -> ResponseReturnValue:
    return jsonify(backend().enroll_dynamic(None))


@bp_root.get("/v1/dynamic_pools/domains")
def enrolled_domains() -> ResponseReturnValue:
    return jsonify(backend().enrolled_domains(query()))


@bp_root.get("/v1/dynamic_pools/domains/<name>/preview")
def preview_domain(name: str) -> ResponseReturnValue:
    return jsonify(backend().preview_dynamic_pool(name))


@bp_root.get("/v1/dynamic_pools/domains/<name>/history")
def domain_history(name: str) -> ResponseReturnValue:
    return jsonify(backend().dynamic_history(query(), name))


@bp_root.put("/v1/dynamic_pools/domains/<name>/override")
def override_pool(name: str) -> ResponseReturnValue:
    return jsonify(backend().override_dynamic_pool(name, params().get("pool") or ""))


@bp_root.delete("/v1/dynamic_pools/domains/<name>/override")
def remove_override(name: str) -> ResponseReturnValue:
    return jsonify(backend().override_dynamic_pool(name, None))


@bp_root.get("/v1/dynamic_pools/history")
def history() -> ResponseReturnValue:
    return jsonify(backend().dynamic_history(query()))
