"""The account's resources in the store: they survive a snapshot save and load, and a reset forgets them."""

from __future__ import annotations

from pathlib import Path

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.state.snapshot import load, save


def test_snapshot_keeps_the_account_resources_and_reset_clears_them(tmp_path: Path) -> None:
    """Domains, templates, lists, suppressions (allowlist too), account webhooks and keys survive a save and
    load; a reset forgets them."""
    path = tmp_path / "state.json"
    backend = Backend(Config())
    backend.create_domain({"name": "mg.example"})
    backend.create_template("mg.example", {"name": "t", "template": "<p>{{x}}</p>"})
    backend.create_list({"address": "team@mg.example"})
    backend.create_member("team@mg.example", {"address": "ann@x.example", "vars": '{"n": 1}'})
    backend.add_suppression("mg.example", "whitelists", {"domain": "partner.example"})
    backend.create_account_webhook({"url": "https://app.example/h", "event_types": "delivered"})
    key = backend.create_key({"role": "admin"})["key"]
    backend.rotate_signing_key()
    save(path, backend.store.snapshot())
    restored = Backend(Config())
    restored.store.restore(load(path) or {})
    assert restored.get_domain("mg.example")["domain"]["name"] == "mg.example"
    assert restored.get_template("mg.example", "t", "yes")["template"]["version"]["template"] == "<p>{{x}}</p>"
    assert restored.get_member("team@mg.example", "ann@x.example")["member"]["vars"] == {"n": 1}
    assert restored.list_suppressions("mg.example", "whitelists")["items"][0]["value"] == "partner.example"
    assert restored.list_account_webhooks()["webhooks"][0]["url"] == "https://app.example/h"
    assert restored.authorize(key["secret"], "GET", "/v3/routes")
    assert restored.signing_key() == backend.signing_key() != Config().signing_key
    restored.reset()
    assert restored.list_lists({})["total_count"] == 0 and restored.list_account_webhooks() == {"webhooks": []}
    assert not restored.authorize(key["secret"], "GET", "/v3/routes")
    assert restored.signing_key() == Config().signing_key
