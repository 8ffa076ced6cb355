"""The account's IPs (``/v3/ips``), a domain's IPs (``/v3/domains/<name>/ips``), IP warmups
(``/v3/ip_warmups``) and the IP allowlist (``/v2/ip_whitelist``)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params, query

#: Registered under /v3 and /v2, as Mailgun serves its v3 API under both.
bp = Blueprint("ips", __name__)
#: Registered at the root: these paths carry their own versions.
bp_root = Blueprint("ips_root", __name__)


@bp.get("/ips")
def list_ips() -> ResponseReturnValue:
    return jsonify(backend().list_ips(query()))


@bp.get("/ips/<ip>")
def get_ip(ip: str) -> ResponseReturnValue:
    return jsonify(backend().get_ip(ip))


@bp.get("/ips/<ip>/domains")
def ip_domains(ip: str) -> ResponseReturnValue:
    return jsonify(backend().ip_domains(ip, query()))


@bp.post("/ips/<ip>/domains")
def assign_ip_everywhere(ip: str) -> ResponseReturnValue:
    return jsonify(backend().assign_ip_everywhere(ip))


@bp.delete("/ips/<ip>/domains")
def remove_ip_everywhere(ip: str) -> ResponseReturnValue:
    return jsonify(backend().remove_ip_everywhere(ip, params()))


@bp.post("/ips/<addr>/ip_band")
def set_ip_band(addr: str) -> ResponseReturnValue:
    return jsonify(backend().set_ip_band(addr, params().get("ip_band")))


@bp.get("/ips/request/new")
def ip_allowance() -> ResponseReturnValue:
    return jsonify(backend().ip_allowance())


@bp.post("/ips/request/new")
def request_ip() -> ResponseReturnValue:
    return jsonify(backend().request_ip())


@bp.get("/domains/<name>/ips")
def list_domain_ips(name: str) -> ResponseReturnValue:
    return jsonify(backend().list_domain_ips(name))


@bp.post("/domains/<name>/ips")
def add_domain_ip(name: str) -> ResponseReturnValue:
    return jsonify(backend().add_domain_ip(name, params()))


@bp.delete("/domains/<name>/ips/<ip>")
def remove_domain_ip(name: str, ip: str) -> ResponseReturnValue:
    return jsonify(backend().remove_domain_ip(name, ip, params()))


@bp.delete("/domains/<name>/pool/<ip>")
def remove_domain_pool_ip(name: str, ip: str) -> ResponseReturnValue:
    return jsonify(backend().remove_domain_ip(name, ip, params()))


@bp.get("/ip_warmups")
def list_warmups() -> ResponseReturnValue:
    return jsonify(backend().list_warmups(query()))


@bp.get("/ip_warmups/<addr>")
def get_warmup(addr: str) -> ResponseReturnValue:
    return jsonify(backend().get_warmup(addr))


@bp.post("/ip_warmups/<addr>")
def start_warmup(addr: str) -> ResponseReturnValue:
    return jsonify(backend().start_warmup(addr))


@bp.delete("/ip_warmups/<addr>")
def cancel_warmup(addr: str) -> ResponseReturnValue:
    return jsonify(backend().cancel_warmup(addr))


@bp_root.get("/v2/ip_whitelist")
def list_allowlist() -> ResponseReturnValue:
    return jsonify(backend().list_allowlist())


@bp_root.post("/v2/ip_whitelist")
def add_allowlist() -> ResponseReturnValue:
    return jsonify(backend().put_allowlist(params(), create=True))


@bp_root.put("/v2/ip_whitelist")
def update_allowlist() -> ResponseReturnValue:
    return jsonify(backend().put_allowlist(params(), create=False))


@bp_root.delete("/v2/ip_whitelist")
def delete_allowlist() -> ResponseReturnValue:
    return jsonify(backend().delete_allowlist(params().get("address")))
