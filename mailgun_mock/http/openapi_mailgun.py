"""Mailgun's own OpenAPI document, vendored (``mailgun_openapi/``, Apache-2.0), read for the operations
the mock serves, with the document's mistakes corrected in one listed place: :data:`CORRECTIONS`.

Two readers: :mod:`mailgun_mock.http.openapi` takes from it the operations the mock serves
(:data:`FROM_MAILGUN`, laid out by :func:`served_operations`: renamed to the mock's path parameters,
references inlined, corrected, with the mock's 401 and ``{"message"}`` errors), and the test suite
checks every JSON answer against :func:`response_schema`. Pure: plain dicts, no Flask.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import Any

from . import openapi_infra
from .openapi_schemas import ref

__all__ = ["CORRECTIONS", "FROM_MAILGUN", "Correction", "mailgun_document", "mailgun_operation", "normal",
           "response_schema", "served_operations"]

Schema = dict[str, Any]
_JSON = "application/json"
_MULTIPART = "multipart/form-data"
_SUPPRESSIONS = ("bounces", "unsubscribes", "complaints", "whitelists")
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


_BC = "github.com-mailgun-bounce-classification-"
_RESOLUTION = {"$ref": f"#/components/schemas/{_BC}entities-Resolution"}
#: The analytics groups' corrections (stats, tags, metrics, logs, bounce classification).
_ANALYTICS_CORRECTIONS: tuple[Correction, ...] = (
    Correction(_schema_pointer("github.com-mailgun-tags-api-pkg-api-model-CustomTime"), _STR,
               "a tag's first_seen/last_seen is a Go time that marshals as a date string; the generator typed "
               "it as an empty object (the document's example shows {})"),
    *(Correction(_schema_pointer(f"{_BC}internal-api-MetricsRequest", "properties", field), _STR, _TIME)
      for field in ("start", "end")),
    *(Correction(_schema_pointer(f"{_BC}internal-api-{model}", "properties", "resolution"), _RESOLUTION,
                 "the resolution is the string 'day' or 'hour' (the document's own examples); 'type: object' "
                 "beside the string enum made every value invalid")
      for model in ("MetricsRequest", "MetricsResponse")),
    Correction("/paths/~1v3~1domains~1{domain}~1tag~1countries/get/responses", {"200": {
        "description": "The country codes tag statistics can be filtered by", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"items": {"type": "array", "items": _STR}},
                       "required": ["items"]}}}}},
               "the document gives only a 'default' response, in the shape its devices and providers siblings "
               "answer with 200"),
    Correction("/paths/~1v1~1bounce-classification~1domains~1{domain}~1events/get/responses", {
        "200": {"description": "The domain's classified failures, in the Logs API's shape",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["items", "paging"], "properties": {
                        "items": {"type": "array", "items": {"allOf": [
                            {"$ref": "#/components/schemas/github.com-mailgun-logs-api-pkg-api-model-LogEvent"},
                            {"type": "object", "required": ["entity-id", "rule-id"],
                             "properties": {"entity-id": _STR, "rule-id": _STR}}]}},
                        "paging": {"type": "object", "properties": {"next": _STR, "previous": _STR}}}}}}},
        "403": {"description": "A 403 response", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"message": _STR}, "required": ["message"]}}}}},
               "the document lists only 403 and 410 (the path is deprecated in favour of the Logs API); the mock "
               "still answers the classified failures behind the other bounce-classification paths, in the Logs "
               "API's item shape plus the entity-id and rule-id that classified them"),
)


_OBJECT_ANY: Schema = {"type": "object"}
#: Every correction the mock applies to Mailgun's document, each with its reason.
CORRECTIONS: tuple[Correction, ...] = (
    *(Correction(*correction) for correction in openapi_infra.CORRECTIONS),
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
    *(Correction(_schema_pointer("github.com-mailgun-scout-model-tags-TagItem", "properties", field), _STR,
                 "a tag's dates read like the document's own example, '2023-01-02 02:14:27 +0000 UTC' (Go's "
                 "time.String()), which is not the RFC 3339 date-time the schema announces")
      for field in ("first-seen", "last-seen")),
    Correction(_schema_pointer("MessageObject", "required"), ["headers"],
               "Mailgun's event samples for opened, clicked, unsubscribed and complained carry only "
               "message.headers.message-id: no attachments, no size"),
    Correction(_schema_pointer("MessageObject", "properties", "headers", "required"), ["message-id"],
               "the same samples have no from header"),
    *_ANALYTICS_CORRECTIONS,
    *(Correction(_schema_pointer(f"github.com-mailgun-thresholds-api-{model}", "properties", field),
                 {"$ref": f"#/components/schemas/github.com-mailgun-thresholds-api-{target}"},
                 "a send alert's metric, comparator and dimension are the enum strings the document lists (its own "
                 "examples); the generator wrapped each in 'type: object', which no string satisfies")
      for model, field, target in (("Filter", "dimension", "Dimension"), ("Filter", "comparator", "FilterComparator"),
                                   *((item, f, t) for item in ("SendAlertItem", "SendAlertRequest") for f, t in (
                                       ("metric", "Metric"), ("comparator", "MetricComparator"),
                                       ("dimension", "Dimension"))))),
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


# -- the operations the mock serves as Mailgun documents them ------------------------------------

#: The operations described by Mailgun's own document (:mod:`.openapi_mailgun`): the mock's path (its
#: placeholder names) -> methods. Paths under /v3 are served under /v2 as well.
FROM_MAILGUN: dict[str, tuple[str, ...]] = {
    **openapi_infra.OPERATIONS,
    **{f"/v3/{{domain}}/{kind}": ("get", "post", "delete") for kind in _SUPPRESSIONS},
    **{f"/v3/{{domain}}/{kind}/{{address}}": ("get", "delete") for kind in _SUPPRESSIONS},
    **{f"/v3/{{domain}}/{kind}/import": ("post",) for kind in _SUPPRESSIONS},
    "/v4/domains": ("get", "post"), "/v4/domains/{name}": ("get", "put"), "/v4/domains/{name}/verify": ("put",),
    "/v3/domains": ("get", "post"), "/v3/domains/{name}": ("get", "put", "delete"),
    "/v3/domains/{name}/verify": ("put",), "/v3/domains/{name}/tracking": ("get",),
    **{f"/v3/domains/{{name}}/tracking/{kind}": ("put",) for kind in ("open", "click", "unsubscribe")},
    "/v3/domains/{name}/credentials": ("get", "post", "delete"),
    "/v3/domains/{name}/credentials/{spec}": ("put", "delete"), "/v3/domains/{name}/sending_queues": ("get",),
    "/v3/{domain}/templates": ("get", "post", "delete"), "/v3/{domain}/templates/{name}": ("get", "put", "delete"),
    "/v3/{domain}/templates/{name}/versions": ("get", "post"),
    "/v3/{domain}/templates/{name}/versions/{tag}": ("get", "put", "delete"),
    "/v3/{domain}/templates/{name}/versions/{tag}/copy/{new_tag}": ("put",),
    "/v4/templates": ("get", "post", "delete"), "/v4/templates/{name}": ("get", "put", "delete"),
    "/v4/templates/{name}/versions": ("get", "post"), "/v4/templates/{name}/versions/{tag}": ("get", "put", "delete"),
    "/v4/templates/{name}/versions/{tag}/copy/{new_tag}": ("put",),
    "/v3/lists": ("get", "post"), "/v3/lists/pages": ("get",), "/v3/lists/{address}": ("get", "put", "delete"),
    "/v3/lists/{address}/members": ("get", "post"), "/v3/lists/{address}/members/pages": ("get",),
    "/v3/lists/{address}/members/{member}": ("get", "put", "delete"),
    "/v3/lists/{address}/members.json": ("post",), "/v3/lists/{address}/members.csv": ("post",),
    "/v4/domains/{domain}/webhooks": ("post", "put", "delete"),
    "/v1/keys": ("get", "post"), "/v1/keys/{key_id}": ("delete",), "/v1/keys/public": ("post",),
    "/v5/accounts": ("put",), "/v5/accounts/http_signing_key": ("get", "post"),
    "/v5/accounts/resend_activation_email": ("post",), "/v5/sandbox/auth_recipients": ("get", "post"),
    "/v5/sandbox/auth_recipients/{email}": ("delete",), "/v3/{domain}/envelopes": ("delete",),
    "/v3/domains/{name}/dkim_authority": ("put",), "/v3/domains/{name}/dkim_selector": ("put",),
    "/v3/domains/{name}/limits/tag": ("get",), "/v3/{domain}/tags": ("get",), "/v3/{domain}/tag": ("get", "put", "delete"),
    **{path: ("get",) for path in (  # analytics: stats, tag statistics, bounce classification
        "/v3/stats/total", "/v3/stats/total/domains", "/v3/stats/filter", "/v3/{domain}/stats/total",
        "/v3/{domain}/tag/stats", "/v3/{domain}/tag/stats/aggregates", "/v1/analytics/tags/limits",
        *(f"/v3/{{domain}}/aggregates/{kind}" for kind in ("providers", "devices", "countries")),
        *(f"/v3/domains/{{domain}}/tag/{kind}" for kind in ("providers", "devices", "countries")),
        *(f"/v1/bounce-classification/{tail}" for tail in (
            "stats", "domains", "domains/{domain}/entities", "domains/{domain}/entities/{entity_id}/rules",
            "domains/{domain}/events", "config/entities", "config/rules")))},
    **{path: ("post",) for path in ("/v1/analytics/metrics", "/v1/analytics/usage/metrics", "/v1/analytics/logs",
                                    "/v2/bounce-classification/metrics")},
    "/v1/analytics/tags": ("put", "post", "delete"),
    "/v5/accounts/subaccounts": ("get", "post", "delete"), "/v5/accounts/subaccounts/{subaccount_id}": ("get",),
    "/v5/accounts/subaccounts/{subaccount_id}/disable": ("post",),
    "/v5/accounts/subaccounts/{subaccount_id}/enable": ("post",),
    "/v5/accounts/subaccounts/{subaccount_id}/features": ("put",),
    "/v5/accounts/subaccounts/{subaccount_id}/limit/custom/monthly": ("get", "put", "delete"),
    "/v5/accounts/limit/custom/monthly": ("get", "put", "delete"), "/v5/accounts/limit/custom/enable": ("put",),
    "/v5/accounts/subaccounts/ip_pools/all": ("get",), "/v5/accounts/subaccounts/{subaccountId}/ip_pool": ("put", "delete"),
    "/v5/users": ("get",), "/v5/users/{user_id}": ("get",), "/v5/users/me": ("get",),
    "/v1/thresholds/alerts/send": ("get", "post"), "/v1/thresholds/alerts/send/{name}": ("get", "put", "delete"),
    "/v1/thresholds/hits": ("get",),
}
#: Mock paths Mailgun's document describes under another version: the /v3 forms of the domains API.
_ALIASES = {"/v3/domains": "/v4/domains", "/v3/domains/{name}": "/v4/domains/{name}",
            "/v3/domains/{name}/verify": "/v4/domains/{name}/verify",
            # The account's templates (/v4/templates) answer as a domain's do.
            **{f"/v4/templates{tail}": f"/v3/{{domain}}/templates{tail}" for tail in (
                "", "/{name}", "/{name}/versions", "/{name}/versions/{tag}", "/{name}/versions/{tag}/copy/{new_tag}")}}
_NOT_FORMS = {"application/form-data": _MULTIPART}  # Mailgun's document names a media type that doesn't exist


def _from_mailgun(path: str, method: str, suffix: str) -> Schema:
    """Mailgun's operation as the mock serves it: its 401 (plain ``Forbidden``, as observed), and the
    mock's ``{"message"}`` errors beside whatever error shapes Mailgun documents."""
    found = mailgun_operation(path, method)
    if found is None and path in _ALIASES:
        found = mailgun_operation(_ALIASES[path], method)
        suffix = "-v3form" + suffix
    if found is None:
        raise KeyError(f"{method.upper()} {path} is not in Mailgun's document")
    op = found[1]
    op["operationId"] = op.get("operationId", f"{method}{path}") + suffix
    names = set(re.findall(r"{([^}]+)}", path))  # an alias may name parameters this path lacks
    op["parameters"] = [p for p in op.get("parameters", []) if p.get("in") not in ("header", "path")
                        or p.get("in") == "path" and p.get("name") in names]
    body = op.get("requestBody")
    if body is not None:
        # (the metrics operations also list a media type "none": no body is no media type at all)
        body["content"] = {_NOT_FORMS.get(media, media): entry for media, entry in body.get("content", {}).items()
                           if "/" in _NOT_FORMS.get(media, media)}
    responses = op.setdefault("responses", {})
    for status in ("400", "404", *(("413",) if body is not None else ())):
        documented = responses.get(status, {}).get("content", {}).get(_JSON, {}).get("schema")
        schema = ref("Error") if documented is None else {"anyOf": [documented, ref("Error")]}
        responses[status] = {"description": responses.get(status, {}).get("description", "Error"),
                             "content": {_JSON: {"schema": schema}}}
    responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
    for response in responses.values():
        if "$ref" not in response:
            response.setdefault("description", "")
    op.pop("tags", None)
    return op


