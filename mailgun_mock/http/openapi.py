"""``openapi_document()``: the OpenAPI 3.1 document of the mock's whole HTTP surface (pure).

Mailgun's endpoints are described once and laid out under both ``/v3`` and ``/v2`` (the app
serves the same handlers under each); ``/mock`` is the mock's own control API. Every operation
but ``GET /mock/health`` takes HTTP Basic auth (user ``api``, the API key as password) and answers
401 ``text/plain`` ``Forbidden`` without it; every other error is JSON ``{"message": …}``.
Request forms are documented for both ``application/x-www-form-urlencoded`` and
``multipart/form-data``, with repeatable fields as arrays. The JSON shapes live in
:mod:`mailgun_mock.http.openapi_schemas`.

Plain dicts, no Flask: the document can be built and checked without an app.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from .._version import __version__
from .openapi_inbox import inbox_paths
from .openapi_infra import infra_paths
from .openapi_mailgun import served_operations
from .openapi_schemas import SCHEMAS, WEBHOOK_NAMES, Schema, array, ref

__all__ = ["openapi_document"]

#: Where Mailgun's API is served (``mailgun_mock.http.app.API_PREFIXES``; the app is not imported: it loads Flask).
_PREFIXES = ("/v3", "/v2")
_STR: Schema = {"type": "string"}
_STRS = array(_STR)
_YES_NO: Schema = {"type": "string", "enum": ["yes", "no", "true", "false"]}
_FILE: Schema = {"type": "string", "format": "binary"}
_FILES = array(_FILE)
# A domain name with at least one dot, as Mailgun's sending domains have: it also keeps a
# generated domain from spelling one of the fixed path segments (routes, domains).
_LABEL = r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?"
_DOMAIN: Schema = {"type": "string", "pattern": rf"^{_LABEL}(\.{_LABEL})+$", "maxLength": 120,
                   "examples": ["example.com"]}
_DISPOSITION = "attachment; filename=\"a.pdf\"; filename*=UTF-8''a.pdf"
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"

_ERRORS = {400: "BadRequest", 404: "NotFound", 409: "Conflict", 413: "PayloadTooLarge"}
_RESPONSES: dict[str, Any] = {
    "BadRequest": {"description": "The request is invalid; the message says what is wrong.",
                   "content": {_JSON: {"schema": ref("Error")}}},
    "NotFound": {"description": "No such resource (or domain, when --domain restricts them).",
                 "content": {_JSON: {"schema": ref("Error")}}},
    "Conflict": {"description": "A limit reached (e.g. 3 URLs per event type).",
                 "content": {_JSON: {"schema": ref("Error")}}},
    "PayloadTooLarge": {"description": "The request or message exceeds the configured size limit.",
                        "content": {_JSON: {"schema": ref("Error")}}},
    "Unauthorized": {
        "description": "Missing or wrong API key.",
        "headers": {"WWW-Authenticate": {"required": True, "schema": {"const": 'Basic realm="MG API"'}}},
        "content": {"text/plain": {"schema": {"type": "string", "const": "Forbidden"}}},
    },
    "Rejected": {"description": "A `reject` mock rule matched a recipient: its status and message.",
                 "content": {_JSON: {"schema": ref("Error")}}},
}


def _path_param(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


_PARAMETERS: dict[str, Any] = {
    "Domain": _path_param("domain", _DOMAIN, "The domain (any is served unless --domain restricts them)."),
    "StorageKey": _path_param("key", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,200}$"},
                              "The storage key from a storage URL."),
    "AttachmentIndex": _path_param("index", {"type": "integer", "minimum": 0}, "The attachment's index, from 0."),
    "RouteId": _path_param("route_id", {"type": "string", "pattern": "^[0-9a-f]{24}$"}, "The route's id."),
    "EventToken": _path_param("token", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,4000}$"},
                              "The page token: the last segment of a paging URL."),
    "WebhookName": _path_param("name", {"type": "string", "enum": list(WEBHOOK_NAMES)}, "The webhook."),
    "RuleId": _path_param("rule_id", {"type": "string", "pattern": "^[0-9a-f]{12}$"}, "The rule's id."),
}


def _p(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    param: Schema = {"name": name, "in": "query", "schema": schema}
    if schema.get("type") == "array":
        param.update(style="form", explode=True)  # repeated keys: ?tags=a&tags=b
    if description:
        param["description"] = description
    return param


def _op(op_id: str, summary: str, ok: Schema, *, params: Iterable[Schema] = (), body: Schema | None = None,
        errors: Iterable[int | str] = (), auth: bool = True, ok_media: str = _JSON,
        ok_headers: dict[str, Schema] | None = None) -> Schema:
    """One operation: 200 with ``ok``, the listed errors, and 401 unless it is public."""
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {ok_media: {"schema": ok}}}}
    if ok_headers:
        responses["200"]["headers"] = ok_headers
    codes = list(errors) + ([413] if body is not None else [])
    for code in codes:
        name = _ERRORS.get(code, "Rejected") if isinstance(code, int) else "Rejected"
        responses[str(code)] = {"$ref": f"#/components/responses/{name}"}
    op: Schema = {"operationId": op_id, "summary": summary, "responses": responses}
    if auth:
        responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
    else:
        op["security"] = []
    params = list(params)
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    return op


def _fields(fields: dict[str, Schema], required: Iterable[str] = (),
            patterns: dict[str, Schema] | None = None) -> Schema:
    schema: Schema = {"type": "object", "properties": fields, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if patterns:
        schema["patternProperties"] = patterns
    return schema


def _form(fields: dict[str, Schema], required: Iterable[str] = (), *, files: dict[str, Schema] | None = None,
          patterns: dict[str, Schema] | None = None, urlencoded: bool = True, extra: Schema | None = None) -> Schema:
    """A form body: urlencoded (unless ``urlencoded`` is false) and multipart, the latter with ``files`` too."""
    required = list(required)
    content: dict[str, Any] = {}
    if urlencoded:
        content[_FORM] = {"schema": _fields(fields, required, patterns)}
    content[_MULTIPART] = {"schema": _fields({**fields, **(files or {})}, required, patterns)}
    content.update(extra or {})
    return {"required": bool(required) or extra is not None, "content": content}


# -- Mailgun's endpoints, relative to /v3 (and /v2) -------------------------------------------

_ROUTE_FORM = {"expression": {**_STR, "description": 'The filter, e.g. match_recipient(".*@example.com")'},
               "action": {**_STRS, "description": 'Repeatable, e.g. forward("https://app/hook"), store(), stop()'},
               "priority": {"type": "integer", "description": "Lower runs first; default 0"}, "description": _STR}
_SEND_OPTIONS: dict[str, Schema] = {
    "o:tag": _STRS, "o:testmode": _YES_NO, "o:deliverytime": {**_STR, "description": "RFC 2822 date"},
    "o:tracking": _YES_NO, "o:tracking-opens": _YES_NO,
    "o:tracking-clicks": {"type": "string", "enum": ["yes", "no", "htmlonly"]},
    "o:dkim": _YES_NO, "o:require-tls": _YES_NO, "o:skip-verification": _YES_NO,
}
# Custom headers (h:X-My-Header) and user variables (v:my-var) are open-ended field names.
_SEND_PATTERNS: dict[str, Schema] = {"^h:[!-9;-~]+$": _STR, "^v:.+$": _STR}
_SEND_FIELDS: dict[str, Schema] = {
    "from": _STR, "to": _STRS, "cc": _STRS, "bcc": _STRS, "subject": _STR, "text": _STR, "html": _STR,
    "amp-html": _STR, "template": {**_STR, "description": "refused: the mock keeps no templates"},
    "recipient-variables": {**_STR, "description": "a JSON object: address -> variables"}, **_SEND_OPTIONS,
}
_PROBE_FIELDS: dict[str, Schema] = {
    "url": {**_STR, "description": "The receiver, e.g. http://127.0.0.1:8000/hooks/mailgun"},
    "kind": {"type": "string", "enum": ["forward", "notify", "webhook", *(f"webhook:{n}" for n in WEBHOOK_NAMES)],
             "description": "What the receiver takes; default forward"},
    "recipient": {**_STR, "description": "The address the probes' message is to"},
    "oversize": {"type": "integer", "minimum": 1, "maximum": 64 << 20,
                 "description": "Bytes of the oversized probe; default twice max_message_size plus 64 KiB"},
}
_REJECTABLE = (400, 404, "4XX", "5XX")  # a send or resend may meet a `reject` rule


def _mailgun_paths(suffix: str) -> dict[str, dict[str, Any]]:
    """The Mailgun endpoints (paths relative to the version prefix); ``suffix`` keeps operationIds unique."""
    domain, key, route_id, name = _p("Domain"), _p("StorageKey"), _p("RouteId"), _p("WebhookName")
    filters = [_query(field, _STRS, "A filter expression (OR, AND, NOT, quotes, parentheses, >/<); repeats AND.")
               for field in ("attachment", "event", "from", "list", "message-id", "recipient", "recipients",
                             "severity", "size", "subject", "tags", "to")]
    date = {"type": "string", "description": "RFC 2822 date or epoch seconds"}
    message_path = {"parameters": [domain, key]}
    return {
        "/routes": {
            "post": _op(f"createRoute{suffix}", "Create a route", ref("RouteCreated"), errors=[400],
                        body=_form(_ROUTE_FORM, ["expression", "action"])),
            "get": _op(f"listRoutes{suffix}", "List routes in evaluation order", ref("RouteList"), errors=[400],
                       params=[_query("skip", {"type": "integer", "minimum": 0}),
                               _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})]),
        },
        "/routes/match": {
            "get": _op(f"matchRoute{suffix}", "The first route an address would trigger", ref("RouteOne"),
                       params=[{**_query("address", _STR), "required": True}], errors=[400, 404]),
        },
        "/routes/{route_id}": {
            "parameters": [route_id],
            "get": _op(f"getRoute{suffix}", "Get a route", ref("RouteOne"), errors=[404]),
            "put": _op(f"updateRoute{suffix}", "Update a route (only the fields given; action replaces the list)",
                       ref("RouteUpdated"), errors=[400, 404], body=_form(_ROUTE_FORM)),
            "delete": _op(f"deleteRoute{suffix}", "Delete a route", ref("RouteDeleted"), errors=[404]),
        },
        "/domains/{domain}/messages/{key}": {
            **message_path,
            "get": _op(f"getStoredMessage{suffix}", "A stored message (Accept: message/rfc2822 adds body-mime)",
                       {"anyOf": [ref("StoredMessage"), ref("StoredMime")]}, errors=[404]),
            "post": _op(f"resendMessage{suffix}", "Send a stored message again", ref("Queued"),
                        errors=_REJECTABLE, body=_form({"to": _STRS}, ["to"])),
            "delete": _op(f"deleteStoredMessage{suffix}", "Delete a stored message", ref("Done"), errors=[404]),
        },
        "/domains/{domain}/messages/{key}/attachments/{index}": {
            **message_path,
            "get": _op(f"getAttachment{suffix}", "An attachment's bytes, with its content type and filename",
                       _FILE, params=[_p("AttachmentIndex")], errors=[404], ok_media="*/*",
                       ok_headers={"Content-Disposition": {"required": True, "schema": {
                           "type": "string", "pattern": "^attachment; filename=", "examples": [_DISPOSITION]}}}),
        },
        "/{domain}/events": {
            "get": _op(f"listEvents{suffix}", "The first page of a domain's events", ref("EventsPage"),
                       errors=[400, 404], params=[
                           domain, _query("begin", date), _query("end", date), _query("ascending", _YES_NO),
                           _query("limit", {"type": "integer", "minimum": 1, "maximum": 300}), *filters]),
        },
        "/{domain}/events/{token}": {
            "get": _op(f"eventsPage{suffix}", "Another page of events, by the token in a paging URL",
                       ref("EventsPage"), params=[domain, _p("EventToken")], errors=[400, 404]),
        },
        "/domains/{domain}/webhooks": {
            "parameters": [domain],
            "get": _op(f"listWebhooks{suffix}", "A domain's event webhooks", ref("Webhooks"), errors=[404]),
            "post": _op(f"createWebhook{suffix}", "Register a webhook", ref("WebhookChanged"), errors=[400, 404],
                        body=_form({"id": {"type": "string", "enum": list(WEBHOOK_NAMES)},
                                    "url": array({"type": "string", "format": "uri"}, minItems=1, maxItems=3)},
                                   ["id", "url"])),
        },
        "/domains/{domain}/webhooks/{name}": {
            "parameters": [domain, name],
            "get": _op(f"getWebhook{suffix}", "One webhook", ref("Webhook"), errors=[400, 404]),
            "put": _op(f"updateWebhook{suffix}", "Replace a webhook's URLs", ref("WebhookChanged"), errors=[400, 404],
                       body=_form({"url": array({"type": "string", "format": "uri"}, minItems=1, maxItems=3)},
                                  ["url"])),
            "delete": _op(f"deleteWebhook{suffix}", "Delete a webhook", ref("WebhookChanged"), errors=[400, 404]),
        },
        "/domains/{domain}/webhooks/{name}/test": {
            "parameters": [domain, name],
            **{method: _op(f"testWebhook{method.title()}{suffix}",
                           "POST a signed sample event of this kind to url (default: the webhook's first URL) now; "
                           "answers the receiver's status (0: no answer)", ref("WebhookTest"), errors=[400, 404],
                           body=_form({"url": {"type": "string", "format": "uri"}})) for method in ("put", "post")},
        },
        "/{domain}/messages": {
            "post": _op(f"sendMessage{suffix}", "Send a message built from fields", ref("Queued"),
                        params=[domain], errors=_REJECTABLE,
                        body=_form(_SEND_FIELDS, ["from", "to"], files={"attachment": _FILES, "inline": _FILES},
                                   patterns=_SEND_PATTERNS)),
        },
        "/{domain}/messages.mime": {
            "post": _op(f"sendMime{suffix}", "Send a ready MIME message (multipart/form-data only)", ref("Queued"),
                        params=[domain], errors=_REJECTABLE,
                        body=_form({"to": _STRS, **_SEND_OPTIONS}, ["to", "message"], files={"message": _FILE},
                                   patterns=_SEND_PATTERNS, urlencoded=False)),
        },
    }


# -- the mock's control API ------------------------------------------------------------------

_INBOUND_FIELDS: dict[str, Schema] = {
    "from": _STR, "to": _STRS, "cc": _STRS, "bcc": _STRS, "subject": _STR, "text": _STR, "html": _STR,
    "recipient": {**_STRS, "description": "Envelope recipients (default: To, Cc and Bcc)"},
    "sender": {**_STR, "description": "Envelope sender (default: From)"},
    "wait": {**_STR, "description": "1/true/yes/on: answer after each webhook's first attempt"},
}


_EVENT_TYPES = array({"type": "string", "enum": list(WEBHOOK_NAMES)}, minItems=1)
_ACCOUNT_HOOK = _form({"url": {"type": "string", "format": "uri"}, "event_types": _EVENT_TYPES, "description": _STR},
                      ["url", "event_types"])


def _account_paths() -> dict[str, dict[str, Any]]:
    """The account's webhooks (``/v1/webhooks``): Mailgun's newer API, absent from its document."""
    hook_id = _path_param("webhook_id", {"type": "string", "pattern": "^[0-9a-f]{24}$"}, "The webhook's id.")
    return {
        "/v1/webhooks": {
            "get": _op("listAccountWebhooks", "The account's event webhooks", ref("AccountWebhooks")),
            "post": _op("createAccountWebhook", "Add an account webhook: one URL on event types (at most 3 URLs "
                        "per type: 409 beyond)", ref("AccountWebhookCreated"), errors=[400, 409], body=_ACCOUNT_HOOK),
            "delete": _op("deleteAccountWebhooks", "Delete the webhooks named, or all", ref("Done"), errors=[400],
                          params=[_query("webhook_ids", _STR, "Comma-separated ids"),
                                  _query("all", {"type": "string", "enum": ["true", "false"]})]),
        },
        "/v1/webhooks/{webhook_id}": {
            "parameters": [hook_id],
            "get": _op("getAccountWebhook", "One account webhook", ref("AccountWebhook"), errors=[404]),
            "put": _op("updateAccountWebhook", "Replace an account webhook", ref("Done"), errors=[400, 404, 409],
                       body=_ACCOUNT_HOOK),
            "delete": _op("deleteAccountWebhook", "Delete an account webhook", ref("Done"), errors=[404]),
        },
    }


def _mock_paths() -> dict[str, dict[str, Any]]:
    envelope = [_query("recipient", _STRS, "Envelope recipients (default: To, Cc and Bcc)"),
                _query("sender", _STR, "Envelope sender (default: From)"),
                _query("wait", _STR, "1/true/yes/on: answer after each webhook's first attempt")]
    raw = {"message/rfc822": {"schema": {"type": "string", "contentMediaType": "message/rfc822"}}}
    return {
        "/health": {"get": _op("health", "Readiness and counts (no auth)", ref("Health"), auth=False)},
        "/reset": {"post": _op("reset", "Forget all state; keep the configuration", ref("Done"))},
        "/clock": {
            "get": _op("readClock", "The mock's clock", ref("Clock")),
            "post": _op("advanceClock", "Move the clock forward and run what fell due", ref("Clock"), errors=[400],
                        body={"required": True, "content": {
                            _JSON: {"schema": _fields({"advance": {"type": "number", "minimum": 0}}, ["advance"])},
                            _FORM: {"schema": _fields({"advance": {"type": "number", "minimum": 0}}, ["advance"])}}}),
        },
        "/inbound": {
            "post": _op("injectInbound", "Route one inbound message: raw, a multipart message file, or fields",
                        ref("InboundAnswer"), params=envelope, errors=[400],
                        body=_form(_INBOUND_FIELDS, files={"message": _FILE, "attachment": _FILES, "inline": _FILES},
                                   patterns={"^h:[!-9;-~]+$": _STR}, extra=raw)),
        },
        "/deliveries": {"get": _op("listDeliveries", "Every webhook attempt, oldest first", ref("DeliveryList"))},
        "/webhook-probe": {
            "post": _op("probeWebhook", "Send a receiver one valid webhook and forged ones; a verdict for each",
                        ref("ProbeReport"), errors=[400], body={"required": True, "content": {
                            _JSON: {"schema": _fields(_PROBE_FIELDS, ["url"])},
                            _FORM: {"schema": _fields(_PROBE_FIELDS, ["url"])}}}),
        },
        "/rules": {
            "post": _op("createRule", "Add a rule for what happens to sent mail", ref("Rule"), errors=[400],
                        body={"required": True, "content": {_JSON: {"schema": ref("RuleInput")}}}),
            "get": _op("listRules", "The rules, in the order they are tried", ref("RuleList")),
            "delete": _op("clearRules", "Forget every rule", ref("Done")),
        },
        "/rules/{rule_id}": {"delete": _op("deleteRule", "Delete a rule", ref("Done"), params=[_p("RuleId")],
                                           errors=[404])},
        "/outbox": {"get": _op("outbox", "Every sent message, oldest first", ref("Outbox"))},
        "/unsubscribe/{token}": {"get": _op(
            "followUnsubscribe", "Where %unsubscribe_url% and its kin point: the recipient's click (no key; "
            "the token is signed)", ref("Done"), auth=False, errors=[404],
            params=[_path_param("token", {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.[0-9a-f]{32}$"},
                                "The token of an unsubscribe link")])},
        "/openapi.json": {"get": _op("openapiDocument", "This document", {
            "type": "object", "required": ["openapi", "info", "paths"], "properties": {"openapi": {"const": "3.1.0"}},
            "description": "The OpenAPI 3.1 document, with this server in servers"})},
    }


def openapi_document(server_url: str = "") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the whole HTTP surface: Mailgun's API under /v3 and /v2, and /mock.

    :param server_url: the mock's base URL (e.g. ``http://127.0.0.1:54321``) for ``servers``;
        empty leaves ``servers`` out (the document's own origin applies).
    """
    paths: dict[str, Any] = {}
    for prefix in _PREFIXES:
        suffix = "" if prefix == "/v3" else prefix[1:].upper()
        paths.update({prefix + path: item for path, item in _mailgun_paths(suffix).items()})
    paths.update({"/mock" + path: item for path, item in _mock_paths().items()})
    paths.update(_account_paths())
    paths.update(infra_paths())
    for path, item in served_operations().items():
        paths.setdefault(path, {}).update(item)
    paths.update(inbox_paths())  # the web inbox: pages, its JSON under /mock, the bridge
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "mailgun-mock", "version": __version__,
                 "description": "A Mailgun-compatible mock server: Mailgun's API under /v3 (and /v2), "
                                "and the mock's control API under /mock."},
        "security": [{"basicAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic",
                                              "description": "user 'api', password: the API key"}},
            "schemas": SCHEMAS,
            "parameters": _PARAMETERS,
            "responses": _RESPONSES,
        },
    }
    if server_url:
        document["servers"] = [{"url": server_url.rstrip("/")}]
    return copy.deepcopy(document)  # the module's shared pieces stay untouched by callers
