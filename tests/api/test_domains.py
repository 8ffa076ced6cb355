"""The Domains API, domain tracking settings, SMTP credentials and sending queues."""

from __future__ import annotations

import pytest

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.base.errors import NotFound
from tests.conftest import Api


def test_domain_create_get_verify_update_delete(api: Api) -> None:
    """A created domain is unverified with its DNS records; verify activates it; update and delete answer Mailgun's messages."""
    created = api.post("/v4/domains", data={"name": "mg.shop.example", "spam_action": "tag", "wildcard": "true"})
    body = created.json()
    assert body["message"] == "Domain DNS records have been created"
    assert (body["domain"]["name"], body["domain"]["state"], body["domain"]["spam_action"],
            body["domain"]["wildcard"]) == ("mg.shop.example", "unverified", "tag", True)
    assert body["domain"]["smtp_login"] == "postmaster@mg.shop.example"
    assert {r["record_type"] for r in body["sending_dns_records"]} == {"TXT", "CNAME"}
    assert [r["value"] for r in body["receiving_dns_records"]] == ["mxa.mailgun.org", "mxb.mailgun.org"]
    assert api.get("/v4/domains/mg.shop.example").json()["domain"]["id"] == body["domain"]["id"]
    verified = api.put("/v4/domains/mg.shop.example/verify").json()
    assert verified["domain"]["state"] == "active" and verified["sending_dns_records"][0]["valid"] == "valid"
    updated = api.put("/v4/domains/mg.shop.example", data={"web_scheme": "https", "require_tls": "yes"}).json()
    assert (updated["message"], updated["domain"]["web_scheme"], updated["domain"]["require_tls"]) == (
        "Domain has been updated", "https", True)
    assert api.delete("/v3/domains/mg.shop.example").json() == {"message": "Domain will be deleted in the background"}
    assert api.get("/v4/domains/mg.shop.example").json() == {"message": "Domain not found"}


def test_domain_create_refuses_bad_input(api: Api) -> None:
    """A missing or invalid name, a taken name and a short password are 400s with Mailgun's messages."""
    assert api.post("/v4/domains", data={}).status == 400
    assert api.post("/v4/domains", data={"name": "not a domain"}).status == 400
    api.post("/v4/domains", data={"name": "taken.example"})
    assert api.post("/v4/domains", data={"name": "taken.example"}).json()["message"] == "This domain name is already taken"
    short = api.post("/v4/domains", data={"name": "new.example", "smtp_password": "abc"})
    assert short.json()["message"] == "Password is too short. It must be between 5 and 32 characters."


def test_domains_list_holds_used_domains_and_pages(api: Api) -> None:
    """With no --domain, a domain used by a send joins the list; limit, skip, sort and search apply."""
    api.post("/v4/domains", data={"name": "b.example"})
    api.post("/v3/a.example/messages", data={"from": "x@a.example", "to": "y@z.example", "subject": "s", "text": "t"})
    listed = api.get("/v4/domains").json()
    assert listed["total_count"] == 2 and {d["name"] for d in listed["items"]} == {"a.example", "b.example"}
    assert [d["name"] for d in api.get("/v4/domains", params={"sort": "name:desc"}).json()["items"]] == [
        "b.example", "a.example"]
    assert [d["name"] for d in api.get("/v4/domains", params={"search": "a.ex"}).json()["items"]] == ["a.example"]
    assert len(api.get("/v4/domains", params={"limit": "1", "skip": "1"}).json()["items"]) == 1
    assert api.get("/v3/domains").json()["total_count"] == 2  # the v3 form older SDKs call


def test_configured_domains_are_the_account_and_others_are_refused() -> None:
    """With --domain, the configured and API-created domains are served; any other is 'Domain not found'."""
    backend = Backend(Config(domains=("mg.example",)))
    assert [d["name"] for d in backend.list_domains({})["items"]] == ["mg.example"]
    with pytest.raises(NotFound):
        backend.list_events("other.example", {})
    backend.create_domain({"name": "other.example"})
    assert backend.list_events("other.example", {})["items"] == []


def test_tracking_settings_read_update_and_gate_engagement(api: Api) -> None:
    """Tracking settings read and update; with click tracking off, a click rule yields no clicked event."""
    api.post("/v4/domains", data={"name": "t.example"})
    tracking = api.get("/v3/domains/t.example/tracking").json()["tracking"]
    assert tracking["open"] == {"active": True, "place_at_the_top": False} and tracking["unsubscribe"]["active"] is False
    answer = api.put("/v3/domains/t.example/tracking/click", data={"active": "no"}).json()
    assert answer == {"message": "Domain tracking settings have been updated", "click": {"active": False}}
    footer = api.put("/v3/domains/t.example/tracking/unsubscribe",
                     data={"active": "true", "html_footer": "<a href='%unsubscribe_url%'>u</a>"}).json()
    assert footer["unsubscribe"]["active"] is True
    api.post("/mock/rules", json={"match": {"recipient": "^fan@"}, "outcome": ["deliver", "open", "click"]})
    api.post("/v3/t.example/messages", data={"from": "a@t.example", "to": "fan@x.example", "subject": "s",
                                             "html": '<a href="https://shop.example/">shop</a>'})
    api.backend.advance_clock(600)
    kinds = [e["event"] for e in api.get("/v3/t.example/events", params={"ascending": "yes"}).json()["items"]]
    assert kinds == ["accepted", "delivered", "opened"]


