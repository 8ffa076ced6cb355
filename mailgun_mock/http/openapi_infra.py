"""The account infrastructure's part of the OpenAPI documents (pure, no Flask): which of Mailgun's
operations the mock serves for validation, DKIM keys, x509, IPs, pools, warmups, the IP allowlist,
inbox placement and email preview (:data:`OPERATIONS`, merged into ``FROM_MAILGUN``); the corrections
Mailgun's document needs there (:data:`CORRECTIONS`, merged into ``openapi_mailgun.CORRECTIONS``); and
the operations it lacks (:func:`infra_paths`: a domain's IPs, the control API's result makers).
"""

from __future__ import annotations

from typing import Any

from .openapi_schemas import Schema, ref

__all__ = ["CORRECTIONS", "OPERATIONS", "infra_paths"]

_JSON = "application/json"
_STR: Schema = {"type": "string"}
_INT: Schema = {"type": "integer"}
_NUM: Schema = {"type": "number"}
_BOOL: Schema = {"type": "boolean"}
_STRS: Schema = {"type": "array", "items": _STR}

#: Mailgun's operations served here: the mock's path -> methods (as ``FROM_MAILGUN``).
OPERATIONS: dict[str, tuple[str, ...]] = {
    "/v4/address/validate": ("get",),
    "/v1/dkim/keys": ("get", "post", "delete"), "/v4/domains/{authority_name}/keys": ("get",),
    "/v4/domains/{authority_name}/keys/{selector}/activate": ("put",),
    "/v4/domains/{authority_name}/keys/{selector}/deactivate": ("put",),
    "/v1/dkim_management/domains/{name}/rotation": ("put",), "/v1/dkim_management/domains/{name}/rotate": ("post",),
    "/v2/x509/{domain}/status": ("get",), "/v2/x509/{domain}": ("put", "post"),
    "/v3/ips": ("get",), "/v3/ips/{ip}": ("get",), "/v3/ips/{ip}/domains": ("get", "post", "delete"),
    "/v3/ips/{addr}/ip_band": ("post",), "/v3/ips/request/new": ("get", "post"),
    "/v3/domains/{name}/ips/{ip}": ("delete",), "/v3/domains/{name}/pool/{ip}": ("delete",),
    "/v3/ip_pools": ("get", "post"), "/v3/ip_pools/{pool_id}": ("get", "delete", "patch"),
    "/v3/ip_pools/{pool_id}/domains": ("get",), "/v3/ip_pools/{pool_id}/ips/{ip}": ("put", "delete"),
    "/v3/ip_pools/{pool_id}/ips.json": ("post",),
    "/v3/ip_warmups": ("get",), "/v3/ip_warmups/{addr}": ("get", "post", "delete"),
    "/v2/ip_whitelist": ("get", "put", "post", "delete"),
    "/v3/domains/{name}/dynamic_pools": ("post", "delete"), "/v3/domains/dynamic_pools/assignable": ("get",),
    "/v3/domains/all/dynamic_pools/enroll": ("post",), "/v3/dynamic_pools": ("get",),
    "/v3/dynamic_pools/all": ("post", "delete"), "/v3/dynamic_pools/{pool_name}/{ip}": ("post",),
    "/v3/dynamic_pools/{pool_name}": ("patch",), "/v1/dynamic_pools/domains": ("get",),
    "/v1/dynamic_pools/domains/{name}/preview": ("get",), "/v1/dynamic_pools/domains/{name}/history": ("get",),
    "/v1/dynamic_pools/domains/{name}/override": ("put", "delete"), "/v1/dynamic_pools/history": ("get",),
    "/v4/inbox/results/{result}": ("get",), "/v1/preview/tests/{test_id}/results": ("get",),
}


def _obj(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _ok(path: str, method: str, status: str = "200") -> str:
    return f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}/responses/{status}/content/application~1json/schema"


_MESSAGE = _obj(("message",), message=_STR)
_STRING = ("the document types this answer as a string; Mailgun answers the JSON object of the document's own "
           "example, which this schema describes")
_WARMUP = _obj(("ip", "sent_within_stage", "throttle", "stage_number", "stage_start_volume", "stage_start_time",
                "stage_volume_limit"), ip=_STR, sent_within_stage=_STR, throttle=_INT, stage_number=_INT,
               stage_start_volume=_INT, stage_start_time=_STR, stage_volume_limit=_INT)
