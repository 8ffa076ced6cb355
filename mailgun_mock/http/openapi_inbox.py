"""The web inbox's part of the OpenAPI document: its pages (HTML), its JSON under ``/mock/`` and the
bridge to the API (pure, no Flask).

These operations take the inbox's own rule rather than the API key alone: open to clients on the
server's machine, else ``--ui-auth`` credentials or the API key (user ``api``); refused, a 401 JSON
with the inbox's realm.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .openapi_schemas import Schema, array, ref

__all__ = ["inbox_paths"]

_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_HTML = "text/html"
_STR: Schema = {"type": "string"}
_NUM: Schema = {"type": "number"}
_INT: Schema = {"type": "integer"}
_BOOL: Schema = {"type": "boolean"}
_ANY: Schema = {}
_ERROR = {"content": {_JSON: {"schema": ref("Error")}}}
_ERRORS = {400: "The request is invalid; the message says what is wrong.",
           404: "No such message, delivery, file or suppression.",
           408: "wait= passed and no message matched.",
           413: "The request exceeds the size limit."}
_UNAUTHORIZED = {
    "description": "The inbox needs --ui-auth credentials (or user 'api' with the API key) from this client.",
    "headers": {"WWW-Authenticate": {"required": True, "schema": {"type": "string", "pattern": "^Basic realm="}}},
    "content": {_JSON: {"schema": ref("Error")}},
}
_ID = {"name": "entry_id", "in": "path", "required": True, "description": "The message's inbox id.",
       "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,200}$"}}


def _obj(fields: dict[str, Schema], required: Iterable[str] | None = None, *, closed: bool = False) -> Schema:
    schema: Schema = {"type": "object", "properties": fields,
                      "required": list(fields if required is None else required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _path(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def _query(name: str, schema: Schema = _STR, description: str = "") -> Schema:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _op(op_id: str, summary: str, ok: Schema | None, *, media: str = _JSON, params: Iterable[Schema] = (),
        body: Schema | None = None, errors: Iterable[int] = ()) -> Schema:
    """One operation of the inbox: 200 with ``ok`` in ``media``, the listed errors, and the inbox's 401."""
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {media: {"schema": ok or _ANY}}}}
    for code in [*errors, *([413] if body is not None else [])]:
        responses[str(code)] = {"description": _ERRORS[code], **_ERROR}
    responses["401"] = _UNAUTHORIZED
    op: Schema = {"operationId": "inbox" + op_id[0].upper() + op_id[1:], "summary": summary, "responses": responses, "tags": ["inbox"],
                  "security": [{}, {"basicAuth": []}]}
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = body
    return op


def _page(op_id: str, summary: str, params: Iterable[Schema] = (), errors: Iterable[int] = ()) -> Schema:
    return _op(op_id, summary, {"type": "string"}, media=_HTML, params=params, errors=errors)


def _json_body(fields: dict[str, Schema], required: Iterable[str]) -> Schema:
    return {"required": True, "content": {_JSON: {"schema": _obj(fields, required, closed=True)}}}


def _form_body(fields: dict[str, Schema], required: Iterable[str] = ()) -> Schema:
    schema = _obj(fields, required, closed=True)
    return {"required": bool(list(required)), "content": {_FORM: {"schema": schema}, _MULTIPART: {"schema": schema}}}


_ATTACHMENT = _obj({"index": _INT, "filename": _STR, "content_type": _STR, "size": _INT})
_STATUS = {"type": "string", "enum": ["accepted", "delivered", "deferred", "failed", "opened", "clicked",
                                      "unsubscribed", "complained", "unrouted", "routed", "retrying"]}
_MESSAGE_ITEM = _obj({
    "id": _STR, "direction": {"type": "string", "enum": ["sent", "received"]}, "domain": _STR, "message_id": _STR,
    "date": _NUM, "from": _STR, "to": _STR, "cc": _STR, "recipients": array(_STR), "sender": _STR, "subject": _STR,
    "tags": array(_STR), "size": _INT, "attachments": array(_ATTACHMENT), "preview": _STR, "test_mode": _BOOL,
    "status": _STATUS, "read": _BOOL, "text": _STR, "links": array(_STR), "codes": array(_STR),
})
_MESSAGE_LIST = _obj({"items": array(_MESSAGE_ITEM), "total_count": _INT, "unread_count": _INT,
                      "facets": _obj({"domains": array(_STR), "tags": array(_STR), "statuses": array(_STR)})})
