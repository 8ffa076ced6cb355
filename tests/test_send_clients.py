"""The sending side through the clients people use: the official ``mailgun`` SDK and django-anymail.

Each test sends through a real client pointed at the running mock, then checks what the mock kept:
the outbox, the stored MIME (``GET`` on the storage URL with ``Accept: message/rfc2822``), the
Events API and the signed event webhooks. The webhooks are handed to anymail's Mailgun tracking view
with its signature check on. Time moves only on the mock's clock (``settle``, ``advance_clock``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import django
import pytest
from django.conf import settings
from mailgun.client import Client
from pytest_httpserver import HTTPServer
from werkzeug import Request

from mailgun_mock import MailgunMock

# Configured once per process, whichever test module is imported first: this is the configuration
# tests/test_receivers.py makes (it also sets ROOT_URLCONF, which its fixture overrides per test anyway).
# What a test needs beyond it (EMAIL_BACKEND, the ANYMAIL keys) it sets with override_settings.
if not settings.configured:
    settings.configure(
        ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": "set-per-test"},
        LOGGING_CONFIG=None,  # leave logging alone: Django's default config would add handlers
    )
    django.setup()

from anymail.exceptions import AnymailRequestsAPIError, AnymailWebhookValidationFailure  # noqa: E402
from anymail.message import AnymailMessage  # noqa: E402
from anymail.signals import AnymailTrackingEvent, tracking  # noqa: E402
from anymail.webhooks.mailgun import MailgunTrackingWebhookView  # noqa: E402
from django.http import HttpResponse  # noqa: E402  (Django settings must be configured first)
from django.test import RequestFactory, override_settings  # noqa: E402

DOMAIN = "example.com"
TRACKING = "/anymail/mailgun/tracking/"  # the URL anymail.urls gives the Mailgun tracking view
MAILGUN_ID = re.compile(r"<\d{14}\.[0-9a-f]{16}@example\.com>")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"


# -- helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def client(mailgun_mock: MailgunMock) -> Iterator[Client]:
    """The official SDK pointed at the mock (closed afterwards: it warns when left open)."""
    with Client(auth=("api", mailgun_mock.api_key), api_url=mailgun_mock.url) as sdk:
        yield sdk


@pytest.fixture
def anymail_backend(mailgun_mock: MailgunMock) -> Iterator[None]:
    """Django sends through anymail's Mailgun backend to the mock, and verifies its webhook signatures."""
    with override_settings(
        EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
        ANYMAIL={
            "MAILGUN_API_KEY": mailgun_mock.api_key,
            "MAILGUN_API_URL": mailgun_mock.url + "/v3",  # anymail's default is https://api.mailgun.net/v3
            "MAILGUN_SENDER_DOMAIN": DOMAIN,
            "MAILGUN_WEBHOOK_SIGNING_KEY": mailgun_mock.signing_key,
        },
    ):
        yield


@pytest.fixture
def tracked() -> Iterator[list[AnymailTrackingEvent]]:
    """Every event anymail's tracking signal sends during the test."""
    seen: list[AnymailTrackingEvent] = []

    def on_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
        assert esp_name == "Mailgun"
        seen.append(event)

    tracking.connect(on_tracking, weak=False)
    try:
        yield seen
    finally:
        tracking.disconnect(on_tracking)


def sdk_send(client: Client, data: dict[str, Any], files: list[Any] | None = None) -> Any:
    """``client.messages.create`` on the test domain."""
    return client.messages.create(data=data, files=files, domain=DOMAIN)


def sdk_events(client: Client, **filters: str) -> list[dict[str, Any]]:
    """The domain's events, oldest first, through the SDK's events API."""
    reply = client.events.get(domain=DOMAIN, filters={"ascending": "yes", "limit": "300", **filters})
    assert reply.status_code == 200, reply.text
    items: list[dict[str, Any]] = reply.json()["items"]
    return items


