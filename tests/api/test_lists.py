"""Mailing lists: lists and members CRUD, bulk uploads, paging, and sends expanded to the members."""

from __future__ import annotations

import json

from tests.conftest import Api

L = "/v3/lists"
DEV = "dev@lists.example.com"


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def make_list(api: Api, **extra: str) -> None:
    reply = api.post(L, data={"address": DEV, "name": "Developers", "description": "devs", **extra})
    assert reply.status == 200, reply.text


def test_list_create_get_update_delete(api: Api) -> None:
    """A list keeps access_level and reply_preference; get, update (rename) and delete answer Mailgun's shapes."""
    created = api.post(L, data={"address": DEV, "name": "Developers", "access_level": "members",
                                "reply_preference": "sender"}).json()
    assert created["message"] == "Mailing list has been created"
    assert (created["list"]["access_level"], created["list"]["reply_preference"], created["list"]["members_count"]) == (
        "members", "sender", 0)
    assert api.get(f"{L}/{DEV}").json()["list"]["name"] == "Developers"
    updated = api.put(f"{L}/{DEV}", data={"address": "devs@lists.example.com", "access_level": "everyone"}).json()
    assert (updated["message"], updated["list"]["address"], updated["list"]["access_level"]) == (
        "Mailing list has been updated", "devs@lists.example.com", "everyone")
    assert api.get(f"{L}/{DEV}").json() == {"message": f"Mailing list {DEV} not found"}
    assert api.delete(f"{L}/devs@lists.example.com").json() == {
        "address": "devs@lists.example.com", "message": "Mailing list has been removed"}
    assert api.post(L, data={"address": DEV, "access_level": "open"}).json()["message"].startswith(
        "Invalid access level 'open'")


def test_lists_listing_and_pages(api: Api) -> None:
    """Lists are listed with total_count, and paged by address until an empty page."""
    for n in range(3):
        api.post(L, data={"address": f"l{n}@lists.example.com"})
    assert api.get(L).json()["total_count"] == 3
    page = api.get(f"{L}/pages", params={"limit": "2"}).json()
    seen = [i["address"] for i in page["items"]]
    while page["items"]:
        page = api.get(path_of(page["paging"]["next"])).json()
        seen += [i["address"] for i in page["items"]]
    assert seen == [f"l{n}@lists.example.com" for n in range(3)]


def test_members_crud_with_vars_and_subscribed(api: Api) -> None:
    """Members carry name, vars and subscribed; duplicates need upsert; update and delete answer Mailgun's shapes."""
    make_list(api)
    added = api.post(f"{L}/{DEV}/members", data={"address": "ann@x.example", "name": "Ann",
                                                  "vars": json.dumps({"age": 27}), "subscribed": "yes"}).json()
    assert added == {"member": {"address": "ann@x.example", "name": "Ann", "vars": {"age": 27}, "subscribed": True},
                     "message": "Mailing list member has been created"}
    assert api.post(f"{L}/{DEV}/members", data={"address": "ann@x.example"}).json() == {
        "message": "Address already exists 'ann@x.example'"}
    assert api.post(f"{L}/{DEV}/members", data={"address": "ann@x.example", "name": "A", "upsert": "yes"}).status == 200
    assert api.get(f"{L}/{DEV}/members/ann@x.example").json()["member"]["name"] == "A"
    updated = api.put(f"{L}/{DEV}/members/ann@x.example", data={"subscribed": "no"}).json()
    assert updated["member"]["subscribed"] is False and updated["message"] == "Mailing list member has been updated"
    assert api.get(f"{L}/{DEV}/members", params={"subscribed": "no"}).json()["total_count"] == 1
    assert api.delete(f"{L}/{DEV}/members/ann@x.example").json() == {
        "member": {"address": "ann@x.example"}, "message": "Mailing list member has been deleted"}
    assert api.get(f"{L}/{DEV}/members/ann@x.example").status == 404


