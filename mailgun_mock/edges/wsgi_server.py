"""werkzeug's threaded WSGI server, bound in the caller's thread, stopped at once when asked, and keeping
HTTP/1.1 connections alive.

werkzeug's development server closes every connection after one answer (it cannot tell where a
request body it did not read ends). Here each request's body is read to its end after the answer
(``Content-Length`` or chunked), so the next request on the same connection starts where it should,
and a client's pooled connection serves a whole test session. A connection closes when the client
asks (``Connection: close``, HTTP/1.0), after an error the body cannot be read past, after
:attr:`WsgiServer.keep_alive_timeout` idle seconds, or when the server stops.
"""

from __future__ import annotations

import email.utils
import importlib.metadata
import io
import logging
import selectors
import socket
import ssl
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any, cast

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from ..base.logtext import printable

__all__ = ["SERVER_HEADER", "WsgiServer", "http_date"]

http_log = logging.getLogger("mailgun_mock.http")

#: The ``Server`` header of every answer (werkzeug's own: ``Werkzeug/<version> Python/<version>``).
SERVER_HEADER = f"Werkzeug/{importlib.metadata.version('werkzeug')} {BaseHTTPRequestHandler.sys_version}"
_DRAIN_LIMIT = 256 * 1024 * 1024  # an unread body larger than this closes the connection instead
_DRAIN_TIMEOUT = 10.0  # seconds a client may take to send the rest of a body nobody read


def http_date() -> str:
    """The ``Date`` header of an answer sent now (``http.server``'s ``date_time_string``)."""
    return email.utils.formatdate(usegmt=True)


class _Body(io.RawIOBase):
    """A request body of ``Content-Length`` bytes on the connection: reads stop at its end, and
    :meth:`drain` reads what the application left, so the next request starts in the right place."""

    def __init__(self, rfile: Any, length: int) -> None:
        super().__init__()
        self._rfile = rfile
        self.remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self.remaining]
        if not view:
            return 0
        count: int = self._rfile.readinto(view)
        self.remaining -= count or 0
        return count

    def drain(self) -> bool:
        """Read the rest; ``False`` when it cannot be (too much, or the client stopped sending)."""
        if self.remaining > _DRAIN_LIMIT:
            return False
        buffer = bytearray(65536)
        while self.remaining:
            if not self.readinto(buffer):
                return False
        return True


