"""The store's change tracking and snapshot dicts, and the records' exact to_dict/from_dict round trips."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import threading
from collections.abc import Callable
from typing import Any

import pytest

from mailgun_mock.base.records import DeliveryAttempt, Route, StoredMessage
from mailgun_mock.state.codec import decode_state
from mailgun_mock.state.store import Store

RAW = b"Subject: hi\r\n\r\n" + bytes(range(256))


def make_route(number: int = 1, **changes: Any) -> Route:
    route = Route(id=f"{number:024x}", priority=number % 3, description=f"route {number}",
                  expression='match_recipient(".*@example.com")', actions=('forward("https://app/hook")', "stop()"),
                  created_at=1_700_000_000.1 + number)
    return dataclasses.replace(route, **changes)


def make_message(number: int = 1, **changes: Any) -> StoredMessage:
    message = StoredMessage(key=f"key-{number}", domain="example.com", raw=RAW + str(number).encode(),
                            recipients=("a@example.com", "b@example.com"), sender="bob@example.net",
                            message_id=f"<{number}@example.net>", stored_at=1_700_000_000.25 + number,
                            expires_at=1_700_259_200.25 + number)
    return dataclasses.replace(message, **changes)


def make_attempt(number: int = 1, **changes: Any) -> DeliveryAttempt:
    attempt = DeliveryAttempt(delivery_id=f"d{number}", kind="forward", url="https://app/hook",
                              recipient="a@example.com", message_id=f"<{number}@example.net>", attempt=number,
                              status=None, error="Connection refused", outcome="retrying", duration=0.1 + 0.2,
                              scheduled_at=1e9 + 0.1, attempted_at=1e9 + 0.30000000000000004,
                              next_retry=1e9 + 600.1, fields=("recipient", "sender", "timestamp"))
    return dataclasses.replace(attempt, **changes)


def make_event(number: int = 1, domain: str = "example.com") -> dict[str, Any]:
    return {"event": "accepted", "id": f"event-{number}", "timestamp": 1_700_000_000.123456 + number,
            "recipient": f"user{number}@{domain}", "message": {"headers": {"subject": "Ünïcode \udcff"}},
            "tags": [], "flags": {"is-routed": True}}


def populated() -> Store:
    store = Store()
    for number in (1, 2, 3):
        store.add_route(make_route(number))
        store.add_message(make_message(number))
        store.add_attempt(make_attempt(number))
        store.add_event("example.com", make_event(number))
    store.add_event("Other.ORG", make_event(9, "other.org"))
    store.delete_route(make_route(2).id)  # the seq counter has moved past a deleted route
    return store


def through_json(data: Any) -> Any:
    return json.loads(json.dumps(data))


# -- records ----------------------------------------------------------------------------------


@pytest.mark.parametrize("record", [make_route(), make_message(), make_attempt(),
                                    make_attempt(status=406, error=None, next_retry=None, outcome="rejected"),
                                    make_message(raw=b"", recipients=())],
                         ids=["route", "message", "attempt", "attempt-nulls", "message-empty"])
def test_models_round_trip_exactly_through_json(record: Any) -> None:
    """to_dict, JSON text and from_dict give back an equal record with identical floats and tuples."""
    again = type(record).from_dict(through_json(record.to_dict()))
    assert again == record
    assert repr(again) == repr(record)
    for field in dataclasses.fields(record):
        value = getattr(again, field.name)
        assert type(value) is type(getattr(record, field.name)), field.name


def test_models_to_dict_covers_every_field() -> None:
    """Every dataclass field of every record is in its snapshot dict, so none is silently dropped."""
    for record in (make_route(), make_message(), make_attempt()):
        assert set(record.to_dict()) == {field.name for field in dataclasses.fields(record)}


def test_models_message_raw_is_base64() -> None:
    """A stored message keeps its raw bytes as standard base64 text."""
    assert make_message(raw=b"\x00\xff hi").to_dict()["raw"] == "AP8gaGk="


def test_models_number_kept_as_given() -> None:
    """An int where a float is expected is accepted and kept as an int (no silent conversion)."""
    data = make_route().to_dict() | {"created_at": 5}
    assert Route.from_dict(data).created_at == 5
    assert type(Route.from_dict(data).created_at) is int


@pytest.mark.parametrize(("change", "problem"), [
    ({"priority": "1"}, "field 'priority' must be an integer"),
    ({"priority": True}, "field 'priority' must be an integer"),
    ({"actions": "stop()"}, "field 'actions' must be a list of strings"),
    ({"created_at": None}, "field 'created_at' must be a number"),
    ({"extra": 1}, "unexpected field(s) extra"),
])
def test_models_route_from_dict_names_the_bad_field(change: dict[str, Any], problem: str) -> None:
    """from_dict refuses a mistyped or unknown field, naming the record and the field."""
    with pytest.raises(ValueError, match=r"^Route: ") as caught:
        Route.from_dict(make_route().to_dict() | change)
    assert problem in str(caught.value)


def test_models_from_dict_names_missing_fields() -> None:
    """from_dict lists the fields that are missing."""
    data = make_attempt().to_dict()
    del data["url"], data["kind"]
    with pytest.raises(ValueError, match=r"^DeliveryAttempt: missing field\(s\) kind, url$"):
        DeliveryAttempt.from_dict(data)


@pytest.mark.parametrize("text", ["AP8gaGk", "AP8g aGk=", "AP8gaG==", "A===", "AP8=aGk=", "AP8gaGk=\n", "é" * 4])
def test_models_message_from_dict_refuses_bad_base64(text: str) -> None:
    """A raw that is not valid base64 (length, alphabet, padding) is refused when read, not when used."""
    if text == "AP8gaG==":  # well-formed: decodes fine
        assert StoredMessage.from_dict(make_message().to_dict() | {"raw": text}).raw == b"\x00\xff h"
        return
    with pytest.raises(ValueError, match=r"field 'raw' is not valid base64"):
        StoredMessage.from_dict(make_message().to_dict() | {"raw": text})


def test_models_loaded_message_decodes_raw_on_first_read() -> None:
    """A message read from a snapshot holds base64 until raw is first read, then behaves as any other."""
    message = make_message()
    loaded = StoredMessage.from_dict(message.to_dict())
    assert "_raw" not in vars(loaded)
    assert loaded.raw == message.raw
    assert loaded == message and hash(loaded) == hash(message)
    assert pickle.loads(pickle.dumps(loaded)) == message
    assert dataclasses.replace(loaded, key="other").raw == message.raw
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.raw = b"changed"  # type: ignore[misc]


def test_models_message_raw_survives_concurrent_reads_and_encoding() -> None:
    """Threads reading raw while another encodes the message for a snapshot all see the same bytes."""
    message = make_message()
    seen: list[bytes] = []

    def read() -> None:
        for _ in range(200):
            seen.append(message.raw)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(200):
        StoredMessage.from_dict(message.to_dict())
    for thread in threads:
        thread.join()
    assert set(seen) == {RAW + b"1"}


# -- change tracking --------------------------------------------------------------------------


def test_store_version_rises_on_every_change_only() -> None:
    """Each mutating method bumps version once; reads and no-op deletes leave it alone."""
    store = Store()
    steps: list[Callable[[], object]] = [
        lambda: store.add_route(make_route()),
        lambda: store.replace_route(make_route(description="changed")),
        lambda: store.delete_route(make_route().id),
        lambda: store.add_message(make_message()),
        lambda: store.delete_message("key-1"),
        lambda: store.add_message(make_message()),
        lambda: store.get_message("key-1", now=2e9),  # expired on read: a change
        lambda: store.add_message(make_message()),
        lambda: store.expire_messages(now=2e9),
        lambda: store.add_event("example.com", make_event()),
        lambda: store.add_attempt(make_attempt()),
        lambda: store.clear(),
        lambda: store.restore(populated().snapshot()),
    ]
    for number, step in enumerate(steps, 1):
        step()
        assert store.version == number
    store.routes(), store.messages(), store.attempts(), store.all_events(), store.snapshot()
    store.get_message("key-1", now=0), store.get_route("none"), store.delete_route("none"), store.delete_message("none")
    assert store.expire_messages(now=0) == 0
    assert store.version == len(steps)


def test_store_listeners_are_told_each_new_version() -> None:
    """A listener hears every change with the new version; once removed it hears nothing."""
    store = Store()
    heard: list[int] = []
    store.add_listener(heard.append)
    store.add_route(make_route())
    store.add_event("example.com", make_event())
    store.remove_listener(heard.append)
    store.remove_listener(heard.append)  # twice is fine
    store.clear()
    assert heard == [1, 2]


def test_store_failing_listener_does_not_undo_the_change(caplog: pytest.LogCaptureFixture) -> None:
    """A listener that raises is logged; the change stands and the caller sees no error."""
    store = Store()

    def broken(version: int) -> None:
        raise RuntimeError("boom")

    store.add_listener(broken)
    store.add_route(make_route())
    assert store.get_route(make_route().id) is not None
    assert "a store listener failed" in caplog.text


# -- snapshot and restore ---------------------------------------------------------------------


def test_store_snapshot_round_trips_through_json() -> None:
    """A populated store, snapshotted, sent through JSON and restored, snapshots identically."""
    store = populated()
    again = Store()
    again.restore(through_json(store.snapshot()))
    assert again.snapshot() == store.snapshot()
    assert again.routes() == store.routes()
    assert again.messages() == store.messages()
    assert again.attempts() == store.attempts()
    assert again.all_events() == store.all_events()
    assert [m.raw for m in again.messages()] == [m.raw for m in store.messages()]


def test_store_restore_keeps_order_and_sequence_counters() -> None:
    """Routes keep their seq, and routes added after a restore continue the sequence."""
    store = populated()
    again = Store()
    again.restore(through_json(store.snapshot()))
    assert [r.seq for r in again.routes()] == [r.seq for r in store.routes()]
    assert again.add_route(make_route(7)).seq == store.add_route(make_route(7)).seq == 3


def test_store_restore_never_reuses_a_seq() -> None:
    """A counter edited below the routes' seqs is raised past them."""
    data = populated().snapshot()
    data["counters"]["route_seq"] = 0
    store = Store()
    store.restore(data)
    assert store.add_route(make_route(8)).seq == 3


