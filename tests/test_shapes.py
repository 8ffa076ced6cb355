"""The shape check in one place: every documented Mailgun operation the mock serves, exercised once and
its answers validated against Mailgun's own OpenAPI document (corrections listed in
``mailgun_mock/http/openapi_mailgun.py``)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.http.app import create_app
from mailgun_mock.http.openapi_mailgun import CORRECTIONS, mailgun_operation
from tests import shapes
from tests.api.test_accounts import accounts_scenario
from tests.api.test_analytics import exercise as exercise_analytics
from tests.conftest import Api
from tests.shapes import ShapeRecorder, served_documented_paths, template_for
from tests.shapes_infra import infra_scenario

D = "example.com"
RAW = (b"From: Ann <ann@example.net>\r\nTo: help@example.com\r\nSubject: Hi\r\nMessage-ID: <s1@example.net>\r\n"
       b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello\r\n")


class OfflineTransport:
    """Webhook POSTs that never leave the process."""

    def post(self, url: str, body: bytes, content_type: str, timeout: float) -> int:
        return 200


def served_operations() -> set[str]:
    """``METHOD template`` for every served rule and method that Mailgun's document describes."""
    app = create_app(Backend(Config()))
    found = set()
    for rule in app.url_map.iter_rules():
        template = template_for(re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", "x", rule.rule))
        for method in rule.methods or ():
            if template is not None and mailgun_operation(template, method) is not None:
                found.add(f"{method} {template}")
    return found


def scenario(api: Api) -> None:
    """One of everything: each call's answer is validated by the api fixture's recorder."""
    stored = {}

    def call(method: str, path: str, **kwargs: Any) -> Any:
        reply = api.request(method, path, **kwargs)
        assert reply.status < 500, (method, path, reply.text)
        return reply.json()

    # domains, tracking, credentials, DKIM, queues
    call("POST", "/v4/domains", data={"name": D})
    call("GET", "/v4/domains")
    call("GET", f"/v4/domains/{D}")
    call("PUT", f"/v4/domains/{D}", data={"spam_action": "tag"})
    call("PUT", f"/v4/domains/{D}/verify")
    call("GET", f"/v3/domains/{D}/tracking")
    for kind in ("open", "click", "unsubscribe"):
        call("PUT", f"/v3/domains/{D}/tracking/{kind}", data={"active": "yes"})
    call("POST", f"/v3/domains/{D}/credentials", data={"login": "bob", "password": "secret1"})
    call("GET", f"/v3/domains/{D}/credentials")
    call("PUT", f"/v3/domains/{D}/credentials/bob", data={"password": "secret2"})
    call("DELETE", f"/v3/domains/{D}/credentials/bob")
    call("DELETE", f"/v3/domains/{D}/credentials")
    call("PUT", f"/v3/domains/{D}/dkim_authority", data={"self": "yes"})
    call("PUT", f"/v3/domains/{D}/dkim_selector", data={"dkim_selector": "s1"})
    call("GET", f"/v3/domains/{D}/sending_queues")
    # templates
    call("POST", f"/v3/{D}/templates", data={"name": "t", "template": "<p>{{x}}</p>", "tag": "v1"})
    call("GET", f"/v3/{D}/templates")
    call("GET", f"/v3/{D}/templates/t", params={"active": "yes"})
    call("PUT", f"/v3/{D}/templates/t", data={"description": "d"})
    call("POST", f"/v3/{D}/templates/t/versions", data={"template": "<b>{{x}}</b>", "tag": "v2"})
    call("GET", f"/v3/{D}/templates/t/versions")
    call("GET", f"/v3/{D}/templates/t/versions/v2")
    call("PUT", f"/v3/{D}/templates/t/versions/v2", data={"comment": "c"})
    call("PUT", f"/v3/{D}/templates/t/versions/v2/copy/v3")
    call("DELETE", f"/v3/{D}/templates/t/versions/v3")
    # sending (template, list, tags), stored messages, events, envelopes
    call("POST", "/v3/lists", data={"address": f"list@{D}"})
    call("GET", "/v3/lists")
    call("GET", "/v3/lists/pages")
    call("GET", f"/v3/lists/list@{D}")
    call("PUT", f"/v3/lists/list@{D}", data={"name": "List"})
    call("POST", f"/v3/lists/list@{D}/members", data={"address": "m@x.example", "vars": '{"n": 1}'})
    call("GET", f"/v3/lists/list@{D}/members")
    call("GET", f"/v3/lists/list@{D}/members/pages")
    call("GET", f"/v3/lists/list@{D}/members/m@x.example")
    call("PUT", f"/v3/lists/list@{D}/members/m@x.example", data={"name": "M"})
    call("POST", f"/v3/lists/list@{D}/members.json", data={"members": json.dumps(["n@x.example"])})
    call("POST", f"/v3/lists/list@{D}/members.csv", files={"members": ("m.csv", b"address\no@x.example\n", "text/csv")})
    sent = call("POST", f"/v3/{D}/messages", data={"from": f"a@{D}", "to": [f"list@{D}", "b@x.example"],
                                                  "subject": "s", "template": "t", "o:tag": "news"})
    call("POST", f"/v3/{D}/messages.mime", data={"to": "c@x.example"}, files={"message": ("m.eml", RAW, "message/rfc822")})
    api.backend.delivery.run_due(10)
    page = call("GET", f"/v3/{D}/events", params={"limit": "5"})
    stored["url"] = next(e["storage"]["url"] for e in page["items"] if e.get("storage", {}).get("url"))
    key_path = "/" + stored["url"].split("/", 3)[3]
    call("GET", key_path)
    call("POST", key_path, data={"to": "d@x.example"})
    call("GET", f"/v3/{D}/tags")
    call("GET", f"/v3/{D}/tags", params={"prefix": "n", "limit": "1"})
    call("GET", f"/v3/{D}/tag", params={"tag": "news"})
    call("PUT", f"/v3/{D}/tag", params={"tag": "news", "description": "n"})
    call("GET", f"/v3/domains/{D}/limits/tag")
    call("DELETE", f"/v3/{D}/tag", params={"tag": "news"})
    call("DELETE", f"/v3/{D}/envelopes")
    assert sent["message"] == "Queued. Thank you."
    # suppressions
    for kind, record in (("bounces", {"address": "x@y.example", "code": "550"}), ("unsubscribes", {"address": "x@y.example"}),
                         ("complaints", {"address": "x@y.example"})):
        call("POST", f"/v3/{D}/{kind}", data=record)
        call("POST", f"/v3/{D}/{kind}", json=[{"address": "z@y.example"}])
        call("GET", f"/v3/{D}/{kind}")
        call("GET", f"/v3/{D}/{kind}/x@y.example")
        call("DELETE", f"/v3/{D}/{kind}/x@y.example")
        call("POST", f"/v3/{D}/{kind}/import", files={"file": ("f.csv", b"address\nw@y.example\n", "text/csv")})
        call("DELETE", f"/v3/{D}/{kind}")
    call("POST", f"/v3/{D}/whitelists", data={"address": "v@y.example"})
    call("GET", f"/v3/{D}/whitelists")
    call("GET", f"/v3/{D}/whitelists/v@y.example")
    call("DELETE", f"/v3/{D}/whitelists/v@y.example")
    call("POST", f"/v3/{D}/whitelists/import", files={"file": ("f.csv", b"domain\npartner.example\n", "text/csv")})
    call("DELETE", f"/v3/{D}/whitelists")
    # webhooks
    call("POST", f"/v3/domains/{D}/webhooks", data={"id": "delivered", "url": "http://127.0.0.1:9/a"})
    call("GET", f"/v3/domains/{D}/webhooks")
    call("GET", f"/v3/domains/{D}/webhooks/delivered")
    call("PUT", f"/v3/domains/{D}/webhooks/delivered", data={"url": "http://127.0.0.1:9/b"})
    call("DELETE", f"/v3/domains/{D}/webhooks/delivered")
    call("POST", f"/v4/domains/{D}/webhooks", data={"url": "http://127.0.0.1:9/c", "event_types": "opened,clicked"})
    call("PUT", f"/v4/domains/{D}/webhooks", data={"url": "http://127.0.0.1:9/c", "event_types": "opened"})
    call("DELETE", f"/v4/domains/{D}/webhooks", params={"url": "http://127.0.0.1:9/c"})
    # routes
    route = call("POST", "/v3/routes", data={"expression": "catch_all()", "action": "stop()"})["route"]
    call("GET", "/v3/routes")
    call("GET", "/v3/routes/match", params={"address": "a@b.example"})
    call("GET", f"/v3/routes/{route['id']}")
    call("PUT", f"/v3/routes/{route['id']}", data={"priority": "2"})
    call("DELETE", f"/v3/routes/{route['id']}")
    # keys and account
    key = call("POST", "/v1/keys", data={"role": "admin"})["key"]
    call("GET", "/v1/keys")
    call("DELETE", f"/v1/keys/{key['id']}")
    call("POST", "/v1/keys/public")
    call("GET", "/v5/accounts/http_signing_key")
    call("POST", "/v5/accounts/http_signing_key")
    call("PUT", "/v5/accounts", params={"name": "ACME"})
    call("POST", "/v5/accounts/resend_activation_email")
    call("POST", "/v5/sandbox/auth_recipients", params={"email": "qa@x.example"})
    call("GET", "/v5/sandbox/auth_recipients")
    call("DELETE", "/v5/sandbox/auth_recipients/qa@x.example")
    exercise_analytics(call)  # stats, tags, metrics, logs, bounce classification
    accounts_scenario(call)  # subaccounts, limits, users, alerts
    infra_scenario(call, D)
    # deletions last
    call("DELETE", f"/v3/lists/list@{D}/members/m@x.example")
    call("DELETE", f"/v3/lists/list@{D}")
    call("DELETE", f"/v3/{D}/templates/t")
    call("DELETE", f"/v3/{D}/templates")
    call("DELETE", f"/v3/domains/{D}")


def test_shape_check_every_served_operation(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every documented operation the mock serves is exercised, and every answer matches Mailgun's schema."""
    recorder = ShapeRecorder()
    monkeypatch.setattr(shapes, "RECORDER", recorder)
    monkeypatch.setattr("tests.conftest.RECORDER", recorder)
    backend = Backend(Config(), transport=OfflineTransport())
    app = create_app(backend)
    app.testing = False
    scenario(Api("test_client", backend, "", app.test_client()))
    served, documented = served_documented_paths()
    missing = served_operations() - recorder.exercised
    with capsys.disabled():
        print(f"\nshape check: paths served {len(served)} / {documented}, responses validated {recorder.validated}, "
              f"mismatches {len(recorder.mismatches)} (corrections to the document: {len(CORRECTIONS)})")
    assert recorder.mismatches == []
    assert missing == set(), "served but never exercised"
    assert len(served) >= 60