def stored_mime(mock: MailgunMock, storage_url: str) -> EmailMessage:
    """The stored message's raw MIME (``body-mime`` of a GET with ``Accept: message/rfc2822``), parsed."""
    reply = mock.session.get(storage_url, headers={"Accept": "message/rfc2822"}, timeout=10)
    assert reply.status_code == 200, reply.text
    message = BytesParser(policy=policy.default).parsebytes(reply.json()["body-mime"].encode("utf-8"))
    assert isinstance(message, EmailMessage)
    return message


def file_parts(message: EmailMessage) -> list[tuple[Any, ...]]:
    """(disposition, filename, content type, Content-ID, bytes) of every file part, in order."""
    return [(p.get_content_disposition(), p.get_filename(), p.get_content_type(), p["Content-ID"],
             p.get_payload(decode=True)) for p in message.walk() if not p.is_multipart() and p.get_filename()]


def add_rule(mock: MailgunMock, rule: dict[str, Any]) -> dict[str, Any]:
    """``POST /mock/rules``."""
    reply = mock.session.post(f"{mock.url}/mock/rules", json=rule, timeout=10)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def register_webhooks(client: Client, url: str, *names: str) -> None:
    """``POST /v3/domains/<domain>/webhooks`` through the SDK, one webhook name at a time."""
    for name in names:
        reply = client.domains_webhooks.create(domain=DOMAIN, data={"id": name, "url": [url]})
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"message": "Webhook has been created", "webhook": {"urls": [url]}}


def to_tracking_view(request: Request) -> HttpResponse:
    """Hand the exact body and Content-Type the receiver got to anymail's Mailgun tracking view."""
    django_request = RequestFactory().generic("POST", request.path, data=request.get_data(),
                                              content_type=request.headers["Content-Type"])
    return MailgunTrackingWebhookView.as_view()(django_request)


def posts(receiver: HTTPServer) -> list[Request]:
    """The requests the receiver got, in arrival order."""
    return [request for request, _ in receiver.log]


# -- the official SDK ------------------------------------------------------------------------------

WELCOME: dict[str, Any] = {
    "from": "App <app@example.com>",
    "to": ["ann@example.net", "Bob <bob@example.net>"],
    "subject": "Welcome aboard",
    "text": "Hi there",
    "html": '<p>Hi there <img src="cid:logo.png"> <a href="https://app.example/start">Start</a></p>',
    "o:tag": ["welcome", "onboarding"],
    "v:user-id": "42",
    "v:plan": "pro",
}
WELCOME_FILES = [("attachment", ("report.pdf", PDF, "application/pdf")),
                 ("inline", ("logo.png", PNG, "image/png"))]


def test_sdk_send_answers_a_mailgun_id_and_fills_the_outbox(mailgun_mock: MailgunMock, client: Client) -> None:
    """messages.create answers 200 with a current-format Mailgun id; the outbox holds the message as sent."""
    reply = sdk_send(client, WELCOME, WELCOME_FILES)

    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["message"] == "Queued. Thank you."
    assert MAILGUN_ID.fullmatch(body["id"])
    (sent,) = mailgun_mock.assert_sent(1, to="bob@example.net", tag="onboarding", subject="Welcome aboard")
    assert sent["id"] == body["id"]
    assert sent["from"] == "App <app@example.com>"
    assert sent["to"] == "ann@example.net, Bob <bob@example.net>"
    assert sent["recipients"] == ["ann@example.net", "bob@example.net"]
    assert sent["tags"] == ["welcome", "onboarding"] and sent["test_mode"] is False
    assert sorted(sent["attachments"]) == ["logo.png", "report.pdf"]
    assert sent["text"].strip() == "Hi there" and "cid:logo.png" in sent["html"]