def test_store_restore_replaces_everything() -> None:
    """Restoring forgets whatever the store held before."""
    store = Store()
    store.add_route(make_route(5))
    store.add_event("elsewhere.net", make_event(5, "elsewhere.net"))
    empty = Store().snapshot()
    store.restore(empty)
    assert store.snapshot() == empty


def test_store_restore_events_answer_the_events_api() -> None:
    """Restored events are indexed again: a domain's events page lists them (domains compared lowercase)."""
    store = Store()
    store.restore(through_json(populated().snapshot()))
    page = store.events_response("OTHER.org", None, None, "http://localhost", now=2e9)
    assert [e["id"] for e in page["items"]] == ["event-9"]


def test_store_snapshot_copies_under_the_lock() -> None:
    """A snapshot taken while another thread keeps adding is a consistent, complete prefix."""
    store = Store()
    stop = threading.Event()

    def add() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            store.add_route(make_route(number))
            store.add_message(make_message(number))

    thread = threading.Thread(target=add)
    thread.start()
    try:
        for _ in range(20):
            data = store.snapshot()
            routes, messages = len(data["routes"]), len(data["messages"])
            assert messages in (routes, routes - 1)
            assert data["counters"]["route_seq"] == routes
    finally:
        stop.set()
        thread.join()


