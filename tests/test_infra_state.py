"""The account's infrastructure in the store (IPs, pools, allowlist, DKIM keys, certificates, placement
results): it survives a snapshot save and load, and a reset forgets it."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.state.resources import Resources
from mailgun_mock.state.snapshot import load, save


def test_snapshot_keeps_the_infrastructure_and_reset_clears_it(tmp_path: Path) -> None:
    """Dedicated IPs, a DIPP and its link, warmups, the allowlist, DKIM keys (the same public keys),
    rotation settings, certificates and placement results survive a save and load; a reset forgets them."""
    path = tmp_path / "state.json"
    backend = Backend(Config())
    backend.create_domain({"name": "mg.example"})
    ip = backend.request_ip()["ip"]
    pool_id = backend.create_ip_pool(MultiDict({"name": "p", "description": "d", "ip": ip}))["pool_id"]
    backend.add_domain_ip("mg.example", {"pool_id": pool_id})
    backend.start_warmup(ip)
    backend.put_allowlist({"address": "10.0.0.1", "description": "ci"}, create=True)
    backend.create_dkim_key({"signing_domain": "mg.example", "selector": "s2", "bits": "1024"})
    backend.update_dkim_rotation("mg.example", {"rotation_enabled": "true"})
    backend.generate_certificate("email.mg.example")
    backend.create_inbox_result({"id": "r1"})
    backend.create_preview_test({"id": "t1"})
    keys = backend.authority_keys("mg.example")
    save(path, backend.store.snapshot())
    restored = Backend(Config())
    restored.store.restore(load(path) or {})
    assert restored.list_domain_ips("mg.example")["items"] == [ip]
    assert restored.get_ip_pool(pool_id)["details"]["linked_domains"] == ["mg.example"]
    assert restored.get_warmup(ip)["details"]["stage"] == 1
    assert restored.list_allowlist()["addresses"] == [{"ip_address": "10.0.0.1", "description": "ci"}]
    assert restored.authority_keys("mg.example") == keys
    assert restored.update_dkim_rotation("mg.example", {"rotation_enabled": "true", "rotation_interval": "6d"})[
        "domain"]["rotation_enabled"] == "true"
    assert restored.certificate_status("email.mg.example")["status"] == "active"
    assert restored.get_inbox_result("r1")["result"]["rid"] == "r1" and restored.preview_results("t1")
    restored.reset()
    assert restored.list_ips({})["items"] == ["192.0.2.10"] and restored.list_ip_pools()["ip_pools"] == []
    assert restored.list_allowlist() == {"addresses": []} and restored.list_warmups({})["items"] == []
    with pytest.raises(Exception, match="not found"):
        restored.get_inbox_result("r1")


@pytest.mark.parametrize("section", ["ips", "dkim", "placement"])
def test_snapshot_refuses_a_malformed_infrastructure_section(section: str) -> None:
    """A section whose records lack their parts is refused, naming the section."""
    with pytest.raises(ValueError, match=section):
        Resources.decode({section: {"what": {}}})
