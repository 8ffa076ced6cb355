"""Stress: schemathesis over every operation of the OpenAPI document, against a live MailgunMock.

Run with ``make stress`` (or ``python bench/stress_schemathesis.py --examples 100 --seed 1``).

Each operation runs in two passes, each in positive and negative generation modes:

- ``generated``: every parameter comes from the document, so ids and keys rarely exist (404s);
- ``known``: the mock first holds one of everything (routes, rules, sends with a bounce, an
  unsubscribe and a complaint, inbound mail, webhook deliveries); before every example, path parameters
  that name something (route id, storage key, attachment index, page token, webhook, rule id,
  domain) are replaced by ones freshly created on the mock, and form fields that need a valid
  value (addresses, expression, action, MIME message…) get one, so the 200 answers of real
  resources and accepted sends are exercised too (templates, domains with a credential, lists with a
  member, suppression records, keys, account webhooks and sandbox recipients likewise).

Checks: no 5xx (``not_a_server_error``), and the answer conforms to the document: status code
documented, content type, body schema, documented headers. The mock is reset before each
operation, so a fuzzed rule or clock jump cannot leak into the next one. Webhooks go to an
offline transport (answers 200, sends nothing), so fuzzed forward()/webhook URLs never reach
the network. Prints one line per operation and pass, every failure with a curl reproduction,
then a summary; exits 1 on any failure, on any error the server thread recorded, or when an
operation never got past authentication.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from collections.abc import Callable
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from mailgun_mock import MailgunMock
from mailgun_mock.http.openapi import openapi_document

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance")
RAW = (b"From: Ann <ann@example.net>\r\nTo: help@example.com\r\nSubject: Invoice\r\nMessage-ID: <s1@example.net>\r\n"
       b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
       b"Hi\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n"
       b"%PDF-1.4\r\n--b--\r\n")
DOMAIN = "example.com"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# Form fields the known pass sets to values the mock accepts, wherever a generated case has them.
GOOD_FIELDS: dict[str, Any] = {
    "from": "Shop <shop@example.com>", "to": ["bob@example.net", "Ann <ann@example.org>"], "cc": ["cc@example.org"],
    "bcc": ["bcc@example.org"], "recipient": ["help@example.com"], "sender": "bounce@example.net",
    "expression": 'match_recipient(".*@example.com")', "action": ["store()", "stop()"], "message": RAW,
    "recipient-variables": '{"bob@example.net": {"n": 1}}', "o:deliverytime": "Fri, 3 May 2030 09:00:00 -0000",
    "url": ["http://127.0.0.1:9/hook"], "wait": "1",
}


class OfflineTransport:
    """The delivery worker's transport seam: every webhook POST 'succeeds' without leaving the process."""

    def __init__(self) -> None:
        self.posts = 0

    def post(self, url: str, body: bytes, content_type: str, timeout: float) -> int:
        self.posts += 1
        return 200


