"""``/v5/accounts/subaccounts…``, ``/v5/accounts/limit/custom/…``, ``/v5/users…`` and
``/v1/thresholds/…``: subaccounts, monthly limits, users and send alerts."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from .common import backend, params, query

#: Registered at the root: these paths carry their own versions.
bp = Blueprint("accounts", __name__)
_SUB = "/v5/accounts/subaccounts"


@bp.get(_SUB)
def list_subaccounts() -> ResponseReturnValue:
    return jsonify(backend().list_subaccounts(query()))


@bp.post(_SUB)
def create_subaccount() -> ResponseReturnValue:
    return jsonify(backend().create_subaccount(params()))


@bp.delete(_SUB)
def delete_subaccount() -> ResponseReturnValue:
    # X-Mailgun-On-Behalf-Of names it: the request already acts inside that subaccount's state.
    return jsonify(backend().delete_this_subaccount())


@bp.get(f"{_SUB}/ip_pools/all")
def list_subaccount_pools() -> ResponseReturnValue:
    return jsonify(backend().list_subaccount_pools())


@bp.get(f"{_SUB}/<subaccount_id>")
def get_subaccount(subaccount_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_subaccount(subaccount_id))


@bp.post(f"{_SUB}/<subaccount_id>/disable")
def disable_subaccount(subaccount_id: str) -> ResponseReturnValue:
    return jsonify(backend().disable_subaccount(subaccount_id))


@bp.post(f"{_SUB}/<subaccount_id>/enable")
def enable_subaccount(subaccount_id: str) -> ResponseReturnValue:
    return jsonify(backend().enable_subaccount(subaccount_id))


@bp.put(f"{_SUB}/<subaccount_id>/features")
def update_features(subaccount_id: str) -> ResponseReturnValue:
    return jsonify(backend().update_features(subaccount_id, params()))


@bp.put(f"{_SUB}/<subaccountId>/ip_pool")
def set_subaccount_pool(subaccountId: str) -> ResponseReturnValue:  # noqa: N803 (the document's name)
    return jsonify(backend().set_subaccount_pool(subaccountId, params().get("pool_id")))


@bp.delete(f"{_SUB}/<subaccountId>/ip_pool")
def remove_subaccount_pool(subaccountId: str) -> ResponseReturnValue:  # noqa: N803 (the document's name)
    return jsonify(backend().remove_subaccount_pool(subaccountId, params().get("pool_id")))


@bp.get(f"{_SUB}/<subaccount_id>/limit/custom/monthly")
def get_subaccount_limit(subaccount_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_subaccount_limit(subaccount_id))


@bp.put(f"{_SUB}/<subaccount_id>/limit/custom/monthly")
def set_subaccount_limit(subaccount_id: str) -> ResponseReturnValue:
    return jsonify(backend().set_subaccount_limit(subaccount_id, params()))


@bp.delete(f"{_SUB}/<subaccount_id>/limit/custom/monthly")
def delete_subaccount_limit(subaccount_id: str) -> ResponseReturnValue:
    return jsonify(backend().delete_subaccount_limit(subaccount_id))


@bp.get("/v5/accounts/limit/custom/monthly")
def get_limit() -> ResponseReturnValue:
    return jsonify(backend().get_monthly_limit())


@bp.put("/v5/accounts/limit/custom/monthly")
def set_limit() -> ResponseReturnValue:
    return jsonify(backend().set_monthly_limit(params()))


@bp.delete("/v5/accounts/limit/custom/monthly")
def delete_limit() -> ResponseReturnValue:
    return jsonify(backend().delete_monthly_limit())


@bp.put("/v5/accounts/limit/custom/enable")
def enable_past_limit() -> ResponseReturnValue:
    return jsonify(backend().enable_past_limit())


@bp.get("/v5/users")
def list_users() -> ResponseReturnValue:
    return jsonify(backend().list_users(query()))


@bp.get("/v5/users/me")
def get_me() -> ResponseReturnValue:
    return jsonify(backend().get_user("me"))


@bp.get("/v5/users/<user_id>")
def get_user(user_id: str) -> ResponseReturnValue:
    return jsonify(backend().get_user(user_id))


@bp.get("/v1/thresholds/alerts/send")
def list_alerts() -> ResponseReturnValue:
    return jsonify(backend().list_alerts())


@bp.post("/v1/thresholds/alerts/send")
def create_alert() -> ResponseReturnValue:
    return jsonify(backend().create_alert(request.get_json(silent=True)))


@bp.get("/v1/thresholds/alerts/send/<name>")
def get_alert(name: str) -> ResponseReturnValue:
    return jsonify(backend().get_alert(name))


@bp.put("/v1/thresholds/alerts/send/<name>")
def update_alert(name: str) -> ResponseReturnValue:
    return jsonify(backend().update_alert(name, request.get_json(silent=True)))


@bp.delete("/v1/thresholds/alerts/send/<name>")
def delete_alert(name: str) -> ResponseReturnValue:
    return jsonify(backend().delete_alert(name))


@bp.get("/v1/thresholds/hits")
def list_alert_hits() -> ResponseReturnValue:
    return jsonify(backend().list_alert_hits())