_HISTORY = ref("github.com-mailgun-bandersnatch-model-HistoryRecord")
_PAGING = _obj(("Next", "Previous", "First", "Last"), Next=_STR, Previous=_STR, First=_STR, Last=_STR)
_BAND = _obj(("value", "band"), value=_NUM, band=_STR)

#: Corrections of Mailgun's document for these operations: (JSON pointer, value, reason).
CORRECTIONS: tuple[tuple[str, Any, str], ...] = (
    (_ok("/v3/ips", "get"), _obj(("items", "total_count"), items=_STRS, total_count=_INT, assignable_to_pools=_STRS,
                                 details={"type": "array", "items": _obj(("ip",), ip=_STR, is_on_warmup=_BOOL)}), _STRING),
    (_ok("/v3/ips/{ip}", "get"), _obj(("ip", "dedicated", "rdns"), ip=_STR, dedicated=_BOOL, rdns=_STR), _STRING),
    *((_ok(path, method), _MESSAGE, _STRING) for path, method in (
        ("/v3/ips/{addr}/ip_band", "post"), ("/v3/ips/request/new", "post"), ("/v3/ip_pools/{pool_id}", "patch"),
        ("/v3/ip_pools/{pool_id}/ips/{ip}", "put"), ("/v3/ip_pools/{pool_id}/ips/{ip}", "delete"),
        ("/v3/ip_pools/{pool_id}/ips.json", "post"), ("/v3/dynamic_pools/{pool_name}/{ip}", "post"),
        ("/v3/dynamic_pools/{pool_name}", "patch"))),
    (_ok("/v3/ips/request/new", "get"), _obj(("allowed",), allowed=_obj(("dedicated",), dedicated=_INT, shared=_INT)),
     _STRING),
    (_ok("/v3/ip_pools", "get"), _obj(("ip_pools", "message"), message=_STR, ip_pools={"type": "array", "items": _obj(
        ("pool_id", "name", "description", "ips", "is_linked"), pool_id=_STR, name=_STR, description=_STR, ips=_STRS,
        is_linked=_BOOL, is_inherited=_BOOL)}), _STRING),
    (_ok("/v3/ip_pools", "post"), _obj(("message", "pool_id"), message=_STR, pool_id=_STR), _STRING),
    (_ok("/v3/ip_pools/{pool_id}", "get"), _obj(("details", "message"), message=_STR, details=_obj(
        ("pool_id", "name", "description", "ips", "is_linked"), pool_id=_STR, name=_STR, description=_STR, ips=_STRS,
        is_linked=_BOOL, linked_domains=_STRS)), _STRING),
    (_ok("/v3/ip_pools/{pool_id}", "delete"), _MESSAGE,
     "the document types this answer as a string with the example of GET /v3/ips/request/new; deleting a pool "
     "answers a message, as every other change of a pool does"),
    (_ok("/v3/ip_pools/{pool_id}/domains", "get"), _obj(("domains", "paging"), paging=_obj(first=_STR, next=_STR),
                                                         domains={"type": "array", "items": _obj(("id", "name"), id=_STR, name=_STR)}),
     _STRING),
    (_ok("/v3/ip_warmups", "get"), _obj(("items", "paging"), items={"type": "array", "items": _WARMUP},
                                        paging={"type": "object", "additionalProperties": _STR}),
     "the document requires a message of this answer, whose own example is a page of warmups"),
    (_ok("/v3/ip_warmups/{addr}", "get"), _obj(("details",), details=_obj(
        ("stage", "stage_limit", "total_stages"), sent_within_stage=_STR, throttle=_INT, start_volume=_INT, stage=_INT,
        stage_limit=_INT, hourly_limit=_INT, stage_started_at=_STR, hour_started_at=_STR, plan_started_at=_STR,
        plan_last_updated_at=_STR, total_stages=_INT, stage_history={"type": "array", "items": _obj(
            first_updated_at=_STR, completed_at=_STR, limit=_INT)})),
     "the document requires a message of this answer, whose own example is a warmup's details"),
    (_ok("/v3/dynamic_pools", "get"), _obj(good_reputation=_STRS, poor_reputation=_STRS, new_senders=_STRS,
                                           pools={"type": "array", "items": _obj(
                                               ("id", "name", "ips"), account_id=_STR, enabled=_BOOL, id=_STR, ips=_STRS,
                                               name=_STR)}),
     "the document makes every value an object; its own example holds lists of IPs"),
    (_ok("/v1/dynamic_pools/domains/{name}/preview", "get"), _obj(("pool", "results"), pool=_STR, results=_obj(
        bounce_rate=_BAND, complaint_rate=_BAND, processed_count=_BAND)),
     "the document makes every value an object; its own example's pool is a string"),
    *((_ok("/v1/dynamic_pools/domains/{name}/override", method), _MESSAGE,
       "the document makes every value an object; its own example is {message: success}") for method in ("put", "delete")),
    (_ok("/v1/dynamic_pools/domains/{name}/history", "get"), _obj(
        ("items", "total_items", "paging"), items={"type": "array", "items": _HISTORY}, total_items=_INT, paging=_PAGING),
     "a domain's history is a list of records like the account's (GET /v1/dynamic_pools/history, 'List domain "
     "history'); the document gives one record"),
    ("/components/schemas/github.com-mailgun-terminator-httpapi-StatusResponse/properties/status",
     {"type": "string", "enum": ["expired", "processing", "active", "error"]},
     "the status is one of the words its description lists, a string; the document types it as an object"),
)


