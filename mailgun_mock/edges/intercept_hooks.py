"""The client-library hooks behind :mod:`.intercept`: one set of patched transport methods, installed while
at least one :class:`~.intercept.Interception` is active, consulting the active ones on every call.

Hooked, as responses, respx and pytest-httpx hook: ``requests.adapters.HTTPAdapter.send``,
``httpx.HTTPTransport.handle_request`` and ``httpx.AsyncHTTPTransport.handle_async_request`` (and the
same in ``httpx2``, the fork the official SDK uses), ``urllib3.HTTPConnectionPool.urlopen``. Nothing is
imported here: a library already imported is hooked when the first interception starts, one imported
later is hooked as its import completes (a finder on ``sys.meta_path`` while interceptions are active).
The wrappers are made once per method and process, so entering an interception costs a few attribute
assignments. A method somebody else patched on top of ours is left to them on the way out.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import io
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import SplitResult, urlsplit

if TYPE_CHECKING:
    from .intercept import Answer

__all__ = ["hooks"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class _Interception(Protocol):  # what the hooks ask of an interception (see .intercept.Interception)
    def serves(self, url: SplitResult) -> bool | None: ...  # pragma: no cover - a protocol
    def refuse(self, url: SplitResult) -> None: ...  # pragma: no cover - a protocol
    def call(self, method: str, url: str, headers: Iterable[tuple[str, str]],
             body: bytes) -> Answer: ...  # pragma: no cover - a protocol


class _Hooks:
    """The patched methods and the interceptions they answer for (most recently entered first)."""

    def __init__(self) -> None:
        self.active: list[_Interception] = []
        self.lock = threading.RLock()
        self.installed: list[tuple[type, str, Any, Any]] = []  # (class, name, original, ours)
        self.wrappers: dict[tuple[type, str, int], Any] = {}  # ours, per original method, made once
        self.finder = _ImportWatcher(self)

    def add(self, interception: _Interception) -> None:
        with self.lock:
            self.active.append(interception)
            if len(self.active) == 1:
                for name in _PATCHERS:
                    if sys.modules.get(name) is not None:  # imported (None marks one that cannot be)
                        self.hook(name)
                sys.meta_path.insert(0, self.finder)

    def remove(self, interception: _Interception) -> None:
        with self.lock:
            self.active.remove(interception)
            if self.active:
                return
            if self.finder in sys.meta_path:
                sys.meta_path.remove(self.finder)
            for cls, name, original, ours in reversed(self.installed):
                if cls.__dict__.get(name) is ours:
                    setattr(cls, name, original)
            self.installed.clear()

    def hook(self, module_name: str) -> None:
        """Patch one imported library's transport methods (with the lock held)."""
        for cls, name, make in _PATCHERS[module_name]():
            current = cls.__dict__[name]
            if any(c is cls and n == name for c, n, _, _ in self.installed):
                continue
            key = (cls, name, id(current))
            ours = self.wrappers.get(key)
            if ours is None:
                ours = self.wrappers[key] = make(current)
            self.installed.append((cls, name, current, ours))
            setattr(cls, name, ours)

    def find(self, url: str) -> _Interception | None:
        """The interception answering ``url``, or None to pass the call on untouched.

        :raises InterceptError: (from the interception) for an intercepted host it cannot serve there.
        """
        parts = urlsplit(url)
        for interception in reversed(self.active):
            verdict = interception.serves(parts)
            if verdict:
                return interception
            if verdict is False:
                interception.refuse(parts)
        return None


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
                                                                and (found := getattr(finder, "find_spec", _none)(
                                                                    fullname, path, target))), None)
        finally:
            self.busy.discard(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _HookingLoader(spec.loader, self.hooks)
        return spec


def _none(*args: Any) -> None:
    return None


class _HookingLoader(importlib.abc.Loader):
    """A module's own loader, then the hooks; the module keeps its original loader."""

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


hooks = _Hooks()

# -- one patcher per library: (class, method name, wrapper factory) --------------------------------

_Patchers = list[tuple[type, str, Callable[[Any], Any]]]


def _requests() -> _Patchers:
    from requests.adapters import HTTPAdapter
    from urllib3 import HTTPResponse

    def make(original: Any) -> Any:
        def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            interception = hooks.find(request.url)
            if interception is None:
                return original(adapter, request, *args, **kwargs)
            status, reason, headers, content = interception.call(
                request.method or "GET", request.url, request.headers.items(), _bytes(request.body))
            raw = HTTPResponse(body=io.BytesIO(content), headers=_header_dict(headers), status=status, reason=reason,
                               version=11, preload_content=False, decode_content=False,
                               request_method=request.method, request_url=request.url)
            return adapter.build_response(request, raw)

        return send

    return [(HTTPAdapter, "send", make)]


def _urllib3() -> _Patchers:
    from urllib3 import HTTPConnectionPool, HTTPResponse

    def make(original: Any) -> Any:
        signature: list[Any] = []  # inspect.signature(original), on first use

        def urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            absolute = url if url.startswith(("http://", "https://")) else \
                f"{pool.scheme}://{_netloc(pool.host, pool.port, pool.scheme)}{url}"
            interception = hooks.find(absolute)
            if interception is None:
                return original(pool, method, url, *args, **kwargs)
            if not signature:
                import inspect

                signature.append(inspect.signature(original))
            bound = signature[0].bind(pool, method, url, *args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            status, reason, headers, content = interception.call(
                method, absolute, list((given["headers"] or {}).items()), _bytes(given["body"]))
            return HTTPResponse(body=io.BytesIO(content), headers=_header_dict(headers), status=status, reason=reason,
                                version=11, preload_content=given["preload_content"],
                                decode_content=given["decode_content"], request_method=method, request_url=absolute)

        return urlopen

    return [(HTTPConnectionPool, "urlopen", make)]


def _httpx(module_name: str) -> Callable[[], _Patchers]:
    def patchers() -> _Patchers:
        httpx = sys.modules[module_name]

        def response(answer: Answer) -> Any:
            status, reason, headers, content = answer
            return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content),
                                  extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode("ascii")})

        def make_sync(original: Any) -> Any:
            def handle_request(transport: Any, request: Any) -> Any:
                interception = hooks.find(str(request.url))
                if interception is None:
                    return original(transport, request)
                return response(interception.call(request.method, str(request.url), _raw_headers(request),
                                                  request.read()))

            return handle_request

        def make_async(original: Any) -> Any:
            async def handle_async_request(transport: Any, request: Any) -> Any:
                interception = hooks.find(str(request.url))
                if interception is None:
                    return await original(transport, request)
                body = await request.aread()
                return response(interception.call(request.method, str(request.url), _raw_headers(request), body))

            return handle_async_request

        return [(httpx.HTTPTransport, "handle_request", make_sync),
                (httpx.AsyncHTTPTransport, "handle_async_request", make_async)]

    return patchers


_PATCHERS: dict[str, Callable[[], _Patchers]] = {
    "requests": _requests, "urllib3": _urllib3, "httpx": _httpx("httpx"), "httpx2": _httpx("httpx2"),
}


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


def _header_dict(headers: list[tuple[str, str]]) -> Any:
    from urllib3 import HTTPHeaderDict

    return HTTPHeaderDict(headers)


def _raw_headers(request: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]


def _netloc(host: str, port: int | None, scheme: str) -> str:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
