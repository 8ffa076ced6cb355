"""``SmtpListener``: inbound mail over SMTP (aiosmtpd), fed to :meth:`Backend.receive_inbound`; and
``SmtpServer``, the lifecycle it shares with the relay's listener (``edges/submission.py``).

The SMTP envelope decides who the message is for and from: ``RCPT TO`` gives the recipients (so
Bcc-style recipients, absent from the headers, are routed too) and ``MAIL FROM`` the sender.

Replies (the ones marked aiosmtpd come from aiosmtpd itself, with its wording)::

    250 2.1.5 OK                                          RCPT TO a served domain
    501 5.1.3 <addr>: not an email address                RCPT TO without local part or domain, or with
                                                          whitespace or a comma
    553 5.1.3 Error: malformed address                    RCPT TO that aiosmtpd cannot parse (aiosmtpd)
    550 5.1.1 <addr>: domain not served by this mock      RCPT TO a domain outside ``Config.domains``
    552 Error: message size exceeds fixed maximum         MAIL FROM with SIZE= over ``max_message_size``
        message size                                      (aiosmtpd; smtplib.sendmail sends SIZE=)
    552 Error: Too much mail data                         DATA over ``max_message_size`` (aiosmtpd)
    552 5.3.4 <message>                                   DATA, the backend's ``PayloadTooLarge``
    554 5.6.0 <message>                                   DATA, the backend's ``BadRequest``
    451 4.3.0 Internal error in the mock, see its log;    anything unexpected, logged with its traceback
        try again later
    250 2.0.0 Message received <message-id>               DATA accepted and routed

aiosmtpd's ``Controller`` is not used, on purpose: it binds on its own thread and reports a busy
port only after its ``ready_timeout`` (5 s), it creates its event loop in ``__init__`` and leaves it
unclosed when ``start`` fails (a ``ResourceWarning``), it opens a throwaway connection to start
serving, and its ``SMTP`` instances are built without ``loop=``, so each connection runs aiosmtpd's
``_get_or_new_eventloop``, which swaps the process-wide warning filters (not thread-safe). Here the
socket is bound in the caller's thread and a plain event loop serves it on a daemon thread.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import os
import socket
import ssl
import threading
import weakref
from concurrent.futures import Future
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from ..backend.core import Backend
from ..base.addresses import domain_of
from ..base.errors import BadRequest, PayloadTooLarge
from ..base.logtext import printable
from .service import Service

__all__ = ["SmtpListener", "SmtpServer", "is_routable"]

log = logging.getLogger("mailgun_mock.smtp")

_IDENT = "mailgun-mock ESMTP"
_TIMEOUT = 10.0


def is_routable(address: str) -> bool:
    """Whether the backend can route to ``address``: a local part and a domain, no whitespace.

    Commas are refused too: the backend reads a recipient list as comma-separated.
    """
    local, _, domain = address.rpartition("@")
    return bool(local and domain) and not any(c.isspace() or c == "," for c in address)


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket, made with an explicit ``IPPROTO_TCP``.

    ``socket.create_server`` leaves ``proto`` at 0, which accepted sockets inherit, and asyncio
    sets ``TCP_NODELAY`` only on sockets whose ``proto`` is ``IPPROTO_TCP``. Without it, Nagle's
    algorithm holds back the second line of every multi-line reply (aiosmtpd writes EHLO's lines
    one by one) until the client's delayed ACK: 40 ms per connection on Linux.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":  # as socket.create_server does: rebind at once after a restart
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


class _Handler:
    """aiosmtpd's handler: the hooks it calls for ``RCPT TO`` and ``DATA``, and on an error.

    Kept apart from :class:`SmtpListener` because aiosmtpd inspects every attribute of its handler
    for each new connection.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if not is_routable(address):
            return f"501 5.1.3 <{printable(address)}>: not an email address"
        if not self.backend.config.serves(domain_of(address)):
            return f"550 5.1.1 <{printable(address)}>: domain not served by this mock"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # The bytes as received, after dot-unstuffing only (``content`` is the same object
        # unless ``decode_data`` is set, which it is not).
        raw = envelope.original_content or b""
        # MAIL FROM:<> (the null sender of bounces) comes from aiosmtpd as the text "<>".
        sender = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
        recipients = envelope.rcpt_tos
        try:
            # Called on the event loop thread: receive_inbound does no network I/O (webhooks go to
            # the delivery worker), and a thread hop per message would cost more than it saves.
            answer = self.backend.receive_inbound(raw, recipients, sender)
        except PayloadTooLarge as exc:
            # The size check at DATA, on the message itself: aiosmtpd's data_size_limit counts the
            # bytes on the wire (dots still stuffed), so this is the exact one.
            return f"552 5.3.4 {printable(exc.message)}"
        except BadRequest as exc:
            return f"554 5.6.0 {printable(exc.message)}"
        except Exception:
            log.exception("SMTP message from <%s> to %s failed in the backend", printable(sender),
                          ", ".join(printable(r) for r in recipients))
            return "451 4.3.0 Internal error in the mock, see its log; try again later"
        if log.isEnabledFor(logging.INFO):
            matched = {route for r in answer["recipients"] for route in r["matched"]}
            log.info("SMTP <%s> -> %s: %d bytes, %d route%s matched", printable(sender),
                     ", ".join(printable(r) for r in recipients), len(raw), len(matched),
                     "" if len(matched) == 1 else "s")
        return f"250 2.0.0 Message received {printable(answer['id'])}"

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd calls this inside its ``except`` block, so the traceback is still current.
        log.exception("SMTP session error")
        return "451 4.3.0 Internal error in the mock, see its log; try again later"


