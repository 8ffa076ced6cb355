"""The suppressions API (``/v3/<d>/bounces``, ``unsubscribes``, ``complaints``, ``whitelists``):
list with Mailgun's paging, add one (form) or many (JSON), get, delete one, clear, CSV import.
"""

from __future__ import annotations

import csv
import email.utils
import io
import json
from collections.abc import Mapping
from datetime import timezone
from typing import Any
from urllib.parse import quote, urlencode

from ..base.errors import BadRequest, NotFound
from ..base.records import SuppressionRecord
from ..state.suppressions import MAX_PAGE
from .context import Context
from .params import ADDRESS, integer

__all__ = ["SuppressionOperations"]

#: Mailgun's answers per list: (added one, cleared / removed, not found).
_TEXTS = {
    "bounces": ("bounces", "Bounced addresses for this domain have been removed",
                "Address not found in bounces table"),
    "unsubscribes": ("unsubscribes", "Unsubscribe addresses for this domain have been removed",
                     "Address not found in unsubscribers table"),
    "complaints": ("complaints", "Complaint addresses for this domain have been removed",
                   "No spam complaints found for this address"),
    "whitelists": ("allowlists", "Allowlist addresses/domains for this domain have been removed",
                   "Address/Domain not found in allowlist table"),
}
_REMOVED_ONE = {"bounces": "Bounced addresses for this domain have been removed",
                "unsubscribes": "Unsubscribe event has been removed",
                "complaints": "Complaint addresses for this domain have been removed",
                "whitelists": "Allowlist address/domain has been removed"}
_PAGES = ("", "first", "last", "next", "previous")
_IMPORTED = "file uploaded successfully for processing. standby..."


