"""The Mailgun operations, named after them (``create_route``, ``list_routes``…), with no Flask.

:class:`Backend` is every resource's operations together (one module each in this folder), over
the collaborators :class:`~.context.Context` wires. Every validation message Mailgun answers
lives in those modules, so the Flask test client, the threaded server and direct Python calls
behave the same.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..base.errors import BadRequest
from .alerts import AlertOperations
from .analytics import AnalyticsOperations
from .bounce_classification import BounceClassificationOperations
from .inbound import InboundOperations
from .inbox import InboxOperations
from .ip_pools import PoolOperations
from .keys import KeyOperations
from .messages import MessageOperations
from .placement import PlacementOperations
from .probing import ProbeOperations
from .routes import RouteOperations
from .subaccounts import SubaccountOperations
from .sending import SendingOperations
from .stats import StatsOperations
from .suppressions import SuppressionOperations
from .tags import TagOperations
from .validation import ValidationOperations
from .webhooks import WebhookOperations

__all__ = ["Backend"]

log = logging.getLogger("mailgun_mock")


class Backend(RouteOperations, InboxOperations, SendingOperations, InboundOperations, MessageOperations,
              WebhookOperations, ProbeOperations, SuppressionOperations, PoolOperations, KeyOperations,
              TagOperations, StatsOperations, AnalyticsOperations, BounceClassificationOperations,
              SubaccountOperations, AlertOperations, ValidationOperations, PlacementOperations):
    """The mock's Mailgun: every operation an API handler or a Python caller can ask for.

    Takes the parameters of :class:`~.context.Context` (config, clock, ids, store, transport).
    """

    def advance_clock(self, seconds: Any) -> float:
        """Move the mock's clock forward and run every webhook attempt that fell due; answers the new time.

        :raises BadRequest: for an amount that is not a non-negative number of seconds, or that
            would take the clock past 9999-12-31.
        """
        try:
            now = self.clock.advance(float(seconds))
        except (TypeError, ValueError) as exc:
            detail = f" ({exc})" if "9999" in str(exc) else ""
            raise BadRequest(f"'advance' must be a non-negative number of seconds{detail}") from None
        for state in [self, *self.subaccount_states.values()]:  # a subaccount shares its parent's clock
            state.delivery.run_due()
            state.store.expire_messages(self.clock.now())
        return now

    def reset(self) -> None:
        """Forget all state (routes, messages, events, deliveries, clock offset, subaccounts and their
        states); keep the configuration. A subaccount's reset forgets its own state alone."""
        states, self.subaccount_states = list(self.subaccount_states.values()), {}
        for state in states:
            state.close()
        self.delivery.clear()
        self.posts.clear()
        self.outbound.clear()
        self.store.clear()
        if self.parent is None:  # a subaccount's clock is its parent's
            self.clock.reset()
        log.info("state reset")

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the whole state with a snapshot's (:func:`~mailgun_mock.state.snapshot.load`), the
        own states of its subaccounts included. Everything is checked first: on error nothing changes.

        :raises ValueError: saying which part does not deserialise (a subaccount's state included).
        """
        subaccounts = self.store.restore(data)  # checks the subaccounts' states too, before any change
        states, self.subaccount_states = list(self.subaccount_states.values()), {}
        for state in states:
            state.close()
        for sub_id, sub_state in subaccounts.items():
            self.subaccount(sub_id).store.restore(sub_state)

    def close(self) -> None:
        """Stop the delivery threads, and end the inbox's long polls and live streams."""
        self.close_inbox()
        self.delivery.stop()
        for state in list(self.subaccount_states.values()):
            state.close()
