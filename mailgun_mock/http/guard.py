"""Origin safety: which ``Host`` a request may name, which ``Origin`` may change state, who may see
the web inbox, and the headers every answer carries.

DNS rebinding: a page on ``rebind.attacker.example`` whose name later resolves to 127.0.0.1 talks to
the mock as if same-origin, with the default API key the README publishes. Its requests still say
``Host: rebind.attacker.example``, so only the server's own names are served: loopback names and
addresses, the bound address (any IP address when bound to every interface: an IP literal cannot be
rebound), the ``--public-url`` host and each ``--allowed-host`` (``*`` = any; ``.example.com``
= that domain and its subdomains).

CSRF: a cross-site form or ``text/plain`` POST needs no preflight. A request whose ``Origin`` is
present and not the server's own is refused, whatever its method (a cross-origin read could not
see the answer anyway); without ``Origin``, a state-changing request (not GET/HEAD/OPTIONS) whose
``Referer`` is foreign is refused too. Requests with neither (curl, SDKs) are served.

Requests answered in process (a future interception of ``api.mailgun.net``) set
``environ[IN_PROCESS] = True`` and skip both checks: they never came from a browser, and their Host
is Mailgun's.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Request, Response, jsonify

from ..base.config import Config

__all__ = ["IN_PROCESS", "HostPolicy", "check_origin", "host_name", "is_loopback_host", "log_startup_warnings",
           "refusal", "security_headers", "startup_warnings", "ui_challenge", "ui_credentials_ok"]

log = logging.getLogger("mailgun_mock")

#: The WSGI environ key that marks a request answered in process: no Host or Origin check.
IN_PROCESS = "mailgun_mock.in_process"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_WILDCARD = frozenset({"", "0.0.0.0", "::"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def host_name(host: str) -> str:
    """The name part of a ``Host`` value (``[::1]:8090`` -> ``::1``), lower-cased, without a final dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a bind address or a Host name) is the loopback interface."""
    name = host_name(host)
    address = _ip(name)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1, as a dual-stack socket reports IPv4 peers
    return name in _LOOPBACK_NAMES if address is None else address.is_loopback


class HostPolicy:
    """The names this server answers to.

    :param config: ``host`` (the bound address), ``public_url`` and ``allowed_hosts`` are read.
    """

    def __init__(self, config: Config) -> None:
        names = {host_name(config.host)} if config.host not in _WILDCARD else set()
        if config.public_url:
            names.add(host_name(urlsplit(config.public_url).netloc.rpartition("@")[2]))
        allowed = [host_name(h) if not h.startswith(".") else h.lower() for h in config.allowed_hosts]
        self.any = "*" in config.allowed_hosts
        self.any_ip = config.host in _WILDCARD
        self.names = frozenset(names | {h for h in allowed if not h.startswith(".")})
        self.suffixes = tuple(h for h in allowed if h.startswith("."))

    def allows(self, host: str) -> bool:
        """Whether a request naming ``host`` (a Host header value, port optional) is served."""
        if self.any:
            return True
        name = host_name(host)
        address = _ip(name)
        if address is not None:
            return address.is_loopback or self.any_ip or name in self.names
        return (name in _LOOPBACK_NAMES or name in self.names
                or any(name.endswith(s) or name == s[1:] for s in self.suffixes))


def _netloc(scheme: str, netloc: str) -> str:
    """``host:port`` with the scheme's default port dropped, lower-cased."""
    netloc = netloc.lower().rpartition("@")[2]
    default = _DEFAULT_PORTS.get(scheme.lower())
    if default and netloc.endswith(":" + default):
        netloc = netloc[: -len(default) - 1]
    return netloc


def check_origin(request: Request, public_url: str, opaque_reads: bool = False) -> str | None:
    """Why ``request`` comes from a foreign page, or ``None`` when it does not.

    Own means the same ``host:port`` as the request's (already checked) Host, or the public URL's.

    :param opaque_reads: let a GET or HEAD with ``Origin: null`` through: a sandboxed frame (the
        inbox's own view of a mail) has an opaque origin, and Chromium names it so even on image loads.
    """
    origin = request.headers.get("Origin")
    if opaque_reads and origin == "null" and request.method in _SAFE_METHODS:
        return None
    source = "Origin"
    if origin is None:
        if request.method in _SAFE_METHODS:
            return None
        origin = request.headers.get("Referer")
        source = "Referer"
        if not origin:
            return None
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{source} {origin[:100]!r} is not this server"
    theirs = _netloc(parts.scheme, parts.netloc)
    own = {_netloc(request.scheme, request.host)}
    if public_url:
        public = urlsplit(public_url)
        own.add(_netloc(public.scheme, public.netloc))
    if theirs in own:
        return None
    return f"{source} {parts.scheme}://{theirs} is not this server"


def refusal(message: str) -> Response:
    """The 403 JSON answer of a refused request."""
    response = jsonify(message=message)
    response.status_code = 403
    return response


def security_headers(response: Response, ui: bool) -> Response:
    """Headers every answer carries; inbox pages also refuse framing and keep their URL to themselves."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if ui:
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    return response


def ui_credentials_ok(request: Request, ui_auth: str) -> bool:
    """Whether ``request`` may use the web inbox without the API key.

    With ``--ui-auth``: when it carries those Basic credentials. Without: when it comes from this
    machine (a loopback address); other machines give the API key (user ``api``) or nothing.
    """
    if not ui_auth:
        return is_loopback_host(request.remote_addr or "")
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    given = f"{auth.username or ''}:{auth.password or ''}".encode("utf-8", "replace")
    return hmac.compare_digest(given, ui_auth.encode("utf-8"))


def ui_challenge() -> Response:
    """401 asking the browser for the inbox's credentials (``--ui-auth``)."""
    response = jsonify(message="the web inbox needs the --ui-auth user name and password, or user 'api' "
                               "with the API key")
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Basic realm="mailgun-mock inbox", charset="UTF-8"'
    return response


def startup_warnings(config: Config) -> Iterable[str]:
    """What an operator should know about the exposure this configuration makes."""
    if "*" in config.allowed_hosts:
        yield ("--allowed-host '*' serves any Host header: pages on other sites can reach this server "
               "through DNS rebinding")
    if not is_loopback_host(config.host) and not config.ui_auth:
        yield (f"bound to {config.host or '0.0.0.0'} without --ui-auth: other machines open the web inbox with the "
               "API key as password (user 'api'); set --ui-auth user:password to give it credentials of its own")


def log_startup_warnings(config: Config) -> None:
    """Log :func:`startup_warnings` once, as the app is built."""
    for warning in startup_warnings(config):
        log.warning("%s", warning)
