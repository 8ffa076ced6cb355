"""The analytics' state: tags described or deleted through the account's tags API (and the logged events
the numbers are counted from) survive a snapshot save and load; a reset forgets them."""

from __future__ import annotations

from pathlib import Path

from werkzeug.datastructures import MultiDict

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.state.snapshot import load, save

D = "mg.example"


def send(backend: Backend, tag: str) -> None:
    backend.send_message(D, MultiDict({"from": f"a@{D}", "to": "b@x.example", "text": "t", "o:tag": tag}), [])


def test_analytics_state_survives_a_snapshot_and_reset_clears_it(tmp_path: Path) -> None:
    """A described tag keeps its description, a deleted tag stays deleted and the stats count the same
    events after a save and load; after a reset there are no tags, no counts, and the limit is untouched."""
    path = tmp_path / "state.json"
    backend = Backend(Config())
    for tag in ("news", "promo", "news"):
        send(backend, tag)
    assert backend.delivery.run_due(10)
    backend.update_account_tag({"tag": "news", "description": "Weekly"})
    backend.delete_account_tag({"tag": "promo"})
    save(path, backend.store.snapshot())
    restored = Backend(Config())
    restored.store.restore(load(path) or {})
    listed = restored.list_account_tags({})["items"]
    assert [(t["tag"], t["description"]) for t in listed] == [("news", "Weekly")]
    assert restored.account_tag_limits() == {"limit": 5000, "count": 1, "limit_reached": False}
    stats = restored.domain_stats(D, MultiDict([("event", "delivered")]))["stats"]
    assert sum(s["delivered"]["total"] for s in stats) == 3
    restored.reset()
    assert restored.list_account_tags({})["items"] == []
    assert restored.account_tag_limits() == {"limit": 5000, "count": 0, "limit_reached": False}
    stats = restored.domain_stats(None, MultiDict([("event", "delivered")]))["stats"]
    assert sum(s["delivered"]["total"] for s in stats) == 0
