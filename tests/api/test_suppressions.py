"""The suppressions API: bounces, unsubscribes, complaints and the allowlist, with Mailgun's paging."""

from __future__ import annotations

import pytest

from tests.conftest import Api

D = "/v3/example.com"


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def walk(api: Api, start: str, link: str) -> list[str]:
    """Every address met following ``link`` (next or previous) from ``start`` until an empty page."""
    seen: list[str] = []
    url = start
    for _ in range(5000):
        page = api.get(url).json()
        if not page["items"]:
            return seen
        addresses = [item.get("address") or item["value"] for item in page["items"]]  # the allowlist: value
        seen.extend(addresses if link == "next" else reversed(addresses))
        url = path_of(page["paging"][link])
    raise AssertionError("paging never ended")


KINDS = ["bounces", "unsubscribes", "complaints", "whitelists"]


def fill(api: Api, kind: str) -> list[str]:
    """2,500 addresses on ``kind``: bounces, unsubscribes and complaints as JSON batches of 1,000,
    the allowlist (which takes no JSON) as one CSV import."""
    addresses = [f"user{i:05d}@example.net" for i in range(2500)]
    if kind == "whitelists":
        csv = "address,reason\n" + "".join(f"{a},test\n" for a in addresses)
        assert api.post(f"{D}/whitelists/import", files={"file": ("allow.csv", csv)}).status == 202
        return addresses
    for start in range(0, 2500, 1000):
        batch = [{"address": a, "code": "550", "error": "gone"} for a in addresses[start:start + 1000]]
        assert api.post(f"{D}/{kind}", json=batch).status == 200
    return addresses


