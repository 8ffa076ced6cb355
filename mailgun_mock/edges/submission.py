"""``SubmissionListener``: Mailgun's SMTP relay (``smtp.mailgun.org``), where applications send mail
with AUTH instead of calling the HTTP API; each message goes to :meth:`Backend.send_relay`, the way
``POST /v3/<domain>/messages.mime`` sends the same MIME, the envelope giving the recipients.

AUTH PLAIN or LOGIN comes first, as a login of a domain (``postmaster@<domain>`` with ``--smtp-password``
or the domain's own password, or a credential made through the API), and that domain sends the mail.
aiosmtpd does the protocol, the SASL exchange (``authenticator=``, ``auth_required=True``) and TLS
(``tls_context=`` offers STARTTLS; ``implicit_tls`` wraps a port in TLS from the first byte).

AUTH over plain text: with a certificate (``--tls``, given as ``tls_context``) AUTH needs TLS first, as aiosmtpd insists by
default (``538``); without one it is allowed, so an application on the developer's machine can send
through the relay on loopback with no TLS set up. The passwords are the mock's, not real ones.

Replies (the ones marked aiosmtpd come from aiosmtpd itself, with its wording)::

    235 2.7.0 Authentication successful                AUTH with a login of the account (aiosmtpd)
    535 5.7.0 Mailgun is not loving your login or      AUTH with a wrong password, an unknown login, or a
        password                                       login that is not an address
    535 5.7.8 Domain not found: <domain>               AUTH as a login of a domain the account does not have
    538 5.7.11 Encryption required for requested       AUTH before STARTTLS on a mock with a certificate
        authentication mechanism                       (aiosmtpd)
    530 5.7.0 Authentication required                  MAIL, RCPT or DATA before AUTH (aiosmtpd)
    501 5.1.3 <addr>: not an email address             RCPT TO without local part or domain, or with
                                                       whitespace or a comma
    452 4.5.3 Too many recipients, max is 1000         RCPT TO past the API's limit (the rest can follow
                                                       in another transaction)
    552 Error: message size exceeds fixed maximum      MAIL FROM with SIZE= over ``max_message_size``,
        message size / Error: Too much mail data       or DATA over it (aiosmtpd)
    552 5.3.4 <message>                                DATA over the limit, the backend's ``PayloadTooLarge``
    550 5.7.1 <message>                                DATA refused by a ``reject`` rule or test recipient,
                                                       or for a domain gone since AUTH
    554 5.6.0 <message>                                DATA the HTTP API would answer with a 400: an invalid
                                                       ``X-Mailgun-*`` value, an unknown template…
    451 4.3.0 Internal error in the mock, see its log;  anything unexpected, logged with its traceback
        try again later
    250 2.0.0 Great success <message-id>               DATA accepted and sent (Mailgun's text, plus the id)

A client that disconnects before the end of DATA sends nothing: aiosmtpd hands over a message only
once its final ``.`` has arrived.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from ..backend.core import Backend
from ..base.errors import BadRequest, NotFound, PayloadTooLarge, Unauthorized
from ..base.logtext import printable
from ..sending.form import MAX_RECIPIENTS
from ..sending.outbox import RuleRejection
from .smtp import SmtpServer, is_routable

__all__ = ["SubmissionListener"]

log = logging.getLogger("mailgun_mock.smtp")

_IDENT = "mailgun-mock ESMTP relay"
_INTERNAL = "451 4.3.0 Internal error in the mock, see its log; try again later"


class _QuietLegacyLogin(logging.Filter):
    """Drops the warning aiosmtpd 1.4 logs on every successful AUTH (it sets its deprecated
    ``Session.login_data`` itself, whatever the authenticator returns)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Session.login_data is deprecated")


if not any(isinstance(f, _QuietLegacyLogin) for f in logging.getLogger("mail.log").filters):
    logging.getLogger("mail.log").addFilter(_QuietLegacyLogin())


@dataclasses.dataclass(frozen=True)
class _Login:
    """Who authenticated on a session: aiosmtpd keeps it as ``session.auth_data``."""

    login: str
    domain: str


class _RelaySMTP(SMTP):
    """aiosmtpd's protocol, with AUTH over plain text allowed where the listener says so.

    aiosmtpd warns (a ``UserWarning``, on every connection) when built with ``auth_required`` and
    without ``auth_require_tls``; warning filters are process-wide and a test run turns warnings into
    errors. So it is built with both, and then told what the listener decided, in the attribute its
    EHLO and AUTH read.
    """

    def __init__(self, handler: Any, *, plain_auth: bool, **kwargs: Any) -> None:
        super().__init__(handler, auth_required=True, auth_require_tls=True, **kwargs)
        if plain_auth:
            self._auth_require_tls = False