def _drain_chunked(stream: Any) -> bool:
    """Read a chunked body (werkzeug's ``DechunkedInput``) to its last chunk; ``False`` if it cannot be."""
    buffer, total = bytearray(65536), 0
    while total <= _DRAIN_LIMIT:
        count = stream.readinto(buffer)
        if not count:
            return True
        total += count
    return False


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging one line per request to ``mailgun_mock.http``, and keeping
    HTTP/1.1 connections alive (see the module docstring)."""

    protocol_version = "HTTP/1.1"
    server: WsgiServer

    def setup(self) -> None:
        super().setup()
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            # Status line and headers leave in one write with the body's start, but a later write
            # must not wait for the client's delayed ACK (Nagle): ~40 ms per answer otherwise.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)
        self._answered = 0

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def version_string(self) -> str:
        return SERVER_HEADER

    def date_time_string(self, timestamp: float | None = None) -> str:
        return http_date() if timestamp is None else email.utils.formatdate(timestamp, usegmt=True)

    def handle_one_request(self) -> None:
        if self._answered:  # a kept-alive connection: wait for the next request, not forever
            self.connection.settimeout(self.server.keep_alive_timeout)
            try:
                ready = cast(io.BufferedReader, self.rfile).peek(1)
            except OSError:  # the idle timeout, or the server shutting the connection down
                ready = b""
            if not ready:
                self.close_connection = True
                return
            self.connection.settimeout(None)
        self._answered += 1
        super().handle_one_request()

    def run_wsgi(self) -> None:
        # werkzeug's run_wsgi, minus its closing of every connection and its timed drain of the
        # socket (which, on a kept-alive connection, would swallow the next request), and minus its
        # "100 Continue", which http.server's parse_request has already sent.
        self.environ = environ = self.make_environ()
        rest = self.headers.get_payload()  # header lines the parser left unread (a bare CR ends the block)
        if self.request_version != "HTTP/1.1" or (isinstance(rest, str) and rest.strip()):
            # HTTP/1.0, or a header block read only in part ("Connection: close" may be in the rest):
            # answer, then close.
            self.close_connection = True
        body: _Body | None = None
        if not environ.get("wsgi.input_terminated"):  # chunked bodies come dechunked by werkzeug
            try:
                length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
            except ValueError:
                length, self.close_connection = 0, True  # where this body ends is anybody's guess
            body = _Body(self.rfile, length)
            environ["wsgi.input"] = body
        answer = _Answer(self)
        try:
            answer.run(self.server.app, environ)
        except (ConnectionError, TimeoutError):  # the client went away (werkzeug's connection_dropped_errors)
            self.close_connection = True
            return
        except Exception as exc:
            self.close_connection = True
            if not answer.started:
                answer.reset()
                answer.run(InternalServerError(), environ)
            self.log_error("Error on request %s: %r", printable(self.requestline), exc)
            return
        try:
            self.connection.settimeout(_DRAIN_TIMEOUT)
            drained = body.drain() if body is not None else _drain_chunked(environ["wsgi.input"])
        except OSError:
            drained = False
        finally:
            self.connection.settimeout(None)
        if not drained:
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if http_log.isEnabledFor(logging.INFO):  # escaping costs, even for a line nobody sees
            http_log.info("%s %s %s", printable(self.requestline), code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.INFO
        http_log.log(level, printable(message % args if args else message))


class _Answer:
    """One WSGI answer written on the handler's connection: the status line and headers go out in one
    write with the first body bytes; chunked when the application gives no length (HTTP/1.1)."""

    def __init__(self, handler: _RequestHandler) -> None:
        self.handler = handler
        self.started = False
        self.reset()

    def reset(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.chunked = False

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, headers
        return self.write

    def run(self, app: Any, environ: dict[str, Any]) -> None:
        iterable: Iterable[bytes] = app(environ, self.start_response)
        try:
            for data in iterable:
                self.write(data)
            if not self.started:
                self.write(b"")
            if self.chunked:
                self.handler.wfile.write(b"0\r\n\r\n")
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    def write(self, data: bytes) -> None:
        handler = self.handler
        out = b""
        if not self.started:
            assert self.status is not None, "write() before start_response"
            self.started = True
            code, _, reason = self.status.partition(" ")
            handler.send_response(int(code), reason)
            names = set()
            for name, value in self.headers:
                handler.send_header(name, value)
                names.add(name.lower())
            status = int(code)
            if "content-length" not in names and handler.command != "HEAD" and status >= 200 \
                    and status not in (204, 304):
                if handler.request_version == "HTTP/1.1":
                    self.chunked = True
                    handler.send_header("Transfer-Encoding", "chunked")
                else:
                    handler.close_connection = True
            if handler.close_connection:
                handler.send_header("Connection", "close")
            handler._headers_buffer.append(b"\r\n")  # end_headers() without its separate write
            out = b"".join(handler._headers_buffer)
            handler._headers_buffer.clear()
        if data:
            out += b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data
        if out:
            handler.wfile.write(out)


class WsgiServer(ThreadedWSGIServer):
    """werkzeug's threaded server with a loop that wakes at once when asked to stop.

    ``socketserver``'s ``serve_forever`` notices a shutdown only at its next poll (werkzeug's
    default interval is 0.5 s); here a socket pair wakes the selector, so ``stop`` is prompt
    without busy polling. Connections still open when it closes are shut down.
    """

    #: Seconds a kept-alive connection may wait for its next request before the server closes it.
    keep_alive_timeout = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping = False
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
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

    def track(self, connection: socket.socket, is_open: bool) -> None:
        """Note a connection a handler serves (``is_open``) or has finished with."""
        with self._open_lock:
            if is_open:
                self._open.add(connection)
            else:
                self._open.discard(connection)

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
        with self._open_lock:
            still_open, self._open = list(self._open), set()
        for connection in still_open:  # idle kept-alive connections end now, not at their timeout
            try:
                socket.socket.shutdown(connection, socket.SHUT_RDWR)  # not SSLSocket's, which drops its state
            except OSError:
                pass
        self._wake_r.close()
        self._wake_w.close()
