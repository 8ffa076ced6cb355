"""Webhooks delivered straight into an application's WSGI callable, no socket in between.

``MailgunMock.wsgi_targets({"http://app.test": wsgi_app})`` routes every webhook whose URL starts
with that base into ``wsgi_app`` (a Flask app, Django's ``get_wsgi_application()``…), and every
other URL through the usual transport. With ``deliver="inline"`` the view then runs in the test's
own thread, inside its database transaction. The environ is built here from the stdlib (PEP 3333),
so this layer needs neither werkzeug nor Flask.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from .transport import Transport

__all__ = ["RoutingTransport", "WsgiApp", "call_wsgi"]

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def call_wsgi(app: WsgiApp, url: str, body: bytes, content_type: str) -> int:
    """POST ``body`` to ``url`` inside ``app``; answers the status code (the response body is read and dropped).

    :raises OSError: when the application raises, as a failed connection would (the attempt is retried).
    """
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(parts.path or "/", "latin-1"),
        "QUERY_STRING": parts.query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc.rpartition("@")[2],
        "HTTP_USER_AGENT": "mailgun-mock",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        status[:] = [line]
        return lambda data: None

    try:
        result = app(environ, start_response)
        try:
            for _ in result:  # the body is consumed, as a client would read it
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    except Exception as exc:
        raise OSError(f"the WSGI application raised {type(exc).__name__}: {exc}") from exc
    if not status:
        raise OSError("the WSGI application answered without calling start_response")
    return int(status[0].split(" ", 1)[0])


class RoutingTransport:
    """Posts to a WSGI application when the URL starts with one of its bases, else through ``fallback``."""

    def __init__(self, fallback: Transport, targets: Mapping[str, WsgiApp]) -> None:
        self.fallback = fallback
        # Longest base first, so "http://app.test/api" wins over "http://app.test".
        self.targets = sorted(((base.rstrip("/"), app) for base, app in targets.items()), key=lambda t: -len(t[0]))

    def post(self, url: str, body: bytes, content_type: str, timeout: float) -> int:
        for base, app in self.targets:
            if url == base or url.startswith((base + "/", base + "?")):
                return call_wsgi(app, url, body, content_type)
        return self.fallback.post(url, body, content_type, timeout)
