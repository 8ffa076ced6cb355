"""The JSON shapes of the OpenAPI document: every body the mock answers or reads, as JSON Schema (pure).

:mod:`mailgun_mock.http.openapi` lays out the endpoints; this module says what their JSON looks like,
as plain dicts for ``components.schemas``. Objects with a fixed set of keys are closed
(``additionalProperties: false``); only the stored message (whose MIME headers are top-level keys)
and events (whose fields depend on their type) are open.

The enumerations repeat names owned by modules this one must not import (they load ``regex`` and
``requests``); ``tests/test_openapi.py`` checks that they agree.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OUTCOMES", "SCHEMAS", "Schema", "WEBHOOK_NAMES", "array", "closed", "ref"]

Schema = dict[str, Any]

#: The webhook names Mailgun's v3 API knows (``mailgun_mock.delivery.worker.domain_webhooks.WEBHOOK_NAMES``).
WEBHOOK_NAMES = ("accepted", "clicked", "complained", "delivered", "opened", "permanent_fail",
                 "temporary_fail", "unsubscribed")
#: The outcomes of a mock rule (``mailgun_mock.lang.send_rules.OUTCOMES``).
OUTCOMES = ("deliver", "bounce", "temporary-fail", "complain", "unsubscribe", "open", "click", "reject",
            "rate-limit", "deliverable", "undeliverable", "do_not_send", "catch_all", "unknown")

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}


def ref(name: str) -> Schema:
    """A reference to ``components.schemas[name]``."""
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema, **limits: Any) -> Schema:
    """An array of ``items`` (``limits``: minItems, maxItems…)."""
    return {"type": "array", "items": items, **limits}


def closed(required: dict[str, Schema], optional: dict[str, Schema] | None = None,
           description: str = "") -> Schema:
    """An object with exactly these keys: all of ``required``, any of ``optional``, nothing else."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})},
                      "required": list(required), "additionalProperties": False}
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


# Not prefixItems: schemathesis (4.x) rewrites it into a draft-4 tuple and then rejects the schema.
PAIR: Schema = {"type": "array", "items": STR, "minItems": 2, "maxItems": 2, "description": "a [name, value] pair"}
_URL: Schema = {"type": "string", "format": "uri"}
_ROUTE_FIELDS: dict[str, Schema] = {
    "actions": array(STR), "created_at": {**STR, "description": "RFC 1123, e.g. Wed, 15 Feb 2012 13:03:31 GMT"},
    "description": STR, "expression": STR, "id": {**STR, "pattern": "^[0-9a-f]{24}$"}, "priority": INT,
}
_ATTACHMENT = closed({"content-type": STR, "name": STR, "size": INT, "url": _URL})
_URLS = closed({"urls": array(_URL)})
_STORAGE = closed({"key": STR, "url": _URL})
_PAGING = closed({kind: _URL for kind in ("first", "last", "next", "previous")})
_MATCH = closed({}, {"recipient": STR, "domain": STR, "tag": STR, "header": PAIR},
                "every matcher given must match (regular expressions are searched, not anchored)")
_RULE_OPTIONS: dict[str, Schema] = {
    "retries": {**INT, "minimum": 0, "maximum": 10, "description": "temporary-fail only"},
    "status": {**INT, "minimum": 400, "maximum": 599, "description": "reject only: the API's answer"},
    "message": {**STR, "description": "reject only"},
    "code": {**INT, "minimum": 100, "maximum": 999, "description": "bounce and temporary-fail only"},
    "description": {**STR, "description": "bounce and temporary-fail only"},
    "limit": {**INT, "minimum": 1, "maximum": 1_000_000, "description": "rate-limit only: sends allowed per window"},
    "window": {**INT, "minimum": 1, "maximum": 86_400, "description": "rate-limit only: the window, in seconds"},
    "country": {**STR, "pattern": "^[A-Za-z]{2}$", "description": "with engagement: the events' geolocation.country"},
    "device": {"type": "string", "enum": ["desktop", "mobile", "tablet", "unknown"],
               "description": "with engagement: the events' client-info.device-type"},
}
_OUTCOME: Schema = {"type": "string", "enum": list(OUTCOMES)}

