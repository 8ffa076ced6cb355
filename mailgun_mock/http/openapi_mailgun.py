"""Mailgun's own OpenAPI document, vendored (``mailgun_openapi/``, Apache-2.0), read for the operations
the mock serves, with the document's mistakes corrected in one listed place: :data:`CORRECTIONS`.

Two readers: :mod:`mailgun_mock.http.openapi` takes the operations of the paths the mock serves from
it (renamed to the mock's path parameters, references inlined, corrected), and the test suite checks
every JSON answer against :func:`response_schema`. Pure: plain dicts, no Flask.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import Any

__all__ = ["CORRECTIONS", "Correction", "mailgun_document", "mailgun_operation", "normal", "response_schema"]

Schema = dict[str, Any]
DOCUMENT = Path(__file__).with_name("mailgun_openapi") / "openapi.json"
_PLACEHOLDER = re.compile(r"\{[^}/]+\}")
_STR: Schema = {"type": "string"}
_TIME = "Go's mime.RFC822Time marshals as a date string (e.g. 'Thu, 11 Dec 2025 01:49:40 UTC'); the generator typed it as an object"


@dataclasses.dataclass(frozen=True)
class Correction:
    """One mistake of Mailgun's document, and what it should say.

    :param pointer: a JSON pointer into the vendored document (``/components/schemas/…`` or ``/paths/…``).
    :param value: what belongs there instead.
    :param reason: why: what Mailgun really answers, and where that is seen.
    """

    pointer: str
    value: Any
    reason: str


def _schema_pointer(name: str, *parts: str) -> str:
    return "/".join(["", "components", "schemas", name, *parts])


_OBJECT_ANY: Schema = {"type": "object"}
#: Every correction the mock applies to Mailgun's document, each with its reason.
CORRECTIONS: tuple[Correction, ...] = (
    *(Correction(_schema_pointer(f"github.com-mailgun-blackbook-model-{model}", "properties", field), _STR, _TIME)
      for model, field in (("Bounce", "created_at"), ("Unsubscribe", "created_at"), ("Complaint", "created_at"),
                           ("Whitelist", "createdAt"))),
    Correction(_schema_pointer("github.com-mailgun-influx-httpapi-GetMessageResponseBasicExample", "required"),
               ["recipients", "sender"],
               "A stored message's MIME headers are top-level keys only when the message has them "
               "(X-Mailgun-Tag with tags, X-Mailgun-Template-* for templated sends), and with "
               "Accept: message/rfc2822 the answer is body-mime instead of the parsed parts (reference §3.3); "
               "the document made every key of one example required"),
    Correction(_schema_pointer("github.com-mailgun-domains-httpapi-clickSettings", "properties", "active"),
               {"anyOf": [{"type": "boolean"}, {"const": "htmlonly"}]},
               "click tracking takes active=htmlonly (the document's own PUT description and Mailgun's "
               "tracking docs), which reads back as the string htmlonly"),
    Correction("/paths/~1v3~1lists/post/responses", {"200": {
        "description": "The list has been created",
        "content": {"application/json": {"schema": {"type": "object", "properties": {
            "list": {"type": "object", "properties": {
                **{key: _STR for key in ("address", "name", "description", "access_level", "reply_preference",
                                         "created_at")}, "members_count": {"type": "integer"}}},
            "message": _STR}, "required": ["list", "message"]}}}}},
               "creating a list answers 200, not 201: mailgun-go accepts only 200, 202 and 204 from the API and "
               "creates lists with it"),
    Correction(_schema_pointer("MessageObject", "required"), ["headers"],
               "Mailgun's event samples for opened, clicked, unsubscribed and complained carry only "
               "message.headers.message-id: no attachments, no size"),
    Correction(_schema_pointer("MessageObject", "properties", "headers", "required"), ["message-id"],
               "the same samples have no from header"),
)


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


@functools.lru_cache(maxsize=1)
def _corrected() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="ascii"))
    for correction in CORRECTIONS:
        *parents, last = [_unescape(p) for p in correction.pointer.split("/")[1:]]
        node: Any = document
        for part in parents:
            node = node[part]
        if last not in node:
            raise KeyError(f"correction {correction.pointer}: nothing there to correct")
        node[last] = copy.deepcopy(correction.value)
    return document


def mailgun_document() -> dict[str, Any]:
    """Mailgun's document with :data:`CORRECTIONS` applied (a fresh copy)."""
    return copy.deepcopy(_corrected())


def normal(path: str) -> str:
    """A path template with its placeholders made anonymous: ``/v3/{domain_name}/bounces`` -> ``/v3/{}/bounces``."""
    return _PLACEHOLDER.sub("{}", path)


@functools.lru_cache(maxsize=1)
def _by_normal() -> dict[str, str]:
    return {normal(path): path for path in _corrected()["paths"]}


def _inline(node: Any, schemas: dict[str, Any], depth: int = 0) -> Any:
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith("#/components/schemas/") and depth < 32:
            merged = {k: v for k, v in node.items() if k != "$ref"}
            resolved = _inline(schemas[target.rsplit("/", 1)[1]], schemas, depth + 1)
            return {**resolved, **merged} if merged else resolved
        return {key: _inline(value, schemas, depth) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, schemas, depth) for item in node]
    return node


def mailgun_operation(path: str, method: str) -> tuple[str, dict[str, Any]] | None:
    """Mailgun's path and operation for ``path`` (any placeholder names) and ``method``: corrected,
    every ``$ref`` inlined, path parameters renamed to ``path``'s own; ``None`` when undocumented."""
    mailgun_path = _by_normal().get(normal(path))
    if mailgun_path is None:
        return None
    document = _corrected()
    item = document["paths"][mailgun_path]
    if method.lower() not in item:
        return None
    operation: dict[str, Any] = _inline(copy.deepcopy(item[method.lower()]), document["components"]["schemas"])
    renames = dict(zip(_PLACEHOLDER.findall(mailgun_path), _PLACEHOLDER.findall(path)))
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            parameter["name"] = renames.get("{" + parameter["name"] + "}", "{" + parameter["name"] + "}")[1:-1]
    return mailgun_path, operation


def response_schema(path: str, method: str, status: int, media: str = "application/json") -> Schema | None:
    """The JSON schema Mailgun documents for this answer (corrected, references inlined), or ``None``
    when it documents no such status or media type for the operation."""
    found = mailgun_operation(path, method)
    if found is None:
        return None
    response = found[1].get("responses", {}).get(str(status))
    content = (response or {}).get("content") or {}
    entry = content.get(media)
    return None if entry is None else dict(entry.get("schema", {}))
