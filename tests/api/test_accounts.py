"""Subaccounts, custom monthly limits, users and send alerts (``/v5/accounts/subaccounts…``,
``/v5/users…``, ``/v1/thresholds/…``), and ``X-Mailgun-On-Behalf-Of``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Api

D = "example.com"
TEST = "test-recipients.mailgun-mock.invalid"
BEHALF = "X-Mailgun-On-Behalf-Of"


def accounts_scenario(call: Callable[..., Any]) -> None:
    """One call of each operation of this group (the shape check in tests/test_shapes.py runs it)."""
    sub = call("POST", "/v5/accounts/subaccounts", params={"name": "shop"})["subaccount"]
    call("GET", "/v5/accounts/subaccounts")
    call("GET", f"/v5/accounts/subaccounts/{sub['id']}")
    call("POST", f"/v5/accounts/subaccounts/{sub['id']}/disable", params={"reason": "test"})
    call("POST", f"/v5/accounts/subaccounts/{sub['id']}/enable")
    call("PUT", f"/v5/accounts/subaccounts/{sub['id']}/features", data={"validations": '{"enabled": true}'})
    call("PUT", f"/v5/accounts/subaccounts/{sub['id']}/limit/custom/monthly", params={"limit": "1000"})
    call("GET", f"/v5/accounts/subaccounts/{sub['id']}/limit/custom/monthly")
    call("DELETE", f"/v5/accounts/subaccounts/{sub['id']}/limit/custom/monthly")
    call("PUT", "/v5/accounts/limit/custom/monthly", params={"limit": "5000"})
    call("GET", "/v5/accounts/limit/custom/monthly")
    call("PUT", "/v5/accounts/limit/custom/enable")
    call("DELETE", "/v5/accounts/limit/custom/monthly")
    call("PUT", f"/v5/accounts/subaccounts/{sub['id']}/ip_pool", data={"pool_id": "pool-1"})
    call("GET", "/v5/accounts/subaccounts/ip_pools/all")
    call("DELETE", f"/v5/accounts/subaccounts/{sub['id']}/ip_pool", params={"pool_id": "pool-1"})
    me = call("GET", "/v5/users/me")
    call("GET", "/v5/users")
    call("GET", f"/v5/users/{me['id']}")
    alert = {"name": "bounces", "metric": "hard_bounce_rate", "comparator": ">", "limit": "10", "dimension": "domain",
             "alert_channels": ["webhook"], "filters": [{"dimension": "domain", "comparator": "=", "values": [D]}]}
    call("POST", "/v1/thresholds/alerts/send", json=alert)
    call("GET", "/v1/thresholds/alerts/send")
    call("GET", "/v1/thresholds/alerts/send/bounces")
    call("PUT", "/v1/thresholds/alerts/send/bounces", json={**alert, "limit": "20"})
    call("GET", "/v1/thresholds/hits")
    call("DELETE", "/v1/thresholds/alerts/send/bounces")
    call("DELETE", "/v5/accounts/subaccounts", headers={BEHALF: sub["id"]})


def _send(api: Api, to: str, *, behalf: str | None = None, subject: str = "s") -> Any:
    headers = {BEHALF: behalf} if behalf else {}
    return api.post(f"/v3/{D}/messages", data={"from": f"app@{D}", "to": to, "subject": subject, "text": "t"},
                    headers=headers)


def test_subaccount_crud_enable_disable_and_features(api: Api) -> None:
    """Subaccounts are created, listed (filtered, sorted, paged), read, disabled and enabled with
    Mailgun's messages, their features switched, and deleted (closed) on behalf of themselves."""
    ids = [api.post("/v5/accounts/subaccounts", params={"name": name}).json()["subaccount"]["id"]
           for name in ("beta", "alpha", "gamma")]
    first = api.get(f"/v5/accounts/subaccounts/{ids[0]}").json()["subaccount"]
    assert (first["name"], first["status"], first["features"]["sending"]) == ("beta", "open", {"enabled": True})
    listed = api.get("/v5/accounts/subaccounts", params={"sort": "asc", "limit": "2"}).json()
    assert [s["name"] for s in listed["subaccounts"]] == ["alpha", "beta"] and listed["total"] == 3
    assert [s["name"] for s in api.get("/v5/accounts/subaccounts", params={"filter": "amm"}).json()["subaccounts"]] == ["gamma"]
    assert api.post(f"/v5/accounts/subaccounts/{ids[0]}/disable").json()["subaccount"]["status"] == "disabled"
    again = api.post(f"/v5/accounts/subaccounts/{ids[0]}/disable")
    assert (again.status, again.json()) == (400, {"message": "subaccount is already disabled"})
    assert [s["id"] for s in api.get("/v5/accounts/subaccounts", params={"enabled": "false"}).json()["subaccounts"]] == [ids[0]]
    assert api.post(f"/v5/accounts/subaccounts/{ids[0]}/enable").json()["subaccount"]["status"] == "open"
    features = api.put(f"/v5/accounts/subaccounts/{ids[1]}/features", data={"sending": '{"enabled": false}'}).json()
    assert features["features"]["sending"] == {"enabled": False}
    assert api.put(f"/v5/accounts/subaccounts/{ids[1]}/features", data={}).json() == {"message": "No valid updates provided"}
    assert api.get("/v5/accounts/subaccounts/nope").status == 404
    assert api.delete("/v5/accounts/subaccounts", headers={BEHALF: ids[2]}).status == 200
    assert api.get(f"/v5/accounts/subaccounts/{ids[2]}").json()["subaccount"]["status"] == "closed"
    assert [s["id"] for s in api.get("/v5/accounts/subaccounts", params={"closed": "true"}).json()["subaccounts"]] == [ids[2]]
    assert api.get("/v3/routes", headers={BEHALF: ids[2]}).status == 404
    assert api.delete("/v5/accounts/subaccounts").status == 400