_NULLABLE_LIST = {"type": ["array", "null"]}
_MESSAGE_DETAIL = {"allOf": [_MESSAGE_ITEM, _obj({
    "headers": array(array(_STR)), "html": _STR, "stripped_text": _STR, "stripped_signature": _STR,
    "timeline": array({"type": "object"}), "deliveries": array({"type": "object"}),
    "options": {"type": ["object", "null"]}, "trace": _NULLABLE_LIST, "engagement": array(_STR),
})]}
_ROUTE_OUTCOME = _obj({"id": _STR, "priority": _INT, "expression": _STR, "matched": _BOOL,
                       "captures": {"type": "object"}, "explanation": _STR, "timed_out": array(_STR)})
_DONE = _obj({"message": _STR}, closed=False)
_ATTEMPT = _obj({"message": _STR, "attempt": {"type": "object"}})
_LIST_PARAMS = [
    _query("to", description="Part of a recipient address or of the To/Cc headers, any case"),
    _query("from", description="Part of the From header or the envelope sender"),
    _query("subject", description="Part of the subject"),
    _query("q", description="Words that must all appear in the addresses, subject or text"),
    _query("direction", {"type": "string", "enum": ["sent", "received"]}),
    _query("tag"), _query("domain"), _query("status", _STATUS), _query("message_id"),
    _query("unread", {"type": "string", "enum": ["1", "0", "true", "false"]}),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size (default 50)"),
    _query("skip", {"type": "integer", "minimum": 0}),
    _query("pattern", description="A regular expression replacing the one-time code finder (its first group)"),
    _query("wait", {"type": "number", "minimum": 0, "maximum": 2},
           "Seconds to wait for a first match (up to 300; 408 when none comes)"),
]
_DOMAIN_QUERY = [_query("domain", description="The domain shown (default: the first served or seen)")]


