"""The Routes API (/v3/routes and /v2/routes), through the test client and the real server."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import Api

FORWARD = 'forward("https://app.example/hook")'


def create(api: Api, expression: str = 'match_recipient(".*@example.com")', *, actions: list[str] | None = None,
           version: str = "v3", files: bool = False, **fields: str) -> dict:
    data: dict = {"expression": expression, "action": actions or [FORWARD, "stop()"], **fields}
    if files:  # multipart/form-data, as curl -F and mailgun.js send it
        multipart = [(k, (None, v)) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]
        reply = api.post(f"/{version}/routes", files=multipart)
    else:
        reply = api.post(f"/{version}/routes", data=data)
    assert reply.status == 200, reply.text
    return reply.json()


def test_create_route_answers_mailgun_shape(api: Api) -> None:
    """Create answers {"message": "Route has been created", "route": {...}} with every field."""
    body = create(api, priority="10", description="Sample route")
    assert body["message"] == "Route has been created"
    route = body["route"]
    assert sorted(route) == ["actions", "created_at", "description", "expression", "id", "priority"]
    assert route["actions"] == [FORWARD, "stop()"]
    assert route["expression"] == 'match_recipient(".*@example.com")'
    assert route["priority"] == 10
    assert route["description"] == "Sample route"


def test_create_route_id_is_an_objectid_dated_by_created_at(api: Api) -> None:
    """The id is 24 hex digits whose first 4 bytes are the created_at second."""
    route = create(api)["route"]
    assert re.fullmatch(r"[0-9a-f]{24}", route["id"])
    created = parsedate_to_datetime(route["created_at"])
    assert int(route["id"][:8], 16) == int(created.timestamp())


def test_create_route_created_at_is_rfc1123_gmt(api: Api) -> None:
    """created_at reads like 'Wed, 15 Feb 2012 13:03:31 GMT' and is about now."""
    route = create(api)["route"]
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", route["created_at"])
    age = datetime.now(timezone.utc) - parsedate_to_datetime(route["created_at"])
    assert abs(age.total_seconds()) < 60


def test_create_route_defaults_priority_and_description(api: Api) -> None:
    """Without priority and description the route has priority 0 and an empty description."""
    route = create(api)["route"]
    assert (route["priority"], route["description"]) == (0, "")


def test_create_route_accepts_multipart(api: Api) -> None:
    """multipart/form-data bodies work like urlencoded ones, repeated action included."""
    route = create(api, files=True, priority="3")["route"]
    assert route["priority"] == 3
    assert route["actions"] == [FORWARD, "stop()"]


def test_create_route_keeps_text_verbatim(api: Api) -> None:
    """Expressions and actions are stored exactly as sent (quotes and spacing kept)."""
    route = create(api, "match_recipient('.*@gmail.com')  and  catch_all()", actions=["forward('ops@example.com')"])["route"]
    assert route["expression"] == "match_recipient('.*@gmail.com')  and  catch_all()"
    assert route["actions"] == ["forward('ops@example.com')"]


def test_create_route_non_ascii_description_round_trips(api: Api) -> None:
    """A UTF-8 description comes back unchanged."""
    route = create(api, description="Réception – 受信")["route"]
    assert api.get(f"/v3/routes/{route['id']}").json()["route"]["description"] == "Réception – 受信"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": FORWARD}, "Expression is missing"),
        ({"expression": "", "action": FORWARD}, "Expression is missing"),
        ({"expression": 'match_recipient("a")'}, "'action' parameter is missing"),
        ({"expression": 'match_sender("a")', "action": FORWARD}, "unknown function 'match_sender'"),
        ({"expression": 'match_recipient("(")', "action": FORWARD}, "invalid regular expression in match_recipient"),
        ({"expression": 'match_recipient("a")\nor catch_all()', "action": FORWARD}, "expressions must fit on one line"),
        ({"expression": 'match_recipient("a")', "action": "redirect()"}, "unknown action 'redirect'"),
        ({"expression": 'match_recipient("a")', "action": [FORWARD, "stop(1)"]}, "Invalid action #2"),
        ({"expression": 'match_recipient("a")', "action": FORWARD, "priority": "high"}, "'priority' parameter must be an integer"),
        ({"expression": 'match_recipient("a")', "action": FORWARD, "priority": "1.5"}, "'priority' parameter must be an integer"),
        ({"expression": 'match_recipient("a")', "action": FORWARD, "priority": "9" * 30}, "'priority' parameter is out of range"),
        ({"expression": 'match_recipient("' + "a" * 5000 + '")', "action": FORWARD}, "'expression' parameter is too long"),
        ({"expression": 'match_recipient("a")', "action": 'forward("http://h/' + "a" * 5000 + '")'}, "'action' parameter is too long"),
    ],
)
def test_create_route_refuses_bad_input(api: Api, data: dict, message: str) -> None:
    """Bad input is a 400 JSON {"message": ...} that says what is wrong, and nothing is stored."""
    reply = api.post("/v3/routes", data=data)
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/json"
    assert message in reply.json()["message"]
    assert api.get("/v3/routes").json()["total_count"] == 0


def test_create_route_refuses_invalid_utf8(api: Api) -> None:
    """A urlencoded body with bytes that are not UTF-8 is a 400, not mangled text."""
    reply = api.post("/v3/routes", data=b"expression=match_recipient(%22\xff%22)&action=stop()",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status == 400
    assert reply.json() == {"message": "parameter 'expression' is not valid UTF-8"}


def test_create_route_refuses_invalid_utf8_in_multipart(api: Api) -> None:
    """A multipart field with bytes that are not UTF-8 is a 400 too."""
    body = b'--b\r\nContent-Disposition: form-data; name="expression"\r\n\r\nmatch_recipient("\xff")\r\n--b--\r\n'
    reply = api.post("/v3/routes", data=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert reply.status == 400
    assert "not valid UTF-8" in reply.json()["message"]


def test_create_route_refuses_malformed_multipart(api: Api) -> None:
    """A multipart body that does not parse is a 400 saying so."""
    reply = api.post("/v3/routes", data=b"this is not multipart", headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert reply.status == 400
    assert reply.json() == {"message": "malformed multipart/form-data request"}


def test_list_routes_orders_by_priority_then_creation(api: Api) -> None:
    """Routes list in evaluation order: priority ascending, then creation order."""
    ids = [create(api, f'match_recipient("r{i}@")', priority=str(p))["route"]["id"] for i, p in enumerate([5, 1, 5, 0, 1])]
    listed = api.get("/v3/routes").json()
    assert listed["total_count"] == 5
    assert [r["id"] for r in listed["items"]] == [ids[3], ids[1], ids[4], ids[0], ids[2]]


def test_list_routes_pages_with_skip_and_limit(api: Api) -> None:
    """skip and limit select a window; total_count counts every route."""
    ids = [create(api, f'match_recipient("r{i}@")')["route"]["id"] for i in range(5)]
    page = api.get("/v3/routes", params={"skip": "1", "limit": "2"}).json()
    assert page["total_count"] == 5
    assert [r["id"] for r in page["items"]] == ids[1:3]
    assert api.get("/v3/routes", params={"skip": "10"}).json() == {"items": [], "total_count": 5}


def test_list_routes_limit_defaults_to_100(api: Api) -> None:
    """Without limit a page holds at most 100 routes."""
    for i in range(101):
        api.backend.create_route(f'match_recipient("r{i}@")', ["stop()"])
    page = api.get("/v3/routes").json()
    assert (len(page["items"]), page["total_count"]) == (100, 101)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "1001"}, "The 'limit' parameter can't be larger than 1000"),
        ({"limit": "0"}, "The 'limit' parameter must be at least 1"),
        ({"limit": "ten"}, "The 'limit' parameter must be an integer"),
        ({"skip": "-1"}, "The 'skip' parameter can't be negative"),
        ({"skip": "1e3"}, "The 'skip' parameter must be an integer"),
    ],
)
def test_list_routes_refuses_bad_paging(api: Api, query: dict, message: str) -> None:
    """Out-of-range or non-numeric skip/limit is a 400 with the reason."""
    reply = api.get("/v3/routes", params=query)
    assert reply.status == 400
    assert message in reply.json()["message"]


def test_list_routes_accepts_limit_1000(api: Api) -> None:
    """limit=1000 is the documented maximum and is accepted."""
    assert api.get("/v3/routes", params={"limit": "1000"}).status == 200


def test_get_route_answers_route_wrapper(api: Api) -> None:
    """GET /routes/<id> answers {"route": {...}} equal to what create answered."""
    route = create(api)["route"]
    assert api.get(f"/v3/routes/{route['id']}").json() == {"route": route}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("route_id", ["000000000000000000000000", "not-an-id", "%E2%98%83"])
def test_unknown_route_is_404(api: Api, method: str, route_id: str) -> None:
    """Any unknown route id is a 404 'Route not found', whatever the method."""
    reply = api.request(method, f"/v3/routes/{route_id}", data={"priority": "1"})
    assert reply.status == 404
    assert reply.json() == {"message": "Route not found"}


def test_update_route_is_partial_and_flat_with_nested_copy(api: Api) -> None:
    """PUT changes only the fields sent; it answers the flat route, a message and a nested copy."""
    route = create(api, priority="1", description="before")["route"]
    reply = api.put(f"/v3/routes/{route['id']}", data={"priority": "7"})
    assert reply.status == 200
    body = reply.json()
    expected = {**route, "priority": 7}
    assert body == {**expected, "message": "Route has been updated", "route": expected}
    assert api.get(f"/v3/routes/{route['id']}").json()["route"] == expected


def test_update_route_action_replaces_the_list(api: Api) -> None:
    """Sending action on update replaces every action; other fields stay."""
    route = create(api, description="keep")["route"]
    body = api.put(f"/v3/routes/{route['id']}", data={"action": ["store()", "stop()"], "expression": "catch_all()"}).json()
    assert body["actions"] == ["store()", "stop()"]
    assert body["expression"] == "catch_all()"
    assert body["description"] == "keep"
    assert body["id"] == route["id"] and body["created_at"] == route["created_at"]


def test_update_route_reorders_the_list(api: Api) -> None:
    """Changing a priority moves the route in listing order."""
    first = create(api, 'match_recipient("a@")', priority="1")["route"]
    second = create(api, 'match_recipient("b@")', priority="2")["route"]
    api.put(f"/v3/routes/{first['id']}", data={"priority": "3"})
    assert [r["id"] for r in api.get("/v3/routes").json()["items"]] == [second["id"], first["id"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"expression": 'match_recipient("[")'}, "invalid regular expression"),
        ({"expression": ""}, "Expression is missing"),
        ({"action": "stop(now)"}, "Invalid action"),
        ({"action": ""}, "the action is empty"),
        ({"priority": "x"}, "'priority' parameter must be an integer"),
    ],
)
def test_update_route_refuses_bad_input_and_keeps_the_route(api: Api, data: dict, message: str) -> None:
    """A bad update is a 400 and the stored route is unchanged."""
    route = create(api)["route"]
    reply = api.put(f"/v3/routes/{route['id']}", data=data)
    assert reply.status == 400
    assert message in reply.json()["message"]
    assert api.get(f"/v3/routes/{route['id']}").json()["route"] == route


def test_delete_route_answers_id_and_forgets_it(api: Api) -> None:
    """DELETE answers {"id", "message": "Route has been deleted"}; the route is then 404."""
    route = create(api)["route"]
    reply = api.delete(f"/v3/routes/{route['id']}")
    assert reply.json() == {"id": route["id"], "message": "Route has been deleted"}
    assert api.get(f"/v3/routes/{route['id']}").status == 404
    assert api.get("/v3/routes").json()["total_count"] == 0


def test_match_route_returns_first_route_in_evaluation_order(api: Api) -> None:
    """routes/match answers the highest-priority route that matches the address."""
    create(api, 'match_recipient(".*@other.com")', priority="0")
    low = create(api, 'match_recipient(".*@example.com")', priority="5")["route"]
    high = create(api, 'match_recipient("sales@example.com")', priority="1")["route"]
    assert api.get("/v3/routes/match", params={"address": "sales@example.com"}).json() == {"route": high}
    assert api.get("/v3/routes/match", params={"address": "info@EXAMPLE.com"}).json() == {"route": low}


def test_match_route_falls_back_to_catch_all(api: Api) -> None:
    """An address no filter matches is matched by a catch_all() route."""
    create(api, 'match_recipient(".*@example.com")')
    catch = create(api, "catch_all()", priority="100")["route"]
    assert api.get("/v3/routes/match", params={"address": "x@nowhere.org"}).json() == {"route": catch}


def test_match_route_ignores_header_filters(api: Api) -> None:
    """With only an address known, a match_header filter does not match."""
    create(api, 'match_header("subject", ".*")')
    reply = api.get("/v3/routes/match", params={"address": "a@b.c"})
    assert (reply.status, reply.json()) == (404, {"message": "Route not found"})


def test_match_route_requires_address(api: Api) -> None:
    """routes/match without address is a 400."""
    reply = api.get("/v3/routes/match")
    assert (reply.status, reply.json()) == (400, {"message": "'address' parameter is missing"})


def test_v2_serves_the_same_routes(api: Api) -> None:
    """/v2/routes is the same API over the same routes as /v3/routes."""
    route = create(api, version="v2")["route"]
    assert api.get("/v3/routes").json()["items"] == [route]
    assert api.get(f"/v2/routes/{route['id']}").json() == {"route": route}
    assert api.delete(f"/v2/routes/{route['id']}").status == 200


def test_json_answers_are_compact_sorted_with_newline(api: Api) -> None:
    """Answers are compact JSON with sorted keys and a trailing newline, as Mailgun sends."""
    reply = api.post("/v3/routes", data={"expression": "catch_all()", "action": "stop()"})
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.text.startswith('{"message":"Route has been created","route":{"actions":["stop()"],"created_at":')
    assert reply.text.endswith("}\n")


def test_unknown_endpoint_and_method_are_json(api: Api) -> None:
    """An unknown path is a JSON 404 and a wrong method a JSON 405."""
    missing = api.get("/v3/no-such-thing")
    assert (missing.status, missing.json()["message"]) == (404, "Not Found: no endpoint GET /v3/no-such-thing")
    wrong = api.request("PATCH", "/v3/routes")
    assert wrong.status == 405
    assert wrong.json()["message"] == "Method Not Allowed: PATCH /v3/routes"


def test_huge_description_is_stored(api: Api) -> None:
    """A large description (no documented limit) is kept, not a 500."""
    route = create(api, description="d" * 200_000)["route"]
    assert len(route["description"]) == 200_000



def test_create_route_caps_the_number_of_actions(api: Api) -> None:
    """A route may carry 100 actions; 101, or 100,000, is a 400 that names the cap, and nothing is kept."""
    create(api, actions=["stop()"] * 100)
    for count in (101, 100_000):
        reply = api.post("/v3/routes", data={"expression": "catch_all()", "action": ["stop()"] * count})
        assert reply.status == 400
        assert reply.json() == {"message": f"A route may have at most 100 actions, got {count}; create further "
                                           "routes with the same expression for more"}
    assert api.get("/v3/routes").json()["total_count"] == 1


def test_unquoted_pattern_says_patterns_are_quoted(api: Api) -> None:
    """match_recipient(a@b.c) is refused with a hint that patterns are quoted strings."""
    reply = api.post("/v3/routes", data={"expression": "match_recipient(a@b.c)", "action": "stop()"})
    assert reply.status == 400
    assert "unexpected character '@'" in reply.json()["message"]
    assert "patterns are quoted strings" in reply.json()["message"]
