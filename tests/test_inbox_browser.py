"""The web inbox in a real browser: Playwright for Python driving Debian's Chromium (one per session).

Without /usr/bin/chromium (or the playwright package) these tests skip with one line saying so,
except under CI=true, where a missing browser fails: `make test` installs it as root.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (fails under CI=true) saying so
    expect = None

from mailgun_mock import MailgunMock
from mailgun_mock.wire.signing import verify

CHROMIUM = os.environ.get("MAILGUN_MOCK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = pathlib.Path(__file__).resolve().parent.parent / "test-artifacts"
HOSTILE = '<img src=x onerror="window.__pwned=1">'
WAIT = 10_000  # ms Playwright waits for something to show up (not a timing assertion)


def _missing_browser() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (as root, `make test` installs Debian's chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    reason = _missing_browser()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, mailgun_mock: MailgunMock) -> Iterator[Any]:
    """A fresh browser page on the session's server; script errors on it fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(WAIT)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.base = mailgun_mock.url
    yield tab
    context.close()
    assert errors == []


def shot(page: Any, name: str) -> None:
    """Save a screenshot of the page under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def send(mock: MailgunMock, **fields: Any) -> None:
    """Send a message through the real API."""
    data = {"from": "App <app@example.com>", "to": "bob@example.net", "subject": "Hello", "text": "Hi", **fields}
    reply = mock.session.post(f"{mock.url}/v3/example.com/messages", data=data, timeout=10)
    assert reply.status_code == 200, reply.text
    mock.settle()


def row(page: Any, subject: str) -> Any:
    """The list row whose subject is exactly ``subject``."""
    return page.locator("[data-testid=message-row]").filter(
        has=page.locator("[data-testid=row-subject]", has_text=re.compile(f"^{re.escape(subject)}$")))


def open_message(page: Any, subject: str) -> None:
    """Click the row with this subject and wait for the message view."""
    row(page, subject).click()
    page.locator("[data-testid=detail-subject]", has_text=subject).wait_for()


def test_browser_sent_and_injected_mail_appear_without_reload(page: Any, mailgun_mock: MailgunMock) -> None:
    """A message sent through the API and one injected show up in an open page, live; the unread count is in the title."""
    page.goto(page.base + "/")
    page.locator("[data-testid=list-empty]").wait_for()
    page.evaluate("window.__sameDocument = true")
    send(mailgun_mock, subject="Sent while watching")
    row(page, "Sent while watching").wait_for()
    mailgun_mock.inject(from_="Eve <eve@example.net>", to=["support@example.com"], subject="Injected while watching",
                        text="hello")
    row(page, "Injected while watching").wait_for()
    assert page.evaluate("window.__sameDocument") is True
    expect(page).to_have_title(re.compile(r"^\(2\) Inbox"))
    shot(page, "messages")


def test_browser_html_view_runs_no_script_and_loads_no_remote_image(page: Any, mailgun_mock: MailgunMock,
                                                                    httpserver: Any) -> None:
    """The HTML part shows in a sandbox: its script changes nothing and its remote image loads only on request."""
    httpserver.expect_request("/pixel.png").respond_with_data(b"GIF89a", content_type="image/gif")
    httpserver.expect_request("/from-script").respond_with_data("x")
    pixel, fetched = httpserver.url_for("/pixel.png"), httpserver.url_for("/from-script")
    send(mailgun_mock, subject="Scripted", html=f'<p id="x">before</p><img src="{pixel}" alt="pixel">'
         f"<script>document.getElementById('x').textContent='after'; fetch('{fetched}'); parent.__pwned=1</script>")
    page.goto(page.base + "/")
    open_message(page, "Scripted")
    frame = page.frame_locator("[data-testid=message-iframe]")
    assert frame.locator("#x").text_content() == "before"
    mail_frame = next(f for f in page.frames if f.url.endswith("/html"))
    mail_frame.wait_for_load_state("load")  # the image would have been fetched before the load event
    assert [r.path for r, _ in httpserver.log] == []
    with page.expect_request(pixel):
        page.click("[data-testid=remote-images]")
    next(f for f in page.frames if f.url.endswith("/html?remote=1")).wait_for_load_state("load")
    assert [r.path for r, _ in httpserver.log] == ["/pixel.png"]  # the image, on request; never the script's fetch
    assert frame.locator("#x").text_content() == "before"
    assert page.evaluate("window.__pwned") is None
    shot(page, "message")


def test_browser_hostile_subject_and_filename_render_as_text(page: Any, mailgun_mock: MailgunMock) -> None:
    """A subject, sender, tag and file name written as markup show as their text, and nothing runs."""
    mailgun_mock.inject(from_=f"Eve {HOSTILE} <eve@example.net>", to=["support@example.com"], subject=HOSTILE,
                        text="x", attachments=[(f"{HOSTILE}.txt", b"data", "text/plain")],
                        headers=[("X-Mailgun-Tag", HOSTILE)])
    page.goto(page.base + "/")
    row(page, HOSTILE).wait_for()
    assert page.locator("[data-testid=row-tag]").first.text_content() == HOSTILE
    open_message(page, HOSTILE)
    assert page.locator("[data-testid=detail-subject]").text_content() == HOSTILE
    assert page.locator("[data-testid=attachment-name]").text_content() == f"{HOSTILE}.txt"
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_browser_search_finds_by_subject(page: Any, mailgun_mock: MailgunMock) -> None:
    """Typing in the search box narrows the list to the message whose subject has the words."""
    for subject in ("Invoice March", "Pineapple delivery", "Welcome aboard"):
        send(mailgun_mock, subject=subject)
    page.goto(page.base + "/")
    row(page, "Welcome aboard").wait_for()
    page.keyboard.press("/")
    page.keyboard.type("pineapple")
    expect(page.locator("[data-testid=message-row]")).to_have_count(1)
    assert page.locator("[data-testid=row-subject]").text_content() == "Pineapple delivery"


def test_browser_keyboard_moves_and_deletes(page: Any, mailgun_mock: MailgunMock) -> None:
    """j and k move through the list opening each message; Delete deletes the open one."""
    for subject in ("One", "Two", "Three"):
        send(mailgun_mock, subject=subject)
    page.goto(page.base + "/")
    row(page, "One").wait_for()
    page.keyboard.press("j")
    page.locator("[data-testid=detail-subject]", has_text="Three").wait_for()
    page.keyboard.press("j")
    page.locator("[data-testid=detail-subject]", has_text="Two").wait_for()
    page.keyboard.press("k")
    page.locator("[data-testid=detail-subject]", has_text="Three").wait_for()
    page.keyboard.press("Delete")
    row(page, "Three").wait_for(state="detached")
    assert [m["subject"] for m in mailgun_mock.outbox] == ["One", "Two"]


def test_browser_route_trace_shows_the_matched_route_and_captures(page: Any, mailgun_mock: MailgunMock) -> None:
    """An inbound message's view lists each route evaluated, the one that matched, and its captures."""
    mailgun_mock.create_route('match_recipient("nobody@.*")', "stop()", priority=0)
    mailgun_mock.create_route('match_recipient("(?P<team>\\w+)@example.com")', "store()", priority=1)
    mailgun_mock.inject(from_="a@example.net", to=["sales@example.com"], subject="Traced", text="x")
    page.goto(page.base + "/")
    open_message(page, "Traced")
    routes = page.locator("[data-testid=trace-route]")
    assert routes.count() == 2
    assert routes.nth(0).get_attribute("data-matched") == "no" and routes.nth(1).get_attribute("data-matched") == "yes"
    assert "team=sales" in [c.text_content() for c in routes.nth(1).locator("[data-testid=capture]").all()]
    page.locator("[data-testid=trace]").scroll_into_view_if_needed()
    shot(page, "message-trace")


