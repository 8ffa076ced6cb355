"""What sending adds to the mock's state: domain webhooks, delivery rules, suppressions, the outbox.

Not thread-safe by itself: the :class:`~mailgun_mock.state.store.Store` holds one and reads and
changes it only under its lock, through typed methods (``add_rule``, ``suppression``, ``add_sent``…).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base.records import SentMessage
from ..lang.send_rules import Rule
from .suppressions import Suppressions

__all__ = ["SendState"]


class SendState:
    """Domain webhooks (domain -> name -> URLs), rules in creation order, suppressions, sent mail."""

    def __init__(self) -> None:
        self.webhooks: dict[str, dict[str, tuple[str, ...]]] = {}
        self.rules: list[Rule] = []
        self.suppressions = Suppressions()
        self.sent: list[SentMessage] = []

    def clear(self) -> None:
        """Forget everything."""
        self.webhooks.clear()
        self.rules.clear()
        self.suppressions.clear()
        self.sent.clear()

    def to_dict(self) -> dict[str, Any]:
        """The snapshot shape (JSON-ready)."""
        return {
            "rules": [rule.to_dict() for rule in self.rules],
            "sent": [message.to_dict() for message in self.sent],
            "suppressions": self.suppressions.to_dict(),
            "webhooks": {domain: {name: list(urls) for name, urls in hooks.items()}
                         for domain, hooks in self.webhooks.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SendState:
        """The state :meth:`to_dict` made.

        :raises ValueError: naming what does not deserialise.
        """
        if not isinstance(data, Mapping) or set(data) != {"rules", "sent", "suppressions", "webhooks"}:
            raise ValueError("send: expected an object with rules, sent, suppressions and webhooks")
        state = cls()
        if not isinstance(data["rules"], list) or not isinstance(data["sent"], list):
            raise ValueError("send: rules and sent must be lists")
        state.rules = [Rule.from_dict(rule) for rule in data["rules"]]
        state.sent = [SentMessage.from_dict(message) for message in data["sent"]]
        state.suppressions = Suppressions.from_dict(data["suppressions"])
        hooks = data["webhooks"]
        if not isinstance(hooks, Mapping):
            raise ValueError("send: webhooks must map domains to webhooks")
        for domain, named in hooks.items():
            if not isinstance(named, Mapping) or not all(
                    isinstance(urls, list) and all(isinstance(u, str) for u in urls) for urls in named.values()):
                raise ValueError(f"send: webhooks of {domain!r} must map names to lists of URLs")
            state.webhooks[str(domain)] = {str(name): tuple(urls) for name, urls in named.items()}
        return state