def test_sdk_send_stores_mime_with_tags_variables_and_files(mailgun_mock: MailgunMock, client: Client) -> None:
    """The stored MIME carries the headers, the tag and variable headers, the attachment and the inline image."""
    message_id = sdk_send(client, WELCOME, WELCOME_FILES).json()["id"]
    (accepted, _) = sdk_events(client, event="accepted")

    mime = stored_mime(mailgun_mock, accepted["storage"]["url"])

    assert mime["Message-Id"] == message_id
    assert (mime["From"], mime["To"], mime["Subject"]) == (
        "App <app@example.com>", "ann@example.net, Bob <bob@example.net>", "Welcome aboard")
    assert mime.get_all("X-Mailgun-Tag") == ["welcome", "onboarding"]
    assert json.loads(mime["X-Mailgun-Variables"]) == {"user-id": "42", "plan": "pro"}
    plain, html = mime.get_body(("plain",)), mime.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "Hi there"
    assert html is not None and html.get_content().strip() == WELCOME["html"]
    assert file_parts(mime) == [("inline", "logo.png", "image/png", "<logo.png>", PNG),
                                ("attachment", "report.pdf", "application/pdf", None, PDF)]
    related = next(p for p in mime.walk() if p.get_content_type() == "multipart/related")
    assert [p.get_content_type() for p in related.iter_parts()] == ["text/html", "image/png"]


def test_sdk_send_logs_accepted_then_delivered(mailgun_mock: MailgunMock, client: Client) -> None:
    """The Events API shows accepted (http, tags, variables, storage) per recipient, then delivered once settled."""
    message_id = sdk_send(client, WELCOME, WELCOME_FILES).json()["id"]

    accepted = sdk_events(client, event="accepted")
    assert sorted(e["recipient"] for e in accepted) == ["ann@example.net", "bob@example.net"]
    for event in accepted:
        assert event["method"] == "http"
        assert event["tags"] == ["welcome", "onboarding"]
        assert event["user-variables"] == {"user-id": "42", "plan": "pro"}
        assert event["flags"]["is-test-mode"] is False and event["flags"]["is-authenticated"] is True
        assert event["envelope"] == {"sender": "app@example.com", "targets": event["recipient"], "transport": "smtp"}
        assert event["message"]["headers"]["message-id"] == message_id.strip("<>")
        assert event["message"]["headers"]["subject"] == "Welcome aboard"
        assert sorted(a["filename"] for a in event["message"]["attachments"]) == ["logo.png", "report.pdf"]
        assert event["storage"]["url"] == f"{mailgun_mock.url}/v3/domains/{DOMAIN}/messages/{event['storage']['key']}"

    mailgun_mock.settle()

    delivered = sdk_events(client, event="delivered")
    assert sorted(e["recipient"] for e in delivered) == ["ann@example.net", "bob@example.net"]
    for event in delivered:
        assert event["delivery-status"]["code"] == 250 and event["delivery-status"]["attempt-no"] == 1
        assert event["message"]["headers"]["message-id"] == message_id.strip("<>")
        assert event["tags"] == ["welcome", "onboarding"]
        assert event["user-variables"] == {"user-id": "42", "plan": "pro"}
        assert event["storage"] == accepted[0]["storage"]
    assert [e["event"] for e in sdk_events(client, recipient="ann@example.net")] == ["accepted", "delivered"]


def test_sdk_testmode_logs_delivered_650(mailgun_mock: MailgunMock, client: Client) -> None:
    """o:testmode=yes: accepted and delivered (code 650) with is-test-mode, flagged in the outbox, nothing more."""
    reply = sdk_send(client, {"from": "app@example.com", "to": "ann@example.net", "subject": "Dry run",
                              "text": "x", "o:testmode": "yes"})
    assert reply.status_code == 200, reply.text
    mailgun_mock.settle()
    mailgun_mock.advance_clock(3600)

    accepted, delivered = sorted(sdk_events(client), key=lambda e: e["timestamp"])
    assert accepted["event"] == "accepted" and accepted["flags"]["is-test-mode"] is True
    assert delivered["event"] == "delivered" and delivered["delivery-status"]["code"] == 650
    (sent,) = mailgun_mock.assert_sent(1, subject="Dry run")
    assert sent["test_mode"] is True