class Known:
    """Makes a generated case name things that exist: before every example of the ``known`` pass,
    it creates over HTTP whatever the case's path names (a route, a stored message with an
    attachment, an events page, a webhook, a rule) and puts valid addresses, an expression and a
    MIME message where the case's form has those fields, so the success paths run too.
    """

    def __init__(self, mock: MailgunMock, session: requests.Session) -> None:
        self.mock, self.session = mock, session

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.session.request(method, self.mock.url + path, timeout=30, **kwargs)
        reply.raise_for_status()
        return reply.json()

    def populate(self) -> None:
        """Give every list something to show: a route, rules, sends (with a bounce, an unsubscribe and a
        complaint, once the clock has moved on), an inbound message with a webhook delivery, a webhook."""
        self._call("POST", "/v3/routes", data={"expression": "catch_all()",
                                               "action": ['forward("http://127.0.0.1:9/hook")', "store()"]})
        for name, outcome in (("bounced", "bounce"), ("unsub", ["deliver", "unsubscribe"]),
                              ("complain", ["deliver", "open", "click", "complain"])):
            self._call("POST", "/mock/rules", json={"match": {"recipient": f"^{name}@"}, "outcome": outcome})
        self._call("POST", f"/v3/domains/{DOMAIN}/webhooks", data={"id": "delivered", "url": "http://127.0.0.1:9/e"})
        self._call("POST", f"/v3/{DOMAIN}/messages", data={
            "from": "Shop <shop@example.com>", "subject": "Hello", "text": "Hi <https://example.com/a>",
            "to": ["bob@example.net", "bounced@example.net", "unsub@example.net", "complain@example.net"],
            "o:tag": "welcome"}, files=[("attachment", ("a.txt", b"text", "text/plain"))])
        self._call("POST", "/mock/inbound", params={"wait": "1"}, data=RAW, headers={"Content-Type": "message/rfc822"})
        self._call("POST", "/mock/clock", json={"advance": 600})

    def _path(self, names: set[str], operation: str, name: str | None) -> dict[str, Any]:
        fresh: dict[str, Any] = {"domain": DOMAIN, "index": 0}
        if "route_id" in names:
            fresh["route_id"] = self._call("POST", "/v3/routes", data={
                "expression": f'match_recipient("nobody@{DOMAIN}")', "action": "stop()"})["route"]["id"]
        if "key" in names:
            self._call("POST", "/v3/routes", data={"expression": f'match_recipient("help@{DOMAIN}")',
                                                   "action": ["store()", "stop()"]})
            answer = self._call("POST", "/mock/inbound", data=RAW, headers={"Content-Type": "message/rfc822"})
            fresh["key"] = next(a["storage"]["key"] for a in answer["recipients"][0]["actions"]
                                if a["action"] == "store")
        if "token" in names:
            page = self._call("GET", f"/v3/{DOMAIN}/events", params={"limit": "1", "ascending": "yes"})
            fresh["token"] = page["paging"]["next"].rsplit("/", 1)[1]
        if "rule_id" in names:
            fresh["rule_id"] = self._call("POST", "/mock/rules", json={"match": {"recipient": "^nobody@"},
                                                                       "outcome": "deliver"})["id"]
        if "/templates/{name}" in operation:  # a template with a version to read, change and copy
            owner = f"/v3/{DOMAIN}" if operation.startswith(("/v3/", "/v2/")) else "/v4"
            self.session.post(f"{self.mock.url}{owner}/templates", timeout=30,
                              data={"name": "t1", "template": "<p>{{x}}</p>", "tag": "v1"})
            fresh.update(name="t1", tag="v1", new_tag="v2")
        elif "/domains/{name}" in operation:  # a domain of the account, with a credential
            self.session.post(f"{self.mock.url}/v3/domains/{DOMAIN}/credentials", timeout=30,
                              data={"login": "bob", "password": "secret1"})
            fresh.update(name=DOMAIN, spec="bob")
        elif "/webhooks/{name}" in operation and name is not None:  # 400 when it exists: fine, it exists
            self.session.post(f"{self.mock.url}/v3/domains/{DOMAIN}/webhooks", timeout=30,
                              data={"id": name, "url": "http://127.0.0.1:9/hook"})
        if "/lists/{address}" in operation:
            self.session.post(f"{self.mock.url}/v3/lists", timeout=30, data={"address": f"team@{DOMAIN}"})
            self.session.post(f"{self.mock.url}/v3/lists/team@{DOMAIN}/members", timeout=30,
                              data={"address": "ann@example.net"})
            fresh.update(address=f"team@{DOMAIN}", member="ann@example.net")
        elif "{address}" in operation:  # a suppression record on every list
            for kind in ("bounces", "unsubscribes", "complaints", "whitelists"):
                self.session.post(f"{self.mock.url}/v3/{DOMAIN}/{kind}", timeout=30, data={"address": "x@example.net"})
            fresh["address"] = "x@example.net"
        if "key_id" in names:
            fresh["key_id"] = self._call("POST", "/v1/keys", data={"role": "basic"})["key"]["id"]
        if "webhook_id" in names:
            fresh["webhook_id"] = self._call("POST", "/v1/webhooks", data={
                "url": "http://127.0.0.1:9/account", "event_types": "delivered"})["webhook_id"]
        if "email" in names:
            self.session.post(f"{self.mock.url}/v5/sandbox/auth_recipients", params={"email": "qa@example.net"},
                              timeout=30)
            fresh["email"] = "qa@example.net"
        return fresh

    def apply(self, case: Any) -> None:
        """Point ``case`` at existing resources and give its form usable values (negative data stays)."""
        path = case.path_parameters or {}
        fresh = self._path(set(path), case.operation.path,
                           path.get("name") if isinstance(path.get("name"), str) else None)
        for name in path:
            if name in fresh:
                path[name] = fresh[name]
        if isinstance(case.body, (bytes, str)) and case.media_type == "message/rfc822":
            case.body = RAW
        if not isinstance(case.body, dict) or case.media_type not in FORMS:
            return
        body = case.body
        for name, value in GOOD_FIELDS.items():
            if name in body and (name != "message" or case.media_type == "multipart/form-data"):
                body[name] = value
        if case.operation.path.endswith("/messages") and not {"text", "html", "amp-html"} & set(body):
            body["text"] = "Hello"
        body.pop("template", None)  # a generated name names no stored template: sends go without one
        if case.operation.path == "/mock/inbound" and "message" not in body:
            body.update({"from": GOOD_FIELDS["from"], "to": ["help@example.com"]})


