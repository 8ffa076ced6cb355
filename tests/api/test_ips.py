"""The account's IPs, a domain's IPs, warmups and the IP allowlist."""

from __future__ import annotations

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from tests.conftest import Api

SHARED = "192.0.2.10"


def _dedicated(api: Api) -> str:
    answer = api.post("/v3/ips/request/new").json()
    assert answer["message"] == "success"
    return str(answer["ip"])


def test_ips_start_with_the_configured_shared_ip(api: Api) -> None:
    """The account has the documented default shared IP; it is not dedicated and is no pool's to take."""
    listed = api.get("/v3/ips").json()
    assert (listed["items"], listed["total_count"], listed["assignable_to_pools"]) == ([SHARED], 1, [])
    assert api.get(f"/v3/ips/{SHARED}").json() == {
        "ip": SHARED, "dedicated": False, "rdns": "ip192-0-2-10.mailgun-mock.invalid"}
    assert api.get("/v3/ips", params={"dedicated": "true"}).json()["items"] == []
    missing = api.get("/v3/ips/203.0.113.9")
    assert (missing.status, missing.json()["message"]) == (404, "IP not found")
    assert api.get("/v3/ips/not-an-ip").status == 400


def test_ips_configured_list_replaces_the_default() -> None:
    """``ips`` in the configuration sets the account's shared IPs."""
    backend = Backend(Config(ips=("203.0.113.5", "203.0.113.6")))
    assert backend.list_ips({})["items"] == ["203.0.113.5", "203.0.113.6"]


def test_ips_request_new_adds_dedicated_ips_up_to_the_limit(api: Api) -> None:
    """POST /v3/ips/request/new adds dedicated IPs from 198.51.100.0/24 until the allowance is used."""
    assert api.get("/v3/ips/request/new").json() == {"allowed": {"dedicated": 10, "shared": 1}}
    first = _dedicated(api)
    assert first == "198.51.100.1" and api.get(f"/v3/ips/{first}").json()["dedicated"] is True
    for _ in range(9):
        _dedicated(api)
    assert api.get("/v3/ips/request/new").json()["allowed"]["dedicated"] == 0
    assert api.post("/v3/ips/request/new").status == 400
    assert len(api.get("/v3/ips", params={"dedicated": "yes"}).json()["items"]) == 10


def test_ip_band_only_for_dedicated_ips(api: Api) -> None:
    """An IP band is set on a dedicated IP; the shared IP is refused."""
    ip = _dedicated(api)
    assert api.post(f"/v3/ips/{ip}/ip_band", data={"ip_band": "band-a"}).json() == {"message": "success"}
    assert api.post(f"/v3/ips/{SHARED}/ip_band", data={"ip_band": "band-a"}).status == 400
    assert api.post(f"/v3/ips/{ip}/ip_band").status == 400


def test_domain_ips_assign_list_remove(api: Api) -> None:
    """A domain sends from the shared IP until given its own; IPs move on and off it, and on and off every domain."""
    for name in ("a.example", "b.example"):
        api.post("/v4/domains", data={"name": name})
    ip = _dedicated(api)
    assert api.get("/v3/domains/a.example/ips").json() == {"items": [SHARED], "total_count": 1}
    assert api.post("/v3/domains/a.example/ips", data={"ip": ip}).json() == {"message": "success"}
    assert api.get("/v3/domains/a.example/ips").json()["items"] == [ip]
    on_ip = api.get(f"/v3/ips/{ip}/domains", params={"limit": "10", "skip": "0", "search": ""}).json()
    assert on_ip == {"items": [{"domain": "a.example", "ips": [ip]}], "total_count": 1}
    assert api.post(f"/v3/ips/{ip}/domains").json()["message"] == "started"
    assert api.get(f"/v3/ips/{ip}/domains").json()["total_count"] == 2
    assert api.get("/v3/domains/b.example/ips").json()["items"] == [SHARED, ip]
    assert api.get(f"/v3/ips/{ip}/domains", params={"search": "b"}).json()["items"][0]["domain"] == "b.example"
    assert api.delete(f"/v3/ips/{ip}/domains", params={"alternative": SHARED}).json()["message"] == "started"
    assert api.get(f"/v3/ips/{ip}/domains").json()["total_count"] == 0
    assert api.get("/v3/domains/a.example/ips").json()["items"] == [SHARED]
    api.post("/v3/domains/a.example/ips", data={"ip": ip})
    assert api.delete(f"/v3/domains/a.example/ips/{ip}").json() == {"message": "success"}
    assert api.delete(f"/v3/domains/a.example/ips/{ip}").status == 404
    assert api.post("/v3/domains/a.example/ips", data={"ip": "203.0.113.1"}).status == 404
    assert api.get("/v3/domains/nowhere.example/ips").status == 404


