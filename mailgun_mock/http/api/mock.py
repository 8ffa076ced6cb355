"""``/mock``: the mock's own control API (never collides with Mailgun's paths)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from ...base.errors import BadRequest
from ..openapi import openapi_document
from .common import backend, params, query

bp = Blueprint("mock", __name__)

#: Endpoints that answer without an API key.
PUBLIC_ENDPOINTS = frozenset({"mock.health", "mock.unsubscribe"})
#: Endpoints of the web inbox's own (see :mod:`..inbox`): no API key needed, ``--ui-auth`` when set.
UI_ENDPOINTS = frozenset({"mock.messages"})
_TRUE = ("1", "true", "yes", "on")


@bp.get("/health")
def health() -> ResponseReturnValue:
    # Counts and listeners only: no key is needed here, so nothing about the mail itself is shown.
    listeners = backend().listeners
    if listeners is None:  # an app served by something other than MailgunMock (a test client, a WSGI host)
        listeners = {"http": {}, "smtp": None, "smtp_submission": None}
    return jsonify(status="ok", **listeners, **backend().store.counts())


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    backend().reset()
    return jsonify(message="Mock state has been reset")


@bp.get("/clock")
def read_clock() -> ResponseReturnValue:
    clock = backend().clock
    return jsonify(now=clock.now(), offset=clock.offset)


@bp.post("/clock")
def advance_clock() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    raw = body.get("advance") if isinstance(body, dict) else params().get("advance")
    backend().advance_clock(raw)
    clock = backend().clock
    return jsonify(now=clock.now(), offset=clock.offset)


@bp.post("/inbound")
def inbound() -> ResponseReturnValue:
    form = params()
    recipients = form.getlist("recipient") or None
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        message = request.files.get("message")
        if message is not None:
            raw = message.read()
        else:
            raw, envelope = _build_from_fields(form)
            recipients = recipients or envelope
    else:
        raw = request.get_data()
    answer = backend().receive_inbound(raw, recipients, form.get("sender"))
    if form.get("wait", "").lower() in _TRUE:
        backend().wait_for_first_attempts(answer)
    return jsonify(answer)


def _build_from_fields(form: MultiDict[str, str]) -> tuple[bytes, list[str]]:
    """A message from Mailgun-style send fields, and its envelope recipients."""
    return backend().compose_message(
        from_=form.get("from"), to=form.getlist("to"), cc=form.getlist("cc"), bcc=form.getlist("bcc"),
        subject=form.get("subject", ""), text=form.get("text"), html=form.get("html"),
        attachments=[(f.filename or "attachment", f.read(), f.mimetype or "application/octet-stream")
                     for f in request.files.getlist("attachment")],
        inline=[(f.filename or "inline", f.read(), f.mimetype or "application/octet-stream")
                for f in request.files.getlist("inline")],
        headers=[(k[2:], v) for k, v in form.items(multi=True) if k.startswith("h:") and len(k) > 2],
        recipients_given=bool(form.getlist("recipient")),
    )


@bp.post("/webhook-probe")
def webhook_probe() -> ResponseReturnValue:
    body = request.get_json(silent=True) if request.is_json else params()
    if not isinstance(body, (dict, MultiDict)):
        raise BadRequest("send url and kind as a JSON object or as form fields")
    report = backend().probe_webhook(body.get("url"), body.get("kind") or "forward",
                                     recipient=body.get("recipient"), oversize=body.get("oversize"))
    return jsonify(report.to_json())


@bp.get("/deliveries")
def deliveries() -> ResponseReturnValue:
    attempts = backend().list_deliveries()
    return jsonify(items=[a.to_json() for a in attempts], total_count=len(attempts))


@bp.post("/rules")
def create_rule() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("send the rule as a JSON object (Content-Type: application/json)")
    return jsonify(backend().create_rule(body))


@bp.get("/rules")
def list_rules() -> ResponseReturnValue:
    rules = backend().list_rules()
    return jsonify(items=rules, total_count=len(rules))


@bp.delete("/rules")
def clear_rules() -> ResponseReturnValue:
    backend().clear_rules()
    return jsonify(message="Rules have been deleted")


@bp.delete("/rules/<rule_id>")
def delete_rule(rule_id: str) -> ResponseReturnValue:
    backend().delete_rule(rule_id)
    return jsonify(message="Rule has been deleted")


@bp.post("/inbox_results")
def create_inbox_result() -> ResponseReturnValue:
    return jsonify(backend().create_inbox_result(request.get_json(silent=True)))


@bp.post("/preview_tests")
def create_preview_test() -> ResponseReturnValue:
    return jsonify(backend().create_preview_test(request.get_json(silent=True)))


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document(backend().base_url))


@bp.get("/outbox")
def outbox() -> ResponseReturnValue:
    sent = backend().sent_messages()
    return jsonify(items=sent, total_count=len(sent))


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    # Where %unsubscribe_url% and its kin point: a recipient's click, so no API key (the token is signed).
    return jsonify(backend().follow_unsubscribe(token))


@bp.get("/messages")
def messages() -> ResponseReturnValue:
    # Sent and received mail, newest first: the inbox's list and the scripts' mail API (wait=, links, codes).
    return jsonify(backend().list_messages(query()))
