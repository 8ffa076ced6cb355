"""Interception of Mailgun's hosts: calls to them are answered by the mock's WSGI app in the calling
process, with no socket (moto's ``mock_aws`` pattern, hooked where responses, respx and pytest-httpx hook).

::

    with mock.intercept():            # api.mailgun.net and api.eu.mailgun.net
        requests.post("https://api.mailgun.net/v3/example.com/messages", auth=("api", key), data=...)

The hooks sit at each client library's transport (``requests``, ``httpx`` and its ``httpx2`` fork, sync
and async, ``urllib3``; see :mod:`.intercept_hooks`); none is imported here, and one imported while an
interception is active is hooked as its import completes. Calls to any other host go to the original
method untouched.

An intercepted host is served on ``https`` port 443 and ``http`` port 80 (a ``name:port`` entry serves
that one port, either scheme); any other port of it raises :class:`InterceptError` (and is recorded in
:attr:`Interception.refused`): nothing addressed to an intercepted host reaches the network. The answer
is the socket server's, byte for byte: the same ``Server`` and ``Date`` headers first, then the app's,
with ``Transfer-Encoding: chunked`` where the server would chunk. Requests answered here carry the
:data:`IN_PROCESS` environ key, so the Host and Origin checks meant for browsers skip them.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from ..http.guard import IN_PROCESS  # the environ key saying "answered in process": no Host/Origin check
from . import wsgi_server
from .intercept_hooks import hooks
from .wsgi_server import SERVER_HEADER

__all__ = ["DEFAULT_HOSTS", "IN_PROCESS", "InterceptError", "Interception"]

#: Mailgun's API hosts (US and EU).
DEFAULT_HOSTS = ("api.mailgun.net", "api.eu.mailgun.net")
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: (status code, reason, headers, body) of one answer.
Answer = tuple[int, str, list[tuple[str, str]], bytes]


class InterceptError(ConnectionError):
    """A call to an intercepted host that the mock cannot serve (another port, a scheme mismatch): it is
    refused here rather than sent to the real host."""


class Interception:
    """Calls to ``hosts`` answered in process by ``app``, while entered (a context manager, re-entrant
    across instances: the most recently entered interception of a host answers for it).

    :param app: the WSGI app to call (the mock's Flask app).
    :param hosts: host names, or ``name:port`` for one port of a host.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], hosts: Iterable[str], backend: Any = None) -> None:
        self.app = app
        self.backend = backend
        self._any_port: set[str] = set()
        self._ports: dict[str, set[int]] = {}
        self._first = ""
        for entry in hosts:
            parsed = urlsplit("//" + entry.strip())
            host = (parsed.hostname or "").rstrip(".")
            try:
                port = parsed.port
            except ValueError:
                port = -1
            if not host or port == -1 or parsed.path or parsed.query:
                raise ValueError(f"intercept() takes host names, or name:port; got {entry!r}")
            if port is None:
                self._first = self._first or host
                self._any_port.add(host)
            else:
                self._ports.setdefault(host, set()).add(port)
        #: Every call refused with :class:`InterceptError`, as its URL (without the query).
        self.refused: list[str] = []
        self._base_url: str | None = None

    @property
    def hosts(self) -> frozenset[str]:
        """The host names intercepted (with or without a port)."""
        return frozenset(self._any_port | set(self._ports))

    def __enter__(self) -> Interception:
        if self.backend is not None and not self.backend.server_url and self._any_port:
            # A mock serving no socket: storage URLs name the first intercepted host, so following one works.
            self._base_url = self.backend.server_url
            self.backend.server_url = f"https://{self._first}"
        hooks.add(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        hooks.remove(self)
        if self._base_url is not None:
            self.backend.server_url, self._base_url = self._base_url, None

    def serves(self, url: SplitResult) -> bool | None:
        """``True`` to answer this URL here, ``False`` to refuse it, ``None`` when its host is not intercepted."""
        host = (url.hostname or "").rstrip(".")
        if host not in self._any_port and host not in self._ports:
            return None
        try:
            port = url.port or _DEFAULT_PORTS.get(url.scheme)
        except ValueError:
            return False
        if port in self._ports.get(host, ()):
            return True
        return host in self._any_port and _DEFAULT_PORTS.get(url.scheme) == port

    def refuse(self, url: SplitResult) -> None:
        """Record and refuse a call to an intercepted host that :meth:`serves` says no to.

        :raises InterceptError: always.
        """
        call = f"{url.scheme}://{url.netloc}{url.path}"
        self.refused.append(call)  # kept: the pytest fixture fails the test even if the app swallowed the error
        raise InterceptError(f"mailgun-mock intercepts {url.hostname} but cannot serve {call}: it answers https on "
                             "port 443 and http on port 80 (or the port of a 'name:port' entry); the call was not "
                             "sent to the real host")

    def call(self, method: str, url: str, headers: Iterable[tuple[str, str]], body: bytes) -> Answer:
        """Answer one request with the app, as the socket server would (see the module docstring)."""
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        environ = _environ(method, parts, target, headers, body)
        status_line: list[str] = []
        app_headers: list[tuple[str, str]] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status_line[:] = [status]
            app_headers[:] = response_headers
            return lambda data: None  # the legacy write() callable: Flask never uses it

        iterable = self.app(environ, start_response)
        try:
            content = b"".join(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        code, _, reason = status_line[0].partition(" ")
        status = int(code)
        out = [("Server", SERVER_HEADER), ("Date", wsgi_server.http_date()), *app_headers]
        if all(name.lower() != "content-length" for name, _ in app_headers) and method != "HEAD" \
                and status >= 200 and status not in (204, 304):
            out.append(("Transfer-Encoding", "chunked"))  # what the socket server says in this case
        return status, reason, out, content


def _environ(method: str, url: SplitResult, target: str, headers: Iterable[tuple[str, str]],
             body: bytes) -> dict[str, Any]:
    """The environ werkzeug's server builds for this request (``WSGIRequestHandler.make_environ``)."""
    request_url = urlsplit(target)
    # werkzeug reads a request target starting with "//" as a netloc, and puts it back into the path
    path = f"/{request_url.netloc}{request_url.path}" if not request_url.scheme and request_url.netloc \
        else request_url.path
    port = url.port or _DEFAULT_PORTS[url.scheme]
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0), "wsgi.url_scheme": url.scheme, "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "SERVER_SOFTWARE": SERVER_HEADER.split(" ")[0], "REQUEST_METHOD": method, "SCRIPT_NAME": "",
        "PATH_INFO": _dance(unquote(path)), "QUERY_STRING": _dance(request_url.query),
        "REQUEST_URI": _dance(target), "RAW_URI": _dance(target), "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": 0,
        "SERVER_NAME": url.hostname or "", "SERVER_PORT": str(port), "SERVER_PROTOCOL": "HTTP/1.1",
        IN_PROCESS: True,
    }
    names = set()
    for name, value in headers:
        names.add(name.lower())
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        value = value.lstrip(" \t").replace("\r\n", "")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
            if key in environ:
                value = f"{environ[key]},{value}"
        environ[key] = value
    if "host" not in names:  # http.client adds it on the wire
        host = url.hostname or ""
        host = f"[{host}]" if ":" in host else host
        environ["HTTP_HOST"] = host if port == _DEFAULT_PORTS[url.scheme] else f"{host}:{port}"
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        environ["wsgi.input_terminated"] = True  # as werkzeug's server, which de-chunks the body itself
    elif "CONTENT_LENGTH" not in environ and (body or method in ("POST", "PUT", "PATCH")):
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def _dance(text: str) -> str:
    """werkzeug's ``_wsgi_encoding_dance``: a str of the UTF-8 bytes, one character a byte."""
    return text.encode("utf-8").decode("latin-1")