def test_warmup_plan_follows_the_mock_clock(api: Api) -> None:
    """A dedicated IP's warmup starts at stage 1 and moves a stage a day on the mock's clock; it can be cancelled."""
    ip = _dedicated(api)
    assert api.get("/v3/ip_warmups").json()["items"] == []
    assert api.post(f"/v3/ip_warmups/{SHARED}").status == 400
    assert api.post(f"/v3/ip_warmups/{ip}").json() == {"message": "success"}
    assert api.post(f"/v3/ip_warmups/{ip}").status == 400
    first = api.get(f"/v3/ip_warmups/{ip}").json()["details"]
    assert (first["stage"], first["stage_limit"], first["total_stages"], first["stage_history"]) == (1, 500, 15, [])
    api.backend.advance_clock(2 * 86400 + 1)
    listed = api.get("/v3/ip_warmups").json()["items"]
    assert [(w["ip"], w["stage_number"], w["stage_volume_limit"]) for w in listed] == [(ip, 3, 2000)]
    assert len(api.get(f"/v3/ip_warmups/{ip}").json()["details"]["stage_history"]) == 2
    assert api.get("/v3/ips").json()["details"] == [{"ip": SHARED}, {"ip": ip, "is_on_warmup": True}]
    assert api.delete(f"/v3/ip_warmups/{ip}").json() == {"message": "success"}
    assert api.get(f"/v3/ip_warmups/{ip}").status == 404
    assert api.delete(f"/v3/ip_warmups/{ip}").status == 404


def test_ip_allowlist_crud(api: Api) -> None:
    """Allowlist entries (IPs or CIDRs) are added, described, listed and deleted, with Mailgun's messages."""
    assert api.get("/v2/ip_whitelist").json() == {"addresses": []}
    added = api.post("/v2/ip_whitelist", data={"address": "10.11.11.111", "description": "OnPrem Server"}).json()
    assert added == {"addresses": [{"ip_address": "10.11.11.111", "description": "OnPrem Server"}]}
    api.post("/v2/ip_whitelist", data={"address": "10.0.0.0/8"})
    bad = api.post("/v2/ip_whitelist", data={"address": "ten"})
    assert (bad.status, bad.json()["message"]) == (400, "Invalid IP Address or CIDR")
    assert api.post("/v2/ip_whitelist", data={"address": "10.11.11.111"}).status == 400
    described = api.put("/v2/ip_whitelist", data={"address": "10.11.11.111", "description": "OnPrem Server 1"}).json()
    assert described["addresses"][0]["description"] == "OnPrem Server 1"
    assert api.put("/v2/ip_whitelist", data={"address": "10.9.9.9"}).json()["message"] == "IP not found"
    remaining = api.delete("/v2/ip_whitelist", params={"address": "10.11.11.111"}).json()
    assert remaining == {"addresses": [{"ip_address": "10.0.0.0/8", "description": ""}]}
    blank = api.delete("/v2/ip_whitelist")
    assert (blank.status, blank.json()["message"]) == (400, "IP address can not be blank")