def test_on_behalf_of_acts_inside_the_subaccounts_own_state(api: Api) -> None:
    """With X-Mailgun-On-Behalf-Of, routes, sent mail and events live in the subaccount's own state,
    unseen by the parent and by other subaccounts; an unknown id is a 404."""
    one, two = (api.post("/v5/accounts/subaccounts", params={"name": n}).json()["subaccount"]["id"] for n in "ab")
    assert _send(api, f"delivered@{TEST}", behalf=one, subject="from one").status == 200
    api.post("/v3/routes", data={"expression": "catch_all()", "action": "stop()"}, headers={BEHALF: two})
    events = api.get(f"/v3/{D}/events", params={"event": "accepted"}, headers={BEHALF: one}).json()["items"]
    assert [e["message"]["headers"]["subject"] for e in events] == ["from one"]
    assert api.get(f"/v3/{D}/events", params={"event": "accepted"}).json()["items"] == []
    assert api.get(f"/v3/{D}/events", headers={BEHALF: two}).json()["items"] == []
    assert api.get("/v3/routes", headers={BEHALF: two}).json()["total_count"] == 1
    assert api.get("/v3/routes").json()["total_count"] == 0
    unknown = api.get("/v3/routes", headers={BEHALF: "0" * 24})
    assert (unknown.status, unknown.json()) == (404, {"message": f"Subaccount not found: {'0' * 24}"})
    api.post("/mock/reset", headers={BEHALF: one})  # a subaccount's reset: its own state alone
    assert api.get(f"/v3/{D}/events", headers={BEHALF: one}).json()["items"] == []
    assert api.get("/v3/routes", headers={BEHALF: two}).json()["total_count"] == 1
    api.post("/mock/reset")  # the parent's: its subaccounts too
    assert api.get("/v5/accounts/subaccounts").json()["total"] == 0
    assert api.get("/v3/routes", headers={BEHALF: two}).status == 404