class _Handler:
    """aiosmtpd's handler and authenticator for the relay (kept apart from the listener, since aiosmtpd
    inspects every attribute of its handler for each new connection)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = auth_data.login.decode("utf-8", "replace")
        try:
            domain = self.backend.smtp_login(login, auth_data.password.decode("utf-8", "replace"))
        except Unauthorized as exc:
            log.info("SMTP relay AUTH %s as %s refused: wrong login or password", mechanism, printable(login))
            return AuthResult(success=False, handled=False, message=f"535 5.7.0 {exc.message}")
        except NotFound as exc:
            log.info("SMTP relay AUTH %s as %s refused: %s", mechanism, printable(login), printable(exc.message))
            return AuthResult(success=False, handled=False, message=f"535 5.7.8 {printable(exc.message)}")
        return AuthResult(success=True, auth_data=_Login(login, domain))

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if not is_routable(address):
            return f"501 5.1.3 <{printable(address)}>: not an email address"
        if address.lower() not in {r.lower() for r in envelope.rcpt_tos}:
            if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
                return f"452 4.5.3 Too many recipients, max is {MAX_RECIPIENTS}"
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        who = session.auth_data
        assert isinstance(who, _Login)  # aiosmtpd refuses DATA before AUTH
        raw = envelope.original_content or b""
        sender = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
        recipients = list(envelope.rcpt_tos)
        try:
            # On the event loop thread, as the inbound listener does: sending does no network I/O
            # (webhooks go to the delivery worker).
            answer = self.backend.send_relay(who.domain, raw, sender, recipients)
        except PayloadTooLarge as exc:
            return f"552 5.3.4 {printable(exc.message)}"
        except (RuleRejection, NotFound) as exc:
            return f"550 5.7.1 {printable(exc.message)}"
        except BadRequest as exc:
            return f"554 5.6.0 {printable(exc.message)}"
        except Exception:
            log.exception("SMTP relay message from <%s> (login %s) failed in the backend", printable(sender),
                          printable(who.login))
            return _INTERNAL
        log.info("SMTP relay %s <%s> -> %s: %d bytes, %s", printable(who.login), printable(sender),
                 ", ".join(printable(r) for r in recipients), len(raw), printable(answer["id"]))
        return f"250 2.0.0 Great success {printable(answer['id'])}"

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd calls this inside its ``except`` block, so the traceback is still current.
        log.exception("SMTP relay session error")
        return _INTERNAL


class SubmissionListener(SmtpServer):
    """The SMTP relay on a background thread: authenticated clients send mail through it.

    ::

        with SubmissionListener(backend, "127.0.0.1", 0) as relay:
            with smtplib.SMTP("127.0.0.1", relay.port) as smtp:
                smtp.login("postmaster@mg.example.com", backend.config.smtp_password)
                smtp.sendmail(sender, [rcpt], raw)

    :param backend: authenticates logins and sends each message (:meth:`Backend.send_relay`).
    :param host: interface to bind.
    :param port: TCP port; ``0`` picks a free one (read :attr:`port` after :meth:`start`).
    :param tls_context: a server context: STARTTLS is offered and AUTH needs it. ``None``: no TLS,
        and AUTH over plain text.
    :param implicit_tls: serve TLS from the first byte (Mailgun's port 465) with ``tls_context``.
    """

    label = "SMTP relay"

    def __init__(self, backend: Backend, host: str = "127.0.0.1", port: int = 0,
                 tls_context: ssl.SSLContext | None = None, *, implicit_tls: bool = False) -> None:
        if implicit_tls and tls_context is None:
            raise ValueError("implicit TLS needs a tls_context")
        super().__init__(backend, host, port, tls_context if implicit_tls else None)
        self.tls_context = tls_context
        self._handler = _Handler(backend)

    def _protocol(self, loop: asyncio.AbstractEventLoop) -> SMTP:
        return _RelaySMTP(
            self._handler,
            plain_auth=self.tls_context is None or self.wrap_tls is not None,  # none, or TLS from the first byte
            authenticator=self._handler.authenticate,
            tls_context=None if self.wrap_tls is not None else self.tls_context,
            data_size_limit=self.backend.config.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self._hostname,
            ident=_IDENT,
            loop=loop,
        )
