"""The mock's webhooks, byte for byte, in the receivers people run.

The receivers are django-anymail's Mailgun inbound view (parsed and raw-MIME forms) and Rails
Action Mailbox's Mailgun ingress. Ruby is not on this machine, so the ingress is ported to Python below.
Every test sends a real webhook from the mock to pytest-httpserver and hands the exact body and
Content-Type that arrived to the receiver.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import django
import pytest
from django.conf import settings
from pytest_httpserver import HTTPServer
from werkzeug import Request

from mailgun_mock import MailgunMock

if not settings.configured:
    settings.configure(
        # Replaced per test by the running mock's key (see the anymail_inbound fixture).
        ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": "set-per-test"},
        ROOT_URLCONF=__name__,
        LOGGING_CONFIG=None,  # leave logging alone: Django's default config would add handlers
    )
    django.setup()

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure  # noqa: E402
from anymail.inbound import AnymailInboundMessage  # noqa: E402
from anymail.signals import AnymailInboundEvent, inbound  # noqa: E402
from anymail.webhooks.mailgun import MailgunInboundWebhookView  # noqa: E402
from django.http import HttpResponse  # noqa: E402  (Django settings must be configured first)
from django.test import Client, RequestFactory, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# The URLs anymail's docs tell people to give Mailgun (anymail/urls.py: r"^mailgun/inbound(_mime)?/$").
ANYMAIL_PARSED = "/anymail/mailgun/inbound/"
ANYMAIL_MIME = "/anymail/mailgun/inbound_mime/"

# Attachments and inline images; non-ASCII headers (RFC 2047 UTF-8 and ISO-2022-JP); RFC 2047 and
# RFC 2231 encoded attachment names.
ANYMAIL_FIXTURES = ["inline-images.eml", "attachment-pdf.eml", "rfc2047-utf8.eml", "cjk-iso2022jp.eml", "many-recipients.eml",
                    "attachment-rfc2047-filename.eml", "rfc2231-filename.eml"]

# Django's URLconf for the full-stack requests, as an app includes anymail.
urlpatterns = [path("anymail/", include("anymail.urls"))]


def route(mock: MailgunMock, expression: str, *actions: str) -> str:
    return mock.backend.create_route(expression, list(actions), 0).id


def the_post(receiver: HTTPServer) -> Request:
    """The one POST the receiver got."""
    (request, _), = receiver.log
    return request


def oracle(raw: bytes) -> EmailMessage:
    """The fixture as the standard library reads it: the independent reference."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def lf(text: str) -> str:
    """Line endings as anymail gives text parts: it turns CRLF and CR into LF."""
    return re.sub(r"\r\n|\r", "\n", text)


# -- django-anymail --------------------------------------------------------------------------


Inbound = list[tuple[AnymailInboundEvent, str]]  # (event, esp_name) per inbound signal sent