class SmtpServer(Service):
    """An aiosmtpd server on a background thread: the socket bound in the caller's thread, a plain
    event loop serving it on a daemon thread, every connection closed on :meth:`stop`. Subclasses
    build the protocol instance of each connection.

    :param backend: what the sessions feed; its ``config`` gives ``max_message_size``.
    :param host: interface to bind.
    :param port: TCP port; ``0`` picks a free one (read :attr:`port` after :meth:`start`).
    :param wrap_tls: a context to wrap every connection in TLS from its first byte (no STARTTLS).
    """

    #: What the log lines call this listener.
    label = "SMTP"

    def __init__(self, backend: Backend, host: str = "127.0.0.1", port: int = 0,
                 wrap_tls: ssl.SSLContext | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.host = host
        self.requested_port = port
        self.wrap_tls = wrap_tls
        # Computed once: aiosmtpd would otherwise call socket.getfqdn() (a DNS lookup) per connection.
        self._hostname = socket.gethostname() or "mailgun-mock"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._port = 0
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @abc.abstractmethod
    def _protocol(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        """A protocol instance for one connection (aiosmtpd's ``SMTP``), built with ``loop=loop``."""

    # -- lifecycle (Service: start, stop, the context manager, running, port) ---------------

    def _serve(self) -> threading.Thread:
        sock = _bind(self.host, self.requested_port)
        port = int(sock.getsockname()[1])
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=f"mailgun-mock-{self.label.lower()}:{port}",
                                  daemon=True)
        thread.start()
        opening: Future[asyncio.AbstractServer] = asyncio.run_coroutine_threadsafe(self._open(sock), loop)
        try:
            self._server = opening.result(_TIMEOUT)
        except BaseException:
            sock.close()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            raise
        self._loop, self._port = loop, port
        log.info("%s listening on %s port %d", self.label, self.host, port)
        return thread

    def _halt(self, thread: threading.Thread) -> None:
        loop, self._loop = self._loop, None
        assert loop is not None
        try:
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            self._server = None
            log.info("%s listener on port %d stopped", self.label, self._port)

    def _bound_port(self) -> int:
        return self._port

    # -- on the event loop thread ---------------------------------------------------------

    def _session(self) -> SMTP:
        smtp = self._protocol(asyncio.get_running_loop())
        self._sessions.add(smtp)
        return smtp

    async def _open(self, sock: socket.socket) -> asyncio.AbstractServer:
        return await asyncio.get_running_loop().create_server(self._session, sock=sock, ssl=self.wrap_tls)

    async def _close(self) -> None:
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        deadline = loop.time() + _TIMEOUT / 2
        # A connection accepted just before the server closes fails in asyncio (3.11): its
        # transport's constructor asserts the server is open, and the accepted socket is left to the
        # garbage collector (a ResourceWarning). So the server closes in a turn of the loop where no
        # accepted connection still waits for its transport.
        while _accepting(current) and loop.time() < deadline:
            await asyncio.sleep(0)
        if self._server is not None:
            self._server.close()
        # Then every connection closes, and the loop turns (a bounded while) until nothing is left:
        # a closed transport closes its socket only in a callback a turn later.
        while True:
            live = [smtp.transport for smtp in list(self._sessions) if smtp.transport is not None]
            for transport in live:
                if not transport.is_closing():
                    transport.close()
            tasks = [task for task in asyncio.all_tasks() if task is not current]
            if not (live or tasks) or loop.time() > deadline:
                break
            await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0)
        if self._server is not None:
            await self._server.wait_closed()


def _accepting(current: asyncio.Task[Any] | None) -> bool:
    """Whether a task of the running loop is a connection asyncio accepted and is still setting up."""
    return any(
        getattr(task.get_coro(), "__qualname__", "").endswith("_accept_connection2")
        for task in asyncio.all_tasks() if task is not current
    )


class SmtpListener(SmtpServer):
    """An SMTP server on a background thread that routes every message it receives.

    ::

        with SmtpListener(backend, "127.0.0.1", 0) as smtp:
            smtplib.SMTP("127.0.0.1", smtp.port).sendmail(sender, [rcpt], raw)

    :param backend: receives each message (:meth:`~mailgun_mock.backend.core.core.Backend.receive_inbound`);
        its ``config`` gives the served domains and ``max_message_size``.
    :param host: interface to bind.
    :param port: TCP port; ``0`` picks a free one (read :attr:`port` after :meth:`start`).
    """

    def __init__(self, backend: Backend, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(backend, host, port)
        self._handler = _Handler(backend)

    def _protocol(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        return SMTP(
            self._handler,
            data_size_limit=self.backend.config.max_message_size,  # advertised in EHLO as SIZE
            enable_SMTPUTF8=True,
            decode_data=False,  # keep the bytes, and advertise 8BITMIME
            hostname=self._hostname,
            ident=_IDENT,
            loop=loop,  # without it aiosmtpd swaps the global warning filters
        )
