"""POST /mock/inbound in its three forms, stored messages and events over HTTP (test client and real server)."""

from __future__ import annotations

import base64
import json
import pathlib

import pytest

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.http.app import create_app
from tests.conftest import Api

FIXTURES = pathlib.Path(__file__).resolve().parent.parent.parent / "fixtures"
RAW = (
    b"From: Ann <ann@example.net>\r\nTo: help@example.com\r\nCc: cc@example.com\r\nSubject: Hello\r\n"
    b"Message-ID: <m1@example.net>\r\n\r\nHi there\r\n"
)


def store_everything(api: Api) -> None:
    assert api.post("/v3/routes", data={"expression": "catch_all()", "action": "store()"}).status == 200


def storage_url(answer: dict, index: int = 0) -> str:
    return next(a["storage"]["url"] for a in answer["recipients"][index]["actions"] if a["action"] == "store")


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_inbound_raw_body_routes_to_to_and_cc(api: Api) -> None:
    """A raw message body is routed to every To and Cc address by default."""
    store_everything(api)
    reply = api.post("/mock/inbound", data=RAW, headers={"Content-Type": "message/rfc822"})
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert answer["id"] == "<m1@example.net>"
    assert [r["recipient"] for r in answer["recipients"]] == ["help@example.com", "cc@example.com"]


def test_inbound_envelope_overrides_in_query(api: Api) -> None:
    """recipient (repeatable) and sender in the query set the envelope."""
    store_everything(api)
    reply = api.post("/mock/inbound", params=[("recipient", "a@example.org"), ("recipient", "b@example.org"),
                                               ("sender", "bounce@example.net")],
                     data=RAW, headers={"Content-Type": "message/rfc822"})
    answer = reply.json()
    assert [r["recipient"] for r in answer["recipients"]] == ["a@example.org", "b@example.org"]
    stored = api.get(path_of(storage_url(answer))).json()
    assert (stored["sender"], stored["recipients"]) == ("bounce@example.net", "a@example.org")


def test_inbound_multipart_message_file(api: Api) -> None:
    """A multipart body with a 'message' file part and form envelope fields is routed."""
    store_everything(api)
    raw = (FIXTURES / "attachment-zip.eml").read_bytes()
    reply = api.post("/mock/inbound", files={"message": ("m.eml", raw, "message/rfc822")},
                     data={"recipient": "logs@example.com", "sender": "ops@example.net"})
    answer = reply.json()
    assert [r["recipient"] for r in answer["recipients"]] == ["logs@example.com"]
    stored = api.get(path_of(storage_url(answer)), headers={"Accept": "message/rfc2822"}).json()
    assert stored["body-mime"].encode() == raw
    assert stored["sender"] == "ops@example.net"


def test_inbound_form_fields_build_the_message(api: Api) -> None:
    """Form fields (from, to, bcc, subject, text, html, attachment, inline, h:) build the message that is routed."""
    store_everything(api)
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    reply = api.post("/mock/inbound", data={
        "from": "Zoë <zoe@example.net>", "to": "orders@example.com", "bcc": "hidden@example.com",
        "subject": "Commande n°42", "text": "Bonjour", "html": '<p>Bonjour <img src="cid:logo.png"></p>',
        "h:X-Order-Id": "42", "h:Reply-To": "zoe+reply@example.net",
    }, files=[("attachment", ("facture.pdf", b"%PDF-1.4 test", "application/pdf")),
              ("inline", ("logo.png", png, "image/png"))])
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert [r["recipient"] for r in answer["recipients"]] == ["orders@example.com", "hidden@example.com"]
    stored = api.get(path_of(storage_url(answer))).json()
    assert (stored["from"], stored["subject"], stored["X-Order-Id"]) == ("Zoë <zoe@example.net>", "Commande n°42", "42")
    assert "Bcc" not in stored and "hidden@example.com" not in json.dumps(stored["message-headers"])
    assert stored["body-plain"].strip() == "Bonjour"
    names = {a["name"]: a for a in stored["attachments"]}
    assert set(names) == {"facture.pdf", "logo.png"}
    assert stored["content-id-map"]["<logo.png>"]["name"] == "logo.png"
    pdf = api.get(path_of(names["facture.pdf"]["url"]))
    assert (pdf.content, pdf.headers["Content-Type"]) == (b"%PDF-1.4 test", "application/pdf")
    assert "facture.pdf" in pdf.headers["Content-Disposition"]


@pytest.mark.parametrize(("data", "message"), [
    ({"to": "a@example.com", "text": "x"}, "'from' parameter is missing"),
    ({"from": "a@example.net", "text": "x"}, "'to' parameter is missing"),
])
def test_inbound_form_fields_need_from_and_to(api: Api, data: dict, message: str) -> None:
    """Building a message without from or to is a 400 naming the missing field."""
    reply = api.post("/mock/inbound", data=data)
    assert (reply.status, reply.json()["message"]) == (400, message)