def test_browser_failing_receiver_retries_then_retry_now_delivers(page: Any, mailgun_mock: MailgunMock,
                                                                  httpserver: Any) -> None:
    """The deliveries page shows a failed attempt waiting to retry; 'Retry now' delivers it and the page updates."""
    httpserver.expect_oneshot_request("/hook").respond_with_data("down", status=503)
    mailgun_mock.create_route("catch_all()", f'forward("{httpserver.url_for("/hook")}")')
    mailgun_mock.inject(from_="a@example.net", to=["b@example.com"], subject="Retry me", text="x")
    page.goto(page.base + "/deliveries")
    assert page.locator("[data-testid=delivery-outcome]").first.text_content() == "retrying"
    page.locator("[data-testid=delivery-payload]").first.locator("summary").click()
    page.locator("[data-testid=signature-ok]").first.wait_for()
    httpserver.expect_request("/hook").respond_with_data("ok")
    page.click("[data-testid=retry-now]")
    page.locator("[data-testid=delivery-row][data-outcome=delivered]").wait_for()
    assert [a["outcome"] for a in mailgun_mock.deliveries] == ["retrying", "delivered"]
    shot(page, "deliveries")


def test_browser_trigger_click_fires_the_signed_webhook(page: Any, mailgun_mock: MailgunMock, httpserver: Any) -> None:
    """'Trigger click' in a sent message's timeline logs a clicked event and POSTs it, signed, to the domain webhook."""
    httpserver.expect_request("/events").respond_with_data("ok")
    mailgun_mock.session.post(f"{mailgun_mock.url}/v3/domains/example.com/webhooks", timeout=10,
                              data={"id": "clicked", "url": httpserver.url_for("/events")})
    send(mailgun_mock, subject="Click me", html='<a href="https://app.example/offer">offer</a>')
    page.goto(page.base + "/")
    open_message(page, "Click me")
    page.click("[data-testid=trigger-clicked]")
    page.locator("[data-testid=timeline-event][data-event=clicked]").wait_for()
    mailgun_mock.wait_for_deliveries(1, kind="webhook:clicked", outcome="delivered")
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["event-data"]["event"] == "clicked" and body["event-data"]["recipient"] == "bob@example.net"
    signature = body["signature"]
    assert verify(mailgun_mock.signing_key, signature["timestamp"], signature["token"], signature["signature"])