def test_sdk_mime_send_delivers_the_message_as_is(mailgun_mock: MailgunMock, client: Client) -> None:
    """client.mimemessage (messages.mime) keeps the MIME byte for byte, its Message-Id as the id, to every `to`."""
    raw = (b"From: App <app@example.com>\r\nTo: ann@example.net\r\nSubject: Prebuilt\r\n"
           b"Message-Id: <prebuilt-1@example.com>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nBuilt elsewhere.\r\n")

    reply = client.mimemessage.create(data={"to": ["ann@example.net", "carol@example.org"], "o:tag": "prebuilt"},
                                      files={"message": raw}, domain=DOMAIN)

    assert reply.status_code == 200, reply.text
    assert reply.json() == {"id": "<prebuilt-1@example.com>", "message": "Queued. Thank you."}
    (sent,) = mailgun_mock.assert_sent(1, subject="Prebuilt", tag="prebuilt")
    assert sent["recipients"] == ["ann@example.net", "carol@example.org"]
    mailgun_mock.settle()
    delivered = sdk_events(client, event="delivered")
    assert sorted(e["recipient"] for e in delivered) == ["ann@example.net", "carol@example.org"]
    assert {e["message"]["headers"]["message-id"] for e in delivered} == {"prebuilt-1@example.com"}
    stored = mailgun_mock.session.get(delivered[0]["storage"]["url"], headers={"Accept": "message/rfc2822"},
                                      timeout=10).json()
    assert stored["body-mime"].encode("utf-8") == raw


# -- django-anymail's Mailgun backend --------------------------------------------------------------


def receipt() -> tuple[AnymailMessage, str]:
    """A message using anymail's tags, metadata, tracking, an attachment and an inline image; and its cid."""
    message = AnymailMessage(
        subject="Your receipt", body="Thanks for your order.", from_email="Shop <shop@example.com>",
        to=["ann@example.net"], tags=["receipt", "shop"], metadata={"order_id": "1234", "customer": "c-7"},
        track_clicks=True, track_opens=True,
    )
    cid = message.attach_inline_image(PNG, filename="logo.png")
    message.attach_alternative(f'<p>Thanks! <img src="cid:{cid}"></p>', "text/html")
    message.attach("receipt.pdf", PDF, "application/pdf")
    return message, cid


def test_anymail_backend_send_is_queued_with_the_mock_id(mailgun_mock: MailgunMock, anymail_backend: None) -> None:
    """anymail reads the mock's answer: status queued and the message id, for every recipient."""
    message, _ = receipt()

    assert message.send() == 1

    (sent,) = mailgun_mock.assert_sent(1, to="ann@example.net", tag="receipt", subject="Your receipt")
    status = message.anymail_status
    assert status.status == {"queued"}
    assert status.message_id == sent["id"] and MAILGUN_ID.fullmatch(status.message_id)
    assert status.recipients["ann@example.net"].status == "queued"
    assert status.recipients["ann@example.net"].message_id == sent["id"]


def test_anymail_backend_stores_tags_metadata_and_files(mailgun_mock: MailgunMock, anymail_backend: None) -> None:
    """The stored MIME has anymail's tags and metadata headers, the attachment, and the inline image under its cid."""
    message, cid = receipt()
    message.send()
    (sent,) = mailgun_mock.outbox

    mime = stored_mime(mailgun_mock, sent["storage_url"])

    assert mime["Message-Id"] == message.anymail_status.message_id
    assert mime.get_all("X-Mailgun-Tag") == ["receipt", "shop"]
    assert json.loads(mime["X-Mailgun-Variables"]) == {"order_id": "1234", "customer": "c-7"}
    plain, html = mime.get_body(("plain",)), mime.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "Thanks for your order."
    assert html is not None and f'src="cid:{cid}"' in html.get_content()
    # anymail uploads an inline image with its cid as the filename; Mailgun makes that the Content-ID.
    assert file_parts(mime) == [("inline", cid, "image/png", f"<{cid}>", PNG),
                                ("attachment", "receipt.pdf", "application/pdf", None, PDF)]


