"""Address validation (``/v4/address/validate``): deterministic verdicts in Mailgun's shape, decided
without DNS or SMTP, and forced for chosen addresses by mock rules (``POST /mock/rules`` with an
address verdict as outcome, the same rules that decide what happens to sends).

The verdict, first that applies: a verdict rule matching the address (its ``description`` the
reason); a syntax error (``undeliverable``, ``failed_syntax_check``); a disposable domain of
:data:`DISPOSABLE_DOMAINS` (``do_not_send``, ``mailbox_is_disposable_address``); a domain one typo
away from a common provider of :data:`PROVIDERS` (``undeliverable``, ``no_mx``, with ``did_you_mean``);
a reserved test recipient that bounces or is rejected (``undeliverable``, ``mailbox_does_not_exist``);
a role address of :data:`ROLE_NAMES` (``deliverable``, risk ``medium``, ``mailbox_is_role_address``);
else ``deliverable``, risk ``low``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..base.errors import BadRequest
from ..lang.send_rules import verdict_rule
from .context import Context

__all__ = ["DISPOSABLE_DOMAINS", "PROVIDERS", "ROLE_NAMES", "ValidationOperations", "suggest_domain"]

#: Disposable-mail domains the mock knows (a small shipped list, not Mailgun's).
DISPOSABLE_DOMAINS = frozenset({
    "mailinator.com", "guerrillamail.com", "10minutemail.com", "tempmail.com", "temp-mail.org", "yopmail.com",
    "trashmail.com", "sharklasers.com", "getnada.com", "dispostable.com", "throwawaymail.com", "maildrop.cc",
    "fakeinbox.com", "mintemail.com", "discard.email", "mailnesia.com",
})
#: Common mailbox providers a one-typo domain is corrected to.
PROVIDERS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "live.com",
             "msn.com", "protonmail.com", "gmx.com", "mail.com", "yandex.com", "comcast.net", "me.com")
#: Local parts that name a role rather than a person.
ROLE_NAMES = frozenset({
    "abuse", "admin", "administrator", "billing", "careers", "contact", "help", "hostmaster", "hr", "info",
    "jobs", "mailer-daemon", "marketing", "newsletter", "no-reply", "noreply", "office", "postmaster",
    "privacy", "root", "sales", "security", "support", "team", "webmaster",
})
_RISK = {"deliverable": "low", "catch_all": "medium", "unknown": "unknown", "undeliverable": "high",
         "do_not_send": "high"}
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(\.{_ATOM})*|\"([^\"\\\r\n]|\\.)*\"")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_MAX_ADDRESS = 512


def _distance(a: str, b: str) -> int:
    """Edits between two strings (insert, delete, substitute, swap two neighbours)."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def suggest_domain(domain: str) -> str | None:
    """The common provider ``domain`` is one typo away from (``gmial.com`` -> ``gmail.com``), or ``None``."""
    domain = domain.lower()
    if domain in PROVIDERS:
        return None
    close = [p for p in PROVIDERS if abs(len(p) - len(domain)) <= 1 and _distance(domain, p) == 1]
    return close[0] if len(close) == 1 else None


def _syntax_ok(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    if not at or not local or len(local) > 64 or not _LOCAL.fullmatch(local):
        return False
    labels = domain.rstrip(".").split(".")
    return len(domain) <= 253 and len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels) \
        and not labels[-1].isdigit()


class ValidationOperations(Context):
    """Single address validation."""

    def validate_address(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET``/``POST /v4/address/validate`` (``address``; ``provider_lookup`` is accepted and ignored).

        :raises BadRequest: for a missing or over-long address.
        """
        address = str(params.get("address") or "").strip()
        if not address:
            raise BadRequest("address is a required parameter")
        if len(address) > _MAX_ADDRESS:
            raise BadRequest(f"address is longer than {_MAX_ADDRESS} characters")
        local, _, domain = address.rpartition("@")
        domain = domain.lower()
        answer: dict[str, Any] = {
            "address": address, "is_disposable_address": domain in DISPOSABLE_DOMAINS,
            "is_role_address": local.lower() in ROLE_NAMES, "engagement": None,
        }
        rule = verdict_rule(self.store.rules(), address, timeout=self.config.regex_timeout)
        suggestion = suggest_domain(domain)
        if suggestion is not None:
            answer["did_you_mean"] = f"{local}@{suggestion}"
        if rule is not None:
            result, reason = rule.outcome[0], [rule.description] if rule.description else []
        elif not _syntax_ok(address):
            result, reason = "undeliverable", ["failed_syntax_check"]
            answer["is_role_address"] = False
        elif answer["is_disposable_address"]:
            result, reason = "do_not_send", ["mailbox_is_disposable_address"]
        elif suggestion is not None:
            result, reason = "undeliverable", ["no_mx"]
        elif domain == self.config.test_recipient_domain and local.partition("+")[0].lower() in ("bounce", "reject"):
            result, reason = "undeliverable", ["mailbox_does_not_exist"]
        elif answer["is_role_address"]:
            result, reason = "deliverable", ["mailbox_is_role_address"]
        else:
            result, reason = "deliverable", []
        risk = "medium" if result == "deliverable" and answer["is_role_address"] else _RISK[result]
        if "+" in local:  # the address without its sub-address
            answer["root_address"] = f"{local.partition('+')[0]}@{domain}"
        return {**answer, "result": result, "risk": risk, "reason": reason}
