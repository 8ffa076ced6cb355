"""Snapshot files: exact round trips, a stable layout, atomic writes, clear refusals, the debounced
writer, and crash safety under ``kill -9``."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mailgun_mock.state.snapshot import SNAPSHOT_VERSION, SnapshotError, SnapshotWriter, load, save
from mailgun_mock.state.store import Store
from tests.test_store import make_event, populated

SAVED_AT = 1_700_000_000.0


def restored(state: dict[str, Any] | None) -> Store:
    store = Store()
    if state is not None:
        store.restore(state)
    return store


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def file_holds(path: Path, store: Store) -> bool:
    return restored(load(path)).snapshot() == store.snapshot()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.json"


@pytest.fixture
def writers() -> Iterator[list[SnapshotWriter]]:
    """Writers made by a test, closed after it even if it fails."""
    made: list[SnapshotWriter] = []
    yield made
    for writer in made:
        writer.close()


# -- save and load ----------------------------------------------------------------------------


def test_snapshot_round_trips_a_populated_store(path: Path) -> None:
    """Routes, messages (raw bytes included), events and attempts come back from the file exactly."""
    store = populated()
    save(path, store.snapshot())
    again = restored(load(path))
    assert again.snapshot() == store.snapshot()
    assert [m.raw for m in again.messages()] == [m.raw for m in store.messages()]
    assert again.all_events() == store.all_events()
    assert again.add_route(populated().routes()[0]).seq == store.snapshot()["counters"]["route_seq"]


def test_snapshot_two_saves_of_one_state_are_identical(path: Path, tmp_path: Path) -> None:
    """Saving the same state twice gives identical bytes; at another time only the saved_at line differs."""
    store = populated()
    other = tmp_path / "other.json"
    save(path, store.snapshot(), saved_at=SAVED_AT)
    save(other, restored(load(path)).snapshot(), saved_at=SAVED_AT)
    assert path.read_bytes() == other.read_bytes()
    save(other, store.snapshot(), saved_at=SAVED_AT + 60)
    changed = [pair for pair in zip(path.read_text().splitlines(), other.read_text().splitlines()) if pair[0] != pair[1]]
    assert changed == [('  "saved_at": "2023-11-14T22:13:20.000Z",', '  "saved_at": "2023-11-14T22:14:20.000Z",')]


def test_snapshot_file_layout_is_sorted_ascii_one_record_per_line(path: Path) -> None:
    """The file is ASCII JSON with sorted keys, the envelope first, and one line per record."""
    store = populated()
    save(path, store.snapshot(), saved_at=SAVED_AT)
    text = path.read_bytes().decode("ascii")
    document = json.loads(text)
    assert list(document) == ["format", "saved_at", "state", "version"]
    assert document["format"] == "mailgun-mock-snapshot" and document["version"] == SNAPSHOT_VERSION == 1
    assert list(document["state"]) == ["attempts", "counters", "events", "messages", "resources", "routes", "send"]
    lines = text.splitlines()
    records = len(store.routes()) + len(store.messages()) + len(store.attempts()) + len(store.all_events())
    assert sum(line.startswith("      {") or line.startswith("        {") for line in lines) == records
    for line in lines:
        if line.lstrip().startswith("{") and len(line.strip()) > 1:
            record = json.loads(line.strip().rstrip(","))
            assert list(record) == sorted(record)


def test_snapshot_large_raw_messages_are_written_as_json_would(path: Path) -> None:
    """Long base64 text, written without JSON's escaping pass, reads back identical to the original."""
    store = Store()
    message = populated().messages()[0]
    big = [message.__class__.from_dict(message.to_dict() | {"key": f"k{n}", "raw": "QUJD" * (300 + n)})
           for n in range(3)]
    for item in big:
        store.add_message(item)
    save(path, store.snapshot())
    assert json.loads(path.read_text())["state"]["messages"] == [m.to_dict() for m in big]


def test_snapshot_save_leaves_no_temporary_files(path: Path, tmp_path: Path) -> None:
    """After saves (first and replacing), the directory holds only the snapshot."""
    save(path, populated().snapshot())
    save(path, Store().snapshot())
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_snapshot_failed_save_keeps_the_old_file(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 failing: str) -> None:
    """When the write fails midway (fsync or rename), the old file is intact and no temporary file remains."""
    save(path, populated().snapshot())
    before = path.read_bytes()

    def broken(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, broken)
    with pytest.raises(OSError, match="No space left"):
        save(path, Store().snapshot())
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_snapshot_unencodable_state_writes_nothing(path: Path, tmp_path: Path) -> None:
    """State JSON can't hold is refused before any file is created."""
    with pytest.raises(TypeError):
        save(path, {"routes": [object()]})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_snapshot_save_keeps_the_file_mode(path: Path) -> None:
    """A new snapshot is private to its owner (0600); replacing one keeps the mode it had."""
    save(path, Store().snapshot())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    save(path, Store().snapshot())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_snapshot_load_of_no_file_is_none(path: Path) -> None:
    """A path with no file loads as None (first start)."""
    assert load(path) is None


