"""The OpenAPI document: valid 3.1, one-to-one with the URL map, and true to the mock's real answers."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from typing import Any

import pytest

from mailgun_mock.backend.core import Backend
from mailgun_mock.base.config import Config
from mailgun_mock.http.app import create_app
from mailgun_mock.http.openapi import openapi_document
from tests.conftest import Api

RAW = (b"From: Ann <ann@example.net>\r\nTo: help@example.com\r\nSubject: Invoice\r\nMessage-ID: <o1@example.net>\r\n"
       b"X-Custom: yes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
       b"Content-Type: text/plain\r\n\r\nHi there\r\n--b\r\nContent-Type: application/pdf\r\n"
       b"Content-Disposition: attachment; filename=invoice.pdf\r\n\r\n%PDF-1.4\r\n--b--\r\n")
METHODS = ("get", "put", "post", "delete", "patch")
# Documented operations not served yet (none: keep it empty unless one is planned).
PENDING: set[tuple[str, str]] = set()
SCHEMATHESIS_EXAMPLES = 8


class OfflineTransport:
    """Webhook POSTs that never leave the process."""

    def post(self, url: str, body: bytes, content_type: str, timeout: float) -> int:
        return 200


@functools.lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return openapi_document()


def operations() -> list[tuple[str, str]]:
    return [(path, method) for path, item in document()["paths"].items() for method in METHODS if method in item]


def template_of(rule: str) -> str:
    """A werkzeug rule as an OpenAPI path: ``<name>`` and ``<converter:name>`` become ``{name}``."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (one level, as the document uses them)."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = document()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target  # type: ignore[no-any-return]


def assert_conforms(reply: Any, method: str, template: str) -> None:
    """The reply's status is documented for the operation, with its content type and, for JSON, its schema."""
    from jsonschema import Draft202012Validator

    responses = document()["paths"][template][method.lower()]["responses"]
    status = str(reply.status)
    assert status in responses or f"{status[0]}XX" in responses, f"{method} {template}: {status} is not documented"
    response = resolve(responses.get(status) or responses[f"{status[0]}XX"])
    media = reply.headers["Content-Type"].split(";")[0].strip()
    content = response["content"].get(media) or response["content"].get("*/*")
    assert content is not None, f"{method} {template} {status}: {media} is not documented"
    for name, header in response.get("headers", {}).items():
        assert not header.get("required") or name in reply.headers, f"{method} {template}: no {name} header"
    if media == "application/json":
        schema = {"allOf": [content["schema"]], "components": document()["components"]}
        errors = sorted(Draft202012Validator(schema).iter_errors(reply.json()), key=str)
        assert not errors, f"{method} {template} {status}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


# -- the document itself ----------------------------------------------------------------------