def inbox_paths() -> dict[str, dict[str, Any]]:
    """The inbox's path items, keyed by their full path."""
    ids: dict[str, Any] = {"params": [_ID], "errors": [404]}
    return {
        # -- pages (HTML) --
        "/": {"get": _page("page", "The inbox: message list and message side by side")},
        "/messages/{entry_id}": {"get": _page("messagePage", "The inbox with one message open", **ids)},
        "/ui/message/{entry_id}": {"get": _page("messageFragment", "One message's view (an HTML fragment)",
                                                **ids)},
        "/view/latest.html": {"get": _page("latestHtml", "The newest message's HTML part, inert", errors=[404])},
        "/deliveries": {"get": _page("deliveriesPage", "Webhook attempts with their signed payloads")},
        "/routes": {"get": _page("routesPage", "Routes, and a dry run for ?address= and &headers=",
                                 params=[_query("address"), _query("headers")])},
        "/events": {"get": _page("eventsPage", "The Events API's log, with its filters", params=[
            *_DOMAIN_QUERY, _query("page", description="A page token"),
            *(_query(name) for name in ("event", "recipient", "from", "to", "subject", "message-id", "tags",
                                         "severity", "begin", "end", "ascending", "limit"))])},
        "/webhooks": {"get": _page("webhooksPage", "A domain's webhooks", params=_DOMAIN_QUERY)},
        "/suppressions": {"get": _page("suppressionsPage", "A domain's suppression lists", params=_DOMAIN_QUERY)},
        "/rules": {"get": _page("rulesPage", "The mock's delivery rules")},
        "/simulate": {"get": _page("simulatePage", "Simulate inbound mail: a form and an .eml drop zone")},
        "/favicon.ico": {"get": _op("favicon", "The inbox's icon", {"type": "string"}, media="image/svg+xml")},
        "/ui/static/{name}": {"get": {**_op("static", "The inbox's script, styles and icon", None,
                                            media="*/*", errors=[404]),
                                      "parameters": [_path("name", _STR, "The file's name")]}},
        # -- JSON under /mock --
        "/mock/messages": {
            "get": _op("listMessages", "Sent and received mail, newest first, filtered, with links and codes",
                       _MESSAGE_LIST, params=_LIST_PARAMS, errors=[400, 408]),
            "delete": _op("deleteMessages", "Delete messages", _obj({"message": _STR, "deleted": _INT}), errors=[400],
                          body=_json_body({"ids": array(_STR)}, ["ids"])),
        },
        "/mock/messages/read": {"post": _op("markRead", "Mark messages read or unread", _DONE, errors=[400],
                                            body=_json_body({"ids": array(_STR), "read": _BOOL}, ["ids"]))},
        "/mock/messages/{entry_id}": {
            "get": _op("getMessage", "One message in full: parts, headers, options, events, attempts, route trace",
                       _MESSAGE_DETAIL, **ids),
            "delete": _op("deleteMessage", "Delete one message", _obj({"message": _STR, "deleted": _INT}), **ids),
        },
        "/mock/messages/{entry_id}/html": {"get": _op(
            "messageHtml", "The HTML part, under a CSP that runs nothing (remote=1: remote images load)",
            {"type": "string"}, media=_HTML, params=[_ID, _query("remote", {"type": "string", "enum": ["0", "1"]})],
            errors=[404])},
        "/mock/messages/{entry_id}/raw": {"get": _op("messageRaw", "The raw source as text", {"type": "string"},
                                                     media="text/plain", **ids)},
        "/mock/messages/{entry_id}/eml": {"get": _op("messageEml", "The raw source as an .eml download",
                                                     {"type": "string"}, media="message/rfc822", **ids)},
        "/mock/messages/{entry_id}/attachments/{index}": {"get": _op(
            "messageAttachment", "An attachment (inline=1 previews raster images)", None, media="*/*", params=[
                _ID, _path("index", {"type": "integer", "minimum": 0}, "From 0"),
                _query("inline", {"type": "string", "enum": ["0", "1"]})], errors=[404])},
        "/mock/messages/{entry_id}/events": {"post": _op(
            "triggerEvent", "Emit an engagement event for a sent message, as a delivery rule would", _DONE,
            params=[_ID], errors=[400, 404],
            body=_json_body({"event": {"type": "string", "enum": ["opened", "clicked", "unsubscribed", "complained"]},
                             "recipient": _STR, "country": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                             "device": {"type": "string", "enum": ["desktop", "mobile", "tablet", "unknown"]}},
                            ["event"]))},
        "/mock/deliveries/{delivery_id}/retry": {"post": _op(
            "retryDelivery", "Run a webhook's waiting retry now", _ATTEMPT, errors=[404],
            params=[_path("delivery_id", _STR, "The delivery's id")])},
        "/mock/deliveries/{delivery_id}/replay": {"post": _op(
            "replayDelivery", "POST a finished webhook again, as a new delivery", _ATTEMPT, errors=[404],
            params=[_path("delivery_id", _STR, "The delivery's id")])},
        "/mock/routes/dry-run": {"get": _op(
            "dryRunRoutes", "Which routes a message to this address with these headers would trigger, and why",
            _obj({"recipient": _STR, "routes": array(_ROUTE_OUTCOME), "stopped_by": {"type": ["string", "null"]},
                  "actions": array({"type": "object"})}),
            params=[_query("address"), _query("headers", description="Name: value lines")], errors=[400])},
        "/mock/stream": {"get": _op(
            "changeStream", "Server-Sent Events: 'change' after every change (one event unless Accept asks for "
            "text/event-stream)", _obj({"event": {"const": "change"},
                                        "data": {"type": "string", "pattern": "^[0-9]+$",
                                                 "description": "the store's version"}}),
            media="text/event-stream")},
        "/mock/ui/api/{rest}": {method: {
            "operationId": f"inboxBridge{method.title()}", "tags": ["inbox"], "security": [{}, {"basicAuth": []}],
            "summary": "The API at /{rest} (v3/… or mock/…), answered with the API key added on the server",
            "parameters": [_path("rest", _STR, "The API path, without its leading slash")],
            "responses": {"401": _UNAUTHORIZED, "default": {"description": "What the bridged endpoint answers",
                                                            "content": {"*/*": {"schema": _ANY}}}},
        } for method in ("get", "post", "put", "delete")},
    }
