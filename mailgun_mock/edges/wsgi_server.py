"""werkzeug's threaded WSGI server, bound in the caller's thread and stopped at once when asked."""

from __future__ import annotations

import logging
import selectors
import socket
import ssl
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from ..base.logtext import printable

__all__ = ["WsgiServer"]

http_log = logging.getLogger("mailgun_mock.http")


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging one line per request to ``mailgun_mock.http``."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if http_log.isEnabledFor(logging.INFO):  # escaping costs, even for a line nobody sees
            http_log.info("%s %s %s", printable(self.requestline), code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.INFO
        http_log.log(level, printable(message % args if args else message))


class WsgiServer(ThreadedWSGIServer):
    """werkzeug's threaded server with a loop that wakes at once when asked to stop.

    ``socketserver``'s ``serve_forever`` notices a shutdown only at its next poll (werkzeug's
    default interval is 0.5 s); here a socket pair wakes the selector, so ``stop`` is prompt
    without busy polling.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        super().__init__(*args, **kwargs)

    @classmethod
    def bind(cls, host: str, port: int, app: Any, ssl_context: ssl.SSLContext | None = None) -> WsgiServer:
        """Bind and listen here, raising ``OSError`` for a busy port (werkzeug would ``sys.exit``).

        :param ssl_context: serve HTTPS with it, on the same port.
        """
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.create_server((host, port), family=family, backlog=128)
        try:
            server = cls(host, listener.getsockname()[1], app, handler=_RequestHandler, fd=listener.fileno())
        finally:
            listener.close()  # the server holds its own duplicate of the descriptor
        if ssl_context is not None:
            # Wrapped here rather than by werkzeug, to defer the handshake: werkzeug's wrapping does it
            # inside accept(), on the one thread that accepts, so a client that connects and stays
            # silent would stall every other. Deferred, OpenSSL completes it on the request's own
            # thread at the first read, where werkzeug logs a failed one.
            server.socket = ssl_context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
            server.ssl_context = ssl_context  # werkzeug reads it for wsgi.url_scheme
        return server

    def serve_until_stopped(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self.socket and not self._stopping:
                        # socketserver's own accept-and-dispatch step (stable since Python 2).
                        self._handle_request_noblock()  # type: ignore[attr-defined]

    def request_stop(self) -> None:
        self._stopping = True
        self._wake_w.send(b"x")

    def close(self) -> None:
        self.server_close()
        self._wake_r.close()
        self._wake_w.close()