def test_anymail_backend_send_logs_events_with_tags_and_metadata(mailgun_mock: MailgunMock, anymail_backend: None,
                                                                 client: Client) -> None:
    """accepted and then delivered carry anymail's tags as tags and its metadata as user-variables."""
    message, _ = receipt()
    message.send()
    mailgun_mock.settle()

    events = sdk_events(client)

    assert [(e["event"], e["recipient"]) for e in events] == [("accepted", "ann@example.net"),
                                                              ("delivered", "ann@example.net")]
    for event in events:
        assert event["tags"] == ["receipt", "shop"]
        assert event["user-variables"] == {"order_id": "1234", "customer": "c-7"}
        assert "<" + event["message"]["headers"]["message-id"] + ">" == message.anymail_status.message_id
    assert events[0]["method"] == "http"


def batch() -> AnymailMessage:
    """A batch send: per-recipient merge_data and merge_metadata, and merge_global_data for everyone."""
    return AnymailMessage(
        subject="%recipient.first%, your code", from_email="shop@example.com",
        body="Code %recipient.code% at %recipient.shop%.",
        to=["ann@example.net", "Bob <bob@example.net>"],
        merge_data={"ann@example.net": {"first": "Ann", "code": "A-1"},
                    "bob@example.net": {"first": "Bob", "code": "B-2"}},
        merge_global_data={"shop": "Acme"},
        merge_metadata={"ann@example.net": {"coupon": "c-ann"}, "bob@example.net": {"coupon": "c-bob"}},
        tags=["batch"],
    )


def test_anymail_batch_gives_each_recipient_their_own_message(mailgun_mock: MailgunMock,
                                                              anymail_backend: None) -> None:
    """merge_data and merge_global_data become one message per recipient, To showing only them, values substituted."""
    message = batch()
    message.send()

    status = message.anymail_status
    assert set(status.recipients) == {"ann@example.net", "bob@example.net"} and status.status == {"queued"}
    (ann,) = mailgun_mock.assert_sent(1, to="ann@example.net")
    (bob,) = mailgun_mock.assert_sent(1, to="bob@example.net")
    assert ann["id"] == bob["id"] == status.message_id
    assert (ann["recipients"], ann["to"], ann["subject"]) == (["ann@example.net"], "ann@example.net", "Ann, your code")
    assert (bob["recipients"], bob["to"], bob["subject"]) == (["bob@example.net"], "Bob <bob@example.net>",
                                                              "Bob, your code")
    for sent, code, other in ((ann, "A-1", "bob@example.net"), (bob, "B-2", "ann@example.net")):
        mime = stored_mime(mailgun_mock, sent["storage_url"])
        assert mime.get_content().strip() == f"Code {code} at Acme."
        assert other not in mime.as_string() and "%recipient" not in mime.as_string()


def test_anymail_batch_events_carry_each_recipients_metadata(mailgun_mock: MailgunMock, anymail_backend: None,
                                                            client: Client) -> None:
    """merge_metadata (sent as v: variables pointing into recipient-variables) is per recipient in the events."""
    batch().send()
    mailgun_mock.settle()

    seen = {(e["event"], e["recipient"]): e for e in sdk_events(client)}

    assert set(seen) == {(kind, who) for kind in ("accepted", "delivered")
                         for who in ("ann@example.net", "bob@example.net")}
    for (_, who), event in seen.items():
        assert event["user-variables"] == {"coupon": "c-ann" if who.startswith("ann") else "c-bob"}
        assert event["tags"] == ["batch"]
    assert seen["accepted", "ann@example.net"]["storage"] != seen["accepted", "bob@example.net"]["storage"]


