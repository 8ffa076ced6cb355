"""``/v3/<domain>/bounces``, ``unsubscribes``, ``complaints`` and ``whitelists``: the suppressions API."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from ...base.errors import BadRequest
from .common import backend, params, query

bp = Blueprint("suppressions", __name__)

#: The lists served, one path each (any other segment is no endpoint).
KINDS = ("bounces", "unsubscribes", "complaints", "whitelists")


def _rules() -> None:
    for kind in KINDS:
        bp.add_url_rule(f"/<domain>/{kind}", f"list_{kind}", _bind(list_all, kind), methods=["GET"])
        bp.add_url_rule(f"/<domain>/{kind}", f"add_{kind}", _bind(add, kind), methods=["POST"])
        bp.add_url_rule(f"/<domain>/{kind}", f"clear_{kind}", _bind(clear, kind), methods=["DELETE"])
        bp.add_url_rule(f"/<domain>/{kind}/import", f"import_{kind}", _bind(import_csv, kind), methods=["POST"])
        bp.add_url_rule(f"/<domain>/{kind}/<address>", f"get_{kind}", _bind(get_one, kind), methods=["GET"])
        bp.add_url_rule(f"/<domain>/{kind}/<address>", f"delete_{kind}", _bind(delete_one, kind),
                        methods=["DELETE"])


def _bind(view: Callable[..., ResponseReturnValue], kind: str) -> Callable[..., ResponseReturnValue]:
    def bound(**kwargs: str) -> ResponseReturnValue:
        return view(kind, **kwargs)
    return bound


def list_all(kind: str, domain: str) -> ResponseReturnValue:
    return jsonify(backend().list_suppressions(domain, kind, query()))


def add(kind: str, domain: str) -> ResponseReturnValue:
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if body is None:
            raise BadRequest("the body is not valid JSON")
        return jsonify(backend().add_suppressions_json(domain, kind, body))
    return jsonify(backend().add_suppression(domain, kind, params()))


def clear(kind: str, domain: str) -> ResponseReturnValue:
    return jsonify(backend().clear_suppressions(domain, kind))


def import_csv(kind: str, domain: str) -> ResponseReturnValue:
    params()  # a malformed body is a 400 before anything else
    upload = request.files.get("file")
    return jsonify(backend().import_suppressions(domain, kind, None if upload is None else upload.read())), 202


def get_one(kind: str, domain: str, address: str) -> ResponseReturnValue:
    return jsonify(backend().get_suppression(domain, kind, address))


def delete_one(kind: str, domain: str, address: str) -> ResponseReturnValue:
    return jsonify(backend().delete_suppression(domain, kind, address, query().get("tag")))


_rules()