def test_disabled_subaccount_cannot_send(api: Api) -> None:
    """A disabled subaccount, or one whose sending feature is off, is refused; enabled again, it sends."""
    sub = api.post("/v5/accounts/subaccounts", params={"name": "s"}).json()["subaccount"]["id"]
    api.post(f"/v5/accounts/subaccounts/{sub}/disable")
    refused = _send(api, "bob@x.example", behalf=sub)
    assert (refused.status, refused.json()["message"]) == (
        400, f"Domain {D} is not allowed to send: the subaccount is disabled")
    api.post(f"/v5/accounts/subaccounts/{sub}/enable")
    assert _send(api, "bob@x.example", behalf=sub).status == 200
    api.put(f"/v5/accounts/subaccounts/{sub}/features", data={"sending": '{"enabled": false}'})
    assert _send(api, "bob@x.example", behalf=sub).json()["message"].endswith("sending is disabled for the subaccount")


def test_monthly_limit_refuses_sends_once_reached(api: Api) -> None:
    """A custom monthly limit counts the month's recipients; once reached sends are refused until
    re-enabled, and the count starts again the next month (on the mock's clock)."""
    missing = api.get("/v5/accounts/limit/custom/monthly")
    assert (missing.status, missing.json()) == (404, {"message": "No threshold for account"})
    assert api.put("/v5/accounts/limit/custom/monthly", params={"limit": "10"}).json() == {
        "message": "The limit parameter minumum is 1000"}
    assert api.put("/v5/accounts/limit/custom/monthly", params={"limit": "1000"}).json() == {"success": True}
    assert api.put("/v5/accounts/limit/custom/enable").status == 400  # nothing to lift yet
    many = ",".join(f"r{n}@x.example" for n in range(999))
    assert _send(api, many).status == 200
    assert api.get("/v5/accounts/limit/custom/monthly").json() == {"limit": 1000, "current": 999, "period": "1m"}
    assert _send(api, "last@x.example").status == 200
    refused = _send(api, "over@x.example")
    assert (refused.status, refused.json()["message"]) == (
        400, f"Domain {D} is not allowed to send: the custom monthly message limit (1000) is reached")
    assert api.put("/v5/accounts/limit/custom/enable").json() == {"success": True}
    assert _send(api, "over@x.example").status == 200
    assert api.delete("/v5/accounts/limit/custom/monthly").json() == {"success": True}
    assert api.delete("/v5/accounts/limit/custom/monthly").json() == {"message": "Could not delete threshold for account"}


def test_subaccount_limit_counts_the_subaccounts_sends(api: Api) -> None:
    """The limit the parent sets for a subaccount counts that subaccount's sends alone and refuses its sends."""
    sub = api.post("/v5/accounts/subaccounts", params={"name": "s"}).json()["subaccount"]["id"]
    path = f"/v5/accounts/subaccounts/{sub}/limit/custom/monthly"
    assert api.get(path).status == 404
    api.put(path, params={"limit": "1000"})
    _send(api, ",".join(f"r{n}@x.example" for n in range(1000)), behalf=sub)
    _send(api, "parent@x.example")
    assert api.get(path).json() == {"limit": 1000, "current": 1000, "period": "1m"}
    assert _send(api, "more@x.example", behalf=sub).status == 400
    assert _send(api, "more@x.example").status == 200
    assert api.delete(path).json() == {"success": True}
    assert _send(api, "more@x.example", behalf=sub).status == 200


