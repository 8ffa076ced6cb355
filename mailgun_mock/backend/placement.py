"""Inbox placement results (``/v4/inbox/results/<id>``) and email preview results
(``/v1/preview/tests/<id>/results``): the mock runs no seed tests and renders no screenshots, so it
holds only the results a test created through the control API (``POST /mock/inbox_results``,
``POST /mock/preview_tests``), and answers Mailgun's 404 for any other id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base.errors import BadRequest, NotFound
from ..base.logtext import printable
from .context import Context
from .ips import rfc3339

__all__ = ["PREVIEW_CLIENTS", "PlacementOperations"]

#: The clients a preview test created without ``clients`` shows: id -> (name, client, os, category, browser).
PREVIEW_CLIENTS = {
    "gmail_chrome": ("Gmail (Chrome)", "gmail", "Windows 11", "web", "chrome"),
    "outlook_2021": ("Outlook 2021", "outlook", "Windows 11", "desktop", ""),
    "iphone_15_mail": ("iPhone 15 Mail", "apple_mail", "iOS 17", "mobile", ""),
}
_SEEDS = ("gmail.com", "yahoo.com", "outlook.com")
# The mock renders nothing: every screenshot is this blank 1x1 PNG.
_BLANK_PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/"
              "PchI7wAAAABJRU5ErkJggg==")


class PlacementOperations(Context):
    """Inbox placement and email preview results the control API created."""

    def _new_id(self, data: Mapping[str, Any], kind: str) -> str:
        given = data.get("id")
        if given is not None and (not isinstance(given, str) or not given.strip() or len(given) > 100 or "/" in given):
            raise BadRequest("'id' must be a non-empty string of at most 100 characters, without '/'")
        found = self.store.resources.placement.read(lambda d: given in d[kind]) if given else False
        if found:
            raise BadRequest(f"{kind} result {given!r} already exists")
        return str(given or self.ids.new(self.clock.now()))

    def create_inbox_result(self, data: Any) -> dict[str, Any]:
        """``POST /mock/inbox_results``: a result ``GET /v4/inbox/results/<id>`` then answers. Any JSON
        object; ``id`` (else one is made), the rest kept as the result's fields, with defaults for
        ``subject``, ``sender``, ``status`` and per-provider ``seed_results`` (all in the inbox)."""
        if not isinstance(data, Mapping):
            raise BadRequest("an inbox placement result is a JSON object")
        rid = self._new_id(data, "inbox")
        result = {"rid": rid, "result_id": rid, "subject": "", "sender": "", "status": "complete",
                  "created_at": rfc3339(self.clock.now()),
                  "seed_results": {p: {"inbox": 1, "spam": 0, "missing": 0} for p in _SEEDS},
                  **{k: v for k, v in data.items() if k != "id"}}
        self.store.resources.placement.change(lambda d: d["inbox"].__setitem__(rid, result))
        return {"result": result}

    def get_inbox_result(self, rid: str, provider: str | None = None) -> dict[str, Any]:
        """``GET /v4/inbox/results/<id>`` (``provider`` keeps that provider's seed results only)."""
        found = self.store.resources.placement.read(lambda d: d["inbox"].get(rid))
        if found is None:
            raise NotFound(f"result {printable(rid, 100)} not found")
        if provider and isinstance(found.get("seed_results"), dict):
            found["seed_results"] = {k: v for k, v in found["seed_results"].items() if k == provider}
        return {"result": found}

    def create_preview_test(self, data: Any) -> dict[str, Any]:
        """``POST /mock/preview_tests``: a test whose results ``GET /v1/preview/tests/<id>/results``
        then answers: ``id`` (else one is made), ``clients`` (ids, default :data:`PREVIEW_CLIENTS`) or
        ``results`` (client id -> result object, kept as given)."""
        if not isinstance(data, Mapping):
            raise BadRequest("a preview test is a JSON object")
        test_id = self._new_id(data, "preview")
        results = data.get("results")
        if results is None:
            clients = data.get("clients", list(PREVIEW_CLIENTS))
            if not isinstance(clients, list) or not all(isinstance(c, str) and c for c in clients):
                raise BadRequest("'clients' must be a list of client ids")
            results = {c: self._preview(c) for c in clients}
        if not isinstance(results, Mapping) or not all(isinstance(v, Mapping) or v is None for v in results.values()):
            raise BadRequest("'results' must map client ids to result objects")
        self.store.resources.placement.change(lambda d: d["preview"].__setitem__(test_id, dict(results)))
        return {"id": test_id, "results": results}

    def _preview(self, client: str) -> dict[str, Any]:
        name, kind, os, category, browser = PREVIEW_CLIENTS.get(client, (client, client, "", "", ""))
        shot = _BLANK_PNG
        now = int(self.clock.now())
        return {"id": client, "display_name": name, "client": kind, "os": os, "category": category, "browser": browser,
                "screenshots": {"default": shot}, "thumbnail": shot, "full_thumbnail": shot, "status": "Complete",
                "status_details": {"submitted": now, "completed": now}}

    def preview_results(self, test_id: str) -> dict[str, Any]:
        """``GET /v1/preview/tests/<id>/results``."""
        found = self.store.resources.placement.read(lambda d: d["preview"].get(test_id))
        if found is None:
            raise NotFound(f"test {printable(test_id, 100)} not found")
        return dict(found)
