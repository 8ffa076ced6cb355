"""``create_app(backend, config)``: the Flask app, its origin checks (:mod:`.guard`), its auth check and
its one error handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from ..backend.accounts import ON_BEHALF_OF, Accounts
from ..backend.core import Backend
from ..base.config import Config
from ..base.errors import MailgunMockError
from ..base.logtext import printable
from . import guard

__all__ = ["create_app"]

log = logging.getLogger("mailgun_mock")

#: Mailgun serves the same API under both versions (v3 is "backward compatible with v2").
API_PREFIXES = ("/v3", "/v2")


def _forbidden() -> Response:
    # Exactly Mailgun's answer to a missing or wrong key: plain text, not JSON.
    response = Response("Forbidden", 401, mimetype="text/plain")
    response.headers["WWW-Authenticate"] = 'Basic realm="MG API"'
    return response


class _LazyRule(Rule):
    """werkzeug's rule, compiling its two URL builders on first use rather than when added: each is
    Python source compiled per rule (~1 ms), the app has ~300 rules, and it builds few URLs, so this
    takes a third off ``create_app`` (what a test session pays once before its first test)."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_now = super()._compile_builder
        name = "_build_unknown" if append_unknown else "_build"

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            compiled: Callable[..., tuple[str, str]] = compile_now(append_unknown).__get__(rule, None)
            setattr(rule, name, compiled)
            return compiled(*args, **kwargs)

        return build


def create_app(backend: Backend | None = None, config: Config | None = None) -> Flask:
    """Build a fresh app serving ``backend``.

    :param backend: the state and operations to serve (a new one by default).
    :param config: the configuration (the backend's by default).
    """
    from . import inbox
    from .api import (accounts, analytics, domains, events, keys, lists, messages, mock, routes, sending, stats,
                      suppressions, templates, webhooks)

    config = config or (backend.config if backend else Config())
    served = backend or Backend(config)
    app = Flask("mailgun_mock", static_folder=None)
    if hasattr(Rule, "_compile_builder"):  # werkzeug 2.2 and later; otherwise its own rules
        app.url_rule_class = _LazyRule
    # Before any rule is added: an empty path segment must be a 404, never a redirect elsewhere.
    app.url_map.merge_slashes = False
    app.extensions["mailgun_mock"] = served
    # Which account state each request acts on (the default one, a key's namespace, a subaccount).
    accounts_ = app.extensions["mailgun_mock.accounts"] = Accounts(served, namespaces=config.namespaces)
    # Room for a whole message in any of the inbound forms (multipart adds a little).
    app.config["MAX_CONTENT_LENGTH"] = config.max_message_size * 2 + 65536
    app.config["MAX_FORM_MEMORY_SIZE"] = config.max_message_size + 65536
    for prefix in API_PREFIXES:
        for blueprint in (routes.bp, messages.bp, events.bp, webhooks.bp, sending.bp, suppressions.bp, domains.bp,
                          templates.bp, lists.bp, stats.bp):
            name = blueprint.name if prefix == "/v3" else f"{blueprint.name}_{prefix[1:]}"
            app.register_blueprint(blueprint, url_prefix=prefix, name=name)
    # Versions other than v3 carry them in their own paths.
    for blueprint in (domains.bp_v4, templates.bp_v4, webhooks.bp_root, keys.bp, analytics.bp, accounts.bp):
        app.register_blueprint(blueprint)
    from .api import dkim, ip_pools, ips, placement, validation  # the account's infrastructure
    for prefix in API_PREFIXES:
        for blueprint in (ips.bp, ip_pools.bp):
            app.register_blueprint(blueprint, url_prefix=prefix,
                                   name=blueprint.name if prefix == "/v3" else f"{blueprint.name}_{prefix[1:]}")
    for blueprint in (dkim.bp, ips.bp_root, ip_pools.bp_root, placement.bp, validation.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(mock.bp, url_prefix="/mock")
    inbox.register(app)
    hosts = guard.HostPolicy(config)
    guard.log_startup_warnings(config)

    @app.before_request
    def check_origin() -> Response | None:
        # Before auth: a rebinding page knows the default key, so the key proves nothing here.
        if request.environ.get(guard.IN_PROCESS):
            return None
        host = request.environ.get("HTTP_HOST")
        if host is not None and not hosts.allows(host):
            name = guard.host_name(host)[:100]
            return guard.refusal(
                f"Host {name!r} is not a name of this server (DNS rebinding protection); to serve it, start "
                f"with --allowed-host {name} (or MAILGUN_MOCK_ALLOWED_HOST={name})")
        foreign = guard.check_origin(request, config.public_url, request.endpoint in inbox.OPAQUE_READS)
        if foreign is not None:
            return guard.refusal(f"cross-site request refused: {foreign} (its Origin must be this server's; "
                                 "clients other than browsers send no Origin or Referer)")
        return None

    def api_key_problem() -> str | None:
        """Why the request does not carry an API key allowed this request, or ``None`` when it does."""
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return "no HTTP Basic credentials"
        if auth.username != "api":
            return f"the user is {printable(auth.username or '', 40)!r}, not 'api'"
        # the configured key, or one made with /v1/keys (a sending key only for its domain's sends)
        if served.authorize(auth.password or "", request.method, request.path):
            return None
        if config.namespaces and auth.password and not accounts_.is_default_key(auth.password):
            # with namespaces, any other key is an account of its own, unless a namespace's
            # /v1/keys made it: then it acts there, as that namespace allows
            owner = accounts_.owner_of(auth.password)
            if owner is None or owner.authorize(auth.password, request.method, request.path):
                return None
            return "the key, made with /v1/keys in its namespace, is not allowed this request"
        return "the key is neither the configured API key nor a key allowed this request"

    @app.before_request
    def check_auth() -> Response | None:
        if request.endpoint in mock.PUBLIC_ENDPOINTS:
            return None
        problem = api_key_problem()
        if problem is None:
            # The one place a request's account state is chosen; every handler reaches it with common.backend().
            g.mailgun_mock_state = accounts_.for_request(request.authorization.password or "",  # type: ignore[union-attr]
                                                         request.headers.get(ON_BEHALF_OF))
            return None
        if inbox.is_ui_endpoint(request.endpoint, mock.UI_ENDPOINTS):
            # The inbox: open to this machine, or behind --ui-auth; the API key also opens it (scripts).
            return None if guard.ui_credentials_ok(request, config.ui_auth) else guard.ui_challenge()
        # Mailgun's answer says only "Forbidden"; the log says why (never the key itself).
        log.info("401 Forbidden for %s %s: %s", printable(request.method, 20), printable(request.path, 200), problem)
        return _forbidden()

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        return guard.security_headers(response, ui=inbox.is_ui_endpoint(request.endpoint, mock.UI_ENDPOINTS))

    @app.errorhandler(MailgunMockError)
    def mailgun_error(exc: MailgunMockError) -> tuple[Response, int, dict[str, str]]:
        return jsonify(exc.to_json()), exc.status, dict(exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 404:
            message = f"Not Found: no endpoint {request.method} {request.path}"
        elif status == 405:
            message = f"Method Not Allowed: {request.method} {request.path}"
        elif status == 413:
            message = f"request body exceeds the {app.config['MAX_CONTENT_LENGTH']} bytes limit"
        return jsonify(message=message), status

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> tuple[Response, int]:
        # A bug. Answer JSON, keep serving, and keep the exception for the test that caused it.
        log.exception("internal error on %s %s", request.method, printable(request.path))
        served.errors.append(exc)
        return jsonify(message=f"internal error: {type(exc).__name__}"), 500

    return app
