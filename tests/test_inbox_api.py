"""The web inbox's JSON and views (/mock/messages and friends) over the test client and the real server."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from typing import Any

import pytest
from werkzeug import Response as WerkzeugResponse

from mailgun_mock import MailgunMock
from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.http.api.mock import UI_ENDPOINTS
from mailgun_mock.http.app import create_app
from mailgun_mock.http.inbox import OPAQUE_READS, is_ui_endpoint
from mailgun_mock.wire.signing import verify
from tests.conftest import Api
from tests.test_app import ENDPOINTS

HOSTILE = '<img src=x onerror="window.__pwned=1">'


def send(api: Api, **fields: Any) -> str:
    """Send a message through the API (example.com) and let its delivery run; answers its id."""
    data = {"from": "App <app@example.com>", "to": "bob@example.net", "subject": "Hello", "text": "Hi", **fields}
    reply = api.post("/v3/example.com/messages", data=data)
    assert reply.status == 200, reply.text
    api.backend.delivery.run_due()
    return str(reply.json()["id"])


def inject(api: Api, **fields: Any) -> dict[str, Any]:
    """Receive a message through POST /mock/inbound, answering the inject answer."""
    data = {"from": "Eve <eve@example.net>", "to": "support@example.com", "subject": "Help", "text": "hi", **fields}
    reply = api.post("/mock/inbound", data=data)
    assert reply.status == 200, reply.text
    return dict(reply.json())


def messages(api: Api, **params: Any) -> dict[str, Any]:
    """GET /mock/messages with these query parameters (without the API key: the inbox's own rule)."""
    reply = api.get("/mock/messages", params=params, auth=None)
    assert reply.status == 200, reply.text
    return dict(reply.json())


def only(api: Api, **params: Any) -> dict[str, Any]:
    """The single message /mock/messages lists for these filters."""
    items = messages(api, **params)["items"]
    assert len(items) == 1, [i["subject"] for i in items]
    return dict(items[0])


# --------------------------------------------------------------------------- the list


def test_inbox_lists_sent_and_received_mail_newest_first(api: Api) -> None:
    """Sent and received mail both appear, newest first, with direction, status, tags and the envelope."""
    send(api, subject="First", **{"o:tag": "welcome"})
    inject(api, subject="Second")
    listed = messages(api)
    assert [(m["subject"], m["direction"]) for m in listed["items"]] == [("Second", "received"), ("First", "sent")]
    sent = listed["items"][1]
    assert sent["tags"] == ["welcome"] and sent["recipients"] == ["bob@example.net"] and sent["status"] == "delivered"
    assert listed["items"][0]["status"] == "unrouted"
    assert listed["total_count"] == 2 and listed["unread_count"] == 2
    assert listed["facets"]["tags"] == ["welcome"] and listed["facets"]["domains"] == ["example.com"]


def test_inbox_items_carry_links_and_codes(api: Api) -> None:
    """Links come from the HTML then the text part, de-duplicated in order; a code is found near 'code'."""
    send(api, subject="Confirm", text="Your verification code is 493 817.\nOr open https://app.example/t?x=1&y=2.",
         html='<p><a href="https://app.example/confirm?t=1&amp;u=2">Confirm</a> <a href="https://app.example/t?x=1&y=2">'
              'again</a> <a href="mailto:help@example.com">help</a></p>')
    item = only(api)
    assert item["links"] == ["https://app.example/confirm?t=1&u=2", "https://app.example/t?x=1&y=2"]
    assert item["codes"] == ["493 817"]


def test_inbox_pattern_replaces_the_code_finder(api: Api) -> None:
    """pattern= finds codes with the caller's expression (its first group); a bad one is a 400 naming it."""
    send(api, text="ref ABC-1234 and ABC-99")
    assert only(api, pattern=r"ABC-(\d+)")["codes"] == ["1234", "99"]
    reply = api.get("/mock/messages", params={"pattern": "(unclosed"}, auth=None)
    assert reply.status == 400 and "'pattern'" in reply.json()["message"]


@pytest.mark.parametrize(("params", "subjects"), [
    ({"to": "CAROL@"}, ["To Carol"]),
    ({"from": "eve@"}, ["Inbound"]),
    ({"subject": "carol"}, ["To Carol"]),
    ({"q": "pineapple carol"}, ["To Carol"]),
    ({"q": "pineapple"}, ["Inbound", "To Carol"]),
    ({"direction": "received"}, ["Inbound"]),
    ({"tag": "NEWS"}, ["To Carol"]),
    ({"domain": "example.org"}, ["Other domain"]),
    ({"status": "unrouted"}, ["Inbound"]),
])
def test_inbox_filters(api: Api, params: dict[str, str], subjects: list[str]) -> None:
    """to, from, subject, q (every word, in addresses, subject and text), direction, tag, domain and status filter."""
    send(api, to="carol@example.net", subject="To Carol", text="pineapple", **{"o:tag": "news"})
    api.post("/v3/example.org/messages", data={"from": "a@example.org", "to": "d@example.net", "subject": "Other domain",
                                                "text": "x"})
    inject(api, subject="Inbound", text="pineapple")
    assert sorted(m["subject"] for m in messages(api, **params)["items"]) == sorted(subjects)


@pytest.mark.parametrize(("params", "words"), [({"direction": "up"}, "'direction'"), ({"status": "nope"}, "'status'"),
                                               ({"limit": "0"}, "'limit'"), ({"limit": "x"}, "'limit'"),
                                               ({"skip": "-1"}, "'skip'"), ({"wait": "soon"}, "'wait'"),
                                               ({"wait": "9999"}, "'wait'")])
def test_inbox_bad_parameters_are_400s_that_name_them(api: Api, params: dict[str, str], words: str) -> None:
    """Bad list parameters answer 400 JSON naming the parameter, never a 500."""
    reply = api.get("/mock/messages", params=params, auth=None)
    assert reply.status == 400 and words in reply.json()["message"]


def test_inbox_paging_and_unread(api: Api) -> None:
    """limit/skip cut pages off the total; unread=1 leaves out what was marked read."""
    for n in range(5):
        send(api, subject=f"n{n}")
    page = messages(api, limit=2, skip=2)
    assert [m["subject"] for m in page["items"]] == ["n2", "n1"] and page["total_count"] == 5
    first = page["items"][0]["id"]
    assert api.post("/mock/messages/read", json={"ids": [first], "read": True}, auth=None).status == 200
    unread = messages(api, unread=1)
    assert first not in [m["id"] for m in unread["items"]] and unread["unread_count"] == 4
    assert api.post("/mock/messages/read", json={"ids": "x"}, auth=None).status == 400


# --------------------------------------------------------------------------- waiting


def test_inbox_wait_long_polls_until_a_message_comes(mailgun_mock: MailgunMock) -> None:
    """wait= holds the request until a matching message arrives, then answers it."""
    timer = threading.Timer(0.3, lambda: mailgun_mock.inject(from_="a@example.net", to=["late@example.com"],
                                                             subject="Late one", text="code 7788"))
    timer.start()
    try:
        reply = mailgun_mock.session.get(f"{mailgun_mock.url}/mock/messages", params={"to": "late@", "wait": "10"},
                                         timeout=15)
    finally:
        timer.join()
    assert reply.status_code == 200 and reply.json()["items"][0]["subject"] == "Late one"


def test_inbox_wait_answers_408_when_nothing_comes(api: Api) -> None:
    """A wait that sees nothing matching ends in 408 JSON saying what was waited for."""
    send(api, to="someone@example.net")
    reply = api.get("/mock/messages", params={"to": "nobody@", "wait": "0.2"}, auth=None)
    assert reply.status == 408 and "to='nobody@'" in reply.json()["message"]


def test_inbox_wait_for_mail_answers_links_and_code(mailgun_mock: MailgunMock) -> None:
    """MailgunMock.wait_for_mail returns the newest match with .links and .code; a miss is an AssertionError."""
    mailgun_mock.session.post(f"{mailgun_mock.url}/v3/example.com/messages", timeout=10, data={
        "from": "app@example.com", "to": "dana@example.net", "subject": "Sign in",
        "html": '<a href="https://app.example/login?t=abc">Sign in</a><p>Your PIN: 4821</p>'})
    mail = mailgun_mock.wait_for_mail(to="dana@example.net", subject="sign in", timeout=5)
    assert mail.links == ["https://app.example/login?t=abc"] and mail.code == "4821" and mail["direction"] == "sent"
    with pytest.raises(AssertionError, match="no message matched within 0.2 s"):
        mailgun_mock.wait_for_mail(to="nobody@example.net", timeout=0.2)


# --------------------------------------------------------------------------- one message


def test_inbox_detail_of_a_sent_message(api: Api) -> None:
    """A sent message shows its headers, parts, stripped text, options and variables, and its event timeline."""
    send(api, subject="Detail", text="Thanks!\n\n--\nThe Team\n", **{"o:tracking": "yes", "v:order": "17",
                                                                      "o:tag": "receipts"})
    item = only(api)
    detail = api.get(f"/mock/messages/{item['id']}", auth=None).json()
    assert ["Subject", "Detail"] in detail["headers"]
    assert detail["stripped_text"] == "Thanks!" and "The Team" in detail["stripped_signature"]
    assert ["tracking", "yes"] in detail["options"]["options"] and detail["options"]["variables"] == {"order": "17"}
    assert [e["event"] for e in detail["timeline"]] == ["accepted", "delivered"]
    assert detail["engagement"] == ["opened", "clicked", "unsubscribed", "complained"] and detail["trace"] is None


def test_inbox_detail_keeps_the_route_trace(api: Api) -> None:
    """A received message keeps its route trace: every route in priority order, matched or not and why, captures, stop."""
    api.post("/v3/routes", data={"priority": "1", "expression": 'match_recipient("(?P<team>\\w+)@example.com")',
                                 "action": ["store()", "stop()"]})
    api.post("/v3/routes", data={"priority": "0", "expression": 'match_header("subject", "never")', "action": "stop()"})
    api.post("/v3/routes", data={"priority": "2", "expression": "catch_all()", "action": "stop()"})
    inject(api, to="sales@example.com")
    detail = api.get(f"/mock/messages/{only(api)['id']}", auth=None).json()
    (part,) = detail["trace"]
    assert [r["matched"] for r in part["routes"]] == [False, True]  # the catch_all after stop() is never evaluated
    assert part["routes"][1]["captures"] == {"1": "sales", "team": "sales"}
    assert "does not match" in part["routes"][0]["explanation"] or "no match" in part["routes"][0]["explanation"]
    assert part["stopped_by"] == part["routes"][1]["id"] and part["actions"][0]["action"] == "store"
    assert detail["status"] == "routed"


def test_inbox_html_view_is_inert(api: Api) -> None:
    """The HTML part is served under a CSP that runs no script and loads no remote image unless remote=1."""
    send(api, html="<p>x</p><script>alert(1)</script><img src='https://tracker.example/p.gif'>")
    entry = only(api)["id"]
    reply = api.get(f"/mock/messages/{entry}/html", auth=None)
    csp = reply.headers["Content-Security-Policy"]
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in csp and "sandbox" in csp and "frame-ancestors 'self'" in csp
    images = csp.split("img-src ")[1].split(";")[0].split()
    assert "'self'" in images and "https:" not in images and "http:" not in images and "script-src" not in csp
    remote = api.get(f"/mock/messages/{entry}/html?remote=1", auth=None).headers["Content-Security-Policy"]
    assert {"https:", "http:"} <= set(remote.split("img-src ")[1].split(";")[0].split())
    latest = api.get("/view/latest.html", auth=None)
    assert latest.status == 200 and b"<script>alert(1)</script>" in latest.content
    assert latest.headers["Content-Security-Policy"] == csp


def test_inbox_inline_images_point_at_their_attachment(api: Api) -> None:
    """cid: references in the HTML are rewritten to the attachment, which previews inline only for raster images."""
    raw = (b"From: a@example.net\r\nTo: b@example.com\r\nSubject: pic\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/related; boundary=B\r\n\r\n--B\r\nContent-Type: text/html\r\n\r\n"
           b'<img src="cid:logo@x">\r\n--B\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n'
           b"Content-Disposition: inline; filename=logo.png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           + base64.b64encode(b"\x89PNG\r\n\x1a\nfake") + b"\r\n--B--\r\n")
    assert api.post("/mock/inbound", data=raw, headers={"Content-Type": "message/rfc822"}).status == 200
    entry = only(api)["id"]
    html = api.get(f"/mock/messages/{entry}/html", auth=None).text
    assert f'src="/mock/messages/{entry}/attachments/0?inline=1"' in html
    image = api.get(f"/mock/messages/{entry}/attachments/0?inline=1", auth=None)
    assert image.headers["Content-Type"] == "image/png" and image.headers["Content-Disposition"].startswith("inline")
    assert image.content.startswith(b"\x89PNG")


def test_inbox_hostile_attachment_name_is_downloaded_not_run(api: Api) -> None:
    """An attachment named like markup downloads as octet-stream with a sanitised name and a sandbox CSP."""
    raw = (b"From: a@example.net\r\nTo: b@example.com\r\nSubject: f\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B\r\n"
           b"Content-Type: text/html\r\nContent-Disposition: attachment; filename=\"" + HOSTILE.encode()
           + b".html\"\r\n\r\n<script>alert(1)</script>\r\n--B--\r\n")
    api.post("/mock/inbound", data=raw, headers={"Content-Type": "message/rfc822"})
    reply = api.get(f"/mock/messages/{only(api)['id']}/attachments/0?inline=1", auth=None)
    assert reply.headers["Content-Type"] == "application/octet-stream"
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "<" not in disposition and '"' not in disposition.split(";")[2]
    assert "sandbox" in reply.headers["Content-Security-Policy"]


def test_inbox_source_and_eml_download(api: Api) -> None:
    """The raw source reads as text; the .eml downloads the exact bytes."""
    inject(api, subject="Raw me")
    entry = only(api)["id"]
    eml = api.get(f"/mock/messages/{entry}/eml", auth=None)
    assert eml.headers["Content-Type"] == "message/rfc822" and b"Subject: Raw me" in eml.content
    assert "attachment" in eml.headers["Content-Disposition"]
    raw = api.get(f"/mock/messages/{entry}/raw", auth=None)
    assert raw.headers["Content-Type"].startswith("text/plain") and raw.content == eml.content


def test_inbox_delete_removes_sent_and_received(api: Api) -> None:
    """Deleting takes messages out of the list (a sent copy's stored message goes too); unknown ids are 404."""
    send(api, subject="Sent one")
    inject(api, subject="Received one")
    ids = [m["id"] for m in messages(api)["items"]]
    reply = api.delete("/mock/messages", json={"ids": ids}, auth=None)
    assert reply.status == 200 and reply.json()["deleted"] == 2
    assert messages(api)["total_count"] == 0 and api.backend.sent_messages() == []
    assert api.delete(f"/mock/messages/{ids[0]}", auth=None).status == 404
    assert api.get(f"/mock/messages/{ids[0]}", auth=None).status == 404


# --------------------------------------------------------------------------- actions


def test_inbox_trigger_click_logs_the_event_and_fires_the_signed_webhook(api: Api, receiver: Any) -> None:
    """'Trigger click' records a clicked event and POSTs it, signed, to the domain's clicked webhook."""
    receiver.expect_request("/clicks", method="POST").respond_with_data("ok")
    api.post("/v3/domains/example.com/webhooks", data={"id": "clicked", "url": receiver.url_for("/clicks")})
    send(api, html='<a href="https://app.example/promo">promo</a>')
    entry = only(api)["id"]
    reply = api.post(f"/mock/messages/{entry}/events", json={"event": "clicked"}, auth=None)
    assert reply.status == 200, reply.text
    deadline = time.monotonic() + 10
    while not receiver.log and time.monotonic() < deadline:
        time.sleep(0.02)
    body = json.loads(receiver.log[0][0].get_data())
    assert body["event-data"]["event"] == "clicked" and body["event-data"]["url"] == "https://app.example/promo"
    sig = body["signature"]
    assert verify(api.backend.config.signing_key, sig["timestamp"], sig["token"], sig["signature"])
    assert only(api)["status"] == "clicked"


def test_inbox_unsubscribe_adds_a_suppression(api: Api) -> None:
    """'Trigger unsubscribe' puts the recipient on the unsubscribes list, as a rule's outcome would."""
    send(api)
    api.post(f"/mock/messages/{only(api)['id']}/events", json={"event": "unsubscribed", "recipient": "BOB@example.net"},
             auth=None)
    listed = api.get("/v3/example.com/unsubscribes").json()["items"]
    assert [u["address"] for u in listed] == ["bob@example.net"]


@pytest.mark.parametrize(("body", "words"), [({"event": "bounced"}, "'event' must be one of"),
                                             ({}, "'event' parameter is missing"),
                                             ({"event": "opened", "recipient": "x@y.z"}, "not a recipient")])
def test_inbox_trigger_refuses_what_cannot_happen(api: Api, body: dict[str, str], words: str) -> None:
    """Unknown events, missing events and strangers are 400s; received mail has no engagement."""
    send(api)
    reply = api.post(f"/mock/messages/{only(api)['id']}/events", json=body, auth=None)
    assert reply.status == 400 and words in reply.json()["message"]
    inject(api)
    received = only(api, direction="received")["id"]
    reply = api.post(f"/mock/messages/{received}/events", json={"event": "opened"}, auth=None)
    assert reply.status == 400 and "sent mail only" in reply.json()["message"]


def test_inbox_retry_now_and_replay(api: Api, receiver: Any) -> None:
    """A failing forward shows 'retrying'; retry now runs the retry at once; replay posts a delivered one again."""
    receiver.expect_oneshot_request("/hook", method="POST").respond_with_data("down", status=500)
    api.post("/v3/routes", data={"expression": "catch_all()", "action": f'forward("{receiver.url_for("/hook")}")'})
    answer = api.post("/mock/inbound", data={"from": "a@example.net", "to": "b@example.com", "subject": "s",
                                             "text": "t", "wait": "1"}).json()
    delivery = answer["recipients"][0]["actions"][0]["delivery"]
    first = only(api)
    assert first["status"] == "retrying"
    attempts = api.get(f"/mock/messages/{first['id']}", auth=None).json()["deliveries"]
    assert [(a["attempt"], a["outcome"], a["can_retry"]) for a in attempts] == [(1, "retrying", True)]
    posted = attempts[0]["posted"]
    assert posted["signature_valid"] and ("subject", "s") in [tuple(f) for f in posted["fields"]]
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    retried = api.post(f"/mock/deliveries/{delivery}/retry", auth=None)
    assert retried.status == 200 and retried.json()["attempt"]["outcome"] == "delivered"
    assert retried.json()["attempt"]["attempt"] == 2 and only(api)["status"] == "delivered"
    assert api.post(f"/mock/deliveries/{delivery}/retry", auth=None).status == 404
    replayed = api.post(f"/mock/deliveries/{delivery}/replay", auth=None).json()["attempt"]
    assert replayed["outcome"] == "delivered" and replayed["delivery_id"] != delivery
    assert api.post("/mock/deliveries/unknown/replay", auth=None).status == 404


def test_inbox_dry_run_explains_each_route(api: Api) -> None:
    """The dry run says which routes match an address and headers, with captures, and runs nothing."""
    api.post("/v3/routes", data={"expression": 'match_header("X-Team", "(?P<t>ops)")', "action": "store()"})
    api.post("/v3/routes", data={"expression": 'match_recipient("nobody@.*")', "action": "stop()"})
    reply = api.get("/mock/routes/dry-run", params={"address": "a@example.com", "headers": "X-Team: ops\nX-Other: 1"},
                    auth=None).json()
    assert [r["matched"] for r in reply["routes"]] == [True, False]
    assert reply["routes"][0]["captures"]["t"] == "ops" and reply["actions"][0]["action"] == "store"
    assert messages(api)["total_count"] == 0
    bad = api.get("/mock/routes/dry-run", params={"address": "a@example.com", "headers": "no colon"}, auth=None)
    assert bad.status == 400 and "Name: value" in bad.json()["message"]


def test_inbox_suppressions_through_the_bridge(api: Api) -> None:
    """The suppressions page adds and removes through the suppressions API, with its messages."""
    added = api.post("/mock/ui/api/v3/example.com/bounces", data={"address": "x@example.net", "code": "551"}, auth=None)
    assert added.status == 200 and "bounces" in added.json()["message"]
    assert str(api.get("/v3/example.com/bounces").json()["items"][0]["code"]) == "551"
    assert "x@example.net" in api.get("/suppressions?domain=example.com", auth=None).text
    bad = api.post("/mock/ui/api/v3/example.com/bounces", data={"address": "nope"}, auth=None)
    assert bad.status == 400 and bad.json() == api.post("/v3/example.com/bounces", data={"address": "nope"}).json()
    assert api.delete("/mock/ui/api/v3/example.com/bounces/x@example.net", auth=None).status == 200
    assert api.delete("/mock/ui/api/v3/example.com/bounces/x@example.net", auth=None).status == 404


def test_inbox_bridge_answers_as_the_api_with_its_messages(api: Api) -> None:
    """/mock/ui/api/v3/… is the API itself without the key in the browser: same answers, same validation messages."""
    bad = api.post("/mock/ui/api/v3/routes", data={"expression": "match_recipient(", "action": "stop()"}, auth=None)
    direct = api.post("/v3/routes", data={"expression": "match_recipient(", "action": "stop()"})
    assert bad.status == direct.status == 400 and bad.json() == direct.json()
    made = api.post("/mock/ui/api/v3/routes", data={"expression": "catch_all()", "action": ["store()", "stop()"]},
                    auth=None)
    assert made.status == 200 and made.json()["route"]["actions"] == ["store()", "stop()"]
    assert api.get("/mock/ui/api/mock/deliveries", auth=None).status == 200
    assert api.get("/mock/ui/api/elsewhere", auth=None).status == 404
    assert api.get("/mock/ui/api/mock/ui/api/v3/routes", auth=None).status == 404


# --------------------------------------------------------------------------- who may use it


def test_inbox_ui_auth_guards_every_inbox_endpoint() -> None:
    """With --ui-auth the inbox asks for its credentials (or the API key); the Mailgun API keeps its own rule."""
    config = Config(ui_auth="dev:s3cret")
    client = create_app(Backend(config)).test_client()
    refused = client.get("/")
    assert refused.status_code == 401 and "mailgun-mock inbox" in refused.headers["WWW-Authenticate"]
    assert client.get("/mock/messages").status_code == 401
    assert client.get("/", auth=("dev", "s3cret")).status_code == 200
    assert client.get("/mock/messages", auth=("api", config.api_key)).status_code == 200
    assert client.get("/mock/messages", auth=("dev", "wrong")).status_code == 401
    assert client.get("/v3/routes", auth=("dev", "s3cret")).status_code == 401


def test_inbox_other_machines_need_credentials_without_ui_auth() -> None:
    """Without --ui-auth the inbox is open to this machine only; another address gives the API key."""
    backend = Backend(Config())
    client = create_app(backend).test_client()
    far = {"REMOTE_ADDR": "192.168.1.50"}
    assert client.get("/", environ_overrides=far).status_code == 401
    assert client.get("/", environ_overrides=far, auth=("api", backend.config.api_key)).status_code == 200
    assert client.get("/", environ_overrides={"REMOTE_ADDR": "::ffff:127.0.0.1"}).status_code == 200
    assert client.get("/").status_code == 200


UI_CASES = sorted({(m, p, e) for m, p, e in ENDPOINTS if is_ui_endpoint(e, UI_ENDPOINTS) and m not in ("HEAD", "OPTIONS")})


def test_inbox_ui_endpoint_list_is_complete() -> None:
    """The walk below covers the pages, the live stream, the bridge and /mock/messages."""
    names = {e for _, _, e in UI_CASES}
    assert {"inbox.messages", "inbox_api.stream", "inbox_api.bridge", "mock.messages", "inbox.latest_html"} <= names


@pytest.mark.parametrize(("method", "path", "endpoint"), UI_CASES)
def test_inbox_every_ui_endpoint_refuses_a_foreign_origin_and_host(mailgun_mock: MailgunMock, method: str, path: str,
                                                                   endpoint: str) -> None:
    """Over the real server, every inbox endpoint (the live stream included) refuses a foreign Origin and a foreign Host."""
    for headers in ({"Origin": "https://evil.example"}, {"Host": "rebind.attacker.example"}):
        conn = http.client.HTTPConnection("127.0.0.1", mailgun_mock.port, timeout=10)
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", headers.get("Host", f"127.0.0.1:{mailgun_mock.port}"))
        if "Origin" in headers:
            conn.putheader("Origin", headers["Origin"])
        conn.putheader("Accept", "text/event-stream")
        conn.putheader("Content-Length", "0")
        conn.endheaders()
        reply = conn.getresponse()
        assert reply.status == 403, (headers, reply.read())
        assert "access-control-allow-origin" not in {k.lower() for k, _ in reply.getheaders()}
        conn.close()
    client = create_app(Backend(Config())).test_client()
    response: WerkzeugResponse = client.open(path, method=method, headers={"Origin": "null"})
    # Inline images are read by the mail's own sandboxed frame, whose origin is opaque ("null").
    assert (response.status_code == 403) == (endpoint not in OPAQUE_READS or method != "GET")
    response.close()


def test_inbox_live_stream_announces_changes(mailgun_mock: MailgunMock) -> None:
    """/mock/stream sends a change event at once and another when mail arrives (what keeps a page live)."""
    conn = http.client.HTTPConnection("127.0.0.1", mailgun_mock.port, timeout=10)
    conn.request("GET", "/mock/stream", headers={"Accept": "text/event-stream"})
    reply = conn.getresponse()
    assert reply.status == 200 and reply.getheader("Content-Type").startswith("text/event-stream")

    def next_event() -> str:
        lines = []
        while (line := reply.readline().decode()) != "\n" or not lines:
            if line.strip():
                lines.append(line.strip())
        return "\n".join(lines)

    assert next_event() == "retry: 1000"
    first = next_event()
    assert first.startswith("event: change")
    mailgun_mock.inject(from_="a@example.net", to=["b@example.com"], subject="ping", text="x")
    second = next_event()
    assert second.startswith("event: change") and second != first
    conn.close()


def test_inbox_pages_render_and_escape_mail_values(api: Api) -> None:
    """Every page answers HTML with its CSP; a hostile subject, address, tag and header show as text in the message view."""
    send(api, subject=HOSTILE, **{"o:tag": HOSTILE, "h:X-Evil": HOSTILE})
    entry = only(api)["id"]
    for path in ("/", f"/messages/{entry}", "/deliveries", "/routes", "/routes?address=a@example.com", "/events",
                 "/webhooks", "/suppressions", "/rules", "/simulate", f"/ui/message/{entry}"):
        reply = api.get(path, auth=None)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html"), path
        assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
        assert reply.headers["Referrer-Policy"] == "no-referrer" and reply.headers["X-Content-Type-Options"] == "nosniff"
    fragment = api.get(f"/ui/message/{entry}", auth=None).text
    assert HOSTILE not in fragment and "&lt;img src=x onerror=" in fragment
    inbox = api.get("/", auth=None).text  # the first page rides along as JSON inside a script element
    assert HOSTILE not in inbox and "\\u003cimg src=x onerror=" in inbox


def test_inbox_root_is_the_inbox_and_latest_404s_when_empty(api: Api) -> None:
    """GET / is the inbox (no longer a JSON 404); /view/latest.html is a JSON 404 until a message exists."""
    assert b"data-testid=\"message-list\"" in api.get("/", auth=None).content
    empty = api.get("/view/latest.html", auth=None)
    assert empty.status == 404 and empty.json()["message"] == "No message yet"