def _valid_text() -> str:
    return json.dumps({"format": "mailgun-mock-snapshot", "saved_at": "x", "version": 1,
                       "state": json.loads(json.dumps(populated().snapshot()))})


CORRUPT: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "is corrupt: the file is empty"),
    "blank": (lambda: b"  \n", "is corrupt: the file is empty"),
    "not-json": (lambda: b"{format: mailgun}", "is corrupt (not valid JSON: "),
    "not-utf8": (lambda: b'{"format": "\xff\xfe"}', "is corrupt (not valid JSON: "),
    "truncated": (lambda: _valid_text().encode()[:2000], "is truncated (the JSON ends early: "),
    "truncated-in-raw": (lambda: _valid_text().encode().split(b'"raw": "')[0] + b'"raw": "U3Vi', "is truncated"),
    "list": (lambda: b"[1, 2]", "is corrupt: expected an object with a 'format' field"),
    "other-app": (lambda: b'{"name": "my-app"}', "is corrupt: expected an object with a 'format' field"),
    "wrong-format": (lambda: _valid_text().replace("mailgun-mock-snapshot", "mailgun-mock-dump").encode(),
                     "has an unknown format 'mailgun-mock-dump' (expected 'mailgun-mock-snapshot')"),
    "newer-version": (lambda: _valid_text().replace('"version": 1', '"version": 2').encode(),
                      "has an unknown version 2 (written by a newer mailgun-mock?); this mailgun-mock reads version 1"),
    "text-version": (lambda: _valid_text().replace('"version": 1', '"version": "1"').encode(),
                     "has an unknown version '1'; this mailgun-mock reads version 1"),
    "no-version": (lambda: _valid_text().replace('"version": 1', '"versions": 1').encode(), "has an unknown version None"),
    "no-state": (lambda: _valid_text().replace('"state"', '"State"').encode(),
                 "is corrupt: expected 'saved_at' (a string) and 'state' (an object)"),
    "bad-state": (lambda: _valid_text().replace('"priority": 1', '"priority": "1"').encode(),
                  "holds state that doesn't deserialise: state: routes[0]: Route: field 'priority' must be an integer"),
    "bad-raw": (lambda: _valid_text().replace('"raw": "', '"raw": "%').encode(),
                "holds state that doesn't deserialise: state: messages[0]: StoredMessage 'key-1': field 'raw' is not"),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_snapshot_load_refuses_a_bad_file_and_leaves_it(path: Path, case: str) -> None:
    """A corrupt, truncated, foreign, unknown-version or undecodable file raises SnapshotError naming
    the path and the problem, and the file is left exactly as it was."""
    content, problem = CORRUPT[case]
    path.write_bytes(content())
    before = path.read_bytes(), path.stat().st_mtime_ns
    with pytest.raises(SnapshotError) as caught:
        load(path)
    assert f"snapshot {path}" in str(caught.value)
    assert problem in str(caught.value)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_snapshot_load_of_an_unreadable_path_raises(tmp_path: Path) -> None:
    """A path that can't be read (here a directory) is a SnapshotError, not a fresh start."""
    with pytest.raises(SnapshotError, match=r"^snapshot .* can't be read"):
        load(tmp_path)


# -- the writer -------------------------------------------------------------------------------


def test_snapshot_writer_debounces_and_saves_the_last_state(path: Path, writers: list[SnapshotWriter]) -> None:
    """A stream of changes leads to about one save per delay, and the last state lands without close()."""
    store = Store()
    writer = SnapshotWriter(store, path, delay=0.1)
    writers.append(writer)
    started = time.monotonic()
    for number in range(60):
        store.add_event("example.com", make_event(number))
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    assert wait_until(lambda: path.exists() and file_holds(path, store))
    assert 2 <= writer.saves <= elapsed / 0.1 + 2, (writer.saves, elapsed)


def test_snapshot_writer_files_match_plain_saves(path: Path, tmp_path: Path) -> None:
    """The writer's saves (which reuse the text of unchanged events) are byte for byte what save() writes."""
    store = populated()
    plain = tmp_path / "plain.json"
    with SnapshotWriter(store, path, delay=60) as writer:
        for number in range(10, 14):
            store.add_event("example.com", make_event(number))
            if number == 12:
                store.clear()
            writer.flush()
            save(plain, store.snapshot())
            ours, theirs = path.read_text().splitlines(), plain.read_text().splitlines()
            assert [a for a, b in zip(ours, theirs) if a != b and "saved_at" not in a] == []
            assert len(ours) == len(theirs)


