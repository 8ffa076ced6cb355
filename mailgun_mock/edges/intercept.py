"""Interception of Mailgun's hosts: calls to them are answered by the mock's WSGI app in the calling
process, with no socket (moto's ``mock_aws`` pattern, hooked where responses, respx and pytest-httpx hook).

::

    with mock.intercept():            # api.mailgun.net and api.eu.mailgun.net
        requests.post("https://api.mailgun.net/v3/example.com/messages", auth=("api", key), data=...)

The hooks sit at each client library's transport: ``requests``' ``HTTPAdapter.send``, ``httpx``'s (and
its ``httpx2`` fork's, which the official SDK uses) ``HTTPTransport.handle_request`` and
``AsyncHTTPTransport.handle_async_request``, and ``urllib3``'s ``HTTPConnectionPool.urlopen``. A library
imported while an interception is active is hooked as its import completes; none is imported here.
Calls to any other host go to the original method untouched.

An intercepted host is served on ``https`` port 443 and ``http`` port 80 (a ``name:port`` entry serves
that one port, either scheme); any other port of it raises :class:`InterceptError` (and is recorded in
:attr:`Interception.refused`): nothing addressed to an intercepted host reaches the network. The answer
is the socket server's, byte for byte: the same ``Server`` and ``Date`` headers first, then the app's,
with ``Transfer-Encoding: chunked`` where the server would chunk. Requests answered here carry the
:data:`IN_PROCESS` environ key, so the Host and Origin checks meant for browsers skip them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import io
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType, TracebackType
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from . import wsgi_server
from .wsgi_server import SERVER_HEADER

__all__ = ["DEFAULT_HOSTS", "IN_PROCESS", "InterceptError", "Interception"]

#: Mailgun's API hosts (US and EU).
DEFAULT_HOSTS = ("api.mailgun.net", "api.eu.mailgun.net")
#: The WSGI environ key saying "answered in process" (the origin guard's seam: no Host check).
IN_PROCESS = "mailgun_mock.in_process"
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
        _hooks.add(self)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        _hooks.remove(self)
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


def _bytes(body: Any) -> bytes:
    """A request body as bytes, whatever form the client library holds it in."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        return _bytes(body.read())
    return b"".join(_bytes(chunk) for chunk in body)


# -- the hooks, one set for every active interception -----------------------------------------------


class _Hooks:
    """The patched transport methods, installed while at least one interception is active."""

    def __init__(self) -> None:
        self.active: list[Interception] = []
        self.lock = threading.RLock()
        self.saved: list[tuple[type, str, Any, Any]] = []  # (class, name, original, ours)
        self.hooked: set[str] = set()
        self.finder: _ImportWatcher | None = None

    def add(self, interception: Interception) -> None:
        with self.lock:
            self.active.append(interception)
            if len(self.active) == 1:
                for name in _PATCHERS:
                    if sys.modules.get(name) is not None:  # imported (None marks one that cannot be)
                        self.hook(name)
                self.finder = _ImportWatcher(self)
                sys.meta_path.insert(0, self.finder)

    def remove(self, interception: Interception) -> None:
        with self.lock:
            self.active.remove(interception)
            if self.active:
                return
            if self.finder in sys.meta_path:
                sys.meta_path.remove(self.finder)
            self.finder = None
            for cls, name, original, ours in reversed(self.saved):
                if cls.__dict__.get(name) is ours:  # someone patched on top of us and is still active: leave it
                    setattr(cls, name, original)
            self.saved.clear()
            self.hooked.clear()

    def hook(self, module_name: str) -> None:
        """Patch one library (called with the lock held, or from an import that completes under it)."""
        if module_name in self.hooked:
            return
        self.hooked.add(module_name)
        for cls, name, make in _PATCHERS[module_name]():
            original = cls.__dict__[name]
            ours = make(original)
            self.saved.append((cls, name, original, ours))
            setattr(cls, name, ours)

    def find(self, url: str) -> tuple[Interception, SplitResult] | None:
        """The interception answering ``url``, or None to pass it on.

        :raises InterceptError: when an intercepted host is called where the mock cannot serve it.
        """
        parts = urlsplit(url)
        for interception in reversed(self.active):
            verdict = interception.serves(parts)
            if verdict:
                return interception, parts
            if verdict is False:
                call = f"{parts.scheme}://{parts.netloc}{parts.path}"
                interception.refused.append(call)  # kept: the pytest fixture fails the test even if the app swallowed it
                raise InterceptError(f"mailgun-mock intercepts {parts.hostname} but cannot serve {call}: it answers "
                                     "https on port 443 and http on port 80 (or the port of a 'name:port' entry); "
                                     "the call was not sent to the real host")
        return None