def test_users_describe_the_mocks_account(api: Api) -> None:
    """/v5/users lists the account's one user, /v5/users/me is that user, an unknown id is a 404."""
    me = api.get("/v5/users/me").json()
    assert (me["role"], me["is_master"], me["activated"]) == ("admin", True, True)
    assert api.get("/v5/users").json() == {"users": [me], "total": 1}
    assert api.get("/v5/users", params={"role": "basic"}).json() == {"users": [], "total": 0}
    assert api.get(f"/v5/users/{me['id']}").json() == me
    assert api.get("/v5/users/nobody").json() == {"message": "User not found"}
    sub = api.post("/v5/accounts/subaccounts", params={"name": "s"}).json()["subaccount"]["id"]
    assert api.get("/v5/users/me", headers={BEHALF: sub}).json()["account_id"] == sub


def test_subaccount_ip_pools(api: Api) -> None:
    """A subaccount's IP pool is set, listed with every subaccount, and removed."""
    sub = api.post("/v5/accounts/subaccounts", params={"name": "s"}).json()["subaccount"]["id"]
    assert api.get("/v5/accounts/subaccounts/ip_pools/all").json() == {
        "items": [{"subaccount_id": sub, "pool_id": None}], "total_count": 1}
    assert api.put(f"/v5/accounts/subaccounts/{sub}/ip_pool", data={"pool_id": "p1"}).json()["message"] == "success"
    assert api.get("/v5/accounts/subaccounts/ip_pools/all").json()["items"] == [{"subaccount_id": sub, "pool_id": "p1"}]
    assert api.delete(f"/v5/accounts/subaccounts/{sub}/ip_pool", params={"pool_id": "p2"}).status == 404
    assert api.delete(f"/v5/accounts/subaccounts/{sub}/ip_pool", params={"pool_id": "p1"}).status == 200
    assert api.put(f"/v5/accounts/subaccounts/{sub}/ip_pool", data={}).status == 400


def test_alerts_crud_and_hits_from_real_sends(api: Api) -> None:
    """Send alerts are created, read, updated and deleted; hits are the real rates of the window's sends:
    3 delivered and 1 bounced of 4 sent is a 25 % hard bounce rate and a 75 % delivery rate."""
    alert = {"name": "bounces", "metric": "hard_bounce_rate", "comparator": ">", "limit": "20", "dimension": "domain"}
    created = api.post("/v1/thresholds/alerts/send", json=alert).json()
    assert (created["name"], created["period"], created["filters"]) == ("bounces", "1h", [])
    assert api.post("/v1/thresholds/alerts/send", json=alert).status == 400
    assert api.post("/v1/thresholds/alerts/send", json={**alert, "name": "x", "metric": "opens"}).status == 400
    api.post("/v1/thresholds/alerts/send", json={**alert, "name": "delivery", "metric": "delivered_rate",
                                                 "comparator": "<", "limit": "90"})
    for to in ("delivered", "delivered+2", "delivered+3", "bounce"):
        assert _send(api, f"{to}@{TEST}").status == 200
    api.post("/mock/clock", json={"advance": 60})
    hits = {h["name"]: h for h in api.get("/v1/thresholds/hits").json()["items"]}
    assert (hits["bounces"]["latest_value"], hits["bounces"]["triggered"], hits["bounces"]["dimension_value"]) == (
        "25.00", True, D)
    assert (hits["delivery"]["latest_value"], hits["delivery"]["triggered"]) == ("75.00", True)
    assert api.put("/v1/thresholds/alerts/send/bounces", json={**alert, "limit": "30"}).status == 200
    assert api.get("/v1/thresholds/alerts/send/bounces").json()["limit"] == "30"
    assert {h["name"]: h["triggered"] for h in api.get("/v1/thresholds/hits").json()["items"]}["bounces"] is False
    api.post("/mock/clock", json={"advance": 7200})  # out of the 1h window
    assert api.get("/v1/thresholds/hits").json() == {"items": [], "total": 0}
    assert api.delete("/v1/thresholds/alerts/send/bounces").json() == {"message": "alert deleted"}
    assert api.get("/v1/thresholds/alerts/send/bounces").status == 404
    assert [a["name"] for a in api.get("/v1/thresholds/alerts/send").json()["items"]] == ["delivery"]