@pytest.fixture
def anymail_inbound(mailgun_mock: MailgunMock) -> Iterator[Inbound]:
    """Anymail set up with the mock's signing key, a receiver on its inbound signal, and this URLconf."""
    seen: Inbound = []

    def on_inbound(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
        seen.append((event, esp_name))

    inbound.connect(on_inbound, weak=False)
    try:
        with override_settings(ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": mailgun_mock.signing_key},
                               ROOT_URLCONF=__name__):
            yield seen
    finally:
        inbound.disconnect(on_inbound)


def django_request(request: Request, *, with_auth: bool = True) -> Any:
    """A Django request with the exact body, Content-Type (and Authorization) the mock POSTed."""
    extra = {}
    if with_auth and "Authorization" in request.headers:
        extra["HTTP_AUTHORIZATION"] = request.headers["Authorization"]
    return RequestFactory().generic("POST", request.path, data=request.get_data(),
                                    content_type=request.headers["Content-Type"], **extra)


def to_anymail(request: Request, *, with_auth: bool = True) -> HttpResponse:
    """Hand what arrived to anymail's Mailgun inbound view, as Django would call it."""
    return MailgunInboundWebhookView.as_view()(django_request(request, with_auth=with_auth))


def through_django(request: Request) -> HttpResponse:
    """Hand what arrived to Django's full request handler, routed by anymail.urls."""
    return Client().generic("POST", request.path, data=request.get_data(),
                            content_type=request.headers["Content-Type"])


def files_of(message: AnymailInboundMessage) -> list[tuple[str | None, str | None, str, bytes]]:
    """(disposition, filename, content type, bytes) of anymail's attachments and inlines, sorted."""
    parts = [*message.attachments, *message.inlines]
    return sorted((p.get_content_disposition(), p.get_filename(), p.get_content_type(), p.get_content_bytes())
                  for p in parts)


def expected_files(raw: bytes) -> list[tuple[str | None, str | None, str, bytes]]:
    """The same tuples for every file part of the original message."""
    parts = [p for p in oracle(raw).walk() if not p.is_multipart() and p.get_filename()]
    return sorted((p.get_content_disposition(), p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
                  for p in parts)


def expected_cids(raw: bytes) -> dict[str, str | None]:
    """Content-ID (without <>) to filename for every inline part of the original message."""
    return {p["Content-ID"].strip().strip("<>"): p.get_filename()
            for p in oracle(raw).walk() if p.get_content_disposition() == "inline" and p["Content-ID"]}


def addresses(header: Any) -> list[tuple[str, str]]:
    return [(a.display_name, a.addr_spec) for a in (header.addresses if header is not None else ())]


def assert_same_message(message: AnymailInboundMessage, raw: bytes) -> None:
    """Anymail's message says what the original message says: addresses, subject, bodies, files."""
    want = oracle(raw)
    assert (message.from_email.display_name, message.from_email.addr_spec) == addresses(want["From"])[0]
    assert [(a.display_name, a.addr_spec) for a in message.to] == addresses(want["To"])
    assert [(a.display_name, a.addr_spec) for a in message.cc] == addresses(want["Cc"])
    assert message.subject == want["Subject"]
    assert message["Message-ID"] == want["Message-ID"]
    assert message.date == want["Date"].datetime
    plain, html = want.get_body(("plain",)), want.get_body(("html",))
    assert message.text == (lf(plain.get_content()) if plain else None)
    assert message.html == (lf(html.get_content()) if html else None)
    assert files_of(message) == expected_files(raw)
    assert {cid: part.get_filename() for cid, part in message.content_id_map.items()} == expected_cids(raw)


def assert_event_of_post(seen: Inbound, mock: MailgunMock, request: Request, raw: bytes,
                         recipient: str) -> AnymailInboundEvent:
    """Exactly one inbound event, carrying the POST's token, timestamp (the wall-clock time of the POST) and envelope."""
    (event, esp_name), = seen
    posted = request.form
    assert esp_name == "Mailgun"
    assert event.event_type == "inbound"
    assert event.event_id == posted["token"]
    assert event.timestamp == datetime.fromtimestamp(int(posted["timestamp"]), tz=timezone.utc)
    assert 0 <= time.time() - event.timestamp.timestamp() < 60
    message = event.message
    assert message.envelope_recipient == recipient
    assert message.envelope_sender == addresses(oracle(raw)["From"])[0][1]
    assert message.spam_detected is False and message.spam_score is None
    return event


@pytest.mark.parametrize("fixture", ANYMAIL_FIXTURES)
def test_anymail_parsed_form_yields_the_message(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                anymail_inbound: Inbound, fixture: str) -> None:
    """Anymail accepts a parsed-form forward, signature checked, and rebuilds the message with its files."""
    receiver.expect_request(ANYMAIL_PARSED, method="POST").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for(ANYMAIL_PARSED)}")')
    raw = (FIXTURES / fixture).read_bytes()
    mailgun_mock.inject(raw, recipients=["in@example.com"])
    request = the_post(receiver)
    assert "body-mime" not in request.form

    response = to_anymail(request)

    assert response.status_code == 200
    event = assert_event_of_post(anymail_inbound, mailgun_mock, request, raw, "in@example.com")
    assert_same_message(event.message, raw)
    assert event.message.stripped_text == request.form["stripped-text"] != ""
    assert event.message.stripped_html == request.form.get("stripped-html")


@pytest.mark.parametrize("fixture", ANYMAIL_FIXTURES)
def test_anymail_raw_mime_form_yields_the_exact_message(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                        anymail_inbound: Inbound, fixture: str) -> None:
    """Anymail's inbound_mime URL gets body-mime; it accepts it and parses the original bytes."""
    receiver.expect_request(ANYMAIL_MIME, method="POST").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for(ANYMAIL_MIME)}")')
    raw = (FIXTURES / fixture).read_bytes()
    mailgun_mock.inject(raw, recipients=["in@example.com"])
    request = the_post(receiver)

    response = to_anymail(request)

    assert response.status_code == 200
    event = assert_event_of_post(anymail_inbound, mailgun_mock, request, raw, "in@example.com")
    assert event.esp_event.POST["body-mime"].encode("utf-8") == raw
    assert_same_message(event.message, raw)