def test_openapi_document_is_valid_openapi_31() -> None:
    """The document validates as OpenAPI 3.1 (openapi-spec-validator), servers included when given."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    doc = openapi_document("http://127.0.0.1:8025/")
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "http://127.0.0.1:8025"}]
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert "servers" not in openapi_document()


def test_openapi_document_matches_the_url_map() -> None:
    """Every rule of the app (bar static, HEAD and OPTIONS) is documented with its methods, and nothing else is."""
    app = create_app(Backend(Config()))
    served = {(template_of(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static" for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}
    documented = set(operations())
    assert served - documented == set(), "served but not documented"
    assert documented - served <= PENDING, "documented but not served"
    for path, method in documented:  # and every path parameter is declared
        item = document()["paths"][path]
        declared = {resolve(p)["name"] for p in item.get("parameters", []) + item[method].get("parameters", [])
                    if resolve(p)["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), f"{method} {path}"


def test_openapi_v2_mirrors_v3_and_ids_are_unique() -> None:
    """/v2 documents exactly the /v3 operations (beside the paths Mailgun itself puts under /v2: x509,
    the IP allowlist, bounce classification metrics); operationIds are unique; only /mock/health and the
    unsubscribe links (a recipient's click) need no auth."""
    from mailgun_mock.http.openapi_mailgun import mailgun_document

    ops = operations()
    own_v2 = {p for p in mailgun_document()["paths"] if p.startswith("/v2/")}
    v3 = {(p[3:], m) for p, m in ops if p.startswith("/v3/")}
    assert v3 == {(p[3:], m) for p, m in ops if p.startswith("/v2/") and p not in own_v2}
    ids = [document()["paths"][p][m]["operationId"] for p, m in ops]
    assert len(ids) == len(set(ids))
    public = [(p, m) for p, m in ops if document()["paths"][p][m].get("security") == []]
    assert public == [("/mock/health", "get"), ("/mock/unsubscribe/{token}", "get")]
    assert all("401" in document()["paths"][p][m]["responses"] for p, m in ops if (p, m) not in public)


def test_openapi_enumerations_match_the_mock() -> None:
    """The webhook names and rule outcomes the document enumerates are the mock's own."""
    from mailgun_mock.delivery.domain_webhooks import WEBHOOK_NAMES
    from mailgun_mock.http import openapi_schemas
    from mailgun_mock.lang.send_rules import OUTCOMES

    assert openapi_schemas.WEBHOOK_NAMES == WEBHOOK_NAMES
    assert openapi_schemas.OUTCOMES == OUTCOMES


def test_openapi_module_imports_nothing_heavy() -> None:
    """Building the document loads neither Flask, werkzeug, requests nor regex (it is pure)."""
    code = ("import sys; from mailgun_mock.http.openapi import openapi_document; openapi_document(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', 'requests', 'regex')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_openapi_document_is_a_fresh_copy() -> None:
    """Changing one returned document leaves the next one untouched."""
    first = openapi_document()
    first["components"]["schemas"]["Route"]["properties"].clear()
    first["paths"].clear()
    second = openapi_document()
    assert second["components"]["schemas"]["Route"]["properties"] and second["paths"]


# -- the mock's real answers against the document ----------------------------------------------


def test_openapi_routes_crud_conforms(api: Api) -> None:
    """Creating, listing, matching, reading, updating and deleting a route answer the documented shapes."""
    created = api.post("/v3/routes", data={"expression": 'match_recipient(".*@example.com")',
                                           "action": ['forward("http://127.0.0.1:9/hook")', "stop()"],
                                           "priority": "1", "description": "all"})
    assert_conforms(created, "POST", "/v3/routes")
    route_id = created.json()["route"]["id"]
    assert_conforms(api.get("/v3/routes", params={"limit": "10"}), "GET", "/v3/routes")
    assert_conforms(api.get("/v2/routes"), "GET", "/v2/routes")
    assert_conforms(api.get("/v3/routes/match", params={"address": "a@example.com"}), "GET", "/v3/routes/match")
    assert_conforms(api.get(f"/v3/routes/{route_id}"), "GET", "/v3/routes/{route_id}")
    updated = api.put(f"/v3/routes/{route_id}", data={"priority": "2", "action": "store()"})
    assert updated.status == 200
    assert_conforms(updated, "PUT", "/v3/routes/{route_id}")
    assert_conforms(api.delete(f"/v3/routes/{route_id}"), "DELETE", "/v3/routes/{route_id}")


def test_openapi_inbound_and_stored_message_conform(api: Api) -> None:
    """An injected message's answer, its stored JSON (plain and rfc2822) and its attachment answer as documented."""
    api.post("/v3/routes", data={"expression": "catch_all()", "action": "store()"})
    injected = api.post("/mock/inbound", data=RAW, headers={"Content-Type": "message/rfc822"})
    assert injected.status == 200
    assert_conforms(injected, "POST", "/mock/inbound")
    form = api.post("/mock/inbound", data={"from": "a@example.net", "to": ["b@example.com"], "text": "hi",
                                           "h:X-Id": "1"}, files={"attachment": ("a.txt", b"x", "text/plain")})
    assert_conforms(form, "POST", "/mock/inbound")
    url = injected.json()["recipients"][0]["actions"][0]["storage"]["url"]
    template = "/v3/domains/{domain}/messages/{key}"
    stored = api.get(path_of(url))
    assert stored.json()["X-Custom"] == "yes"  # a header as a top-level key: additionalProperties
    assert_conforms(stored, "GET", template)
    assert_conforms(api.get(path_of(url), headers={"Accept": "message/rfc2822"}), "GET", template)
    attachment = api.get(path_of(stored.json()["attachments"][0]["url"]))
    assert attachment.headers["Content-Type"] == "application/pdf"
    assert_conforms(attachment, "GET", template + "/attachments/{index}")
    assert_conforms(api.get(path_of(url) + "/attachments/7"), "GET", template + "/attachments/{index}")
    assert_conforms(api.delete(path_of(url)), "DELETE", template)
    assert_conforms(api.get(path_of(url)), "GET", template)


def test_openapi_events_pages_conform(api: Api) -> None:
    """The first events page and the page its next link names answer the documented shape."""
    api.post("/v3/routes", data={"expression": "catch_all()", "action": "store()"})
    api.post("/mock/inbound", data=RAW, headers={"Content-Type": "message/rfc822"})
    first = api.get("/v3/example.com/events", params={"limit": "1", "ascending": "yes", "event": "stored OR accepted"})
    assert first.json()["items"]
    assert_conforms(first, "GET", "/v3/{domain}/events")
    following = api.get(path_of(first.json()["paging"]["next"]))
    assert_conforms(following, "GET", "/v3/{domain}/events/{token}")
    assert_conforms(api.get("/v3/example.com/events/not-a-token"), "GET", "/v3/{domain}/events/{token}")


def test_openapi_webhooks_conform(api: Api) -> None:
    """Webhook create, list, read, update and delete answer the documented shapes."""
    base, template = "/v3/domains/example.com/webhooks", "/v3/domains/{domain}/webhooks"
    assert_conforms(api.post(base, data={"id": "delivered", "url": ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]}),
                    "POST", template)
    assert_conforms(api.get(base), "GET", template)
    assert_conforms(api.get(f"{base}/delivered"), "GET", template + "/{name}")
    assert_conforms(api.put(f"{base}/delivered", data={"url": "http://127.0.0.1:9/c"}), "PUT", template + "/{name}")
    assert_conforms(api.delete(f"{base}/delivered"), "DELETE", template + "/{name}")
    assert_conforms(api.get(f"{base}/bounced"), "GET", template + "/{name}")


def test_openapi_sending_conforms(api: Api) -> None:
    """A send, a MIME send, a resend, the outbox, rules and suppression lists answer the documented shapes."""
    rule = api.post("/mock/rules", json={"match": {"recipient": "^gone@"}, "outcome": "bounce"})
    assert_conforms(rule, "POST", "/mock/rules")
    sent = api.post("/v3/example.com/messages", data={"from": "Shop <shop@example.com>", "to": ["bob@example.net"],
                                                      "bcc": "gone@example.net", "subject": "Hi", "text": "Hello",
                                                      "o:tag": ["a", "b"], "v:order": "42", "h:X-Id": "7"},
                    files=[("attachment", ("a.txt", b"attached", "text/plain"))])
    assert sent.status == 200
    assert_conforms(sent, "POST", "/v3/{domain}/messages")
    mime = api.post("/v3/example.com/messages.mime", data={"to": "bob@example.net"},
                    files={"message": ("m.eml", RAW, "message/rfc822")})
    assert_conforms(mime, "POST", "/v3/{domain}/messages.mime")
    api.backend.delivery.run_due(10)
    outbox = api.get("/mock/outbox")
    assert outbox.json()["total_count"] == 2
    assert_conforms(outbox, "GET", "/mock/outbox")
    resent = api.post(path_of(outbox.json()["items"][0]["storage_url"]), data={"to": "carol@example.org"})
    assert_conforms(resent, "POST", "/v3/domains/{domain}/messages/{key}")
    bounces = api.get("/v3/example.com/bounces")
    assert bounces.json()["items"]
    assert_conforms(bounces, "GET", "/v3/{domain}/bounces")
    assert_conforms(api.get("/mock/rules"), "GET", "/mock/rules")
    assert_conforms(api.delete(f"/mock/rules/{rule.json()['id']}"), "DELETE", "/mock/rules/{rule_id}")
    assert_conforms(api.delete("/mock/rules"), "DELETE", "/mock/rules")
    assert_conforms(api.get("/mock/deliveries"), "GET", "/mock/deliveries")


def test_openapi_mock_control_conforms(api: Api) -> None:
    """Health (without a key), the clock and reset answer the documented shapes."""
    assert_conforms(api.get("/mock/health", auth=None), "GET", "/mock/health")
    assert_conforms(api.get("/mock/clock"), "GET", "/mock/clock")
    assert_conforms(api.post("/mock/clock", json={"advance": 60}), "POST", "/mock/clock")
    assert_conforms(api.post("/mock/clock", data={"advance": "-1"}), "POST", "/mock/clock")
    assert_conforms(api.post("/mock/reset"), "POST", "/mock/reset")


@pytest.mark.parametrize(("method", "path", "template", "kwargs", "status"), [
    ("GET", "/v3/routes/000000000000000000000000", "/v3/routes/{route_id}", {}, 404),
    ("POST", "/v3/routes", "/v3/routes", {"data": {"action": "stop()"}}, 400),
    ("GET", "/v3/routes", "/v3/routes", {"auth": ("api", "wrong")}, 401),
    ("POST", "/v3/example.com/messages", "/v3/{domain}/messages", {"data": {"from": "x"}}, 400),
    ("POST", "/mock/rules", "/mock/rules", {"json": {"outcome": "explode"}}, 400),
    ("DELETE", "/mock/rules/0123456789ab", "/mock/rules/{rule_id}", {}, 404),
    ("GET", "/v3/example.com/events", "/v3/{domain}/events", {"params": {"limit": "0"}}, 400),
])
def test_openapi_errors_conform(api: Api, method: str, path: str, template: str, kwargs: dict, status: int) -> None:
    """Errors answer the documented shapes: JSON {"message"} for 4xx, text/plain Forbidden for 401."""
    reply = api.request(method, path, **kwargs)
    assert reply.status == status
    assert_conforms(reply, method, template)
    if status == 401:
        assert (reply.text, reply.headers["WWW-Authenticate"]) == ("Forbidden", 'Basic realm="MG API"')


def test_openapi_served_at_mock_openapi_json(api: Api) -> None:
    """GET /mock/openapi.json serves the document (with this server as its server URL), and needs the key."""
    reply = api.get("/mock/openapi.json")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/json")
    served = reply.json()
    assert served["paths"] == openapi_document()["paths"]
    assert api.get("/mock/openapi.json", auth=None).status == 401


# -- mock bugs found against the document (strict xfails: a fix turns them into failures to remove) --


def _client() -> tuple[Any, dict[str, str]]:
    """An in-process client and its auth header (not the session server: a 500 there fails teardown)."""
    import base64

    backend = Backend(Config(), transport=OfflineTransport())
    app = create_app(backend)
    app.testing = False
    token = base64.b64encode(f"api:{backend.config.api_key}".encode()).decode()
    return app.test_client(), {"Authorization": f"Basic {token}"}


def _strict_json(text: str) -> Any:
    import json

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("path", ["/v3/routes", "/v3/example.com/messages", "/mock/inbound",
                                  "/v3/domains/example.com/webhooks"])
def test_openapi_found_multipart_unparsable_field_name_is_a_400(path: str) -> None:
    """A multipart body with a part named by an unterminated quoted string is a 400, not a 500."""
    client, auth = _client()
    body = b'--XX\r\nContent-Disposition: form-data; name="h:a\\"\r\n\r\nv\r\n--XX--\r\n'
    reply = client.post(path, data=body, headers={**auth, "Content-Type": "multipart/form-data; boundary=XX"})
    assert reply.status_code == 400, reply.get_data(as_text=True)
    assert "no field name" in reply.get_json()["message"]


@pytest.mark.parametrize("advance", [1e12, 1e308])
def test_openapi_found_clock_refuses_to_pass_year_9999(advance: float) -> None:
    """An advance past 9999-12-31 is a 400 (JSON, no Infinity), and routes and sends keep working."""
    client, auth = _client()
    reply = client.post("/mock/clock", json={"advance": advance}, headers=auth)
    assert reply.status_code == 400 and "9999" in _strict_json(reply.get_data(as_text=True))["message"]
    assert _strict_json(client.get("/mock/clock", headers=auth).get_data(as_text=True))["offset"] == 0
    route = client.post("/v3/routes", data={"expression": "catch_all()", "action": "store()"}, headers=auth)
    sent = client.post("/v3/example.com/messages", headers=auth,
                       data={"from": "a@example.com", "to": "b@example.net", "text": "x"})
    assert (route.status_code, sent.status_code) == (200, 200)


def test_openapi_found_a_domain_that_is_not_a_host_name_is_404() -> None:
    """A path domain with '?' or a space is 'Domain not found', so no built URL ever carries it."""
    client, auth = _client()
    for path in ("/v3/a%3Fb.example/events", "/v3/a%20b.example/bounces"):
        reply = client.get(path, headers=auth)
        assert (reply.status_code, reply.get_json()["message"][:17]) == (404, "Domain not found:")
    sent = client.post("/v3/a%20b.example/messages", headers=auth, data={"from": "a@example.com", "to": "b@example.net",
                                                                         "text": "x"})
    assert sent.status_code == 404


def test_openapi_found_idn_domains_get_valid_paging_links() -> None:
    """An internationalised domain's paging links are percent-encoded URIs that lead back to its events."""
    client, auth = _client()
    first = client.get("/v3/b%C3%BCcher.example/events", headers=auth)
    assert first.status_code == 200
    link = first.get_json()["paging"]["next"]
    assert link.isascii() and "/v3/b%C3%BCcher.example/events/" in link
    assert client.get(path_of(link), headers=auth).status_code == 200


# -- schemathesis, in process -------------------------------------------------------------------

# Operations these few examples fail on, and why (strict: a fix turns the xfail into a failure
# that asks for the entry to go).
KNOWN_BUGS: dict[tuple[str, str], str] = {op: "endpoint not served yet" for op in PENDING}


@pytest.mark.parametrize(("path", "method"), [
    pytest.param(path, method, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[(path, method)])]
                 if (path, method) in KNOWN_BUGS else [])
    for path, method in operations()
], ids=[f"{method.upper()} {path}" for path, method in operations()])
def test_openapi_schemathesis_conformance(path: str, method: str) -> None:
    """A few schemathesis examples per operation, in process: no 5xx, and every answer conforms to the document."""
    from hypothesis import HealthCheck, Phase, given, settings

    backend = Backend(Config(), transport=OfflineTransport())
    app = create_app(backend)
    app.testing = False  # the real error handlers, as the server runs them
    schema = _schemathesis_schema(backend.config.api_key)
    operation = schema[path][method.upper()]

    @settings(max_examples=SCHEMATHESIS_EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        response = case.call(app=app)
        case.validate_response(response)

    check()
    assert backend.errors == []


@functools.lru_cache(maxsize=1)
def _schemathesis_schema(api_key: str) -> Any:
    import schemathesis

    checks = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
              "response_schema_conformance", "response_headers_conformance")
    config = schemathesis.Config.from_dict({
        "auth": {"basic": {"username": "api", "password": api_key}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in checks}},
    })
    return schemathesis.openapi.from_dict(openapi_document(), config=config)
