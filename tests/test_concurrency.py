"""Many clients at once: threads of mixed API operations against one real server lose, duplicate and break nothing."""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from mailgun_mock import MailgunMock

THREADS = 8
OPERATIONS = 500  # per thread
# Relative weights of the operations each thread draws from.
MIX = {"inject": 30, "create_route": 9, "update_route": 8, "delete_route": 6, "get_message": 15,
       "delete_message": 7, "walk_events": 5, "clock": 20}
STORE_EXPRESSION = r'match_recipient("^user@t[0-9]+\.example\.com$")'


@dataclasses.dataclass
class Tally:
    """What one thread did and saw."""

    thread: int
    injects: int = 0
    keys: list[str] = dataclasses.field(default_factory=list)
    deleted_keys: set[str] = dataclasses.field(default_factory=set)
    routes: list[str] = dataclasses.field(default_factory=list)
    created: int = 0
    deleted_routes: int = 0
    statuses: Counter[int] = dataclasses.field(default_factory=Counter)
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def domain(self) -> str:
        return f"t{self.thread}.example.com"


class Client:
    """One thread's HTTP client: its own requests Session; every answer's status is tallied."""

    def __init__(self, mock: MailgunMock, tally: Tally) -> None:
        self.url = mock.url
        self.tally = tally
        self.session = requests.Session()
        self.session.auth = ("api", mock.api_key)

    def call(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> requests.Response:
        reply = self.session.request(method, path if path.startswith("http") else self.url + path, timeout=30,
                                     **kwargs)
        self.tally.statuses[reply.status_code] += 1
        if expect is not None and reply.status_code != expect:
            self.tally.problems.append(f"{method} {path}: {reply.status_code} (expected {expect}) {reply.text[:200]}")
        return reply

    def walk_events(self, domain: str, query: str) -> list[dict[str, Any]]:
        """Every event of a walk that follows ``next`` from the first page to the first empty page."""
        items: list[dict[str, Any]] = []
        page = self.call("GET", f"/v3/{domain}/events?{query}").json()
        while page["items"]:
            items += page["items"]
            page = self.call("GET", page["paging"]["next"]).json()
        return items


def run_thread(mock: MailgunMock, number: int, start: threading.Barrier) -> Tally:
    """``OPERATIONS`` operations drawn from ``MIX`` with a per-thread seed; answers what happened."""
    tally = Tally(number)
    client = Client(mock, tally)
    rng = random.Random(number)
    names, weights = list(MIX), list(MIX.values())
    start.wait()
    for i in range(OPERATIONS):
        op = rng.choices(names, weights)[0]
        if op == "inject":
            raw = (f"From: bob@example.net\r\nTo: user@{tally.domain}\r\nSubject: n{i}\r\n"
                   f"Message-Id: <{number}-{i}@example.net>\r\n\r\nhello {i}\r\n").encode()
            reply = client.call("POST", "/mock/inbound", params={"recipient": f"user@{tally.domain}"}, data=raw,
                                headers={"Content-Type": "message/rfc822"})
            if reply.status_code == 200:
                tally.injects += 1
                actions = reply.json()["recipients"][0]["actions"]
                tally.keys += [a["storage"]["key"] for a in actions if a["action"] == "store"]
        elif op == "create_route":
            # Never matches the injected recipients, but is evaluated for every inject.
            reply = client.call("POST", "/v3/routes", data={
                "expression": f'match_recipient("^nobody-{number}-{i}@example\\.net$")', "action": "stop()",
                "priority": str(rng.randint(0, 3))})
            if reply.status_code == 200:
                tally.created += 1
                tally.routes.append(reply.json()["route"]["id"])
        elif op == "update_route" and tally.routes:
            route_id = rng.choice(tally.routes)
            reply = client.call("PUT", f"/v3/routes/{route_id}", data={
                "description": f"updated {i}", "priority": str(rng.randint(0, 3)),
                "expression": f'match_recipient("^nobody-{number}-{i}-u@example\\.net$")'})
            if reply.status_code == 200 and reply.json()["route"]["id"] != route_id:
                tally.problems.append(f"PUT {route_id} answered route {reply.json()['route']['id']}")
        elif op == "delete_route" and tally.routes:
            route_id = tally.routes.pop(rng.randrange(len(tally.routes)))
            if client.call("DELETE", f"/v3/routes/{route_id}").status_code == 200:
                tally.deleted_routes += 1
        elif op == "get_message" and tally.keys:
            key = rng.choice(tally.keys)
            client.call("GET", f"/v3/domains/{tally.domain}/messages/{key}",
                        expect=404 if key in tally.deleted_keys else 200)
        elif op == "delete_message" and len(tally.deleted_keys) < len(tally.keys):
            key = rng.choice([k for k in tally.keys if k not in tally.deleted_keys])
            if client.call("DELETE", f"/v3/domains/{tally.domain}/messages/{key}").status_code == 200:
                tally.deleted_keys.add(key)
        elif op == "walk_events":
            # Descending from now: exactly the events of the injects this thread finished before the walk.
            before = tally.injects
            items = client.walk_events(tally.domain, "limit=100")
            kinds = Counter(e["event"] for e in items)
            if len({e["id"] for e in items}) != len(items) or kinds != Counter(accepted=before, stored=before):
                tally.problems.append(f"walk after {before} injects saw {dict(kinds)}, "
                                      f"{len(items) - len({e['id'] for e in items})} duplicate ids")
        elif op == "clock":
            reply = client.call("GET", "/mock/clock")
            if reply.status_code == 200 and reply.json()["offset"] != 0:
                tally.problems.append(f"clock offset moved: {reply.json()}")
    client.session.close()
    return tally


def test_concurrent_mixed_operations_keep_every_invariant(mailgun_mock: MailgunMock) -> None:
    """8 threads x 500 mixed operations over HTTP: no 5xx, no lost or duplicated event, route and message counts add up."""
    mailgun_mock.create_route(STORE_EXPRESSION, "store()", priority=10)
    start = threading.Barrier(THREADS, timeout=30)  # a thread that dies early must not hang the rest
    with ThreadPoolExecutor(THREADS) as pool:
        tallies = list(pool.map(lambda n: run_thread(mailgun_mock, n, start), range(THREADS)))

    statuses = sum((t.statuses for t in tallies), Counter())
    assert sum(statuses.values()) >= THREADS * OPERATIONS * 0.9
    assert [s for s in statuses if s >= 500] == []
    assert [p for t in tallies for p in t.problems] == []
    mailgun_mock.raise_errors()

    check = Client(mailgun_mock, Tally(-1))
    every_id: list[str] = []
    for tally in tallies:
        events = check.walk_events(tally.domain, "ascending=yes&limit=300")
        every_id += [e["id"] for e in events]
        kinds = Counter(e["event"] for e in events)
        assert (tally.domain, kinds) == (tally.domain, Counter(accepted=tally.injects, stored=tally.injects))
        assert len(tally.keys) == tally.injects
        for key in tally.keys:
            expected = 404 if key in tally.deleted_keys else 200
            assert check.call("GET", f"/v3/domains/{tally.domain}/messages/{key}", expect=None).status_code == expected
    every_event = mailgun_mock.events
    assert len(every_id) == len(set(every_id)) == len(every_event) == len({e["id"] for e in every_event})

    routes = check.call("GET", "/v3/routes?limit=1000").json()
    # 1: the store route created before the threads started.
    assert routes["total_count"] == 1 + sum(t.created for t in tallies) - sum(t.deleted_routes for t in tallies)
    assert {r["id"] for r in routes["items"]} >= {route_id for t in tallies for route_id in t.routes}
    assert all(s < 500 for s in check.tally.statuses)
    check.session.close()
    mailgun_mock.raise_errors()