SCHEMAS: dict[str, Schema] = {
    "Error": closed({"message": STR}, {"Reason": STR, "Field": STR, "Value": STR},
                    "Every error but 401: a 4xx status and what is wrong (the webhooks API adds Mailgun's Reason, "
                    "dynamic IP pools name the Field and Value refused)."),
    "Done": closed({"message": STR}),
    "Queued": closed({"id": STR, "message": STR}, description='A send accepted: "Queued. Thank you."'),
    # -- routes
    "Route": closed(_ROUTE_FIELDS),
    "RouteCreated": closed({"message": STR, "route": ref("Route")}),
    "RouteOne": closed({"route": ref("Route")}),
    "RouteList": closed({"items": array(ref("Route")), "total_count": INT}),
    "RouteUpdated": closed({**_ROUTE_FIELDS, "message": STR, "route": ref("Route")},
                           description="The flat route plus message (as recorded from Mailgun) and a nested copy."),
    "RouteDeleted": closed({"id": STR, "message": STR}),
    # -- stored messages
    "Attachment": _ATTACHMENT,
    "StoredMessage": {
        **closed({"recipients": STR, "sender": STR, "from": STR, "subject": STR, "body-plain": STR,
                  "stripped-text": STR, "stripped-signature": STR, "body-html": STR, "stripped-html": STR,
                  "attachments": array(ref("Attachment")),
                  "content-id-map": {"type": "object", "additionalProperties": ref("Attachment")},
                  "message-headers": array(PAIR)}),
        # Every MIME header is also a top-level key under its original name (first occurrence).
        "additionalProperties": {"type": "string"},
    },
    "StoredMime": closed({"recipients": STR, "sender": STR, "from": STR, "subject": STR, "body-mime": STR},
                         description="With Accept: message/rfc2822: the raw message in body-mime."),
    # -- events
    "Event": {
        "type": "object",
        "required": ["event", "id", "timestamp"],
        "properties": {
            "event": STR, "id": {**STR, "pattern": "^[A-Za-z0-9_-]{22}$"}, "timestamp": NUM, "log-level": STR,
            "recipient": STR, "recipient-domain": STR, "tags": array(STR), "campaigns": array(STR),
            "user-variables": {"type": "object"}, "flags": {"type": "object", "additionalProperties": BOOL},
            "severity": {"enum": ["temporary", "permanent"]}, "reason": STR, "method": STR,
            "message": {"type": "object"}, "storage": _STORAGE, "envelope": {"type": "object"},
            "delivery-status": {"type": "object"}, "routes": array({"type": "object"}),
        },
        # An event carries the fields of its type (delivery-status, geolocation, client-info…).
        "additionalProperties": True,
    },
    "EventsPage": closed({"items": array(ref("Event")), "paging": _PAGING}),
    # -- webhooks
    "Webhooks": closed({"webhooks": {"type": "object", "propertyNames": {"enum": list(WEBHOOK_NAMES)},
                                     "additionalProperties": _URLS}}),
    "Webhook": closed({"webhook": _URLS}),
    "WebhookChanged": closed({"message": STR, "webhook": _URLS}),
    "WebhookTest": closed({"code": INT, "message": STR}, description="The receiver's status (0: no answer)."),
    "AccountWebhook": closed({"webhook_id": STR, "description": STR, "url": _URL, "event_types": array(STR),
                              "created_at": STR}),
    "AccountWebhooks": closed({"webhooks": array(ref("AccountWebhook"))}),
    "AccountWebhookCreated": closed({"webhook_id": STR}),
    # -- /mock
    "Health": closed({"status": {"const": "ok"}, "routes": INT, "stored_messages": INT, "events": INT,
                      "evicted": closed({"messages": INT, "events": INT}),
                      "http": {"type": "object", "description": "The HTTP listener: url and port (empty when "
                               "the app is served by something other than MailgunMock)",
                               "properties": {"url": STR, "port": INT}, "additionalProperties": False},
                      "smtp": {"oneOf": [closed({"port": INT}), {"type": "null"}],
                               "description": "The inbound SMTP listener, or null when there is none"},
                      "smtp_submission": {"oneOf": [closed({"port": {"type": ["integer", "null"]},
                                                            "tls_port": {"type": ["integer", "null"]},
                                                            "starttls": {"type": "boolean"}}), {"type": "null"}],
                                          "description": "The SMTP relay: its port (STARTTLS offered with a "
                                                         "certificate) and implicit-TLS port, or null"}},
                     description="200 only once every listener accepts."),
    "Clock": closed({"now": NUM, "offset": NUM}, description="The mock's clock: epoch seconds, and its lead."),
    "InboundAnswer": closed({"id": STR, "message": STR, "recipients": array(closed({
        "recipient": STR,
        "matched": array(STR),
        "routes": array(closed({"id": STR, "priority": INT, "expression": STR, "matched": BOOL,
                                "captures": {"type": "object", "additionalProperties": _nullable(STR)},
                                "explanation": STR, "timed_out": array(STR)})),
        "stopped_by": _nullable(STR),
        "actions": array(closed({"route": STR, "action": {"enum": ["store", "notify", "forward", "forward-mime"]}},
                                {"storage": _STORAGE, "url": STR, "address": STR, "delivery": STR})),
    }))}),
    "DeliveryList": closed({"total_count": INT, "items": array(closed({
        "attempt": INT, "attempted_at": NUM, "delivery_id": STR, "duration": NUM, "error": _nullable(STR),
        "fields": array(STR), "kind": STR, "message_id": STR, "next_retry": _nullable(NUM),
        "outcome": {"enum": ["delivered", "retrying", "failed", "rejected"]}, "recipient": STR,
        "scheduled_at": NUM, "status": _nullable(INT), "url": STR,
    }))}),
    "ProbeReport": closed({"url": STR, "kind": STR, "passed": BOOL, "problems": INT, "table": STR,
                           "probes": array(closed({
                               "probe": STR, "forged": BOOL, "status": _nullable(INT), "error": _nullable(STR),
                               "size": INT, "accepted": BOOL, "ok": BOOL, "check": STR,
                               "verdict": {"enum": ["accepted as it should", "REFUSED a valid webhook",
                                                    "refused as it should", "ACCEPTED a forged webhook"]}}))}),
    "RuleInput": closed({"outcome": {"oneOf": [_OUTCOME, array(_OUTCOME, minItems=1, uniqueItems=True)]}},
                        {"match": _MATCH, **_RULE_OPTIONS},
                        "What happens to sent mail whose recipient matches; options apply to some outcomes."),
    "Rule": closed({"id": {**STR, "pattern": "^[0-9a-f]{12}$"}, "match": _MATCH,
                    "outcome": array(_OUTCOME, minItems=1)}, _RULE_OPTIONS),
    "RuleList": closed({"items": array(ref("Rule")), "total_count": INT}),
    "Outbox": closed({"total_count": INT, "items": array(closed({
        "id": STR, "domain": STR, "from": STR, "to": STR, "cc": STR, "recipients": array(STR), "subject": STR,
        "text": STR, "html": STR, "tags": array(STR), "test_mode": BOOL, "attachments": array(STR),
        "headers": array(PAIR), "sent_at": NUM, "deliver_at": NUM, "storage_url": _URL,
    }))}),
}
