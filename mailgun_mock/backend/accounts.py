"""Account states: which :class:`~.core.Backend` a request acts on.

One Backend is one account's whole state (routes, messages, events, webhooks, suppressions,
templates, lists, domains, keys… and every resource added later, since each lives in the
Backend's store or on the Backend itself). :class:`Accounts` maps a request to one:

- the *default* account: the Backend the app was built with. The SMTP listeners, the web inbox,
  ``/mock/health`` and every Python helper of ``MailgunMock`` see it.
- with ``namespaces`` (``serve --namespaces``): each API key other than the default account's is an
  account of its own, made on first use of that key, with its own clock and delivery lanes.
- ``X-Mailgun-On-Behalf-Of: <subaccount id>``: one of the chosen account's subaccounts
  (:func:`subaccount_state`), a Backend of its own too, sharing its parent's clock.

Shared by all: the configuration, the process's outbound transport (so ``wsgi_targets`` applies to
every account), and the server itself.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import TYPE_CHECKING, TypeVar

from ..base.clock import Clock
from ..base.errors import NotFound
from ..base.logtext import printable
from .context import Context

if TYPE_CHECKING:
    from .core import Backend

__all__ = ["Accounts", "ON_BEHALF_OF", "account_id_for", "new_state", "subaccount_state"]

#: The header that makes a request act inside one of the account's subaccounts.
ON_BEHALF_OF = "X-Mailgun-On-Behalf-Of"

State = TypeVar("State", bound=Context)
_STATES = threading.Lock()  # makes each subaccount's state once


def account_id_for(api_key: str) -> str:
    """The account id of the account an API key owns: 24 hex digits, stable across restarts."""
    return hashlib.sha256(b"mailgun-mock account " + api_key.encode()).hexdigest()[:24]


class _Follow:
    """A transport that posts through another account's, as it is at the time of the POST (so
    ``MailgunMock.wsgi_targets``, set on the default account, reaches every account)."""

    def __init__(self, owner: Context) -> None:
        self.owner = owner

    def post(self, url: str, body: bytes, content_type: str, timeout: float) -> int:
        return self.owner.posts.inner.post(url, body, content_type, timeout)


def new_state(like: State, *, clock: Clock | None = None, signing_key: str | None = None) -> State:
    """A fresh account state with ``like``'s configuration, posting through ``like``'s transport.

    :param clock: the clock to share (default: a clock of its own).
    :param signing_key: its own webhook signing key (default: the configured one).
    """
    config = like.config if signing_key is None else like.config.replace(signing_key=signing_key)
    state = type(like)(config, clock=clock, transport=_Follow(like))
    state.server_url = like.server_url
    return state


def subaccount_state(parent: State, subaccount_id: str, signing_key: str) -> State:
    """The own state of one of ``parent``'s subaccounts, made on first use: it shares the parent's
    clock, and its webhooks carry ``parent-signature`` (signed with the parent's key) beside
    ``signature`` (its own ``signing_key``)."""
    with _STATES:
        state = parent.subaccount_states.get(subaccount_id)
        if state is None:
            state = new_state(parent, clock=parent.clock, signing_key=signing_key)
            state.parent = parent
            state.account_id = subaccount_id
            state.delivery.parent_signing_key = parent.signing_key
            parent.subaccount_states[subaccount_id] = state
            parent.store.children.adopt(subaccount_id, state.store)  # saved in the parent's snapshot
    return state


class Accounts:
    """The account states one app serves.

    :param default: the default account's state.
    :param namespaces: whether each API key is an account of its own.
    """

    def __init__(self, default: Backend, namespaces: bool = False) -> None:
        self.default = default
        self.namespaces = namespaces
        default.account_id = default.account_id or account_id_for(default.config.api_key)
        self._lock = threading.Lock()
        self._by_key: dict[str, Backend] = {}

    def for_key(self, api_key: str) -> Backend:
        """The account an API key acts on: the default one for its own keys (the configured key and
        keys made with ``/v1/keys``), else, with namespaces, the namespace whose ``/v1/keys`` made
        the key, or the key's own (made now if new)."""
        if not self.namespaces or self.is_default_key(api_key):
            return self.default
        with self._lock:
            state = self._by_key.get(api_key)
        if state is None:
            state = self.owner_of(api_key)
        if state is None:
            with self._lock:
                state = self._by_key.get(api_key)
                if state is None:
                    state = self._by_key[api_key] = new_state(self.default)
                    state.account_id = account_id_for(api_key)
        return state

    def owner_of(self, api_key: str) -> Backend | None:
        """With namespaces: the namespace in which ``/v1/keys`` made this key, or ``None``."""
        with self._lock:
            if api_key in self._by_key:  # a namespace's own key
                return None
            states = list(self._by_key.values())
        for state in states:
            if state.store.resources.account.key_with_secret(api_key) is not None:
                return state
        return None

    def is_default_key(self, api_key: str) -> bool:
        """Whether this key is the default account's: the configured key, or one made with its ``/v1/keys``."""
        return (hmac.compare_digest(api_key.encode("utf-8", "replace"), self.default.config.api_key.encode())
                or self.default.store.resources.account.key_with_secret(api_key) is not None)

    def for_request(self, api_key: str, on_behalf_of: str | None) -> Backend:
        """The state a request acts on: its key's account, or one of that account's subaccounts.

        :raises NotFound: for an ``X-Mailgun-On-Behalf-Of`` that names none of the account's subaccounts.
        """
        state = self.for_key(api_key)
        if on_behalf_of is None:
            return state
        found: Backend | None = state.subaccount(on_behalf_of.strip())
        if found is None:
            raise NotFound(f"Subaccount not found: {printable(on_behalf_of, 60)}")
        return found

    def named(self) -> dict[str, Backend]:
        """The namespaces made so far, by API key."""
        with self._lock:
            return dict(self._by_key)

    def reset(self) -> None:
        """Reset the default account and forget every namespace."""
        with self._lock:
            states, self._by_key = list(self._by_key.values()), {}
        for state in states:
            state.close()
        self.default.reset()

    def close(self) -> None:
        """Stop every namespace's threads (the default account is its owner's to close)."""
        for state in self.named().values():
            state.close()