def infra_paths() -> dict[str, dict[str, Any]]:
    """Operations of these families that Mailgun's document lacks: a domain's IPs (as Mailgun's API and
    its SDKs have them) and the control API's makers of placement and preview results."""

    def op(op_id: str, summary: str, ok: Schema, errors: tuple[int, ...] = (404,), body: Schema | None = None) -> Schema:
        responses: dict[str, Any] = {"200": {"description": "OK", "content": {_JSON: {"schema": ok}}},
                                     "401": {"$ref": "#/components/responses/Unauthorized"}}
        for status in errors:
            responses[str(status)] = {"description": "Error", "content": {_JSON: {"schema": ref("Error")}}}
        operation: Schema = {"operationId": op_id, "summary": summary, "responses": responses}
        if body is not None:
            operation["requestBody"] = {"required": True, "content": body}
        return operation

    name = {"name": "name", "in": "path", "required": True, "schema": _STR, "description": "The domain."}
    form = {media: {"schema": {"type": "object", "properties": {"ip": _STR, "pool_id": _STR}}}
            for media in ("application/x-www-form-urlencoded", "multipart/form-data")}
    anything = {_JSON: {"schema": {"type": "object"}}}
    validate = {media: {"schema": {"type": "object", "properties": {"address": _STR, "provider_lookup": _STR},
                                   "required": ["address"]}}
                for media in ("application/x-www-form-urlencoded", "multipart/form-data")}
    return {
        "/v4/address/validate": {"post": op(
            "validateAddressByForm", "Validate one address given as a form field (as GET does by query)",
            _obj(("address", "is_disposable_address", "is_role_address", "reason", "result", "risk"), address=_STR,
                 is_disposable_address=_BOOL, is_role_address=_BOOL, reason=_STRS, result=_STR, risk=_STR,
                 did_you_mean=_STR, root_address=_STR, engagement={"type": ["object", "null"]}), (400,), validate)},
        **{f"/{version}/domains/{{name}}/ips": {
            "parameters": [name],
            "get": op(f"listDomainIps{suffix}", "The IPs a domain sends from", _obj(
                ("items", "total_count"), items=_STRS, total_count=_INT)),
            "post": op(f"addDomainIp{suffix}", "Assign an IP (ip) or link a dedicated IP pool (pool_id)", _MESSAGE,
                       (400, 404), form),
        } for version, suffix in (("v3", ""), ("v2", "V2"))},
        "/mock/inbox_results": {"post": op(
            "createInboxResult", "Hold an inbox placement result for GET /v4/inbox/results/{id}",
            _obj(("result",), result={"type": "object"}), (400,), anything)},
        "/mock/preview_tests": {"post": op(
            "createPreviewTest", "Hold an email preview test for GET /v1/preview/tests/{id}/results",
            _obj(("id", "results"), id=_STR, results={"type": "object"}), (400,), anything)},
    }
