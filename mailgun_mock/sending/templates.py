"""Rendering a stored template into a send, as Mailgun does: real Handlebars (pybars3) limited to
Mailgun's block helpers ``if``, ``unless``, ``each``, ``with`` and ``equal``; nested paths and HTML
escaping as handlebars.js. Pure but for pybars, which loads on first use (its grammar takes ~2 s
to build, so a mock that never renders a template never pays for it).
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..base.errors import BadRequest
from ..mail.html_text import html_to_text

__all__ = ["HELPERS", "MAX_TEMPLATE", "check_template", "render", "template_variables", "text_version"]

#: The block helpers Mailgun's templates offer.
HELPERS = ("if", "unless", "each", "with", "equal")
#: The largest template Mailgun stores, in characters.
MAX_TEMPLATE = 100 * 1024


class _Unsupported(Exception):
    pass


def _equal(this: Any, options: Mapping[str, Any], left: Any = None, right: Any = None) -> Any:
    """``{{#equal a "b"}}…{{else}}…{{/equal}}``: the block when both arguments read the same as text."""
    same = _text(left) == _text(right)
    return options["fn"](this) if same else options["inverse"](this)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _refuse(name: str) -> Any:
    def helper(*args: Any, **kwargs: Any) -> Any:
        raise _Unsupported(f"helper '{name}' is not available in Mailgun templates (they offer {', '.join(HELPERS)})")
    return helper


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Any:
    pybars = importlib.import_module("pybars")  # pybars3 ships no type information: typed as Any

    try:
        return pybars.Compiler().compile(source)
    except Exception as exc:  # pybars raises its own errors and PyMeta's ParseError
        raise BadRequest(f"template is not valid handlebars: {str(exc).splitlines()[0][:200]}") from None


def check_template(source: str) -> None:
    """Refuse a template that is too long or does not compile.

    :raises BadRequest: saying what is wrong.
    """
    if len(source) > MAX_TEMPLATE:
        raise BadRequest(f"template is too long: {len(source)} characters, at most {MAX_TEMPLATE}")
    _compiled(source)


def render(source: str, variables: Mapping[str, Any]) -> str:
    """``source`` rendered with ``variables`` (a missing variable renders as nothing).

    :raises BadRequest: for a template that does not compile or uses a helper Mailgun lacks.
    """
    pybars = importlib.import_module("pybars")

    helpers = {"equal": _equal, "log": _refuse("log"), "lookup": _refuse("lookup")}
    try:
        return str(_compiled(source)(dict(variables), helpers=helpers))
    except BadRequest:
        raise
    except (_Unsupported, pybars.PybarsError, RecursionError, TypeError, ValueError) as exc:
        raise BadRequest(f"template could not be rendered: {str(exc)[:200]}") from None


def template_variables(user_variables: Mapping[str, str], headers: Sequence[tuple[str, str]],
                       t_variables: str | None) -> dict[str, Any]:
    """The variables a template sees: ``v:`` values, then ``h:X-Mailgun-Variables``, then
    ``t:variables`` (or ``h:X-Mailgun-Template-Variables``), each overriding the one before.

    :raises BadRequest: when one of the JSON sources is not a JSON object.
    """
    merged: dict[str, Any] = dict(user_variables)
    sources = [(name, value) for name, value in headers if name.lower() == "x-mailgun-variables"]
    sources += [(name, value) for name, value in headers if name.lower() == "x-mailgun-template-variables"]
    if t_variables is not None:
        sources.append(("t:variables", t_variables))
    for name, value in sources:
        try:
            data = json.loads(value)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise BadRequest(f"'{name}' parameter is not a valid JSON object")
        merged.update(data)
    return merged


def text_version(html: str) -> str:
    """The plain-text part ``t:text=yes`` asks for: the rendered HTML as text."""
    return html_to_text(html)