class SuppressionOperations(Context):
    """Every suppression-list operation of Mailgun's API, the allowlist included."""

    def list_suppressions(self, domain: str, kind: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``GET /v3/<domain>/<kind>``: one page (``limit`` ≤ 1000, ``page``, ``address`` pivot,
        ``term`` prefix) with ``first``/``last``/``next``/``previous`` URLs that walk by address
        and end on an empty page."""
        self.check_domain(domain)
        params = params or {}
        limit = integer(params.get("limit"), "limit", 100)
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"Limit parameter can't be larger than {MAX_PAGE}" if limit > MAX_PAGE
                             else "Limit parameter must be a positive number")
        page = str(params.get("page") or "")
        if page not in _PAGES:
            raise BadRequest(f"Invalid page parameter {page[:40]!r}: use first, last, next or previous")
        pivot, term = str(params.get("address") or ""), str(params.get("term") or "")
        items = self.store.suppressions(kind, domain, page=page, pivot=pivot, limit=limit, term=term)
        key = "value" if kind == "whitelists" else "address"
        first = items[0][key] if items else pivot
        last = items[-1][key] if items else pivot
        url = f"{self.base_url}/v3/{quote(domain, safe='')}/{kind}"

        def link(which: str, address: str | None = None) -> str:
            query: dict[str, str | int] = {"page": which}
            if address is not None:
                query["address"] = address
            query["limit"] = limit
            if term:
                query["term"] = term
            return f"{url}?{urlencode(query)}"

        return {"items": items, "paging": {"first": link("first"), "last": link("last"),
                                           "next": link("next", last), "previous": link("previous", first)}}

    def get_suppression(self, domain: str, kind: str, address: str) -> dict[str, Any]:
        """``GET /v3/<domain>/<kind>/<address>``.

        :raises NotFound: with the list's message.
        """
        self.check_domain(domain)
        entry = self.store.suppression_entry(kind, domain, address)
        if entry is None:
            raise NotFound(_TEXTS[kind][2])
        return entry

    def delete_suppression(self, domain: str, kind: str, address: str, tag: str | None = None) -> dict[str, Any]:
        """``DELETE /v3/<domain>/<kind>/<address>`` (unsubscribes: ``tag`` removes only that tag).

        :raises NotFound: with the list's message.
        """
        self.check_domain(domain)
        if not self.store.remove_suppression(kind, domain, address, tag=tag if kind == "unsubscribes" else None):
            raise NotFound("Unsubscribe event for this tag does not exist" if tag and kind == "unsubscribes"
                           else _TEXTS[kind][2])
        return {"message": _REMOVED_ONE[kind], "value" if kind == "whitelists" else "address": address}

    def clear_suppressions(self, domain: str, kind: str) -> dict[str, Any]:
        """``DELETE /v3/<domain>/<kind>``: empty the list."""
        self.check_domain(domain)
        self.store.clear_suppressions(kind, domain)
        return {"message": _TEXTS[kind][1]}

    def add_suppression(self, domain: str, kind: str, form: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v3/<domain>/<kind>`` with form fields: one record (the allowlist: ``address`` or ``domain``).

        :raises BadRequest: for a missing or malformed address, code or date.
        """
        self.check_domain(domain)
        if kind == "whitelists":
            return self._allow(domain, form)
        record = self._record(kind, dict(form), form=True)
        self.store.add_suppressions(kind, domain, record)
        return {"message": f"Address has been added to the {_TEXTS[kind][0]} table"}

    def add_suppressions_json(self, domain: str, kind: str, body: Any) -> dict[str, Any]:
        """``POST /v3/<domain>/<kind>`` with a JSON array of up to 1000 records.

        :raises BadRequest: ``Batch size should be less than 1000``, or what is wrong with a record.
        """
        self.check_domain(domain)
        if kind == "whitelists":
            raise BadRequest("the allowlist takes one address or domain per request, as form fields")
        if not isinstance(body, list):
            raise BadRequest("expected a JSON array of records")
        if len(body) > MAX_PAGE:
            raise BadRequest(f"Batch size should be less than {MAX_PAGE}")
        records = [r for item in body for r in self._record(kind, item, form=False)]
        self.store.add_suppressions(kind, domain, records)
        noun = "complaint addresses" if kind == "complaints" else "addresses"
        return {"message": f"{len(body)} {noun} have been added to the {kind} table"}

    def import_suppressions(self, domain: str, kind: str, content: bytes | None) -> dict[str, Any]:
        """``POST /v3/<domain>/<kind>/import``: a CSV file (``file``) with a header row naming the
        columns (``address``, and ``code``, ``error``, ``tags``, ``created_at`` as the list takes
        them; the allowlist: ``address`` or ``domain``, ``reason``). Imported at once.

        :raises BadRequest: without a file, a header row or an address column.
        """
        self.check_domain(domain)
        if content is None:
            raise BadRequest("file parameter is missing")
        try:
            rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise BadRequest(f"while reading csv: {exc}") from None
        if not rows or not ({"address", "domain"} & {(k or "").strip().lower() for k in rows[0]}):
            raise BadRequest("while reading csv header: an 'address' column is required")
        rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in row.items()} for row in rows]
        if kind == "whitelists":
            for row in rows:
                self._allow(domain, row)
        else:
            records = [r for row in rows if row.get("address") for r in self._record(kind, row, form=True)]
            self.store.add_suppressions(kind, domain, records)
        return {"message": _IMPORTED}

    # -- the records ---------------------------------------------------------------------

    def _allow(self, domain: str, form: Mapping[str, Any]) -> dict[str, Any]:
        address, allowed = str(form.get("address") or "").strip(), str(form.get("domain") or "").strip()
        if not address and not allowed:
            raise BadRequest("Missing mandatory parameter: address/domain")
        kind, value = ("address", address) if address else ("domain", allowed)
        if kind == "address" and not ADDRESS.fullmatch(value) or kind == "domain" and "@" in value:
            raise BadRequest(f"{value[:100]} is not a valid {kind}")
        record = SuppressionRecord(value, self.clock.now(), error=str(form.get("reason") or ""), tag=kind)
        self.store.add_suppressions("whitelists", domain, [record])
        return {"message": "Address/Domain has been added to the allowlists table", "type": kind, "value": value}

    def _record(self, kind: str, item: Any, *, form: bool) -> list[SuppressionRecord]:
        """The records one form or one JSON item gives (an unsubscribe per tag)."""
        if not isinstance(item, Mapping):
            raise BadRequest("each record must be a JSON object with an 'address'")
        address = item.get("address")
        if not isinstance(address, str) or not address.strip():
            raise BadRequest("'address' parameter is missing")
        address = address.strip()
        if not ADDRESS.fullmatch(address):
            raise BadRequest(f"{address[:100]} is not a valid address")
        created = self._date(item.get("created_at"))
        code = item.get("code")
        number = integer(code if isinstance(code, (str, int)) and str(code).strip() else None, "code", 550)
        error = str(item.get("error") or "")
        if kind != "unsubscribes":
            return [SuppressionRecord(address, created, number, error)]
        tags = item.get("tags", item.get("tag"))
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",")] if form else [tags]
        if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
            raise BadRequest("'tags' must be a list of strings")
        return [SuppressionRecord(address, created, tag=tag or "*") for tag in (tags or ["*"])]

    def _date(self, value: Any) -> float:
        if value is None or value == "":
            return self.clock.now()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(str(value))
            stamp = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
            # Go's zero time (year 1), which Mailgun's own examples show, means "not given".
            return stamp if stamp > 0 else self.clock.now()
        except (TypeError, ValueError, IndexError, OverflowError):
            raise BadRequest(f"Invalid created_at {json.dumps(str(value))[:60]}: expected an RFC 2822 date") from None