_hooks = _Hooks()


class _ImportWatcher(importlib.abc.MetaPathFinder):
    """Hooks a client library imported while an interception is active, as its import completes."""

    def __init__(self, hooks: _Hooks) -> None:
        self.hooks = hooks
        self.busy: set[str] = set()

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _PATCHERS or fullname in self.busy:
            return None
        self.busy.add(fullname)
        try:
            spec: importlib.machinery.ModuleSpec | None = next((found for finder in sys.meta_path if finder is not self
                         and (found := getattr(finder, "find_spec", lambda *a: None)(fullname, path, target))), None)
        finally:
            self.busy.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _HookingLoader(spec.loader, self.hooks)
        return spec


class _HookingLoader(importlib.abc.Loader):
    """A module's own loader, then the hooks; puts the original loader back on the module."""

    def __init__(self, loader: Any, hooks: _Hooks) -> None:
        self.loader = loader
        self.hooks = hooks

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        with self.hooks.lock:
            if self.hooks.active:
                self.hooks.hook(module.__name__)


# -- one patcher per library: (class, method name, wrapper factory) --------------------------------


def _requests() -> list[tuple[type, str, Callable[[Any], Any]]]:
    from requests.adapters import HTTPAdapter
    from urllib3 import HTTPResponse

    def make(original: Any) -> Any:
        def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            found = _hooks.find(request.url)
            if found is None:
                return original(adapter, request, *args, **kwargs)
            status, reason, headers, content = found[0].call(
                request.method or "GET", request.url, request.headers.items(), _bytes(request.body))
            raw = HTTPResponse(body=io.BytesIO(content), headers=_header_dict(headers), status=status, reason=reason,
                               version=11, preload_content=False, decode_content=False,
                               request_method=request.method, request_url=request.url)
            return adapter.build_response(request, raw)

        return send

    return [(HTTPAdapter, "send", make)]


def _urllib3() -> list[tuple[type, str, Callable[[Any], Any]]]:
    import inspect

    from urllib3 import HTTPConnectionPool, HTTPResponse

    def make(original: Any) -> Any:
        signature = inspect.signature(original)

        def urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            absolute = url if url.startswith(("http://", "https://")) else \
                f"{pool.scheme}://{_netloc(pool.host, pool.port, pool.scheme)}{url}"
            found = _hooks.find(absolute)
            if found is None:
                return original(pool, method, url, *args, **kwargs)
            bound = signature.bind(pool, method, url, *args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            status, reason, headers, content = found[0].call(
                method, absolute, list((given["headers"] or {}).items()), _bytes(given["body"]))
            return HTTPResponse(body=io.BytesIO(content), headers=_header_dict(headers), status=status, reason=reason,
                                version=11, preload_content=given["preload_content"],
                                decode_content=given["decode_content"], request_method=method, request_url=absolute)

        return urlopen

    return [(HTTPConnectionPool, "urlopen", make)]


def _httpx(module_name: str) -> Callable[[], list[tuple[type, str, Callable[[Any], Any]]]]:
    def patchers() -> list[tuple[type, str, Callable[[Any], Any]]]:
        httpx = sys.modules[module_name]

        def response(answer: Answer) -> Any:
            status, reason, headers, content = answer
            return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content),
                                  extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode("ascii")})

        def make_sync(original: Any) -> Any:
            def handle_request(transport: Any, request: Any) -> Any:
                found = _hooks.find(str(request.url))
                if found is None:
                    return original(transport, request)
                return response(found[0].call(request.method, str(request.url), _raw_headers(request),
                                              request.read()))

            return handle_request

        def make_async(original: Any) -> Any:
            async def handle_async_request(transport: Any, request: Any) -> Any:
                found = _hooks.find(str(request.url))
                if found is None:
                    return await original(transport, request)
                body = await request.aread()
                return response(found[0].call(request.method, str(request.url), _raw_headers(request), body))

            return handle_async_request

        return [(httpx.HTTPTransport, "handle_request", make_sync),
                (httpx.AsyncHTTPTransport, "handle_async_request", make_async)]

    return patchers


_PATCHERS: dict[str, Callable[[], list[tuple[type, str, Callable[[Any], Any]]]]] = {
    "requests": _requests, "urllib3": _urllib3, "httpx": _httpx("httpx"), "httpx2": _httpx("httpx2"),
}


def _header_dict(headers: list[tuple[str, str]]) -> Any:
    from urllib3 import HTTPHeaderDict

    return HTTPHeaderDict(headers)


def _raw_headers(request: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]


def _netloc(host: str, port: int | None, scheme: str) -> str:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
