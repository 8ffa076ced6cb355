"""Dedicated IP pools (DIPPs) and dynamic IP pools: assignments between IPs, pools and domains stay consistent."""

from __future__ import annotations

from tests.conftest import Api

SHARED = "192.0.2.10"


def _dedicated(api: Api, count: int) -> list[str]:
    return [api.post("/v3/ips/request/new").json()["ip"] for _ in range(count)]


def test_dipp_crud_and_linked_domains_follow_its_ips(api: Api) -> None:
    """A DIPP is created with dedicated IPs, linked to a domain, changed; an IP removed from it leaves its domains."""
    first, second, third = _dedicated(api, 3)
    api.post("/v4/domains", data={"name": "pool.example"})
    created = api.post("/v3/ip_pools", data={"name": "transactional", "description": "tx", "ip": [first, second]}).json()
    pool_id = created["pool_id"]
    assert created["message"] == "success"
    assert api.get("/v3/ips").json()["assignable_to_pools"] == [third]
    assert api.post("/v3/domains/pool.example/ips", data={"pool_id": pool_id}).json() == {"message": "success"}
    assert api.get("/v3/domains/pool.example/ips").json()["items"] == [first, second]
    details = api.get(f"/v3/ip_pools/{pool_id}").json()["details"]
    assert (details["ips"], details["is_linked"], details["linked_domains"]) == ([first, second], True, ["pool.example"])
    assert api.get("/v3/ip_pools").json()["ip_pools"][0]["is_linked"] is True
    domains = api.get(f"/v3/ip_pools/{pool_id}/domains").json()["domains"]
    assert [d["name"] for d in domains] == ["pool.example"]
    assert api.delete(f"/v3/ip_pools/{pool_id}/ips/{first}").json() == {"message": "started"}
    assert api.get("/v3/domains/pool.example/ips").json()["items"] == [second]
    assert api.get(f"/v3/ips/{first}/domains").json()["total_count"] == 0
    assert api.put(f"/v3/ip_pools/{pool_id}/ips/{third}").json() == {"message": "started"}
    assert api.post(f"/v3/ip_pools/{pool_id}/ips.json", json={"ips": [first]}).json() == {"message": "started"}
    assert api.get("/v3/domains/pool.example/ips").json()["items"] == [second, third, first]
    changed = api.request("PATCH", f"/v3/ip_pools/{pool_id}", data={"name": "tx2", "remove_ip": third})
    assert changed.json() == {"message": "success"}
    assert api.get(f"/v3/ip_pools/{pool_id}").json()["details"]["name"] == "tx2"
    assert api.request("PATCH", f"/v3/ip_pools/{pool_id}", data={}).status == 400
    assert api.delete(f"/v3/domains/pool.example/ips/{second}").status == 400  # a linked domain's IPs are the pool's
    assert api.delete(f"/v3/ip_pools/{pool_id}", params={"ip": third}).json() == {"message": "started"}
    assert api.get(f"/v3/ip_pools/{pool_id}").status == 404
    assert api.get("/v3/domains/pool.example/ips").json()["items"] == [third]


def test_dipp_refuses_what_does_not_fit(api: Api) -> None:
    """A DIPP takes only the account's dedicated IPs, each in one pool; unknown pools are a 404; a refused
    change changes nothing."""
    (ip,) = _dedicated(api, 1)
    assert api.post("/v3/ip_pools", data={"name": "p", "description": "", "ip": SHARED}).status == 400
    assert api.post("/v3/ip_pools", data={"name": "p", "description": "", "ip": "203.0.113.7"}).status == 404
    assert api.post("/v3/ip_pools", data={"description": "no name"}).status == 400
    pool_id = api.post("/v3/ip_pools", data={"name": "p", "description": "", "ip": ip}).json()["pool_id"]
    assert api.post("/v3/ip_pools", data={"name": "q", "description": "", "ip": ip}).status == 400
    missing = api.get("/v3/ip_pools/000000000000000000000000")
    assert (missing.status, missing.json()["message"]) == (404, "IP pool not found")
    assert api.put(f"/v3/ip_pools/nope/ips/{ip}").status == 404
    assert api.delete(f"/v3/ip_pools/{pool_id}/ips/{SHARED}").status == 404
    assert api.post(f"/v3/ip_pools/{pool_id}/ips.json", data={"ips": ip}).status == 400
    refused = api.request("PATCH", f"/v3/ip_pools/{pool_id}", data={"name": "renamed", "add_ip": SHARED})
    assert refused.status == 400 and api.get(f"/v3/ip_pools/{pool_id}").json()["details"]["name"] == "p"


