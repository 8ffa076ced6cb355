"""The one address fact the whole mock needs: which domain an ``local@domain`` address belongs to."""

from __future__ import annotations

__all__ = ["domain_of"]


def domain_of(address: str) -> str:
    """The part after the last ``@`` (case kept; empty when there is no ``@``)."""
    return address.rpartition("@")[2]