@pytest.mark.parametrize("url_path", [ANYMAIL_PARSED, ANYMAIL_MIME])
def test_anymail_rejects_the_post_under_a_wrong_signing_key(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                            anymail_inbound: Inbound, url_path: str) -> None:
    """With another signing key anymail refuses the POST (400 through Django) and sends no signal."""
    receiver.expect_request(url_path, method="POST").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for(url_path)}")')
    mailgun_mock.inject((FIXTURES / "attachment-pdf.eml").read_bytes(), recipients=["in@example.com"])
    request = the_post(receiver)

    with override_settings(ANYMAIL={"MAILGUN_WEBHOOK_SIGNING_KEY": "not-the-" + mailgun_mock.signing_key}):
        with pytest.raises(AnymailWebhookValidationFailure, match="incorrect signature"):
            to_anymail(request)
        assert through_django(request).status_code == 400
    assert anymail_inbound == []
    assert through_django(request).status_code == 200  # the same bytes pass under the mock's key
    assert len(anymail_inbound) == 1


def test_anymail_checks_basic_auth_from_the_forward_url(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                        anymail_inbound: Inbound) -> None:
    """Credentials in the forward URL arrive as basic auth, which anymail's WEBHOOK_SECRET checks."""
    receiver.expect_request(ANYMAIL_PARSED, method="POST").respond_with_data("ok")
    url = receiver.url_for(ANYMAIL_PARSED).replace("http://", "http://anymail:s3cret@", 1)
    route(mailgun_mock, "catch_all()", f'forward("{url}")')
    mailgun_mock.inject((FIXTURES / "plain-text.eml").read_bytes(), recipients=["in@example.com"])
    request = the_post(receiver)
    anymail_settings = {"MAILGUN_WEBHOOK_SIGNING_KEY": mailgun_mock.signing_key, "WEBHOOK_SECRET": "anymail:s3cret"}

    with override_settings(ANYMAIL=anymail_settings):
        with pytest.raises(AnymailWebhookValidationFailure, match="basic auth"):
            to_anymail(request, with_auth=False)
        assert anymail_inbound == []
        assert to_anymail(request).status_code == 200
    assert len(anymail_inbound) == 1


@pytest.mark.parametrize("fixture", ["attachment-pdf.eml", "plain-text.eml"])
def test_anymail_refuses_a_store_notify_post_as_misconfigured(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                              anymail_inbound: Inbound, fixture: str) -> None:
    """A store(notify=) POST passes the signature check, then anymail's store() detection refuses it."""
    receiver.expect_request(ANYMAIL_PARSED, method="POST").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'store(notify="{receiver.url_for(ANYMAIL_PARSED)}")')
    mailgun_mock.inject((FIXTURES / fixture).read_bytes(), recipients=["in@example.com"])
    request = the_post(receiver)
    assert "attachments" in request.form  # what anymail keys on, with or without attachments

    with pytest.raises(AnymailConfigurationError, match=r"receiving route using the store\(\) action"):
        to_anymail(request)
    assert anymail_inbound == []


# -- Rails Action Mailbox ----------------------------------------------------------------------
# A Python port of the Mailgun ingress of Rails Action Mailbox:
#   actionmailbox/app/controllers/action_mailbox/ingresses/mailgun/inbound_emails_controller.rb
# with the route from actionmailbox/config/routes.rb and the parts of Rack and
# ActionDispatch::Request#POST that the controller relies on (last value of a key wins; string
# parameters must be valid UTF-8, or the request is a 400).
#
# The port does not model ensure_configured, which answers 404 unless config.action_mailbox.ingress
# is :mailgun. It also leaves out the database, Active Storage and Active Job: the stored source is
# returned instead. ActionController::ParameterMissing is mapped to 400, as ActionDispatch does; the
# controller's comment says 422.

RAILS_MAILGUN_PATH = "/rails/action_mailbox/mailgun/inbound_emails/mime"
RAILS_MAX_AGE = 120  # Authenticator#recent?: Time.at(timestamp) >= 2.minutes.ago


@dataclasses.dataclass
class RailsAnswer:
    """The status the ingress answers, and what InboundEmail.create_and_extract_message_id! stores."""

    status: int
    source: bytes | None = None
    message_id: str | None = None


class _Upload:
    """A multipart part with a filename: Rack makes it an uploaded file, not a String."""


