"""Bounce classification (pure): which *entity* (the recipient's mailbox provider) refused a message,
and which *rule* its SMTP reply matches.

The mock's own ``failed`` events are classified: permanent ones are *bounces*, temporary ones
*delays*. Suppressed sends (codes 605-607) and failed route webhooks were never refused by a mail
server, so they are not classified. The rules are tried in order; the first whose code range and
words match wins, and the last two catch every other permanent or temporary reply:

=====================  ==========  =========  ============  ==============================================
rule id                category    severity   criticality   matches
=====================  ==========  =========  ============  ==============================================
mailbox-does-not-exist BOUNCE      PERMANENT  NON-CRITICAL  5xx with 5.1.1, "does not exist", "unknown user"
mailbox-full           BOUNCE      any        NON-CRITICAL  "mailbox full", "over quota", 4.2.2, 5.2.2
blocked-as-spam        ESPBLOCK    any        CRITICAL      "spam", "blocked", "blacklist", "reputation", 5.7.1
greylisted             GREYLISTED  TEMPORARY  NON-CRITICAL  4xx with "greylist"
connection-failed      GENERIC     TEMPORARY  NON-CRITICAL  4xx with "timed out", "connection", 4.4.x
generic-permanent      GENERIC     PERMANENT  NON-CRITICAL  any other permanent failure
generic-temporary      GENERIC     TEMPORARY  NON-CRITICAL  any other temporary failure
=====================  ==========  =========  ============  ==============================================
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

__all__ = ["ENTITIES", "RULES", "BounceRule", "classify", "entity_of"]

#: entity id -> (name, the recipient domains it serves); ``other`` takes every other domain.
ENTITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "gmail": ("Gmail", ("gmail.com", "googlemail.com")),
    "yahoo": ("Yahoo", ("yahoo.com", "ymail.com", "rocketmail.com", "yahoo.co.uk")),
    "hotmail": ("Microsoft (Hotmail)", ("hotmail.com", "outlook.com", "live.com", "msn.com")),
    "apple": ("Apple", ("icloud.com", "me.com", "mac.com")),
    "other": ("Other", ()),
}


@dataclasses.dataclass(frozen=True)
class BounceRule:
    """One classification rule: what it matches and how it names the failure."""

    id: str
    category: str
    severity: str | None  # PERMANENT, TEMPORARY or None for either
    criticality: str
    codes: tuple[int, int]  # inclusive range of SMTP codes
    words: str  # a regular expression searched in the reply, ignoring case ("" matches any)
    sample_text: str
    explanation: str
    short_explanation: str

    def matches(self, code: int, text: str, severity: str) -> bool:
        """Whether a failure with this code, reply text and severity falls under the rule."""
        return (self.codes[0] <= code <= self.codes[1] and self.severity in (None, severity)
                and (not self.words or re.search(self.words, text, re.IGNORECASE) is not None))


RULES: tuple[BounceRule, ...] = (
    BounceRule("mailbox-does-not-exist", "BOUNCE", "PERMANENT", "NON-CRITICAL", (500, 599),
               r"5\.1\.1|does not exist|unknown user|user unknown|no such user",
               "5.1.1 The email account that you tried to reach does not exist",
               "The recipient's mailbox does not exist", "Mailbox does not exist"),
    BounceRule("mailbox-full", "BOUNCE", None, "NON-CRITICAL", (400, 599), r"mailbox full|over quota|[45]\.2\.2",
               "5.2.2 The email account that you tried to reach is over quota",
               "The recipient's mailbox is full", "Mailbox full"),
    BounceRule("blocked-as-spam", "ESPBLOCK", None, "CRITICAL", (400, 599),
               r"spam|blocked|blacklist|blocklist|reputation|5\.7\.1",
               "5.7.1 Message rejected as spam", "The provider blocked the message for its content or the "
               "sender's reputation", "Blocked by the provider"),
    BounceRule("greylisted", "GREYLISTED", "TEMPORARY", "NON-CRITICAL", (400, 499), r"greylist",
               "4.7.1 Greylisted, please try again later", "The provider greylisted the sender; a retry usually "
               "succeeds", "Greylisted"),
    BounceRule("connection-failed", "GENERIC", "TEMPORARY", "NON-CRITICAL", (400, 499),
               r"timed out|timeout|connection|4\.4\.\d", "4.4.2 Connection timed out",
               "The provider's mail server could not be reached", "Connection failed"),
    BounceRule("generic-permanent", "GENERIC", "PERMANENT", "NON-CRITICAL", (0, 999), "",
               "5.0.0 Delivery failed", "The provider refused the message", "Permanent failure"),
    BounceRule("generic-temporary", "GENERIC", "TEMPORARY", "NON-CRITICAL", (0, 999), "",
               "4.0.0 Try again later", "The provider deferred the message", "Temporary failure"),
)


def entity_of(recipient_domain: str) -> str:
    """The entity id of a recipient domain (``other`` when it is no known provider's)."""
    domain = recipient_domain.lower()
    return next((eid for eid, (_, domains) in ENTITIES.items() if domain in domains), "other")


def classify(event: dict[str, Any]) -> tuple[str, BounceRule] | None:
    """``(entity id, rule)`` for a ``failed`` event a mail server caused, else ``None``."""
    if event.get("event") != "failed" or str(event.get("reason") or "").startswith("suppress-"):
        return None
    if event.get("flags", {}).get("is-routed") and event.get("envelope", {}).get("transport") == "http":
        return None  # a route's URL failed: no mail server refused anything
    status = event.get("delivery-status") or {}
    code = int(status.get("code") or 0)
    text = f"{status.get('message') or ''} {status.get('description') or ''}"
    severity = "TEMPORARY" if event.get("severity") == "temporary" else "PERMANENT"
    rule = next(r for r in RULES if r.matches(code, text, severity) or (not r.words and r.severity == severity))
    return entity_of(str(event.get("recipient-domain") or "")), rule
