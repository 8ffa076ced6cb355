"""``MailgunMock``: the app served by werkzeug on a background thread."""

from __future__ import annotations

import logging
import selectors
import socket
import threading
from collections.abc import Sequence
from email.message import EmailMessage, Message
from email.policy import SMTP
from types import TracebackType
from typing import TYPE_CHECKING, Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from ..state import snapshot
from ..http.app import create_app
from ..base.logtext import printable
from ..backend.core import Backend
from ..base.config import Config

if TYPE_CHECKING:
    import requests

    from .smtp import SmtpListener

__all__ = ["MailgunMock", "ServerError"]

http_log = logging.getLogger("mailgun_mock.http")


class ServerError(AssertionError):
    """An error raised while the server thread handled a request (a bug in the mock)."""


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging one line per request to ``mailgun_mock.http``."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if http_log.isEnabledFor(logging.INFO):  # escaping costs, even for a line nobody sees
            http_log.info("%s %s %s", printable(self.requestline), code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.INFO
        http_log.log(level, printable(message % args if args else message))


class _Server(ThreadedWSGIServer):
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
    def bind(cls, host: str, port: int, app: Any) -> _Server:
        """Bind and listen here, raising ``OSError`` for a busy port (werkzeug would ``sys.exit``)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.create_server((host, port), family=family, backlog=128)
        try:
            return cls(host, listener.getsockname()[1], app, handler=_RequestHandler, fd=listener.fileno())
        finally:
            listener.close()  # the server holds its own duplicate of the descriptor

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


class MailgunMock:
    """A Mailgun-compatible server on a background thread.

    ::

        with MailgunMock() as mock:
            requests.get(f"{mock.url}/v3/routes", auth=("api", mock.api_key))

    :param config: a full :class:`~mailgun_mock.config.Config` (environment variables are
        *not* read here: that is the CLI's job).
    :param overrides: individual config fields, e.g. ``port=0, api_key="key-test"``.
    """

    def __init__(self, config: Config | None = None, **overrides: Any) -> None:
        self.config = (config or Config()).replace(**overrides)
        self.backend = Backend(self.config)
        self.app = create_app(self.backend, self.config)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._session: requests.Session | None = None
        self._smtp: SmtpListener | None = None
        self._writer: snapshot.SnapshotWriter | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> MailgunMock:
        """Bind (in the caller's thread, so a busy port fails here) and serve on a daemon thread."""
        if self._server is not None:
            raise RuntimeError("this MailgunMock is already running")
        if self.config.snapshot:
            # Load before anything serves; a corrupt file raises SnapshotError here and, since no
            # writer exists yet, is never overwritten.
            state = snapshot.load(self.config.snapshot)
            if state is not None:
                self.backend.store.restore(state)
            self._writer = snapshot.SnapshotWriter(self.backend.store, self.config.snapshot, self.config.snapshot_delay)
        try:
            server = _Server.bind(self.config.host, self.config.port, self.app)
        except BaseException:
            self._close_writer()
            raise
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_until_stopped, name=f"mailgun-mock:{server.port}", daemon=True
        )
        self._thread.start()
        self.backend.server_url = self.url
        if self.config.smtp_port:
            from .smtp import SmtpListener  # lazy: aiosmtpd costs ~30 ms to import

            try:
                self._smtp = SmtpListener(self.backend, self.config.host, self.config.smtp_port).start()
            except BaseException:
                self.stop()
                raise
        return self

    def stop(self) -> None:
        """Stop serving and close the socket. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.request_stop()
        thread.join()
        server.close()
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        self.backend.close()
        self._close_writer()  # last, so the final save holds the last attempts and events
        if self._session is not None:
            self._session.close()
            self._session = None
        self._server = self._thread = None

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def __enter__(self) -> MailgunMock:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    # -- where and how to reach it --------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (the free one picked when ``port=0``)."""
        if self._server is None:
            raise RuntimeError("the server is not running: call start() first")
        return int(self._server.port)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``; give it to an SDK as its API base."""
        host = self.config.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def smtp_port(self) -> int | None:
        """The SMTP listener's port, or ``None`` when there is none (``smtp_port`` not configured)."""
        return self._smtp.port if self._smtp is not None else None

    @property
    def api_key(self) -> str:
        """The API key clients authenticate with (user ``api``)."""
        return self.config.api_key

    @property
    def signing_key(self) -> str:
        """The key webhooks are signed with."""
        return self.config.signing_key

    # -- test helpers ---------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all state (routes, clock offset…) and any recorded server errors."""
        self.backend.reset()
        self.backend.errors.clear()

    def advance_clock(self, seconds: float) -> float:
        """Move the mock's clock forward and run every webhook retry that fell due; answers the new time."""
        return self.backend.advance_clock(seconds)

    def inject(self, message: bytes | str | EmailMessage | Message | None = None, *,
               recipients: Sequence[str] | None = None, sender: str | None = None, wait: bool = True,
               **fields: Any) -> dict[str, Any]:
        """Deliver one inbound message to the routes, as ``POST /mock/inbound`` does.

        ::

            mock.inject(raw_bytes)
            mock.inject(email_message, recipients=["support@example.com"])
            mock.inject(from_="Bob <bob@example.net>", to=["support@example.com"], subject="Hi", text="Hello")

        :param message: the raw message, or an ``email.message`` object; omit it to build one from
            ``fields`` (``from_``, ``to``, ``cc``, ``bcc``, ``subject``, ``text``, ``html``,
            ``attachments`` and ``inline`` as ``(filename, bytes, content_type)``, ``headers``).
        :param recipients: the envelope recipients (default: To, Cc and Bcc).
        :param sender: the envelope sender (default: the From address).
        :param wait: return only after the first attempt of every webhook it caused.
        :returns: the inject answer (message id; per recipient the routes, actions and storage).
        """
        if message is None:
            message, envelope = self.backend.compose_message(**fields)
            recipients = recipients or envelope
        elif fields:
            raise TypeError("give either a message or fields to build one, not both")
        if isinstance(message, Message):
            message = message.as_bytes(policy=SMTP)
        elif isinstance(message, str):
            message = message.encode("utf-8")
        answer = self.backend.receive_inbound(message, recipients, sender)
        if wait:
            self.backend.wait_for_first_attempts(answer)
        return answer

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery attempt so far, oldest first (as ``GET /mock/deliveries``)."""
        return [a.to_json() for a in self.backend.list_deliveries()]

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event of every domain, oldest first."""
        return self.backend.store.all_events()

    def stored_message(self, url_or_key: str) -> dict[str, Any]:
        """A stored message's JSON, by its storage URL or key (as ``GET`` on the URL answers it)."""
        key = url_or_key.rstrip("/").rpartition("/")[2]
        message = self.backend.store.get_message(key, self.backend.clock.now())
        if message is None:
            raise KeyError(f"no stored message {key!r}")
        return self.backend.stored_message_json(message.domain, key)

    def create_route(self, expression: str, *actions: str, priority: int = 0, description: str = "") -> dict[str, Any]:
        """Create a route, as ``POST /v3/routes`` does; answers it in Mailgun's JSON shape.

        ::

            mock.create_route('match_recipient("support@.*")', 'forward("http://127.0.0.1:5000/in")', "stop()")
        """
        return self.backend.create_route(expression, list(actions), priority, description).to_json()

    @property
    def session(self) -> requests.Session:
        """A ``requests`` session with the API key set: ``mock.session.get(f"{mock.url}/v3/routes")``."""
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.auth = ("api", self.api_key)
        return self._session

    def wait_for_deliveries(self, count: int = 1, *, timeout: float = 10.0, **match: Any) -> list[dict[str, Any]]:
        """Wait until at least ``count`` webhook attempts match, and answer them (no sleeping in tests).

        ::

            mock.wait_for_deliveries(2, url="http://127.0.0.1:5000/in", outcome="delivered")

        :param match: attempt fields that must be equal (``url``, ``recipient``, ``kind``, ``outcome``,
            ``status``, ``attempt``…), as ``GET /mock/deliveries`` lists them.
        :raises AssertionError: after ``timeout`` seconds, listing the attempts that came closest.
        """
        found: list[dict[str, Any]] = []

        def enough() -> bool:
            found[:] = [a for a in self.deliveries if all(a.get(k) == v for k, v in match.items())]
            return len(found) >= count

        if self.backend.delivery.wait_until(enough, timeout):
            return found
        raise AssertionError(_near_misses(count, match, self.deliveries, timeout))

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until everything due on the mock's clock has run: scheduled deliveries of sent
        mail, their events, and webhook attempts (``advance_clock`` settles by itself).

        :raises AssertionError: if work is still running after ``timeout`` seconds.
        """
        if not self.backend.delivery.run_due(timeout):
            raise AssertionError(f"the mock still had due work after {timeout:g} s")

    def wait_for_events(self, count: int = 1, *, timeout: float = 10.0, **match: Any) -> list[dict[str, Any]]:
        """Wait until at least ``count`` events match (``event="delivered", recipient=…``), and answer them.

        :raises AssertionError: after ``timeout`` seconds, listing the events seen.
        """
        found: list[dict[str, Any]] = []

        def enough() -> bool:
            found[:] = [e for e in self.events if all(e.get(k) == v for k, v in match.items())]
            return len(found) >= count

        if self.backend.delivery.wait_until(enough, timeout):
            return found
        seen = ", ".join(f"{e['event']} {e.get('recipient', '')}".strip() for e in self.events[-10:]) or "none"
        wanted = ", ".join(f"{k}={v!r}" for k, v in match.items()) or "any event"
        raise AssertionError(f"waited {timeout:g} s for {count} event(s) with {wanted}; {len(found)} matched; "
                             f"latest events: {seen}")

    @property
    def outbox(self) -> list[dict[str, Any]]:
        """Every message sent through the API (``/messages``, ``messages.mime``, resends), oldest
        first, rendered: id, from, to, cc, recipients, subject, text, html, tags, attachments, headers."""
        return self.backend.sent_messages()

    def assert_sent(self, count: int = 1, **match: Any) -> list[dict[str, Any]]:
        """Assert that ``count`` sent messages match and answer them; the failure lists near misses.

        ::

            (welcome,) = mock.assert_sent(to="bob@example.net", subject="Welcome")

        :param match: ``to`` (an envelope recipient), ``tag`` (one of the tags), ``text``/``html``
            (a substring), or any outbox field compared for equality (``subject``, ``from``…).
        """
        def fits(message: dict[str, Any], key: str, value: Any) -> bool:
            if key == "to":
                return str(value).lower() in (r.lower() for r in message["recipients"])
            if key == "tag":
                return value in message["tags"]
            if key in ("text", "html"):
                return str(value) in message[key]
            return bool(message.get(key) == value)

        outbox = self.outbox
        hits = [m for m in outbox if all(fits(m, k, v) for k, v in match.items())]
        if len(hits) == count:
            return hits
        lines = [f"expected {count} sent message(s) with "
                 f"{', '.join(f'{k}={v!r}' for k, v in match.items()) or 'anything'}; found {len(hits)} "
                 f"among {len(outbox)} sent"]
        for message in sorted(outbox, key=lambda m: -sum(fits(m, k, v) for k, v in match.items()))[:5]:
            differs = ", ".join(k for k, v in match.items() if not fits(message, k, v)) or "nothing"
            lines.append(f"  {message['id']} to {', '.join(message['recipients'])} subject {message['subject']!r} "
                         f"(differs: {differs})")
        raise AssertionError("\n".join(lines))

    def raise_errors(self) -> None:
        """Re-raise, in the caller's thread, the first error a request hit on the server thread.

        :raises ServerError: chained to the original exception.
        """
        errors = self.backend.errors
        if errors:
            first = errors[0]
            errors.clear()
            raise ServerError(f"the mock server hit an internal error: {first!r}") from first


def _near_misses(count: int, match: dict[str, Any], attempts: list[dict[str, Any]], timeout: float) -> str:
    """The failure message of :meth:`MailgunMock.wait_for_deliveries`: what was wanted, what came closest."""
    wanted = ", ".join(f"{k}={v!r}" for k, v in match.items()) or "any attempt"
    hits = [a for a in attempts if all(a.get(k) == v for k, v in match.items())]
    lines = [f"waited {timeout:g} s for {count} webhook attempt(s) with {wanted}; {len(hits)} matched"]
    scored = sorted(attempts, key=lambda a: -sum(a.get(k) == v for k, v in match.items()))
    near = [a for a in scored if a not in hits][:5]
    if not attempts:
        lines.append("no webhook was attempted at all (does a route match, and does its action forward or notify?)")
    for a in near:
        diff = ", ".join(f"{k}={a.get(k)!r}" for k, v in match.items() if a.get(k) != v)
        lines.append(f"  near miss: {a['kind']} {a['url']} attempt {a['attempt']} -> "
                     f"{a['status'] if a['status'] is not None else a['error']} (differs: {diff})")
    return "\n".join(lines)