def test_browser_bad_route_expression_shows_the_api_message(page: Any, mailgun_mock: MailgunMock) -> None:
    """Creating a route with a bad expression shows the message the Routes API answers, and creates nothing."""
    expected = mailgun_mock.session.post(f"{mailgun_mock.url}/v3/routes", timeout=10,
                                         data={"expression": 'match_recipient("a', "action": "stop()"}).json()["message"]
    page.goto(page.base + "/routes")
    page.fill("[data-testid=route-expression]", 'match_recipient("a')
    page.fill("[data-testid=route-actions]", "stop()")
    page.click("[data-testid=route-create]")
    page.locator("[data-testid=form-error]").wait_for()
    assert page.locator("[data-testid=form-error]").text_content() == expected
    assert mailgun_mock.backend.store.routes() == []
    page.fill("[data-testid=route-expression]", 'match_recipient("(?P<who>.*)@example.com")')
    page.click("[data-testid=route-create]")
    page.locator("[data-testid=route-row]").wait_for()
    page.fill("[data-testid=dry-run-address]", "zoe@example.com")
    page.click("[data-testid=dry-run]")
    page.locator("[data-testid=dry-run-route][data-matched=yes]").wait_for()
    shot(page, "routes")


def test_browser_form_and_eml_drop_reach_the_app(page: Any, mailgun_mock: MailgunMock, httpserver: Any) -> None:
    """The simulate form and an .eml dropped on the page both go through the routes to the app's receiver."""
    httpserver.expect_request("/inbound").respond_with_data("ok")
    mailgun_mock.create_route('match_recipient("support@example.com")', f'forward("{httpserver.url_for("/inbound")}")')
    page.goto(page.base + "/simulate")
    shot(page, "simulate")
    page.fill("[data-testid=inbound-to]", "support@example.com")
    page.fill("[data-testid=inbound-subject]", "From the form")
    page.fill("[data-testid=inbound-text]", "typed in a browser")
    page.click("[data-testid=inbound-send]")
    page.wait_for_url(re.compile(r"/messages/"))
    page.locator("[data-testid=trace-route][data-matched=yes]").wait_for()
    mailgun_mock.wait_for_deliveries(1, outcome="delivered")
    page.goto(page.base + "/simulate")
    eml = "From: Ann <ann@example.net>\r\nTo: support@example.com\r\nSubject: Dropped eml\r\n\r\nfrom a file\r\n"
    page.evaluate("""(text) => {
        const data = new DataTransfer();
        data.items.add(new File([text], "dropped.eml", {type: "message/rfc822"}));
        const zone = document.querySelector("[data-testid=eml-drop]");
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""", eml)
    page.wait_for_url(re.compile(r"/messages/"))
    page.locator("[data-testid=detail-subject]", has_text="Dropped eml").wait_for()
    mailgun_mock.wait_for_deliveries(2, outcome="delivered")
    subjects = [dict(r.form)["subject"] for r, _ in httpserver.log]
    assert subjects == ["From the form", "Dropped eml"]