def test_snapshot_writer_without_changes_writes_nothing(path: Path) -> None:
    """A writer whose store never changes never writes (the state is already on disk)."""
    writer = SnapshotWriter(populated(), path, delay=0)
    writer.close()
    assert not path.exists() and writer.saves == 0


def test_snapshot_writer_close_saves_the_final_state_promptly(path: Path) -> None:
    """close() saves what changed at once, without waiting out the delay, and stops the thread."""
    store = Store()
    writer = SnapshotWriter(store, path, delay=60)
    store.restore(populated().snapshot())
    started = time.monotonic()
    writer.close()
    assert time.monotonic() - started < 2
    assert file_holds(path, store) and writer.saves == 1
    assert not any(t.name == "mailgun-mock:snapshot" and t.is_alive() for t in threading.enumerate())


def test_snapshot_writer_close_twice_is_harmless(path: Path) -> None:
    """A second close() does nothing: no error, no second save."""
    store = Store()
    writer = SnapshotWriter(store, path, delay=60)
    store.add_event("example.com", make_event())
    writer.close()
    writer.close()
    assert writer.saves == 1


def test_snapshot_writer_close_raises_when_the_final_save_fails(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A final save that fails raises OSError from close() (the caller must know), and the thread is stopped."""
    store = Store()
    writer = SnapshotWriter(store, path, delay=60)
    store.add_event("example.com", make_event())

    def broken(*args: Any) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="Read-only"):
        writer.close()
    assert not writer._thread.is_alive() and not path.exists()


def test_snapshot_writer_after_close_saves_nothing(path: Path) -> None:
    """Once closed, the writer stops listening: later changes are not saved."""
    store = Store()
    with SnapshotWriter(store, path, delay=0) as writer:
        store.add_event("example.com", make_event(1))
    store.add_event("example.com", make_event(2))
    time.sleep(0.05)
    assert writer.saves == 1 and len(restored(load(path)).all_events()) == 1


def test_snapshot_writer_flush_saves_now(path: Path, writers: list[SnapshotWriter]) -> None:
    """flush() saves the current state in the caller's thread, and only when something changed."""
    store = Store()
    writer = SnapshotWriter(store, path, delay=60)
    writers.append(writer)
    store.add_event("example.com", make_event())
    assert writer.flush() is True and file_holds(path, store)
    assert writer.flush() is False


def test_snapshot_writer_retries_a_failed_save(path: Path, writers: list[SnapshotWriter],
                                               monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A save that fails (disk full) is logged and tried again, without waiting for another change."""
    real_replace = os.replace
    failures = [OSError(28, "No space left on device")]

    def flaky(*args: Any) -> None:
        if failures:
            raise failures.pop()
        real_replace(*args)

    monkeypatch.setattr(os, "replace", flaky)
    store = Store()
    writer = SnapshotWriter(store, path, delay=0.01)
    writer.retry_pause = 0.05
    writers.append(writer)
    store.add_event("example.com", make_event())
    assert wait_until(lambda: path.exists() and file_holds(path, store))
    assert "could not save the snapshot" in caplog.text and "No space left" in caplog.text


def test_snapshot_writer_removes_temporary_files_of_killed_saves(path: Path, tmp_path: Path) -> None:
    """Temporary files a killed save left beside the snapshot are removed when a writer starts; others stay."""
    (tmp_path / ".state.json.k3x_9q1z.tmp").write_text("{")
    (tmp_path / ".other.json.k3x_9q1z.tmp").write_text("{")
    (tmp_path / "state.json.bak").write_text("{")
    SnapshotWriter(Store(), path, delay=0).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.json.k3x_9q1z.tmp", "state.json.bak"]


def test_snapshot_writer_refuses_a_missing_directory(tmp_path: Path) -> None:
    """A path whose directory does not exist is refused at start, not at the first save."""
    with pytest.raises(SnapshotError, match=r"^snapshot .*state.json: can't be written: directory .*missing"):
        SnapshotWriter(Store(), tmp_path / "gone" / "state.json", delay=0)


def test_snapshot_writer_refuses_a_negative_delay(path: Path) -> None:
    """A negative delay is a ValueError."""
    with pytest.raises(ValueError, match="delay"):
        SnapshotWriter(Store(), path, delay=-1)


# -- crash safety -----------------------------------------------------------------------------

# One change per step, each adding exactly one item, so the number of items in a snapshot says
# how many steps it holds. Run by the child and, to rebuild the expected state, by the test.
STEPS = '''
from mailgun_mock.base.records import DeliveryAttempt, Route, StoredMessage

def step(store, i, size=8192):
    t = 1_700_000_000 + i / 7
    kind = i % 4
    if kind == 0:
        store.add_route(Route(id=f"{i:024x}", priority=i % 3, description=f"route {i}",
                              expression="catch_all()", actions=("stop()",), created_at=t))
    elif kind == 1:
        store.add_message(StoredMessage(key=f"key{i}", domain="example.com", raw=bytes([i % 256]) * size,
                                        recipients=(f"u{i}@example.com",), sender="s@example.net",
                                        message_id=f"<{i}@example.net>", stored_at=t, expires_at=t + 3600))
    elif kind == 2:
        store.add_event("example.com", {"event": "accepted", "id": f"e{i}", "timestamp": t,
                                        "recipient": f"u{i}@example.com"})
    else:
        store.add_attempt(DeliveryAttempt(delivery_id=f"d{i}", kind="forward", url="http://app/hook",
                                          recipient=f"u{i}@example.com", message_id=f"<{i}@example.net>",
                                          attempt=1, status=500, error=None, outcome="retrying", duration=0.01,
                                          scheduled_at=t, attempted_at=t, next_retry=t + 600, fields=("a",)))
'''

CHILD = STEPS + '''
import sys, time
from mailgun_mock.state.snapshot import SnapshotWriter
from mailgun_mock.state.store import Store

store = Store()
writer = SnapshotWriter(store, sys.argv[1], delay=0.05)
size = int(sys.argv[3])
with open(sys.argv[2], "w") as progress:
    i = 0
    while True:
        step(store, i, size)
        i += 1
        progress.write(f"{i} {time.monotonic()}\\n")  # i steps done by then
        progress.flush()
        time.sleep(0.001)
'''

DELAY = 0.05
# A step is on disk at most DELAY plus two saves after it (one may be under way when it comes).
# Saves here take milliseconds; the rest is room for a busy machine's scheduling.
LOSS_BOUND = DELAY + 0.35
LARGE = 100_000  # message size from which saves are slow, so the bound above does not hold


def _items(store: Store) -> int:
    data = store.snapshot()
    return len(data["routes"]) + len(data["messages"]) + len(data["attempts"]) + len(store.all_events())


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_snapshot_survives_kill_9_at_random_moments(tmp_path: Path) -> None:
    """Killed with SIGKILL at 20 random moments, a writer's child process always leaves a file that
    loads and holds a prefix of its changes, missing at most those of the last debounce interval."""
    # In the last batch messages are 512 KB, so saves are long and many kills land inside one.
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    steps: dict[str, Any] = {}
    exec(STEPS, steps)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    for batch in range(4):
        runs = []
        for number in range(5):
            directory = tmp_path / f"run{batch}-{number}"
            directory.mkdir()
            state, progress = directory / "state.json", directory / "progress"
            size = 8192 if batch < 3 else 512 * 1024
            child = subprocess.Popen([sys.executable, "-c", CHILD, str(state), str(progress), str(size)], env=env)
            runs.append((child, state, progress, size))
        try:
            assert wait_until(lambda: all(p.exists() and p.stat().st_size for _, _, p, _ in runs), 20)
            ready = time.monotonic()
            kills = sorted((ready + rng.uniform(0.0, 0.45), run) for run in runs)
            killed_at = {}
            for when, (child, state, _, _) in kills:
                time.sleep(max(0.0, when - time.monotonic()))
                killed_at[state] = time.monotonic()
                child.send_signal(signal.SIGKILL)
        finally:
            for child, _, _, _ in runs:
                child.kill()
                child.wait()
        for child, state, progress, size in runs:
            assert child.returncode == -signal.SIGKILL
            done: dict[int, float] = {}
            for line in progress.read_text().split("\n")[:-1]:  # the last line may have been cut short
                steps_done, at = line.split()
                done[int(steps_done)] = float(at)
            saved = restored(load(state))  # must load: never half-written
            count = _items(saved)
            expected = Store()
            for i in range(count):
                steps["step"](expected, i, size)
            where = f"run {state.parent.name}, seed {seed}"
            assert saved.snapshot() == expected.snapshot(), f"not a prefix of the changes ({where})"
            assert count <= max(done, default=0) + 1, where
            first_lost = done.get(count + 1)
            if first_lost is not None and size < LARGE:
                lost_for = killed_at[state] - first_lost
                assert lost_for <= LOSS_BOUND, (f"step {count + 1} was done {lost_for:.3f} s before the kill "
                                                f"but is not on disk ({where})")