# -- tracking webhooks into anymail's tracking view ------------------------------------------------


def test_tracking_view_gets_delivered_bounced_opened_clicked(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                             anymail_backend: None, client: Client,
                                                             tracked: list[AnymailTrackingEvent]) -> None:
    """The domain webhooks pass anymail's signature check and become the right tracking events."""
    receiver.expect_request(TRACKING, method="POST").respond_with_data("ok")
    register_webhooks(client, receiver.url_for(TRACKING), "delivered", "permanent_fail", "opened", "clicked")
    add_rule(mailgun_mock, {"match": {"recipient": "^bounce@"}, "outcome": "bounce"})
    add_rule(mailgun_mock, {"match": {"recipient": "^reader@"}, "outcome": ["open", "click"]})
    message = AnymailMessage(subject="Spring sale", body="Sale!", from_email="shop@example.com",
                             to=["bounce@example.net", "reader@example.net"], tags=["spring-sale"],
                             metadata={"campaign": "spring", "batch": "7"})
    message.attach_alternative('<p><a href="https://shop.example/sale">Sale</a></p>', "text/html")
    message.send()
    mailgun_mock.settle()
    mailgun_mock.advance_clock(240)  # engagement follows delivery by 60 s (opened) and 120 s (clicked)
    mailgun_mock.wait_for_deliveries(4, url=receiver.url_for(TRACKING), outcome="delivered")

    received = posts(receiver)
    assert len(received) == 4
    for request in received:
        assert request.headers["Content-Type"] == "application/json"
        assert to_tracking_view(request).status_code == 200

    by_kind = {(e.event_type, e.recipient): e for e in tracked}
    assert set(by_kind) == {("delivered", "reader@example.net"), ("bounced", "bounce@example.net"),
                            ("opened", "reader@example.net"), ("clicked", "reader@example.net")}
    tokens = {json.loads(r.get_data())["signature"]["token"] for r in received}
    for event in tracked:
        assert event.message_id == message.anymail_status.message_id
        assert event.tags == ["spring-sale"]
        assert event.metadata == {"campaign": "spring", "batch": "7"}
        assert event.event_id in tokens
    bounced = by_kind["bounced", "bounce@example.net"]
    assert bounced.reject_reason == "bounced"
    assert bounced.esp_event["event-data"]["severity"] == "permanent"
    assert bounced.mta_response is not None and "5.1.1" in bounced.mta_response
    delivered = by_kind["delivered", "reader@example.net"]
    opened = by_kind["opened", "reader@example.net"]
    clicked = by_kind["clicked", "reader@example.net"]
    assert clicked.click_url == "https://shop.example/sale"
    assert opened.user_agent and clicked.user_agent
    assert delivered.timestamp is not None and opened.timestamp is not None and clicked.timestamp is not None
    assert (opened.timestamp - delivered.timestamp).total_seconds() >= 60
    assert (clicked.timestamp - delivered.timestamp).total_seconds() >= 60


def test_tracking_view_rejects_a_wrong_signing_key(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                   anymail_backend: None, client: Client,
                                                   tracked: list[AnymailTrackingEvent]) -> None:
    """Under another signing key anymail refuses the mock's webhook and sends no signal; under the mock's, it accepts."""
    receiver.expect_request(TRACKING, method="POST").respond_with_data("ok")
    register_webhooks(client, receiver.url_for(TRACKING), "delivered")
    AnymailMessage(subject="Hi", body="x", from_email="shop@example.com", to=["ann@example.net"]).send()
    mailgun_mock.settle()
    (request,) = posts(receiver)

    wrong = {"MAILGUN_API_KEY": mailgun_mock.api_key, "MAILGUN_WEBHOOK_SIGNING_KEY": "not-the-" + mailgun_mock.signing_key}
    with override_settings(ANYMAIL=wrong):
        with pytest.raises(AnymailWebhookValidationFailure, match="incorrect signature"):
            to_tracking_view(request)
    assert tracked == []
    assert to_tracking_view(request).status_code == 200
    assert [(e.event_type, e.recipient) for e in tracked] == [("delivered", "ann@example.net")]


