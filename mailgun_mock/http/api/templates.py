"""Templates: ``/v3/<domain>/templates`` (and versions, copies), and the account's ``/v4/templates``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import backend, params, query

#: Under /v3 (and /v2): a domain's templates.
bp = Blueprint("templates", __name__)
#: /v4/templates: the account's templates, registered at the root.
bp_v4 = Blueprint("templates_v4", __name__)


def list_templates(owner: str) -> ResponseReturnValue:
    return jsonify(backend().list_templates(owner, query()))


def create_template(owner: str) -> ResponseReturnValue:
    return jsonify(backend().create_template(owner, params()))


def delete_templates(owner: str) -> ResponseReturnValue:
    return jsonify(backend().delete_template(owner))


def get_template(owner: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().get_template(owner, name, query().get("active")))


def update_template(owner: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().update_template(owner, name, params().get("description")))


def delete_template(owner: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().delete_template(owner, name))


def list_versions(owner: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().list_versions(owner, name, query()))


def create_version(owner: str, name: str) -> ResponseReturnValue:
    return jsonify(backend().create_version(owner, name, params()))


def get_version(owner: str, name: str, tag: str) -> ResponseReturnValue:
    return jsonify(backend().get_version(owner, name, tag))


def update_version(owner: str, name: str, tag: str) -> ResponseReturnValue:
    return jsonify(backend().update_version(owner, name, tag, params()))


def delete_version(owner: str, name: str, tag: str) -> ResponseReturnValue:
    return jsonify(backend().delete_version(owner, name, tag))


def copy_version(owner: str, name: str, tag: str, new_tag: str) -> ResponseReturnValue:
    return jsonify(backend().copy_version(owner, name, tag, new_tag, query().get("comment")))


_VIEWS: list[tuple[str, str, Callable[..., ResponseReturnValue]]] = [
    ("", "GET", list_templates), ("", "POST", create_template), ("", "DELETE", delete_templates),
    ("/<name>", "GET", get_template), ("/<name>", "PUT", update_template), ("/<name>", "DELETE", delete_template),
    ("/<name>/versions", "GET", list_versions), ("/<name>/versions", "POST", create_version),
    ("/<name>/versions/<tag>", "GET", get_version), ("/<name>/versions/<tag>", "PUT", update_version),
    ("/<name>/versions/<tag>", "DELETE", delete_version),
    ("/<name>/versions/<tag>/copy/<new_tag>", "PUT", copy_version),
]


def _for_domain(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    def bound(domain: str, **kwargs: str) -> ResponseReturnValue:
        return view(domain, **kwargs)
    return bound


def _for_account(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    def bound(**kwargs: str) -> ResponseReturnValue:
        return view("", **kwargs)
    return bound


for _path, _method, _view in _VIEWS:
    _name = f"{_view.__name__}_{_method.lower()}"
    bp.add_url_rule(f"/<domain>/templates{_path}", _name, _for_domain(_view), methods=[_method])
    bp_v4.add_url_rule(f"/v4/templates{_path}", _name, _for_account(_view), methods=[_method])