def run_operation(operation: Any, mode: GenerationMode, examples: int, run_seed: int, shrink: bool,
                  session: requests.Session, base_url: str,
                  known: Callable[[Any], None] | None) -> tuple[collections.Counter[int], str | None]:
    """Run ``examples`` cases of one operation.

    :returns: the status counts, and the failure text ('' if none; None when the mode can make no
        case, e.g. negative data for an operation that takes no input).
    """
    statuses: collections.Counter[int] = collections.Counter()
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])

    @seed(run_seed)
    @settings(max_examples=examples, deadline=None, database=None, phases=phases,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=True)
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        if known is not None:
            known(case)
        response = case.call(base_url=base_url, session=session, timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response)

    try:
        check()
    except Unsatisfiable:
        return statuses, None
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises FailureGroup, an exception group
        return statuses, str(exc) or repr(exc)
    return statuses, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=50, help="examples per operation, pass and mode")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000, help="hypothesis seed")
    parser.add_argument("--modes", default="positive,negative", help="generation modes, comma-separated")
    parser.add_argument("--no-shrink", action="store_true", help="report failures unshrunk (faster)")
    parser.add_argument("--operation", default="", help="only operations whose label contains this text")
    args = parser.parse_args(argv)
    modes = [GenerationMode(m.strip()) for m in args.modes.split(",") if m.strip()]
    started = time.perf_counter()
    mock = MailgunMock(host="127.0.0.1", port=0)
    transport = OfflineTransport()
    # The worker's transport is its network seam; replace it before anything can be delivered.
    mock.backend.delivery.transport = transport
    failures: list[tuple[str, str]] = []
    rows: list[str] = []
    locked_out: list[str] = []
    with mock:
        config = schemathesis.Config.from_dict({
            "auth": {"basic": {"username": "api", "password": mock.api_key}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        })
        schema = schemathesis.openapi.from_dict(openapi_document(mock.url), config=config)
        session = requests.Session()
        session.auth = ("api", mock.api_key)
        session.trust_env = False  # loopback only: never through a proxy
        known = Known(mock, session)
        print(f"schemathesis {schemathesis.__version__} against {mock.url}: {args.examples} examples per "
              f"operation, pass and mode; seed {args.seed}")
        for result in schema.get_all_operations():
            operation = result.ok()
            if args.operation not in operation.label:
                continue
            passes: tuple[tuple[str, Callable[[Any], None] | None], ...] = (("generated", None), ("known", known.apply))
            seen: collections.Counter[int] = collections.Counter()
            for pass_name, fixtures in passes:
                for mode in modes:
                    mock.reset()
                    if fixtures is not None:
                        known.populate()
                    errors_before = len(mock.backend.errors)
                    statuses, failure = run_operation(operation, mode, args.examples, args.seed,
                                                      not args.no_shrink, session, mock.url, fixtures)
                    label = f"{operation.label} [{pass_name}, {mode.value}]"
                    if failure is None:
                        print(f"skip {label}: nothing to generate in this mode")
                        continue
                    seen.update(statuses)
                    server_errors = mock.backend.errors[errors_before:]
                    if server_errors:
                        failure += "".join(f"\nserver thread error: {e!r}" for e in server_errors)
                    shown = " ".join(f"{code}x{count}" for code, count in sorted(statuses.items()))
                    rows.append(f"{'FAIL' if failure else 'ok  '} {label}: {shown}")
                    print(rows[-1], flush=True)
                    if failure:
                        failures.append((label, failure))
            if seen and set(seen) == {401}:
                locked_out.append(operation.label)
    elapsed = time.perf_counter() - started
    for label, failure in failures:
        print(f"\n=== {label}\n{failure[:6000]}")
    print(f"\n{len(rows)} runs over {len(set(r.split(' [')[0][5:] for r in rows))} operations in {elapsed:.1f} s; "
          f"{transport.posts} webhook POSTs kept offline")
    for label in locked_out:
        print(f"never authenticated: {label}")
    print(f"{len(rows) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures or locked_out else 0


if __name__ == "__main__":
    sys.exit(main())
