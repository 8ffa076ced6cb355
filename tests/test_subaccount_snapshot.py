"""A subaccount's own state (its routes, mail and events) in its parent's snapshot: saved by the
writer when it changes, back after a restart, dropped when the subaccount closes or the account
resets, and refused when the snapshot names no such subaccount."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailgun_mock import MailgunMock
from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.state.snapshot import SnapshotError, load, save

DOMAIN = "mg.example.com"
FORM = {"from": "shop@mg.example.com", "to": "bob@example.net", "subject": "Kept", "text": "hi"}


def test_a_subaccounts_own_state_survives_a_restart(tmp_path: Path) -> None:
    """Through the real server: a route and a send made on behalf of a subaccount are there again
    after a restart from the snapshot, in the subaccount alone."""
    path = tmp_path / "state.json"
    with MailgunMock(port=0, snapshot=str(path), snapshot_delay=0.01) as mock:
        sub = mock.session.post(f"{mock.url}/v5/accounts/subaccounts", data={"name": "shop"}).json()["subaccount"]["id"]
        behalf = {"X-Mailgun-On-Behalf-Of": sub}
        made = mock.session.post(f"{mock.url}/v3/routes", headers=behalf,
                                 data={"expression": "catch_all()", "action": "store()", "description": "sub's"})
        assert made.status_code == 200, made.text
        sent = mock.session.post(f"{mock.url}/v3/{DOMAIN}/messages", headers=behalf, data=FORM)
        assert sent.status_code == 200, sent.text
        assert mock.backend.subaccount(sub).delivery.run_due(10)  # its own lanes: the delivered step
    saved = json.loads(path.read_text())["state"]
    assert list(saved["subaccounts"]) == [sub] and saved["routes"] == []

    with MailgunMock(port=0, snapshot=str(path)) as again:
        behalf = {"X-Mailgun-On-Behalf-Of": sub}
        routes = again.session.get(f"{again.url}/v3/routes", headers=behalf).json()
        assert [r["description"] for r in routes["items"]] == ["sub's"]
        assert again.session.get(f"{again.url}/v3/routes").json()["items"] == []
        events = again.session.get(f"{again.url}/v3/{DOMAIN}/events", headers=behalf).json()["items"]
        assert {e["event"] for e in events} >= {"accepted", "delivered"}
        assert all(e["message"]["headers"]["subject"] == "Kept" for e in events)
        assert again.session.get(f"{again.url}/v3/{DOMAIN}/events").json()["items"] == []


def test_a_change_inside_a_subaccount_is_a_change_of_the_parents_store() -> None:
    """The snapshot writer watches the parent's store: a subaccount's change moves its version."""
    backend = Backend(Config())
    sub = backend.create_subaccount({"name": "shop"})["subaccount"]["id"]
    state = backend.subaccount(sub)
    before = backend.store.version
    state.create_route("catch_all()", ["store()"])
    assert backend.store.version > before
    backend.close()


def test_a_closed_subaccount_and_a_reset_leave_no_subaccount_state(tmp_path: Path) -> None:
    """Closing a subaccount drops its state from the next snapshot; so does a reset of the account."""
    backend = Backend(Config())
    gone, kept = (backend.create_subaccount({"name": n})["subaccount"]["id"] for n in ("gone", "kept"))
    for sub in (gone, kept):
        backend.subaccount(sub).create_route("catch_all()", ["store()"])
    backend.subaccount(gone).delete_this_subaccount()
    assert list(backend.store.snapshot()["subaccounts"]) == [kept]
    path = tmp_path / "state.json"
    save(path, backend.store.snapshot())
    restored = Backend(Config())
    restored.restore(load(path) or {})
    assert [r.expression for r in restored.subaccount(kept).list_routes()[0]] == ["catch_all()"]
    assert restored.subaccount(gone) is None
    restored.reset()
    assert "subaccounts" not in restored.store.snapshot()
    # A state left beside a record that says closed (the subaccount closed while the snapshot was
    # taken) loads, and is left out.
    racy = backend.store.snapshot()
    racy["subaccounts"][gone] = racy["subaccounts"][kept]
    again = Backend(Config())
    again.restore(racy)
    assert again.subaccount(gone) is None and set(again.subaccount_states) == {kept}
    again.close()
    restored.close()
    backend.close()


def test_a_snapshot_naming_no_such_subaccount_is_refused(tmp_path: Path) -> None:
    """A subaccount state whose subaccount the snapshot lacks is refused, naming it; nothing changes."""
    backend = Backend(Config())
    sub = backend.create_subaccount({"name": "shop"})["subaccount"]["id"]
    backend.subaccount(sub).create_route("catch_all()", ["store()"])
    state = backend.store.snapshot()
    state["resources"]["admin"]["subaccounts"] = {}
    path = tmp_path / "state.json"
    save(path, state)
    with pytest.raises(SnapshotError, match=f"subaccounts\\['{sub}'\\]: no subaccount has this id"):
        load(path)
    target = Backend(Config())
    target.create_route("catch_all()", ["stop()"])
    with pytest.raises(ValueError, match="no subaccount has this id"):
        target.restore(state)
    assert target.list_routes()[1] == 1
    target.close()
    backend.close()