@pytest.mark.parametrize(("body", "params", "message"), [
    (b"", {}, "the message is empty"),
    (b"\r\n\r\n", {}, "the message is empty"),
    (b"Subject: no recipients\r\n\r\nbody", {}, "no recipient"),
    (RAW, {"recipient": "not an address"}, "is not an email address"),
    (RAW, {"recipient": "@example.com"}, "is not an email address"),
    (RAW, {"recipient": ":@\x80"}, "is not an email address"),
    (RAW, {"recipient": "a@b@c.example"}, "is not an email address"),
    (RAW, {"recipient": "a@exa mple.com"}, "is not an email address"),
])
def test_inbound_refuses_unroutable_input(api: Api, body: bytes, params: dict, message: str) -> None:
    """Empty messages and missing or invalid recipients are a 400 that says why; nothing is kept."""
    store_everything(api)
    reply = api.post("/mock/inbound", data=body, params=params, headers={"Content-Type": "message/rfc822"})
    assert reply.status == 400
    assert message in reply.json()["message"]
    assert api.backend.store.messages() == []


MALFORMED = {
    "missing boundary": b"From: a@example.net\r\nTo: b@example.com\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nhello\r\n",
    "bad base64": b"From: a@example.net\r\nTo: b@example.com\r\nContent-Type: text/plain\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n!!!not*base64===\r\n",
    "undeclared 8-bit": "From: a@example.net\r\nTo: b@example.com\r\nSubject: Grüße\r\n\r\nÄrger über Öl\r\n".encode()
                        + b"\xe9t\xe9\r\n",
    "1000 headers": b"From: a@example.net\r\nTo: b@example.com\r\n" + b"".join(
        b"X-H%d: v\r\n" % i for i in range(1000)) + b"\r\nbody\r\n",
    "no body": b"From: a@example.net\r\nTo: b@example.com\r\n",
    "binary garbage": b"To: b@example.com\r\n\r\n" + bytes(range(256)) * 4,
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_inbound_malformed_mime_is_accepted_best_effort(api: Api, raw: bytes) -> None:
    """Malformed MIME is routed and stored best-effort, and its stored JSON renders: never a 500."""
    store_everything(api)
    reply = api.post("/mock/inbound", data=raw, headers={"Content-Type": "message/rfc822"})
    assert reply.status == 200, reply.text
    stored = api.get(path_of(storage_url(reply.json())))
    assert stored.status == 200
    assert stored.json()["recipients"] == "b@example.com"


def test_inbound_oversize_is_413_and_keeps_nothing() -> None:
    """A message over max_message_size is a 413 JSON answer and leaves no trace."""
    backend = Backend(Config(max_message_size=2000))
    backend.create_route("catch_all()", ["store()"])
    client = create_app(backend).test_client()
    big = RAW + b"x" * 3000
    reply = client.post("/mock/inbound", data=big, content_type="message/rfc822",
                        headers={"Authorization": "Basic " + base64.b64encode(f"api:{backend.config.api_key}".encode()).decode()})
    assert reply.status_code == 413
    assert "exceeds" in reply.get_json()["message"]
    assert backend.store.messages() == [] and backend.store.all_events() == []


def test_inbound_far_oversize_body_is_413_before_reading() -> None:
    """A body beyond the request limit is refused by the server with a JSON 413."""
    backend = Backend(Config(max_message_size=1000))
    client = create_app(backend).test_client()
    reply = client.post("/mock/inbound", data=b"x" * 200_000, content_type="message/rfc822",
                        headers={"Authorization": "Basic " + base64.b64encode(f"api:{backend.config.api_key}".encode()).decode()})
    assert reply.status_code == 413
    assert reply.get_json()["message"].startswith("request body exceeds")


@pytest.mark.parametrize("suffix", ["/attachments/5", "/attachments/-1", "/attachments/abc", "/attachments/99999999999999999999"])
def test_attachment_index_out_of_range_is_404(api: Api, suffix: str) -> None:
    """An attachment index that is not a valid position is a 404, not a 500."""
    store_everything(api)
    answer = api.post("/mock/inbound", data=(FIXTURES / "attachment-pdf.eml").read_bytes(),
                      params={"recipient": "x@example.com"}, headers={"Content-Type": "message/rfc822"}).json()
    reply = api.get(path_of(storage_url(answer)) + suffix)
    assert (reply.status, reply.json()) == (404, {"message": "Attachment not found"})


@pytest.mark.parametrize("path", ["/v3/domains/example.com/messages/unknown-key",
                                  "/v3/domains/other.org/messages/{key}",
                                  "/v3/domains/example.com/messages/{key}x"])
def test_unknown_stored_message_is_404(api: Api, path: str) -> None:
    """An unknown key, or a key under another domain, is 404 'Message not found'."""
    store_everything(api)
    answer = api.post("/mock/inbound", data=RAW, headers={"Content-Type": "message/rfc822"}).json()
    key = storage_url(answer).rsplit("/", 1)[1]
    reply = api.get(path.format(key=key))
    assert (reply.status, reply.json()) == (404, {"message": "Message not found"})
    assert api.delete(path.format(key=key)).status == 404


def test_stored_message_v2_url_and_delete(api: Api) -> None:
    """A stored message is served under /v2 too; DELETE answers 200 and then it is gone."""
    store_everything(api)
    url = storage_url(api.post("/mock/inbound", data=RAW, headers={"Content-Type": "message/rfc822"}).json())
    v2 = path_of(url).replace("/v3/", "/v2/", 1)
    assert api.get(v2).json()["subject"] == "Hello"
    assert api.delete(v2).json() == {"message": "Message has been deleted"}
    assert api.get(path_of(url)).status == 404


def test_storage_keys_are_unguessable_and_url_safe(api: Api) -> None:
    """Storage keys are distinct, URL-safe, free of '/', and carry at least 128 random bits."""
    store_everything(api)
    keys = set()
    for _ in range(20):
        answer = api.post("/mock/inbound", data=RAW, headers={"Content-Type": "message/rfc822"}).json()
        keys.update(storage_url(answer, i).rsplit("/", 1)[1] for i in range(2))
    assert len(keys) == 40
    for key in keys:
        assert len(key) >= 22 and "/" not in key
        assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_events_api_pages_through_routed_mail(api: Api) -> None:
    """GET /v3/<domain>/events filters, and walking 'next' visits each event once and ends on an empty page."""
    store_everything(api)
    for i in range(7):
        raw = RAW.replace(b"Subject: Hello", b"Subject: Hello %d" % i).replace(b"Cc: cc@example.com\r\n", b"")
        api.post("/mock/inbound", data=raw, headers={"Content-Type": "message/rfc822"})
    page = api.get("/v3/example.com/events", params={"event": "stored", "limit": "3", "ascending": "yes"}).json()
    seen = []
    for _ in range(10):
        assert set(page["paging"]) == {"first", "last", "next", "previous"}
        if not page["items"]:
            break
        seen += [e["message"]["headers"]["subject"] for e in page["items"]]
        next_url = page["paging"]["next"]
        assert next_url.startswith(api.url or "http://localhost")
        page = api.get(path_of(next_url)).json()
    assert seen == [f"Hello {i}" for i in range(7)]
    everything = api.get("/v3/example.com/events").json()["items"]
    assert sorted(e["event"] for e in everything) == ["accepted"] * 7 + ["stored"] * 7
    assert everything[0]["timestamp"] >= everything[-1]["timestamp"]  # newest first by default


@pytest.mark.parametrize(("params", "fragment"), [({"limit": "301"}, "limit"), ({"begin": "yesterday"}, "begin")])
def test_events_api_refuses_bad_query(api: Api, params: dict, fragment: str) -> None:
    """A bad events query is a 400 naming the parameter."""
    reply = api.get("/v3/example.com/events", params=params)
    assert reply.status == 400
    assert fragment in reply.json()["message"]


def test_events_api_refuses_garbage_token(api: Api) -> None:
    """A page token that was not issued by the mock is a 400, never a 500."""
    reply = api.get("/v3/example.com/events/not-a-token")
    assert reply.status == 400
    assert "page token" in reply.json()["message"]


def test_inbound_wait_returns_after_first_attempt(api: Api, receiver) -> None:
    """?wait=1 answers only once every webhook it caused has been attempted."""
    receiver.expect_request("/hook").respond_with_data("ok")
    api.post("/v3/routes", data={"expression": "catch_all()", "action": f'forward("{receiver.url_for("/hook")}")'})
    reply = api.post("/mock/inbound", params={"wait": "1"}, data=RAW, headers={"Content-Type": "message/rfc822"})
    assert reply.status == 200
    attempts = api.get("/mock/deliveries").json()
    assert attempts["total_count"] == 2
    assert {a["recipient"] for a in attempts["items"]} == {"help@example.com", "cc@example.com"}
    assert all(a["outcome"] == "delivered" and a["status"] == 200 for a in attempts["items"])
    assert "signature" in attempts["items"][0]["fields"]


@pytest.mark.parametrize(("data", "fragment"), [
    ({"from": "a@example.net", "to": ["0", ":@\x80"], "text": "x"}, "cannot write a To header"),
    ({"from": "a@example.net", "to": "b@example.com", "text": "x", "h:Bad Name": "v"}, "header name"),
])
def test_inbound_form_fields_that_cannot_make_a_message_are_400(api: Api, data: dict, fragment: str) -> None:
    """Fields that cannot be written into a message (a broken address, a bad header name) are a 400."""
    reply = api.post("/mock/inbound", data=data)
    assert reply.status == 400, reply.text
    assert fragment in reply.json()["message"]
