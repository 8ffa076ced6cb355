"""Routes CRUD through the official Python SDK (`mailgun` on PyPI) pointed at the real server."""

from __future__ import annotations

from mailgun.client import Client

from mailgun_mock import MailgunMock


def test_sdk_routes_crud(mailgun_mock: MailgunMock) -> None:
    """The official SDK creates, lists, reads, matches, updates and deletes routes on the mock."""
    client = Client(auth=("api", mailgun_mock.api_key), api_url=mailgun_mock.url)
    created = client.routes.create(data={
        "priority": 1,
        "description": "Sample route",
        "expression": 'match_recipient(".*@example.com")',
        "action": ['forward("https://app.example/hook")', "stop()"],
    })
    assert created.status_code == 200, created.text
    route = created.json()["route"]
    assert route["actions"] == ['forward("https://app.example/hook")', "stop()"]

    listed = client.routes.get(filters={"skip": 0, "limit": 10}).json()
    assert listed["total_count"] == 1 and listed["items"][0]["id"] == route["id"]
    assert client.routes.get(route_id=route["id"]).json() == {"route": route}

    matched = client.routes_match.get(filters={"address": "sales@example.com"})
    assert matched.json()["route"]["id"] == route["id"]

    updated = client.routes.put(route_id=route["id"], data={"priority": 4, "action": ["store()"]}).json()
    assert (updated["message"], updated["priority"], updated["actions"]) == ("Route has been updated", 4, ["store()"])

    deleted = client.routes.delete(route_id=route["id"]).json()
    assert deleted == {"id": route["id"], "message": "Route has been deleted"}
    assert client.routes.get(route_id=route["id"]).status_code == 404


def test_sdk_wrong_key_gets_forbidden(mailgun_mock: MailgunMock) -> None:
    """The SDK with a wrong key gets Mailgun's 401 'Forbidden'."""
    client = Client(auth=("api", "key-wrong"), api_url=mailgun_mock.url)
    reply = client.routes.get()
    assert (reply.status_code, reply.text) == (401, "Forbidden")