# -- rules and suppressions ------------------------------------------------------------------------

SIMPLE: dict[str, Any] = {"from": "app@example.com", "to": "gone@example.net", "subject": "Hello", "text": "Hi"}


def test_rule_bounce_fails_notifies_and_lists_the_address(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                          client: Client) -> None:
    """A bounce gives a permanent failed event, a permanent_fail webhook and an entry in the bounces list."""
    receiver.expect_request("/hooks/fail", method="POST").respond_with_data("ok")
    register_webhooks(client, receiver.url_for("/hooks/fail"), "permanent_fail")
    add_rule(mailgun_mock, {"match": {"recipient": "^gone@"}, "outcome": "bounce"})

    message_id = sdk_send(client, SIMPLE).json()["id"]
    mailgun_mock.settle()

    (failed,) = sdk_events(client, event="failed")
    assert (failed["recipient"], failed["severity"], failed["reason"], failed["log-level"]) == (
        "gone@example.net", "permanent", "bounce", "error")
    assert failed["delivery-status"]["code"] == 550
    (hook,) = mailgun_mock.wait_for_deliveries(1, kind="webhook:permanent_fail", outcome="delivered")
    assert hook["recipient"] == "gone@example.net"
    (request,) = posts(receiver)
    posted = json.loads(request.get_data())
    assert posted["event-data"]["event"] == "failed" and posted["event-data"]["severity"] == "permanent"
    assert posted["event-data"]["message"]["headers"]["message-id"] == message_id.strip("<>")
    bounces = client.bounces.get(domain=DOMAIN)
    assert bounces.status_code == 200, bounces.text
    (entry,) = bounces.json()["items"]
    assert (entry["address"], entry["code"]) == ("gone@example.net", "550")
    assert "5.1.1" in entry["error"]


def test_rule_bounce_suppresses_the_next_send_with_605(mailgun_mock: MailgunMock, client: Client) -> None:
    """After a bounce, a later send to the address is accepted and then fails with suppress-bounce, code 605."""
    add_rule(mailgun_mock, {"match": {"recipient": "^gone@"}, "outcome": "bounce"})
    sdk_send(client, SIMPLE)
    mailgun_mock.settle()
    cleared = mailgun_mock.session.delete(f"{mailgun_mock.url}/mock/rules", timeout=10)
    assert cleared.status_code == 200  # from here on the bounce list alone decides

    second = sdk_send(client, {**SIMPLE, "subject": "Hello again"})
    assert second.status_code == 200, second.text
    mailgun_mock.settle()

    failed = sdk_events(client, event="failed")
    assert [(e["reason"], e["severity"], e["delivery-status"]["code"]) for e in failed] == [
        ("bounce", "permanent", 550), ("suppress-bounce", "permanent", 605)]
    assert failed[1]["message"]["headers"]["message-id"] == second.json()["id"].strip("<>")
    assert sdk_events(client, event="delivered") == []


