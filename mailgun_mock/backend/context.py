"""What every part of the backend shares: configuration, clock, store, delivery, and the checks
each resource repeats (the domain exists, the stored message exists).

:class:`Context` builds and wires the collaborators once; each resource's operations (routes,
inbound, stored messages and events, webhooks, sending) are a subclass of it, and
:class:`~.core.Backend` is all of them together.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from ..base.clock import Clock
from ..base.config import Config
from ..base.errors import NotFound
from ..base.ids import ObjectIds
from ..base.logtext import printable
from ..base.records import StoredMessage
from ..delivery.capture import PostLog
from ..delivery.domain_webhooks import DomainWebhooks
from ..delivery.transport import Transport
from ..delivery.worker import DeliveryWorker
from ..inbound.run import ActionRunner
from ..state.store import Store

__all__ = ["DOMAIN_NAME", "Context"]

log = logging.getLogger("mailgun_mock")
#: A host name (IDN letters allowed), as in envelope addresses.
DOMAIN_NAME = re.compile(r"[\w-]+(\.[\w-]+)*\.?")


class Context:
    """The backend's collaborators, built and wired in one place.

    :param config: the configuration.
    :param clock: the mock's clock (real time unless advanced).
    :param ids: the route id generator (a seam for deterministic ids).
    :param store: where state lives.
    :param transport: how webhooks are POSTed (a seam; real HTTP by default).
    """

    def __init__(
        self,
        config: Config | None = None,
        clock: Clock | None = None,
        ids: ObjectIds | None = None,
        store: Store | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.config = config or Config()
        self.clock = clock or Clock()
        self.ids = ids or ObjectIds()
        self.store = store or Store(self.config.max_stored_messages, self.config.max_events)
        #: The server's own URL, set by the server once bound; storage URLs are built on it.
        self.server_url = ""
        self._domains_seen: set[str] = set()
        self._domains_lock = threading.Lock()
        #: What listens, set by the server once every listener accepts (``GET /mock/health``).
        self.listeners: dict[str, Any] | None = None
        #: what recent webhook attempts posted (for the web inbox); it wraps the transport
        self.posts = PostLog(transport)
        self.delivery = DeliveryWorker(self.clock, self.signing_key, self.config.retry_schedule,
                                       self.config.delivery_timeout, transport=self.posts,
                                       inline=self.config.deliver == "inline")
        self.delivery.subscribe(self.posts.record)  # first: it pairs the POST this thread just made
        self.webhooks = DomainWebhooks(self.store, self.delivery.submit, self.config.event_retry_schedule)
        self.runner = ActionRunner(self.config, self.clock, self.store, lambda: self.base_url,
                                   submit=self.delivery.submit, emit=self.emit)
        # Attempts log events that may go to domain webhooks, which the worker delivers: the one
        # cycle in the wiring, closed by subscribing once everything exists.
        self.delivery.subscribe(self.runner.record_attempt)
        #: unexpected exceptions (bugs) raised while serving requests or delivering webhooks.
        self.errors: list[BaseException] = self.delivery.errors
        #: the account whose subaccount this state is (``None``: an account of its own; see :mod:`.accounts`)
        self.parent: Context | None = None
        #: this account's subaccounts' own states, by subaccount id, made on first use (see :mod:`.accounts`)
        self.subaccount_states: dict[str, Any] = {}  # Backends
        #: this state's account id: a subaccount's id, or one derived from the API key that owns it
        self.account_id = ""

    def signing_key(self) -> str:
        """The webhook signing key now: the configured one until ``/v5/accounts/http_signing_key`` rotates it."""
        return self.store.resources.account.signing_key() or self.config.signing_key

    def check_may_send(self, domain: str) -> None:
        """Raise when this account may not send now (a disabled subaccount, a monthly limit reached);
        the subaccounts module (:mod:`.subaccounts`) overrides it."""

    @property
    def base_url(self) -> str:
        """Where clients reach the mock: ``public_url`` if configured, else the server's URL."""
        return self.config.public_url or self.server_url or "http://localhost"

    def emit(self, domain: str, event: dict[str, Any]) -> None:
        """Record an event and POST it to the domain's webhooks registered for its type."""
        self.store.add_event(domain, event)
        self.webhooks.dispatch(domain, event)

    def check_domain(self, domain: str) -> None:
        """:raises NotFound: ``Domain not found: <domain>`` for a name that is not a domain, or not
            one of the account's when ``--domain`` restricts them."""
        if not DOMAIN_NAME.fullmatch(domain) or not self.serves(domain):
            raise NotFound(f"Domain not found: {printable(domain, 100)}")
        self.note_domain(domain)

    def note_domain(self, domain: str) -> None:
        """Log the first use of each domain when any domain is accepted, so that a typo shows."""
        if self.config.domains:
            return
        name = domain.lower()
        with self._domains_lock:
            if name in self._domains_seen:
                return
            self._domains_seen.add(name)
        log.info("first use of domain %s (no --domain given, so every domain is accepted; check its spelling)",
                 printable(name, 100))

    def serves(self, domain: str) -> bool:
        """Whether ``domain`` is one of the account's: given with ``--domain``, created through the
        Domains API, or (with no ``--domain``) any domain, which joins the list on first use."""
        now = self.clock.now()
        return self.store.resources.domains.serve(domain, domain_id=self.ids.new(now), now=now,
                                                  configured=self.config.domains, any_domain=not self.config.domains)

    def get_stored_message(self, domain: str, key: str) -> StoredMessage:
        """The stored message, unless unknown, deleted or past retention.

        :raises NotFound: ``Message not found``.
        """
        self.check_domain(domain)
        message = self.store.get_message(key, self.clock.now())
        if message is None or message.domain != domain.lower():
            raise NotFound("Message not found")
        return message
