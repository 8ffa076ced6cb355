"""Templates and versions, and sends that render a stored template."""

from __future__ import annotations

import json

from tests.conftest import Api

T = "/v3/example.com/templates"
PAGE = "<h1>Hi {{user.first}}</h1>{{#if vip}}<b>VIP</b>{{else}}regular{{/if}}{{#each items}}<li>{{this}}</li>{{/each}}"


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_template_crud_with_a_first_version(api: Api) -> None:
    """A template created with content has an active 'initial' version; get, update and delete answer Mailgun's shapes."""
    created = api.post(T, data={"name": "Welcome", "description": "hello", "template": PAGE}).json()
    assert created["message"] == "template has been stored"
    assert (created["template"]["name"], created["template"]["version"]["tag"],
            created["template"]["version"]["active"]) == ("welcome", "initial", True)
    plain = api.get(f"{T}/welcome").json()["template"]
    assert "version" not in plain and plain["description"] == "hello"
    active = api.get(f"{T}/welcome", params={"active": "yes"}).json()["template"]["version"]
    assert active["template"] == PAGE and active["engine"] == "handlebars"
    assert api.get(f"{T}/{plain['id']}").json()["template"]["name"] == "welcome"  # by id too
    assert api.put(f"{T}/welcome", data={"description": "new"}).json() == {
        "message": "template has been updated", "template": {"name": "welcome"}}
    assert api.delete(f"{T}/welcome").json() == {"message": "template has been deleted", "template": {"name": "welcome"}}
    assert api.get(f"{T}/welcome").json() == {"message": "template not found"}


def test_template_versions_activate_copy_delete(api: Api) -> None:
    """Versions are added, activated (one at a time), copied under a new tag and deleted."""
    api.post(T, data={"name": "t", "template": "v1 {{x}}", "tag": "v1"})
    added = api.post(f"{T}/t/versions", data={"template": "v2 {{x}}", "tag": "v2", "active": "yes",
                                                "headers": json.dumps({"Subject": "Hi {{x}}"})}).json()
    assert added["message"] == "new version of the template has been stored"
    versions = api.get(f"{T}/t/versions").json()["template"]["versions"]
    assert [(v["tag"], v["active"]) for v in versions] == [("v1", False), ("v2", True)]
    assert api.put(f"{T}/t/versions/v1", data={"active": "yes", "comment": "back"}).json()["message"] == \
        "version has been updated"
    assert api.get(f"{T}/t/versions/v1").json()["template"]["version"]["active"] is True
    copied = api.put(f"{T}/t/versions/v2/copy/v3", params={"comment": "copy"}).json()
    assert (copied["message"], copied["version"]["tag"], copied["version"]["comment"]) == (
        "version has been copied", "v3", "copy")
    assert api.delete(f"{T}/t/versions/v3").json()["message"] == "version has been deleted"
    assert api.get(f"{T}/t/versions/v3").json() == {"message": "version not found"}


def test_template_limits_and_bad_input(api: Api) -> None:
    """Bad handlebars, unsupported headers, duplicates and the 40-version limit are 400s."""
    assert api.post(T, data={"name": "bad", "template": "{{#if x}}open{{/each}}"}).status == 400
    assert api.post(T, data={"name": "hdr", "template": "x", "headers": '{"X-Other": "1"}'}).status == 400
    api.post(T, data={"name": "t", "template": "x", "tag": "v0"})
    assert api.post(T, data={"name": "t"}).status == 400
    for n in range(1, 40):
        assert api.post(f"{T}/t/versions", data={"template": "x", "tag": f"v{n}"}).status == 200
    assert "at most 40" in api.post(f"{T}/t/versions", data={"template": "x", "tag": "v40"}).json()["message"]


def test_templates_page_by_name(api: Api) -> None:
    """Listing pages by name with p and page=next, ending on an empty page."""
    for n in range(5):
        api.post(T, data={"name": f"t{n}"})
    page = api.get(T, params={"limit": "2"}).json()
    names = [t["name"] for t in page["items"]]
    while page["items"]:
        page = api.get(path_of(page["paging"]["next"])).json()
        names += [t["name"] for t in page["items"]]
    assert names == ["t0", "t1", "t2", "t3", "t4"]
    assert api.delete(T).json() == {"message": "templates have been deleted"}


def test_account_templates_serve_every_domain(api: Api) -> None:
    """A /v4/templates template is listed at account level and renders a send from any domain."""
    api.post("/v4/templates", data={"name": "shared", "template": "<p>{{who}}</p>"})
    assert [t["name"] for t in api.get("/v4/templates").json()["items"]] == ["shared"]
    api.post("/v3/other.example/messages", data={"from": "a@other.example", "to": "b@x.example", "subject": "s",
                                                 "template": "shared", "t:variables": '{"who": "all"}'})
    assert api.get("/mock/outbox").json()["items"][0]["html"].strip() == "<p>all</p>"


def test_send_renders_the_template_with_variables_and_headers(api: Api) -> None:
    """A send with template, t:variables and t:text renders html and text; From and Subject come from the version."""
    api.post(T, data={"name": "order", "template": PAGE, "headers": json.dumps(
        {"From": "Shop <shop@example.com>", "Subject": "Your order"})})
    variables = {"user": {"first": "Ann <&>"}, "vip": True, "items": ["a", "b"]}
    sent = api.post("/v3/example.com/messages", data={"to": "ann@x.example", "template": "order",
                                                      "t:variables": json.dumps(variables), "t:text": "yes"})
    assert sent.status == 200, sent.text
    (item,) = api.get("/mock/outbox").json()["items"]
    assert item["html"].strip() == "<h1>Hi Ann &lt;&amp;&gt;</h1><b>VIP</b><li>a</li><li>b</li>"
    assert "Hi Ann <&>" in item["text"] and item["subject"] == "Your order" and "shop@example.com" in item["from"]
    assert dict(item["headers"])["X-Mailgun-Template-Name"] == "order"


def test_send_template_variables_from_v_and_header_and_equal_helper(api: Api) -> None:
    """v: values and h:X-Mailgun-Variables feed the template; the equal helper compares as text."""
    api.post(T, data={"name": "eq", "template": "{{#equal plan \"pro\"}}PRO{{else}}FREE{{/equal}} {{id}}"})
    api.post("/v3/example.com/messages", data={"from": "a@example.com", "to": "b@x.example", "subject": "s",
                                               "template": "eq", "v:id": "42", "h:X-Mailgun-Variables": '{"plan": "pro"}'})
    assert api.get("/mock/outbox").json()["items"][0]["html"].strip() == "PRO 42"


def test_send_with_unknown_template_or_version_or_html_is_refused(api: Api) -> None:
    """An unknown template or version, and html beside template, are 400s."""
    api.post(T, data={"name": "t", "template": "x"})
    base = {"from": "a@example.com", "to": "b@x.example", "subject": "s"}
    assert api.post("/v3/example.com/messages", data={**base, "template": "nope"}).status == 400
    assert api.post("/v3/example.com/messages", data={**base, "template": "t", "t:version": "zz"}).status == 400
    assert api.post("/v3/example.com/messages", data={**base, "template": "t", "html": "<p>"}).json() == {
        "message": "Only one parameters 'html' or 'template' is allowed"}