def test_browser_every_page_renders(page: Any, mailgun_mock: MailgunMock) -> None:
    """Each page opens without a script error (screenshots under test-artifacts/), narrow and dark too."""
    mailgun_mock.create_route('match_recipient("(?P<team>support|sales)@example.com")', "store()", "stop()")
    mailgun_mock.inject(from_="Ann Lee <ann@example.net>", to=["support@example.com"], subject="Order 1042 has not arrived",
                        text="Hi,\n\nmy order 1042 has not arrived yet.\n\n-- \nAnn")
    send(mailgun_mock, to="carol@example.net", subject="Your invoice for March", **{"o:tag": "billing"},
         html="<h2>Invoice</h2><p>Amount due: <b>42.00 EUR</b></p><p><a href='https://app.example/pay'>Pay now</a></p>")
    send(mailgun_mock, subject="Screenshot", **{"o:tag": "demo"},
         text="Your verification code is 493817.", html="<h1 style='color:#c02f4e'>Welcome, Bob!</h1>"
         "<p>Your verification code is <b>493817</b>.</p><p><a href='https://app.example/confirm'>Confirm</a></p>")
    page.goto(page.base + "/")
    open_message(page, "Screenshot")
    page.frame_locator("[data-testid=message-iframe]").locator("h1").wait_for()
    shot(page, "inbox")
    mailgun_mock.session.post(f"{mailgun_mock.url}/v3/domains/example.com/webhooks", timeout=10,
                              data={"id": "delivered", "url": "http://127.0.0.1:9/events"})
    mailgun_mock.session.post(f"{mailgun_mock.url}/mock/rules", json={"match": {"recipient": "^b"}, "outcome": "open"},
                              timeout=10)
    for name in ("events", "webhooks", "suppressions", "rules"):
        page.goto(page.base + f"/{name}?domain=example.com")
        page.locator("h1").wait_for()
        shot(page, name)
    page.set_viewport_size({"width": 420, "height": 800})
    page.emulate_media(color_scheme="dark")
    page.goto(page.base + "/")
    open_message(page, "Screenshot")
    assert page.locator("[data-testid=message-list]").is_hidden()
    shot(page, "message-narrow-dark")
    page.click("[data-testid=back]")
    page.locator("[data-testid=message-list]").wait_for()


def test_browser_inline_image_shows_in_the_sandboxed_view(page: Any, mailgun_mock: MailgunMock) -> None:
    """A cid: image of a multipart/related mail loads inside the sandboxed view (its frame's origin is opaque)."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))
    mailgun_mock.inject(b"From: a@example.net\r\nTo: b@example.com\r\nSubject: Logo\r\nMIME-Version: 1.0\r\n"
                        b"Content-Type: multipart/related; boundary=B\r\n\r\n--B\r\nContent-Type: text/html\r\n\r\n"
                        b'<img id="logo" src="cid:logo@x">\r\n--B\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n'
                        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(png) + b"\r\n--B--\r\n")
    page.goto(page.base + "/")
    open_message(page, "Logo")
    logo = page.frame_locator("[data-testid=message-iframe]").locator("#logo")
    logo.wait_for()
    next(f for f in page.frames if f.url.endswith("/html")).wait_for_load_state("load")
    assert logo.evaluate("img => img.naturalWidth") == 1