def test_bulk_upload_json_and_csv(api: Api) -> None:
    """members.json takes addresses or objects (≤ 1000) and members.csv a file; both answer the list and a task id."""
    make_list(api)
    done = api.post(f"{L}/{DEV}/members.json", data={"members": json.dumps(
        ["a@x.example", {"address": "b@x.example", "name": "B", "vars": {"n": 1}}]), "upsert": "yes"}).json()
    assert (done["message"], done["list"]["members_count"]) == ("Mailing list upload started in background", 2)
    assert api.post(f"{L}/{DEV}/members.json", data={"members": json.dumps(
        [f"u{i}@x.example" for i in range(1001)])}).status == 400
    csv = b"address,name\nc@x.example,C\nd@x.example,D\n"
    answer = api.post(f"{L}/{DEV}/members.csv", data={"subscribed": "yes"},
                      files={"members": ("m.csv", csv, "text/csv")}).json()
    assert answer["list"]["members_count"] == 4
    page = api.get(f"{L}/{DEV}/members/pages", params={"limit": "3"}).json()
    assert [m["address"] for m in page["items"]] == ["a@x.example", "b@x.example", "c@x.example"]


def test_send_to_a_list_expands_to_subscribed_members(api: Api) -> None:
    """A send to a list address makes one message and one set of events per subscribed member, with their vars."""
    make_list(api)
    api.post(f"{L}/{DEV}/members.json", data={"members": json.dumps([
        {"address": "ann@x.example", "vars": {"first": "Ann"}}, {"address": "bob@x.example", "vars": {"first": "Bob"}},
        {"address": "off@x.example", "subscribed": False}])})
    sent = api.post("/v3/lists.example.com/messages", data={
        "from": "news@lists.example.com", "to": DEV, "subject": "Hi %recipient.first%",
        "text": "Hello %recipient.first%, leave: %mailing_list_unsubscribe_url%"})
    assert sent.status == 200, sent.text
    api.backend.delivery.run_due(10)
    items = api.get("/mock/outbox").json()["items"]
    assert sorted((i["recipients"][0], i["subject"]) for i in items) == [("ann@x.example", "Hi Ann"),
                                                                         ("bob@x.example", "Hi Bob")]
    assert all(i["to"] == DEV for i in items)
    assert all(("Reply-To", DEV) in [tuple(h) for h in i["headers"]] for i in items)
    delivered = api.get("/v3/lists.example.com/events", params={"event": "delivered"}).json()["items"]
    assert sorted(e["recipient"] for e in delivered) == ["ann@x.example", "bob@x.example"]
    link = next(i for i in items if i["recipients"][0] == "ann@x.example")["text"].split("leave: ")[1].strip()
    assert api.get(path_of(link), auth=None).status == 200  # the recipient's click, no key needed
    assert api.get(f"{L}/{DEV}/members/ann@x.example").json()["member"]["subscribed"] is False


def test_unsubscribe_url_placeholders_are_filled_per_recipient(api: Api) -> None:
    """%unsubscribe_url% and %tag_unsubscribe_url% become per-recipient links that unsubscribe when followed."""
    api.post("/v3/example.com/messages", data={
        "from": "a@example.com", "to": ["x@y.example", "z@y.example"], "subject": "s", "o:tag": "news",
        "html": '<a href="%unsubscribe_url%">all</a> <a href="%tag_unsubscribe_url%">news</a> %tag_unsubscribe_email%'})
    items = api.get("/mock/outbox").json()["items"]
    assert len(items) == 2 and "%unsubscribe_url%" not in items[0]["html"]
    tag_link = items[0]["html"].split('"')[3]
    assert api.get(path_of(tag_link), auth=None).status == 200
    assert api.get(f"/v3/example.com/unsubscribes/{items[0]['recipients'][0]}").json()["tags"] == ["news"]
    assert api.get("/mock/unsubscribe/forged.token", auth=None).status == 404