def rack_params(content_type: str, body: bytes) -> list[tuple[str, bytes | _Upload]]:
    """The POSTed parameters in order, as Rack reads form bodies (values are raw bytes)."""
    mimetype = content_type.partition(";")[0].strip().lower()
    if mimetype == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
        return [(name.encode("latin-1").decode("utf-8", "replace"), value.encode("latin-1"))
                for name, value in pairs]
    if mimetype == "multipart/form-data":
        head = b"Content-Type: " + content_type.encode() + b"\r\n\r\n"
        form = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        result: list[tuple[str, bytes | _Upload]] = []
        for part in form.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            result.append((name, _Upload() if part.get_filename() is not None else part.get_payload(decode=True)))
        return result
    return []  # any other body gives Rails no request parameters


def _ruby_integer(text: str) -> int:
    """Ruby's Integer(String): as int(text, 0), but a leading 0 means octal (Integer("010") == 8)."""
    text = text.strip()
    digits = text.lstrip("+-")
    sign = text[: len(text) - len(digits)]
    if len(sign) <= 1 and len(digits) > 1 and digits[0] == "0" and digits[1] in "01234567_":
        text = sign + "0o" + digits[1:]
    return int(text, 0)


class _Halt(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def rails_mailgun_ingress(method: str, url_path: str, content_type: str, body: bytes, *,
                          signing_key: str, now: float) -> RailsAnswer:
    """Answer one request the way Action Mailbox's Mailgun ingress would, at time ``now``."""
    if method != "POST" or url_path.rstrip("/") != RAILS_MAILGUN_PATH:
        return RailsAnswer(404)  # no route matches
    params: dict[str, bytes | _Upload] = dict(rack_params(content_type, body))  # the last value wins
    try:
        text = {name: value.decode("utf-8") for name, value in params.items() if isinstance(value, bytes)}
    except UnicodeDecodeError:
        return RailsAnswer(400)  # ActionController::BadRequest: invalid encoding for a parameter

    def require(name: str) -> str | _Upload:
        # ActionController::Parameters#require: missing or blank is ParameterMissing.
        value = text.get(name, params.get(name))
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _Halt(400)
        return value

    try:
        # before_action :authenticate
        if not signing_key:
            raise _Halt(500)  # ArgumentError: "Missing required Mailgun Signing key"
        timestamp, token, signature = require("timestamp"), require("token"), require("signature")
        if not all(isinstance(v, str) for v in (timestamp, token, signature)):
            raise _Halt(500)
        try:
            seconds = _ruby_integer(str(timestamp))  # Authenticator#initialize: Integer(timestamp)
        except ValueError:
            raise _Halt(500) from None
        expected = hmac.new(signing_key.encode(), f"{seconds}{token}".encode(), hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(str(signature).encode(), expected.encode())  # secure_compare
        recent = seconds >= now - RAILS_MAX_AGE
        if not (signed and recent):
            raise _Halt(401)  # head :unauthorized
        # create: InboundEmail.create_and_extract_message_id! params.require("body-mime")
        source = require("body-mime")
        if not isinstance(source, str):
            raise _Halt(500)  # an uploaded file is not the String the model expects
    except _Halt as halt:
        return RailsAnswer(halt.status)
    raw = source.encode("utf-8")
    return RailsAnswer(204, raw, _rails_message_id(raw))


def _rails_message_id(source: bytes) -> str:
    """InboundEmail's message_id: Mail's (no angle brackets), or one made from the checksum."""
    header = BytesParser(policy=policy.compat32).parsebytes(source, headersonly=True)["Message-ID"]
    if header is not None and str(header).strip():
        return str(header).strip().strip("<>")
    return f"{hashlib.sha1(source).hexdigest()}@{socket.gethostname()}.mail"


def to_rails(mock: MailgunMock, request: Request, body: bytes | None = None, later: float = 0.0) -> RailsAnswer:
    """Hand what arrived (or an edited body) to the ported ingress, judged by the app's own (wall) clock,
    ``later`` seconds from now."""
    return rails_mailgun_ingress(request.method, request.path, request.headers["Content-Type"],
                                 request.get_data() if body is None else body,
                                 signing_key=mock.signing_key, now=time.time() + later)


def edited(request: Request, **changes: str) -> bytes:
    """The POST's parameters with some values replaced, urlencoded again (other bytes unchanged)."""
    pairs = rack_params(request.headers["Content-Type"], request.get_data())
    assert all(isinstance(value, bytes) for _, value in pairs)
    out = [(name, changes[name].encode() if name in changes else value) for name, value in pairs]
    return urlencode([(name.encode("utf-8"), value) for name, value in out]).encode("ascii")


def message_id_of(raw: bytes) -> str:
    """The original's Message-ID without angle brackets, as the Mail gem's message_id gives it."""
    return str(oracle(raw)["Message-ID"]).strip().removeprefix("<").removesuffix(">")


@pytest.fixture
def rails_route(mailgun_mock: MailgunMock, receiver: HTTPServer) -> str:
    """A route forwarding everything to the Rails ingress URL (on the receiver)."""
    receiver.expect_request(RAILS_MAILGUN_PATH, method="POST").respond_with_data("ok")
    return route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for(RAILS_MAILGUN_PATH)}")')


@pytest.mark.parametrize("fixture", ["plain-text.eml", "inline-images.eml", "rfc2047-utf8.eml",
                                     "cjk-iso2022jp.eml", "long-folded-headers.eml"])
def test_rails_ingress_accepts_the_mime_forward_byte_for_byte(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                              rails_route: str, fixture: str) -> None:
    """The ingress authenticates the mock's POST and stores body-mime equal to the original bytes."""
    raw = (FIXTURES / fixture).read_bytes()
    mailgun_mock.inject(raw, recipients=["in@example.com"])

    answer = to_rails(mailgun_mock, the_post(receiver))

    assert answer.status == 204
    assert answer.source == raw
    assert answer.message_id == message_id_of(raw)


def test_rails_ingress_rejects_a_replayed_old_timestamp(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                        rails_route: str) -> None:
    """The same POST replayed more than 2 minutes later by the app's clock is unauthorized."""
    mailgun_mock.inject((FIXTURES / "plain-text.eml").read_bytes(), recipients=["in@example.com"])
    request = the_post(receiver)
    assert to_rails(mailgun_mock, request).status == 204

    assert to_rails(mailgun_mock, request, later=RAILS_MAX_AGE + 1) == RailsAnswer(401)


def test_rails_ingress_accepts_a_retry_signed_afresh(mailgun_mock: MailgunMock, receiver: HTTPServer) -> None:
    """A retry 10 minutes later on the mock's clock is signed afresh with the wall-clock time of its POST,
    so the ingress accepts it, though the event it reports is 10 minutes later."""
    receiver.expect_oneshot_request(RAILS_MAILGUN_PATH, method="POST").respond_with_data("down", status=500)
    receiver.expect_request(RAILS_MAILGUN_PATH, method="POST").respond_with_data("ok")
    route(mailgun_mock, "catch_all()", f'forward("{receiver.url_for(RAILS_MAILGUN_PATH)}")')
    raw = (FIXTURES / "rfc2047-utf8.eml").read_bytes()
    mailgun_mock.inject(raw, recipients=["in@example.com"])

    mailgun_mock.advance_clock(600)

    (first, _), (retry, _) = receiver.log
    assert first.form["token"] != retry.form["token"] and first.form["signature"] != retry.form["signature"]
    answer = to_rails(mailgun_mock, retry)
    assert answer.status == 204 and answer.source == raw
    assert to_rails(mailgun_mock, retry, later=RAILS_MAX_AGE + 1) == RailsAnswer(401)


@pytest.mark.parametrize("field", ["signature", "token", "timestamp"])
def test_rails_ingress_rejects_a_tampered_field(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                rails_route: str, field: str) -> None:
    """Changing the signature, or the token or timestamp it signs, makes the POST unauthorized."""
    mailgun_mock.inject((FIXTURES / "plain-text.eml").read_bytes(), recipients=["in@example.com"])
    request = the_post(receiver)
    original = request.form[field]
    if field == "timestamp":
        tampered = str(int(original) - 1)  # still recent, but not what was signed
    else:
        tampered = original[:-1] + ("0" if original[-1] != "0" else "1")

    assert to_rails(mailgun_mock, request, edited(request)).status == 204  # re-encoding alone changes nothing
    assert to_rails(mailgun_mock, request, edited(request, **{field: tampered})) == RailsAnswer(401)


def test_rails_ingress_rejects_another_signing_key(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                   rails_route: str) -> None:
    """An app holding a different Mailgun signing key refuses the mock's POST."""
    mailgun_mock.inject((FIXTURES / "plain-text.eml").read_bytes(), recipients=["in@example.com"])
    request = the_post(receiver)

    answer = rails_mailgun_ingress(request.method, request.path, request.headers["Content-Type"],
                                   request.get_data(), signing_key="not-the-" + mailgun_mock.signing_key,
                                   now=time.time())

    assert answer == RailsAnswer(401)
