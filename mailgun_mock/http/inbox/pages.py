"""The inbox's pages: messages (list and message side by side), webhook deliveries, routes (with a
dry run), events, domain webhooks, suppressions, delivery rules and simulated inbound mail.

Pages are rendered on the server from the backend's answers (Jinja2 escapes every value, so a
hostile subject or file name shows as text); changes go through ``/mock/ui/api/…`` and the inbox's
own JSON from ``static/inbox.js``, which also keeps each page live over ``/mock/stream``.
"""

from __future__ import annotations

import pathlib
from typing import Any

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from ...base.errors import MailgunMockError, NotFound
from ...delivery.domain_webhooks import WEBHOOK_NAMES
from ...lang.send_rules import OUTCOMES
from ..api.common import backend, query
from ..api.suppressions import KINDS as SUPPRESSION_KINDS
from .api import mail_html

bp = Blueprint("inbox", __name__, template_folder="templates")
_STATIC = pathlib.Path(__file__).with_name("static")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
#: The inbox's scripts, styles and icon, read once: a handful of small files served from memory.
STATIC_FILES = {path.name: (path.read_bytes(), _TYPES[path.suffix]) for path in _STATIC.iterdir()
                if path.suffix in _TYPES}

#: The Content-Security-Policy of every page: its own scripts, styles and frames, nothing else.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")


def _page(template: str, **context: Any) -> Response:
    response = Response(render_template(f"inbox/{template}", **context), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _domains() -> list[str]:
    """The domains to offer in pickers: the served ones, else those the inbox has seen."""
    served = backend()
    if served.config.domains:
        return list(served.config.domains)
    return served.inbox.snapshot(served.clock.now()).facets["domains"] or ["example.com"]


def _domain() -> str:
    return (query().get("domain") or _domains()[0]).strip().lower()


def _inbox(open_id: str) -> Response:
    # The first page of the list rides along as JSON, so it paints without waiting for a fetch.
    first = backend().list_messages({"limit": "50"})
    return _page("messages.html", open_id=open_id, page="messages", first=first)


@bp.get("/")
def messages() -> ResponseReturnValue:
    return _inbox("")


@bp.get("/messages/<entry_id>")
def message_page(entry_id: str) -> ResponseReturnValue:
    backend().message_source(entry_id)  # 404 for an unknown id
    return _inbox(entry_id)


@bp.get("/ui/message/<entry_id>")
def message_fragment(entry_id: str) -> ResponseReturnValue:
    detail = backend().message_detail(entry_id)
    return _page("message.html", m=detail)


@bp.get("/view/latest.html")
def latest_html() -> ResponseReturnValue:
    return mail_html(backend().latest_message_id(), query().get("remote") == "1")


@bp.get("/deliveries")
def deliveries() -> ResponseReturnValue:
    clock = backend().clock
    return _page("deliveries.html", page="deliveries", attempts=backend().delivery_log(), now=clock.now(),
                 offset=clock.offset)


@bp.get("/routes")
def routes() -> ResponseReturnValue:
    args = query()
    dry_run: dict[str, Any] | None = None
    error = ""
    if "address" in args:
        try:
            dry_run = backend().dry_run_routes(args.get("address"), args.get("headers", ""))
        except MailgunMockError as exc:
            error = exc.message
    listed, _ = backend().list_routes(0, 1000)
    return _page("routes.html", page="routes", routes=[r.to_json() for r in listed], dry_run=dry_run, error=error,
                 address=args.get("address", ""), headers=args.get("headers", ""))


_EVENT_FILTERS = ("event", "recipient", "from", "to", "subject", "message-id", "tags", "severity", "begin", "end",
                  "ascending", "limit")


@bp.get("/events")
def events() -> ResponseReturnValue:
    args = query()
    domain = _domain()
    filters = {k: args[k] for k in _EVENT_FILTERS if args.get(k)}
    error = ""
    result: dict[str, Any] = {"items": [], "paging": {}}
    try:
        result = backend().list_events(domain, filters, args.get("page") or None)
    except MailgunMockError as exc:
        error = exc.message
    token = (result.get("paging", {}).get("next") or "").rstrip("/").rpartition("/")[2]
    return _page("events.html", page="events", domain=domain, domains=_domains(), filters=filters,
                 names=_EVENT_FILTERS, items=result.get("items", []), error=error,
                 next_token=token if result.get("items") else "")


@bp.get("/webhooks")
def webhooks() -> ResponseReturnValue:
    domain = _domain()
    error, hooks = "", {}
    try:
        hooks = backend().list_webhooks(domain)["webhooks"]
    except MailgunMockError as exc:
        error = exc.message
    return _page("webhooks.html", page="webhooks", domain=domain, domains=_domains(), hooks=hooks,
                 names=WEBHOOK_NAMES, error=error)


@bp.get("/suppressions")
def suppressions() -> ResponseReturnValue:
    domain = _domain()
    error, lists = "", {}
    try:
        lists = {kind: backend().list_suppressions(domain, kind, {"limit": "1000"})["items"]
                 for kind in SUPPRESSION_KINDS}
    except MailgunMockError as exc:
        error = exc.message
    return _page("suppressions.html", page="suppressions", domain=domain, domains=_domains(), lists=lists,
                 error=error)


@bp.get("/rules")
def rules() -> ResponseReturnValue:
    return _page("rules.html", page="rules", rules=backend().list_rules(), outcomes=OUTCOMES)


@bp.get("/simulate")
def simulate() -> ResponseReturnValue:
    return _page("simulate.html", page="simulate", domains=_domains())


@bp.get("/ui/static/<name>")
def static(name: str) -> ResponseReturnValue:
    if name not in STATIC_FILES:
        raise NotFound(f"Not Found: no file {name[:60]!r} in the inbox")
    content, mimetype = STATIC_FILES[name]
    response = Response(content, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    return static("favicon.svg")