def walk_all_ways(api: Api, kind: str, limit: int, many: list[str]) -> None:
    """From every entry point each address is seen once and the walk ends on an empty page: the
    first page with no ``page``, ``page=first`` and ``page=next`` chains, ``page=last`` and
    ``page=previous`` chains, and ``page=next``/``page=previous`` pivots in the middle."""
    assert walk(api, f"{D}/{kind}?limit={limit}", "next") == many
    assert walk(api, f"{D}/{kind}?page=first&limit={limit}", "next") == many
    assert walk(api, f"{D}/{kind}?page=last&limit={limit}", "previous") == list(reversed(many))
    middle = many[1249].replace("@", "%40")
    assert walk(api, f"{D}/{kind}?page=next&address={middle}&limit={limit}", "next") == many[1250:]
    assert walk(api, f"{D}/{kind}?page=previous&address={middle}&limit={limit}", "previous") == \
        list(reversed(many[:1249]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("limit", [10, 1000])
def test_suppression_paging_ends_from_every_entry_point(api: Api, kind: str, limit: int) -> None:
    """2,500 entries, limit 10 and 1000, both transports: every entry point sees each address once."""
    walk_all_ways(api, kind, limit, fill(api, kind))


@pytest.mark.parametrize("api", ["test_client"], indirect=True)
@pytest.mark.parametrize("kind", KINDS)
def test_suppression_paging_one_by_one_ends_from_every_entry_point(api: Api, kind: str) -> None:
    """limit 1 over 2,500 entries, forward from the first page (and, for bounces, back from the last):
    2,500 pages a walk, so in process only; the limit 10 and 1000 walks cover the socket and the
    other entry points, through the same paging code for every kind."""
    many = fill(api, kind)
    assert walk(api, f"{D}/{kind}?limit=1", "next") == many
    if kind == "bounces":
        assert walk(api, f"{D}/{kind}?page=last&limit=1", "previous") == list(reversed(many))


def test_bounces_paging_links_carry_address_and_limit(api: Api) -> None:
    """Paging URLs name page, the pivot address and limit, as Mailgun's SDK iterators read them."""
    api.post(f"{D}/bounces", json=[{"address": "a@x.example"}, {"address": "b@x.example"}, {"address": "c@x.example"}])
    page = api.get(f"{D}/bounces", params={"limit": "2"}).json()
    assert [i["address"] for i in page["items"]] == ["a@x.example", "b@x.example"]
    assert page["paging"]["next"].endswith("/v3/example.com/bounces?page=next&address=b%40x.example&limit=2")
    assert page["paging"]["previous"].endswith("page=previous&address=a%40x.example&limit=2")
    assert api.get(path_of(page["paging"]["next"])).json()["items"][0]["address"] == "c@x.example"
    assert api.get(f"{D}/bounces", params={"term": "b"}).json()["items"][0]["address"] == "b@x.example"


def test_bounces_limit_over_1000_is_refused(api: Api) -> None:
    """A limit over 1,000 and a batch over 1,000 records are 400s with Mailgun's messages."""
    assert api.get(f"{D}/bounces", params={"limit": "1001"}).status == 400
    reply = api.post(f"{D}/bounces", json=[{"address": f"u{i}@x.example"} for i in range(1001)])
    assert (reply.status, reply.json()) == (400, {"message": "Batch size should be less than 1000"})


def test_bounce_add_get_delete_clear(api: Api) -> None:
    """One bounce added by form is read back, deleted, and a cleared list is empty."""
    added = api.post(f"{D}/bounces", data={"address": "bob@x.example", "code": "554", "error": "Mailbox full",
                                           "created_at": "Thu, 11 Dec 2025 01:49:40 UTC"})
    assert added.json() == {"message": "Address has been added to the bounces table"}
    assert api.get(f"{D}/bounces/bob@x.example").json() == {
        "address": "bob@x.example", "code": "554", "error": "Mailbox full", "created_at": "Thu, 11 Dec 2025 01:49:40 UTC"}
    deleted = api.delete(f"{D}/bounces/bob@x.example").json()
    assert deleted == {"message": "Bounced addresses for this domain have been removed", "address": "bob@x.example"}
    assert api.get(f"{D}/bounces/bob@x.example").json() == {"message": "Address not found in bounces table"}
    api.post(f"{D}/bounces", data={"address": "ann@x.example"})
    assert api.delete(f"{D}/bounces").json() == {"message": "Bounced addresses for this domain have been removed"}
    assert api.get(f"{D}/bounces").json()["items"] == []


def test_unsubscribes_keep_tags_and_delete_one_tag(api: Api) -> None:
    """Unsubscribes added per tag list their tags; deleting with ?tag removes only that tag."""
    api.post(f"{D}/unsubscribes", json=[{"address": "u@x.example", "tags": ["news", "promo"]}])
    assert api.get(f"{D}/unsubscribes/u@x.example").json()["tags"] == ["news", "promo"]
    assert api.delete(f"{D}/unsubscribes/u@x.example", params={"tag": "news"}).status == 200
    assert api.get(f"{D}/unsubscribes/u@x.example").json()["tags"] == ["promo"]
    assert api.post(f"{D}/unsubscribes", data={"address": "w@x.example"}).status == 200
    assert api.get(f"{D}/unsubscribes/w@x.example").json()["tags"] == ["*"]
    assert api.get(f"{D}/unsubscribes/none@x.example").json() == {"message": "Address not found in unsubscribers table"}


def test_complaints_crud(api: Api) -> None:
    """Complaints are added as JSON, listed, read and removed with Mailgun's messages."""
    added = api.post(f"{D}/complaints", json=[{"address": "c@x.example"}, {"address": "d@x.example"}])
    assert added.json() == {"message": "2 complaint addresses have been added to the complaints table"}
    assert [i["address"] for i in api.get(f"{D}/complaints").json()["items"]] == ["c@x.example", "d@x.example"]
    assert api.delete(f"{D}/complaints/c@x.example").json()["address"] == "c@x.example"
    assert api.get(f"{D}/complaints/c@x.example").json() == {"message": "No spam complaints found for this address"}


@pytest.mark.parametrize("kind", ["bounces", "unsubscribes", "complaints"])
def test_import_csv_adds_at_once(api: Api, kind: str) -> None:
    """A CSV import answers 202 and its rows are listed at once."""
    csv = b"address,code,error,tags,created_at\nz@x.example,550,gone,news,\ny@x.example,,,,\n"
    reply = api.post(f"{D}/{kind}/import", files={"file": ("list.csv", csv, "text/csv")})
    assert (reply.status, reply.json()) == (202, {"message": "file uploaded successfully for processing. standby..."})
    assert [i["address"] for i in api.get(f"{D}/{kind}").json()["items"]] == ["y@x.example", "z@x.example"]
    bad = api.post(f"{D}/{kind}/import", files={"file": ("list.csv", b"email\nq@x.example\n", "text/csv")})
    assert bad.status == 400 and "csv header" in bad.json()["message"]


def test_allowlist_crud(api: Api) -> None:
    """Allowlist entries (address or domain) are added by form, listed, read and removed."""
    added = api.post(f"{D}/whitelists", data={"domain": "partner.example"})
    assert added.json() == {"message": "Address/Domain has been added to the allowlists table", "type": "domain",
                            "value": "partner.example"}
    api.post(f"{D}/whitelists", data={"address": "vip@x.example", "reason": "CEO"})
    items = api.get(f"{D}/whitelists").json()["items"]
    assert [(i["type"], i["value"], i["reason"]) for i in items] == [("domain", "partner.example", ""),
                                                                     ("address", "vip@x.example", "CEO")]
    assert api.get(f"{D}/whitelists/vip@x.example").json()["type"] == "address"
    assert api.delete(f"{D}/whitelists/vip@x.example").json() == {
        "message": "Allowlist address/domain has been removed", "value": "vip@x.example"}
    assert api.post(f"{D}/whitelists", data={}).json() == {"message": "Missing mandatory parameter: address/domain"}
    assert api.delete(f"{D}/whitelists").status == 200 and api.get(f"{D}/whitelists").json()["items"] == []


def test_allowlisted_address_is_never_bounced(api: Api) -> None:
    """A send that bounces for an allowlisted address (or domain) adds no bounce record; others are added."""
    api.post(f"{D}/whitelists", data={"domain": "partner.example"})
    api.post("/mock/rules", json={"match": {"recipient": "^gone@"}, "outcome": "bounce"})
    api.post(f"{D}/messages", data={"from": "a@example.com", "to": ["gone@partner.example", "gone@other.example"],
                                    "subject": "s", "text": "t"})
    api.backend.delivery.run_due(10)
    assert [i["address"] for i in api.get(f"{D}/bounces").json()["items"]] == ["gone@other.example"]


def test_send_to_added_bounce_is_suppressed(api: Api) -> None:
    """An address added through the API suppresses later sends with Mailgun's suppress-bounce failure."""
    api.post(f"{D}/bounces", data={"address": "old@x.example"})
    api.post(f"{D}/messages", data={"from": "a@example.com", "to": "old@x.example", "subject": "s", "text": "t"})
    api.backend.delivery.run_due(10)
    failed = api.get(f"{D}/events", params={"event": "failed"}).json()["items"]
    assert [(e["reason"], e["delivery-status"]["code"]) for e in failed] == [("suppress-bounce", 605)]


def test_unknown_path_beside_the_lists_is_no_endpoint(api: Api) -> None:
    """A path the mock does not serve answers 404 'no endpoint' for every method, never a 405."""
    for method in ("GET", "POST", "PUT", "DELETE"):
        reply = api.request(method, f"{D}/nonsense")
        assert (reply.status, reply.json()["message"]) == (404, f"Not Found: no endpoint {method} {D}/nonsense")