#: The tag paths of Mailgun's older documentation, which the official Python SDK builds: each is served
#: as the documented operation it names, with the tag (and the aggregate's kind) in the path.
_SDK_TAG_PATHS = {"/v3/{domain}/tags/{tag}": ("/v3/{domain}/tag", ("get", "put", "delete")),
                  "/v3/{domain}/tags/{tag}/stats": ("/v3/{domain}/tag/stats", ("get",)),
                  "/v3/{domain}/tags/{tag}/stats/aggregates/{kind}": ("/v3/{domain}/tag/stats/aggregates", ("get",))}


def _sdk_tag_operation(path: str, documented: str, method: str, suffix: str) -> Schema:
    op = _from_mailgun(documented, method, "-sdkpath" + suffix)
    op["parameters"] = [p for p in op["parameters"] if p.get("name") not in ("tag", "type")] + [
        {"name": name, "in": "path", "required": True, "schema": _STR,
         "description": "The tag" if name == "tag" else "countries, devices or providers"}
        for name in re.findall(r"{(tag|kind)}", path)]
    return op


def served_operations() -> dict[str, dict[str, Any]]:
    """Every operation of :data:`FROM_MAILGUN` as the mock's document lays it out (``/v3`` paths also under
    ``/v2``), and the SDK's older tag paths."""
    paths: dict[str, dict[str, Any]] = {}
    for path, (documented, methods) in _SDK_TAG_PATHS.items():
        for prefix in ("/v3", "/v2"):
            suffix = "" if prefix == "/v3" else prefix[1:].upper()
            paths[prefix + path[3:]] = {m: _sdk_tag_operation(path, documented, m, suffix) for m in methods}
    for path, methods in FROM_MAILGUN.items():
        for prefix in (("/v3", "/v2") if path.startswith("/v3/") else (path[:3],)):  # v1, v4, v5 served once
            item = paths.setdefault(prefix + path[3:], {})
            for method in methods:
                item[method] = _from_mailgun(path, method, "" if prefix == path[:3] else prefix[1:].upper())
    return paths