def test_dynamic_pools_setup_enroll_override_history(api: Api) -> None:
    """Dynamic pools are set up, a domain is enrolled by its health check (new sender), overridden,
    its history recorded, and it sends from its pool's IPs; pools go only once no domain is enrolled."""
    good, poor, new, spare = _dedicated(api, 4)
    api.post("/v4/domains", data={"name": "dyn.example"})
    assert api.post("/v3/domains/dyn.example/dynamic_pools").status == 400  # not set up yet
    setup = api.post("/v3/dynamic_pools/all", data={"good_reputation": good, "poor_reputation": poor,
                                                    "new_senders": new}).json()
    assert setup["message"] == "success"
    pools = api.get("/v3/dynamic_pools").json()
    assert (pools["good_reputation"], pools["poor_reputation"], pools["new_senders"]) == ([good], [poor], [new])
    assert [p["name"] for p in pools["pools"]] == ["dynamic_good", "dynamic_poor", "dynamic_new"]
    assert api.post(f"/v3/dynamic_pools/dynamic_good/{spare}").json() == {"message": "success"}
    assert api.request("PATCH", "/v3/dynamic_pools/dynamic_good", data={"remove_ip": spare}).json()["message"] == "success"
    assert [d["name"] for d in api.get("/v3/domains/dynamic_pools/assignable").json()["items"]] == ["dyn.example"]
    preview = api.get("/v1/dynamic_pools/domains/dyn.example/preview").json()
    assert preview["pool"] == "dynamic_new" and preview["results"]["processed_count"] == {"value": 0, "band": "dynamic_new"}
    assert api.post("/v3/domains/dyn.example/dynamic_pools").json() == {"message": "success"}
    assert api.get("/v3/domains/dyn.example/ips").json()["items"] == [new]
    enrolled = api.get("/v1/dynamic_pools/domains").json()
    assert [(d["name"], d["pool"], d["override"]) for d in enrolled["items"]] == [("dyn.example", "dynamic_new", False)]
    assert api.put("/v1/dynamic_pools/domains/dyn.example/override", data={"pool": "dynamic_good"}).json() == {
        "message": "success"}
    assert api.put("/v1/dynamic_pools/domains/dyn.example/override", data={"pool": "shiny"}).status == 400
    assert api.get("/v3/domains/dyn.example/ips").json()["items"] == [good]
    history = api.get("/v1/dynamic_pools/domains/dyn.example/history").json()["items"]
    assert [(h["prev_band"], h["new_band"]) for h in history] == [("dynamic_new", "dynamic_good"), ("", "dynamic_new")]
    assert api.get("/v1/dynamic_pools/history", params={"moved_to": "dynamic_good"}).json()["total_items"] == 1
    assert api.delete("/v1/dynamic_pools/domains/dyn.example/override").json() == {"message": "success"}
    assert api.delete("/v3/dynamic_pools/all").status == 400
    assert api.delete("/v3/domains/dyn.example/dynamic_pools", params={"replacement_ip": "shared"}).json() == {
        "message": "success"}
    assert api.get("/v3/domains/dyn.example/ips").json()["items"] == [SHARED]
    assert api.delete("/v3/dynamic_pools/all").json() == {"message": "success"}
    assert api.get("/v3/dynamic_pools").json()["pools"] == []


def test_dynamic_pools_enroll_all(api: Api) -> None:
    """Enrolling all domains enrolls every account domain not enrolled yet."""
    good, poor, new = _dedicated(api, 3)
    for name in ("one.example", "two.example"):
        api.post("/v4/domains", data={"name": name})
    api.post("/v3/dynamic_pools/all", data={"good_reputation": good, "poor_reputation": poor, "new_senders": new})
    assert api.post("/v3/domains/all/dynamic_pools/enroll").json() == {"message": "started"}
    assert {d["name"] for d in api.get("/v1/dynamic_pools/domains").json()["items"]} == {"one.example", "two.example"}
    assert api.get("/v3/domains/dynamic_pools/assignable").json()["items"] == []
