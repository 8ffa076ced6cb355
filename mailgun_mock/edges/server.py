"""``MailgunMock``: the app served by werkzeug on a background thread, with the test helpers."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..backend.accounts import Accounts
from ..backend.core import Backend
from ..base.config import Config
from ..http.app import create_app
from ..state import snapshot
from .helpers import MockHelpers, ServerError
from .service import ListenError, Service
from .wsgi_server import WsgiServer

if TYPE_CHECKING:
    import requests

    from .intercept import Interception
    from .smtp import SmtpListener
    from .submission import SubmissionListener
    from .tls import TlsFiles

__all__ = ["MailgunMock", "ServerError"]


class MailgunMock(Service, MockHelpers):
    """A Mailgun-compatible server on a background thread.

    ::

        with MailgunMock() as mock:
            requests.get(f"{mock.url}/v3/routes", auth=("api", mock.api_key))

    :param config: a full :class:`~mailgun_mock.base.config.Config` (environment variables are
        *not* read here: that is the CLI's job).
    :param overrides: individual config fields, e.g. ``port=0, api_key="key-test"``.
    """

    def __init__(self, config: Config | None = None, **overrides: Any) -> None:
        self.config = (config or Config()).replace(**overrides)
        self.backend = Backend(self.config)
        self.app = create_app(self.backend, self.config)
        super().__init__()
        self._server: WsgiServer | None = None
        self._session: requests.Session | None = None
        self._smtp: SmtpListener | None = None
        self._relays: dict[bool, SubmissionListener] = {}  # by implicit TLS
        self._writer: snapshot.SnapshotWriter | None = None
        #: with ``tls``: the CA and certificate files this start uses (see :mod:`.tls`).
        self.tls_files: TlsFiles | None = None

    # -- lifecycle: Service binds in the caller's thread (a busy port fails there) and serves on a daemon thread

    def _serve(self) -> threading.Thread:
        context: ssl.SSLContext | None = None
        if self.config.tls:  # imported here: cryptography loads only for a mock serving HTTPS
            from .tls import prepare, server_context

            self.tls_files = prepare(self.config)
            context = server_context(self.tls_files)
        if self.config.snapshot:
            # Load before anything serves; a corrupt file raises SnapshotError here and, since no
            # writer exists yet, is never overwritten.
            state = snapshot.load(self.config.snapshot)
            if state is not None:
                self.backend.restore(state)
            self._writer = snapshot.SnapshotWriter(self.backend.store, self.config.snapshot, self.config.snapshot_delay)
        try:
            server = WsgiServer.bind(self.config.host, self.config.port, self.app, context)
        except OSError as exc:
            self._close_writer()
            raise ListenError("HTTP", self.config.host, self.config.port, exc) from exc
        except BaseException:
            self._close_writer()
            raise
        self._server = server
        self.backend.server_url = self._url_for(server.port)
        try:
            # Every listener is bound and accepting before HTTP serves, so /mock/health never
            # answers 200 while SMTP is still starting.
            self._start_smtp()
            self._start_relay()
        except BaseException:
            self._stop_smtp()
            server.close()
            self._server = None
            self._close_writer()
            raise
        self.backend.listeners = {"http": {"url": self.backend.server_url, "port": server.port},
                                  "smtp": {"port": self._smtp.port} if self._smtp is not None else None,
                                  "smtp_submission": self._relay_health()}
        thread = threading.Thread(target=server.serve_until_stopped, name=f"mailgun-mock:{server.port}", daemon=True)
        thread.start()
        return thread

    def _start_smtp(self) -> None:
        if self.config.smtp_port is None:
            return
        from .smtp import SmtpListener  # lazy: aiosmtpd costs ~30 ms to import

        try:
            self._smtp = SmtpListener(self.backend, self.config.host, self.config.smtp_port).start()
        except OSError as exc:
            raise ListenError("SMTP", self.config.host, self.config.smtp_port, exc) from exc

    def _start_relay(self) -> None:
        """The SMTP relay, with STARTTLS when the mock has a certificate, and its implicit-TLS port."""
        from .submission import SubmissionListener

        context: ssl.SSLContext | None = None
        if self.tls_files is not None:
            from .tls import server_context

            context = server_context(self.tls_files)
        for port, implicit, label in ((self.config.smtp_submission_port, False, "SMTP relay"),
                                      (self.config.smtp_submission_tls_port, True, "SMTP relay (TLS)")):
            if port is None:
                continue
            try:
                relay = SubmissionListener(self.backend, self.config.host, port, context, implicit_tls=implicit).start()
            except OSError as exc:
                raise ListenError(label, self.config.host, port, exc) from exc
            self._relays[implicit] = relay

    def _relay_health(self) -> dict[str, Any] | None:
        starttls, implicit = self._relays.get(False), self._relays.get(True)
        if starttls is None and implicit is None:
            return None
        return {"port": None if starttls is None else starttls.port,
                "tls_port": None if implicit is None else implicit.port, "starttls": self.tls_files is not None}

    def _stop_smtp(self) -> None:
        listeners = [self._smtp, *self._relays.values()]
        self._smtp, self._relays = None, {}
        for listener in listeners:
            if listener is not None:
                listener.stop()

    def _halt(self, thread: threading.Thread) -> None:
        server = self._server
        if server is not None:
            server.request_stop()
            thread.join()
            server.close()
            self._server = None
        self._stop_smtp()
        self.accounts.close()
        self.backend.close()
        self._close_writer()  # last, so the final save holds the last attempts and events
        if self._session is not None:
            self._session.close()
            self._session = None

    def _close_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    # -- where and how to reach it --------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (``https://`` with ``tls``); give it to an SDK as its API base."""
        return self._url_for(self.port)

    def _url_for(self, port: int) -> str:
        host = self.config.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.config.tls else 'http'}://{host}:{port}"

    @property
    def ca_file(self) -> str | None:
        """With ``tls``: the CA file clients must trust (``REQUESTS_CA_BUNDLE``, ``NODE_EXTRA_CA_CERTS``,
        ``SSL_CERT_FILE``); ``None`` without TLS.

        :raises RuntimeError: with ``tls``, before :meth:`start`.
        """
        if not self.config.tls:
            return None
        if self.tls_files is None:
            raise RuntimeError("the server is not running: call start() first")
        return str(self.tls_files.ca_file)

    @property
    def smtp_port(self) -> int | None:
        """The SMTP listener's port (the free one picked for ``smtp_port=0``), or ``None`` without one."""
        return self._smtp.port if self._smtp is not None else None

    @property
    def smtp_submission_port(self) -> int | None:
        """The SMTP relay's port (the free one picked for ``smtp_submission_port=0``), or ``None`` without one.
        With ``tls`` it offers STARTTLS, and AUTH needs it."""
        relay = self._relays.get(False)
        return relay.port if relay is not None else None

    @property
    def smtp_submission_tls_port(self) -> int | None:
        """The SMTP relay's implicit-TLS port (Mailgun's 465; needs ``tls``), or ``None`` without one."""
        relay = self._relays.get(True)
        return relay.port if relay is not None else None

    @property
    def smtp_password(self) -> str:
        """The relay password of ``postmaster@<domain>`` for a domain without its own."""
        return self.config.smtp_password

    @property
    def accounts(self) -> Accounts:
        """Every account state served: ``accounts.default`` (:attr:`backend`), and with ``namespaces``
        ``accounts.for_key(api_key)``, the state of the account that key owns (made on first use)."""
        return self.app.extensions["mailgun_mock.accounts"]  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Forget all state (routes, clock offset…, every namespace) and any recorded server errors."""
        self.accounts.reset()
        self.backend.errors.clear()

    @property
    def api_key(self) -> str:
        """The API key clients authenticate with (user ``api``)."""
        return self.config.api_key

    @property
    def signing_key(self) -> str:
        """The key webhooks are signed with."""
        return self.config.signing_key

    @property
    def session(self) -> requests.Session:
        """A ``requests`` session with the API key set (and, with ``tls``, the mock's CA trusted):
        ``mock.session.get(f"{mock.url}/v3/routes")``."""
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.auth = ("api", self.api_key)
            if self.config.tls and self.tls_files is not None:
                self._session.verify = str(self.tls_files.ca_file)
                # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a session's verify; the mock is
                # reached directly, so the environment (CA bundles, proxies) has no say here.
                self._session.trust_env = False
        return self._session

    def intercept(self, hosts: Iterable[str] = ("api.mailgun.net", "api.eu.mailgun.net")) -> Interception:
        """A context manager during which calls to ``hosts`` through ``requests``, ``httpx`` and ``urllib3``
        are answered by this mock in process, with no socket and no URL to configure (the pytest fixture
        does this by default). Works whether or not the server is started. See :mod:`.intercept`.

        ::

            with mock.intercept():
                requests.post("https://api.mailgun.net/v3/example.com/messages", auth=("api", key), data=...)

        :param hosts: host names (served on https 443 and http 80), or ``name:port`` entries.
        """
        from .intercept import Interception

        return Interception(self.app, hosts, self.backend)

    def _bound_port(self) -> int:
        assert self._server is not None
        return int(self._server.port)
