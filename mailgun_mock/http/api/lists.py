"""``/v3/lists``: mailing lists, their members, and bulk member uploads."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from .common import backend, params, query

bp = Blueprint("lists", __name__)


@bp.post("/lists")
def create_list() -> ResponseReturnValue:
    return jsonify(backend().create_list(params()))


@bp.get("/lists")
def list_lists() -> ResponseReturnValue:
    return jsonify(backend().list_lists(query()))


@bp.get("/lists/pages")
def list_pages() -> ResponseReturnValue:
    return jsonify(backend().list_pages(query()))


@bp.get("/lists/<address>")
def get_list(address: str) -> ResponseReturnValue:
    return jsonify(backend().get_list(address))


@bp.put("/lists/<address>")
def update_list(address: str) -> ResponseReturnValue:
    return jsonify(backend().update_list(address, params()))


@bp.delete("/lists/<address>")
def delete_list(address: str) -> ResponseReturnValue:
    return jsonify(backend().delete_list(address))


@bp.get("/lists/<address>/members")
def list_members(address: str) -> ResponseReturnValue:
    return jsonify(backend().list_members(address, query()))


@bp.post("/lists/<address>/members")
def create_member(address: str) -> ResponseReturnValue:
    return jsonify(backend().create_member(address, params()))


@bp.get("/lists/<address>/members/pages")
def member_pages(address: str) -> ResponseReturnValue:
    return jsonify(backend().list_pages(query(), address))


@bp.get("/lists/<address>/members/<member>")
def get_member(address: str, member: str) -> ResponseReturnValue:
    return jsonify(backend().get_member(address, member))


@bp.put("/lists/<address>/members/<member>")
def update_member(address: str, member: str) -> ResponseReturnValue:
    return jsonify(backend().update_member(address, member, params()))


@bp.delete("/lists/<address>/members/<member>")
def delete_member(address: str, member: str) -> ResponseReturnValue:
    return jsonify(backend().delete_member(address, member))


@bp.post("/lists/<address>/members.json")
def upload_members(address: str) -> ResponseReturnValue:
    form = params()
    members = request.get_json(silent=True) if request.mimetype == "application/json" else form.get("members")
    return jsonify(backend().upload_members(address, members, form.get("upsert"), form.get("subscribed")))


@bp.post("/lists/<address>/members.csv")
def upload_members_csv(address: str) -> ResponseReturnValue:
    form = params()
    upload = request.files.get("members")
    content = upload.read() if upload is not None else (form["members"].encode() if "members" in form else None)
    return jsonify(backend().upload_members_csv(address, content, form.get("upsert"), form.get("subscribed")))
