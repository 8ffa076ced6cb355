"""Domains: ``/v4/domains`` (list, create, get, update, verify), ``/v3/domains/<name>`` (delete, and
the v3 forms older SDKs still call), tracking settings, DKIM authority and selector, SMTP credentials,
sending queues, and tags (``/<domain>/tags``, ``/<domain>/tag``, ``/domains/<domain>/limits/tag``)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params, query

#: Under /v3 (and /v2): delete, the v3 forms of list/create/get/verify, tracking, credentials, queues.
bp = Blueprint("domains", __name__)
#: /v4/domains: registered at the root.
bp_v4 = Blueprint("domains_v4", __name__)


@bp_v4.get("/v4/domains")
@bp.get("/domains")
def list_domains() -> ResponseReturnValue:
    return jsonify(backend().list_domains(query()))


@bp_v4.post("/v4/domains")
@bp.post("/domains")
def create_domain() -> ResponseReturnValue:
    return jsonify(backend().create_domain(params()))


@bp_v4.get("/v4/domains/<name>")
@bp.get("/domains/<name>")
def get_domain(name: str) -> ResponseReturnValue:
    return jsonify(backend().get_domain(name))


@bp_v4.put("/v4/domains/<name>")
@bp.put("/domains/<name>")
def update_domain(name: str) -> ResponseReturnValue:
    return jsonify(backend().update_domain(name, params()))


@bp_v4.put("/v4/domains/<name>/verify")
@bp.put("/domains/<name>/verify")
def verify_domain(name: str) -> ResponseReturnValue:
    return jsonify(backend().verify_domain(name))


@bp.delete("/domains/<name>")
def delete_domain(name: str) -> ResponseReturnValue:
    return jsonify(backend().delete_domain(name))


@bp.get("/domains/<name>/tracking")
def get_tracking(name: str) -> ResponseReturnValue:
    return jsonify(backend().get_tracking(name))


def update_tracking(name: str, kind: str) -> ResponseReturnValue:
    return jsonify(backend().update_tracking(name, kind, params()))


for _kind in ("open", "click", "unsubscribe"):
    bp.add_url_rule(f"/domains/<name>/tracking/{_kind}", f"update_tracking_{_kind}", update_tracking,
                    methods=["PUT"], defaults={"kind": _kind})


@bp.get("/domains/<name>/credentials")
def list_credentials(name: str) -> ResponseReturnValue:
    return jsonify(backend().list_credentials(name, query()))


@bp.post("/domains/<name>/credentials")
def create_credential(name: str) -> ResponseReturnValue:
    form = params()
    return jsonify(backend().create_credential(name, form.get("login"), form.get("password")))


@bp.delete("/domains/<name>/credentials")
def delete_credentials(name: str) -> ResponseReturnValue:
    return jsonify(backend().delete_credential(name))


@bp.put("/domains/<name>/credentials/<spec>")
def update_credential(name: str, spec: str) -> ResponseReturnValue:
    return jsonify(backend().update_credential(name, spec, params().get("password")))


@bp.delete("/domains/<name>/credentials/<spec>")
def delete_credential(name: str, spec: str) -> ResponseReturnValue:
    return jsonify(backend().delete_credential(name, spec))


@bp.get("/domains/<name>/sending_queues")
def sending_queues(name: str) -> ResponseReturnValue:
    return jsonify(backend().sending_queues(name))


@bp.put("/domains/<name>/dkim_authority")
def update_dkim_authority(name: str) -> ResponseReturnValue:
    return jsonify(backend().update_dkim_authority(name, params().get("self")))


@bp.put("/domains/<name>/dkim_selector")
def update_dkim_selector(name: str) -> ResponseReturnValue:
    return jsonify(backend().update_dkim_selector(name, params().get("dkim_selector")))


@bp.get("/domains/<name>/limits/tag")
def tag_limits(name: str) -> ResponseReturnValue:
    return jsonify(backend().tag_limits(name))


@bp.get("/<domain>/tags")
def list_tags(domain: str) -> ResponseReturnValue:
    return jsonify(backend().list_tags(domain, query()))


@bp.get("/<domain>/tag")
def get_tag(domain: str) -> ResponseReturnValue:
    return jsonify(backend().get_tag(domain, query().get("tag")))


@bp.put("/<domain>/tag")
def update_tag(domain: str) -> ResponseReturnValue:
    form = params()
    return jsonify(backend().update_tag(domain, form.get("tag"), form.get("description")))


@bp.delete("/<domain>/tag")
def delete_tag(domain: str) -> ResponseReturnValue:
    return jsonify(backend().delete_tag(domain, params().get("tag")))
