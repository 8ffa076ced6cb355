"""Tags (``/v3/<domain>/tags``, ``/v3/<domain>/tag``, ``/v3/domains/<domain>/limits/tag``): the tags
the domain's sends carried (``o:tag``), with descriptions and deletion, and Mailgun's paging."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from ..base.errors import BadRequest, NotFound
from ..base.logtext import printable
from ..state.store import Store
from .context import Context
from .params import integer

__all__ = ["TAG_LIMIT", "TagOperations", "live_tags"]

#: How many tags a domain may have (Mailgun's default limit).
TAG_LIMIT = 5000


def _stamp(timestamp: float) -> str:
    """Tags' date format: ``2023-01-02 02:14:27 +0000 UTC``."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def live_tags(store: Store, domain: str) -> dict[str, dict[str, Any]]:
    """A domain's live tags: first and last seen among its sends (after any deletion; ``first``/``last`` in
    epoch seconds, ``first-seen``/``last-seen`` as the tags API shows them), and description."""
    notes = store.resources.domains.tags(domain)
    seen: dict[str, dict[str, Any]] = {}
    for sent in store.sent():
        if sent.domain != domain.lower():
            continue
        for tag in sent.tags:
            deleted = (notes.get(tag) or {}).get("deleted_at")
            if deleted is not None and sent.sent_at <= deleted:
                continue
            entry = seen.setdefault(tag, {"tag": tag, "first": sent.sent_at, "last": sent.sent_at})
            entry["first"], entry["last"] = min(entry["first"], sent.sent_at), max(entry["last"], sent.sent_at)
    return {tag: {"tag": tag, "description": (notes.get(tag) or {}).get("description", ""),
                  "first-seen": _stamp(e["first"]), "last-seen": _stamp(e["last"]),
                  "first": e["first"], "last": e["last"]} for tag, e in seen.items()}


class TagOperations(Context):
    """List, read, describe and delete a domain's tags."""

    def _tags(self, domain: str) -> dict[str, dict[str, Any]]:
        """The domain's live tags (see :func:`live_tags`) as the tags API shows them."""
        self.check_domain(domain)
        return {tag: {key: entry[key] for key in ("tag", "description", "first-seen", "last-seen")}
                for tag, entry in live_tags(self.store, domain).items()}

    def list_tags(self, domain: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """``GET /v3/<domain>/tags``: ``page`` (first, last, next, prev), ``tag`` pivot, ``limit``, ``prefix``."""
        tags = self._tags(domain)
        limit = integer(params.get("limit"), "limit", 100)
        if not 1 <= limit <= 1000:
            raise BadRequest("limit must be between 1 and 1000")
        page, pivot, prefix = (str(params.get(k) or "") for k in ("page", "tag", "prefix"))
        if page not in ("", "first", "last", "next", "prev"):
            raise BadRequest(f"Invalid page {printable(page, 40)!r}: use first, last, next or prev")
        keys = sorted(t for t in tags if t.startswith(prefix))
        if page == "next":
            keys = [k for k in keys if k > pivot][:limit]
        elif page == "prev":
            keys = [k for k in keys if k < pivot][-limit:]
        elif page == "last":
            keys = keys[-limit:]
        else:
            keys = keys[:limit]
        url = f"{self.base_url}/v3/{quote(domain, safe='')}/tags"

        def link(name: str, tag: str | None = None) -> str:
            query: dict[str, str | int] = {"limit": limit, "page": name}
            if tag is not None:
                query["tag"] = tag
            if prefix:
                query["prefix"] = prefix
            return f"{url}?{urlencode(query)}"

        first, last = (keys[0], keys[-1]) if keys else (pivot, pivot)
        return {"items": [tags[k] for k in keys], "paging": {"first": link("first"), "last": link("last"),
                                                              "next": link("next", last), "previous": link("prev", first)}}

    def get_tag(self, domain: str, tag: str | None) -> dict[str, Any]:
        """``GET /v3/<domain>/tag?tag=``."""
        if not tag:
            raise BadRequest("Parameter 'tag' is missing")
        found = self._tags(domain).get(tag)
        if found is None:
            raise NotFound("tag not found")
        return found

    def update_tag(self, domain: str, tag: str | None, description: str | None) -> dict[str, Any]:
        """``PUT /v3/<domain>/tag?tag=&description=``."""
        self.get_tag(domain, tag)
        assert tag is not None
        self.store.resources.domains.note_tag(domain, tag, description=description or "")
        return {"message": "Tag updated"}

    def delete_tag(self, domain: str, tag: str | None) -> dict[str, Any]:
        """``DELETE /v3/<domain>/tag?tag=``: the tag is gone until a send carries it again."""
        self.get_tag(domain, tag)
        assert tag is not None
        self.store.resources.domains.note_tag(domain, tag, deleted_at=self.clock.now())
        return {"message": "Tag deleted"}

    def tag_limits(self, domain: str) -> dict[str, Any]:
        """``GET /v3/domains/<domain>/limits/tag``."""
        return {"id": domain.lower(), "limit": TAG_LIMIT, "count": len(self._tags(domain))}