def test_credentials_crud_and_smtp_login_seam(api: Api) -> None:
    """SMTP credentials are created, listed, re-passworded and deleted; the backend checks a login and password."""
    api.post("/v4/domains", data={"name": "c.example", "smtp_password": "postpass1"})
    assert api.post("/v3/domains/c.example/credentials", data={"login": "alice", "password": "secret1"}).json() == {
        "message": "Created 1 credentials pair(s)"}
    listed = api.get("/v3/domains/c.example/credentials").json()
    assert listed["total_count"] == 1 and listed["items"][0]["login"] == "alice@c.example"
    assert api.backend.check_smtp_login("c.example", "alice@c.example", "secret1")
    assert api.backend.check_smtp_login("c.example", "postmaster", "postpass1")
    assert not api.backend.check_smtp_login("c.example", "alice", "wrong")
    assert api.put("/v3/domains/c.example/credentials/alice", data={"password": "secret2"}).json() == {
        "message": "Password changed"}
    assert api.backend.check_smtp_login("c.example", "alice", "secret2")
    assert api.post("/v3/domains/c.example/credentials", data={"login": "bob", "password": "abc"}).status == 400
    assert api.delete("/v3/domains/c.example/credentials/alice@c.example").json() == {
        "message": "Credentials have been deleted", "spec": "alice@c.example"}
    assert api.put("/v3/domains/c.example/credentials/alice", data={"password": "secret3"}).status == 404
    api.post("/v3/domains/c.example/credentials", data={"login": "carol", "password": "secret4"})
    assert api.delete("/v3/domains/c.example/credentials").json() == {
        "message": "All domain credentials have been deleted", "count": 1}


def test_sending_queues(api: Api) -> None:
    """A domain's sending queues are never disabled in the mock; an unknown domain is a 404."""
    api.post("/v4/domains", data={"name": "q.example"})
    assert api.get("/v3/domains/q.example/sending_queues").json() == {
        "regular": {"is_disabled": False}, "scheduled": {"is_disabled": False}}
    assert api.get("/v3/domains/none.example/sending_queues").status == 404


def test_dkim_authority_and_selector(api: Api) -> None:
    """The DKIM selector names the DKIM record; the authority answers the sending records and whether it changed."""
    api.post("/v4/domains", data={"name": "k.example"})
    assert api.put("/v3/domains/k.example/dkim_selector", data={"dkim_selector": "mg2025"}).json() == {
        "message": "DKIM selector changed"}
    records = api.get("/v4/domains/k.example").json()["sending_dns_records"]
    assert any(r["name"] == "mg2025._domainkey.k.example" for r in records)
    changed = api.put("/v3/domains/k.example/dkim_authority", data={"self": "false"}).json()
    assert changed["changed"] is True and changed["message"] == "Domain DKIM authority has been changed"
    assert api.put("/v3/domains/k.example/dkim_selector", data={"dkim_selector": "bad selector"}).status == 400


def test_tags_from_sends_describe_delete_and_limits(api: Api) -> None:
    """Tags come from sends; one is read, described, deleted (until used again); limits count them; pages by tag."""
    for tag in ("news", "promo", "alerts"):
        api.post("/v3/t.example/messages", data={"from": "a@t.example", "to": "b@x.example", "subject": "s",
                                                 "text": "t", "o:tag": tag})
    listed = api.get("/v3/t.example/tags", params={"limit": "2"}).json()
    assert [t["tag"] for t in listed["items"]] == ["alerts", "news"]
    rest = api.get("/" + listed["paging"]["next"].split("/", 3)[3]).json()
    assert [t["tag"] for t in rest["items"]] == ["promo"]
    assert api.get("/v3/t.example/tag", params={"tag": "news"}).json()["first-seen"].endswith("+0000 UTC")
    assert api.put("/v3/t.example/tag", params={"tag": "news", "description": "weekly"}).json() == {"message": "Tag updated"}
    assert api.get("/v3/t.example/tag", params={"tag": "news"}).json()["description"] == "weekly"
    assert api.delete("/v3/t.example/tag", params={"tag": "promo"}).json() == {"message": "Tag deleted"}
    assert api.get("/v3/t.example/tag", params={"tag": "promo"}).status == 404
    assert api.get("/v3/domains/t.example/limits/tag").json() == {"id": "t.example", "limit": 5000, "count": 2}