def test_rule_temporary_fail_retries_on_the_mock_clock(mailgun_mock: MailgunMock, client: Client) -> None:
    """retries=2: failed (temporary) at t0 and t0+600, delivered at t0+1200, each step only once it is due."""
    add_rule(mailgun_mock, {"match": {"recipient": "^slow@"}, "outcome": "temporary-fail", "retries": 2})
    sdk_send(client, {**SIMPLE, "to": "slow@example.net"})
    mailgun_mock.settle()
    (accepted,) = sdk_events(client, event="accepted")
    t0 = accepted["timestamp"]

    def steps() -> list[tuple[str, str | None, int, int]]:
        """(event, severity, attempt-no, seconds after t0) of every event after accepted."""
        return [(e["event"], e.get("severity"), e["delivery-status"]["attempt-no"], round(e["timestamp"] - t0))
                for e in sdk_events(client) if e["event"] != "accepted"]

    first = ("failed", "temporary", 1, 0)
    second = ("failed", "temporary", 2, 600)
    assert steps() == [first]
    mailgun_mock.advance_clock(599)
    assert steps() == [first]
    mailgun_mock.advance_clock(1)
    assert steps() == [first, second]
    mailgun_mock.advance_clock(599)
    assert steps() == [first, second]
    mailgun_mock.advance_clock(1)
    assert steps() == [first, second, ("delivered", None, 3, 1200)]
    assert [e["delivery-status"].get("retry-seconds") for e in sdk_events(client, event="failed")] == [600, 600]


@pytest.mark.parametrize(("rule", "status", "message"), [
    ({"status": 403, "message": "Domain example.com is not allowed to send: Free accounts are for test purposes only"},
     403, "Domain example.com is not allowed to send: Free accounts are for test purposes only"),
    ({}, 400, "Domain example.com is not allowed to send: rejected by a mock rule"),
])
def test_rule_reject_refuses_at_the_api_and_keeps_nothing(mailgun_mock: MailgunMock, client: Client,
                                                          rule: dict[str, Any], status: int, message: str) -> None:
    """reject answers the rule's status and message to the SDK; no message, event or outbox entry is kept."""
    add_rule(mailgun_mock, {"match": {"recipient": "^blocked@"}, "outcome": "reject", **rule})

    reply = sdk_send(client, {**SIMPLE, "to": ["ok@example.net", "blocked@example.net"]})
    mailgun_mock.settle()

    assert reply.status_code == status
    assert reply.json() == {"message": message}
    assert mailgun_mock.outbox == [] and sdk_events(client) == []
    assert mailgun_mock.backend.store.messages() == []


def test_rule_reject_raises_anymail_api_error(mailgun_mock: MailgunMock, anymail_backend: None) -> None:
    """Through anymail a rejected send raises AnymailRequestsAPIError carrying the status and message."""
    add_rule(mailgun_mock, {"match": {"recipient": "^blocked@"}, "outcome": "reject", "status": 403,
                            "message": "Domain example.com is not allowed to send: blocked"})
    message = AnymailMessage(subject="Hi", body="x", from_email="shop@example.com", to=["blocked@example.net"])

    with pytest.raises(AnymailRequestsAPIError) as info:
        message.send()

    assert info.value.status_code == 403
    assert "Domain example.com is not allowed to send: blocked" in str(info.value)
    assert mailgun_mock.outbox == []


# -- loopback --------------------------------------------------------------------------------------


def test_loopback_send_to_a_routed_address_reaches_the_route(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                             client: Client) -> None:
    """A send to support@example.com is delivered to the mock's own MX and forwarded by the matching route."""
    receiver.expect_request("/inbound", method="POST").respond_with_data("ok")
    mailgun_mock.create_route('match_recipient("support@example.com")', f'forward("{receiver.url_for("/inbound")}")')

    message_id = sdk_send(client, {"from": "Ann <ann@example.com>", "to": "support@example.com",
                                   "subject": "Printer on fire", "text": "Please help."}).json()["id"]
    mailgun_mock.settle()

    (request,) = posts(receiver)
    assert request.form["subject"] == "Printer on fire"
    assert request.form["recipient"] == "support@example.com"
    assert request.form["sender"] == "ann@example.com"
    assert request.form["Message-Id"] == message_id
    assert request.form["body-plain"].strip() == "Please help."
    assert {"timestamp", "token", "signature"} <= set(request.form)
