"""Subaccounts, limits and alerts in the store: kept by a snapshot, forgotten by a reset; and the
account states a request can reach (:mod:`mailgun_mock.backend.accounts`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailgun_mock.backend.accounts import Accounts, account_id_for
from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.base.errors import NotFound
from mailgun_mock.state.snapshot import load, save
from mailgun_mock.state.store import Store

ALERT = {"name": "b", "metric": "hard_bounce_rate", "comparator": ">", "limit": "5", "dimension": "domain"}


def test_snapshot_keeps_subaccounts_limits_and_alerts_and_reset_clears_them(tmp_path: Path) -> None:
    """A snapshot saved and loaded keeps subaccounts (with their signing keys and limits), the monthly
    limit and the alerts; a reset forgets them, and the subaccounts' states with them."""
    backend = Backend(Config())
    sub = backend.create_subaccount({"name": "shop"})["subaccount"]["id"]
    backend.set_subaccount_limit(sub, {"limit": "1000"})
    backend.set_monthly_limit({"limit": "5000"})
    backend.create_alert(ALERT)
    key = backend.subaccount(sub).signing_key()
    path = tmp_path / "state.json"
    save(path, backend.store.snapshot())
    restored = Backend(Config())
    restored.store.restore(load(path) or {})
    assert restored.get_subaccount(sub)["subaccount"]["name"] == "shop"
    assert restored.subaccount(sub).signing_key() == key
    assert restored.get_subaccount_limit(sub)["limit"] == 1000
    assert restored.get_monthly_limit()["limit"] == 5000
    assert restored.get_alert("b")["metric"] == "hard_bounce_rate"
    restored.reset()
    assert restored.list_subaccounts({})["total"] == 0 and restored.subaccount_states == {}
    with pytest.raises(NotFound):
        restored.get_monthly_limit()
    assert restored.list_alerts() == {"items": [], "total": 0}
    restored.close()
    backend.close()


def test_snapshot_refuses_a_malformed_admin_section() -> None:
    """A snapshot whose admin section lacks its parts is refused, naming the section."""
    snapshot = Store().snapshot()
    snapshot["resources"]["admin"] = {"subaccounts": {}}
    with pytest.raises(ValueError, match="admin"):
        Store().restore(snapshot)


def test_accounts_pick_the_default_a_namespace_or_a_subaccount() -> None:
    """Without namespaces every key is the default account; with them an unknown key gets its own
    state (the same one each time) with an id derived from the key; the header picks a subaccount."""
    default = Backend(Config())
    assert Accounts(default).for_key("other") is default
    accounts = Accounts(default, namespaces=True)
    assert accounts.for_key(default.config.api_key) is default
    mine = accounts.for_key("key-mine")
    assert mine is not default and accounts.for_key("key-mine") is mine
    assert mine.account_id == account_id_for("key-mine") != default.account_id
    sub = mine.create_subaccount({"name": "s"})["subaccount"]["id"]
    assert accounts.for_request("key-mine", sub) is mine.subaccount_states[sub]
    with pytest.raises(NotFound):
        accounts.for_request(default.config.api_key, sub)
    accounts.reset()
    assert accounts.named() == {}
    default.close()