def _bad(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A populated snapshot dict with the item at ``path`` set to ``value`` (deleted for KeyError)."""
    data = through_json(populated().snapshot())
    target = data
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return dict(data)


@pytest.mark.parametrize(("path", "value", "problem"), [
    (("routes",), {}, "'routes' must be a list"),
    (("routes", 0, "priority"), "high", "routes[0]: Route: field 'priority' must be an integer"),
    (("messages", 1, "raw"), "not base64!", "messages[1]: StoredMessage 'key-2': field 'raw' is not valid base64"),
    (("messages", 1, "key"), "key-1", "messages[1]: key 'key-1' appears twice"),
    (("attempts", 2), "attempt", "attempts[2]: DeliveryAttempt: expected an object"),
    (("events", "example.com", 0, "timestamp"), "soon", "events['example.com'][0]: expected an object with a finite"),
    (("events", "example.com"), {}, "events: 'example.com' must map a domain to a list"),
    (("counters", "route_seq"), -1, "'route_seq' must be a non-negative integer"),
    (("attempts",), KeyError, "expected the sections attempts, counters, events, messages, resources, routes"),
])
def test_store_restore_refuses_bad_state_and_changes_nothing(path: tuple[str | int, ...], value: Any, problem: str) -> None:
    """Data that doesn't deserialise raises ValueError naming where and why, and the store is unchanged."""
    store = Store()
    store.add_route(make_route(5))
    before, version = store.snapshot(), store.version
    with pytest.raises(ValueError) as caught:
        store.restore(_bad(path, value))
    assert problem in str(caught.value)
    assert store.snapshot() == before and store.version == version


def test_store_decode_state_accepts_decoded_records() -> None:
    """decode_state turns records into model objects, and taking its own output again changes nothing."""
    data = through_json(populated().snapshot())
    decoded = decode_state(data)
    assert all(isinstance(r, Route) for r in decoded["routes"])
    assert all(isinstance(m, StoredMessage) for m in decoded["messages"])
    again = decode_state(decoded)
    assert again["messages"][0] is decoded["messages"][0]
    assert math.isclose(again["attempts"][0].duration, 0.1 + 0.2)


def test_store_send_state_round_trips_through_a_snapshot() -> None:
    """Webhooks, rules, suppressions and sent mail survive snapshot() and restore() exactly."""
    from mailgun_mock.base.records import SentMessage
    from mailgun_mock.lang.send_rules import parse_rule

    store = Store()
    store.set_webhook("example.com", "delivered", ("https://app.example/d",))
    store.add_rule(parse_rule({"match": {"recipient": "^b@"}, "outcome": "bounce"}, rule_id="r1"))
    store.add_suppression("bounces", "example.com", "b@example.com", code=550, error="gone", created_at=1.7e9)
    sent = SentMessage(message_id="<1@example.com>", domain="example.com", storage_keys=("k",),
                       recipients=("b@example.com",), sender="a@example.com", subject="Hi", tags=("t",),
                       test_mode=False, sent_at=1.7e9, deliver_at=1.7e9)
    store.add_sent(sent)
    again = Store()
    again.restore(json.loads(json.dumps(store.snapshot())))
    assert again.webhooks("example.com") == {"delivered": ("https://app.example/d",)}
    assert [r.to_dict() for r in again.rules()] == [r.to_dict() for r in store.rules()]
    assert again.suppression("example.com", "B@example.com") is not None
    assert again.sent() == [sent]
