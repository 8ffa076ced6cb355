"""The store's state on disk: versioned JSON, written atomically, kept fresh by a writer thread.

A snapshot file is one JSON document::

    {
      "format": "mailgun-mock-snapshot",
      "saved_at": "2024-05-01T12:00:00.000Z",
      "state": {
        "attempts": [
          {"attempt": 1, ...}
        ],
        "counters": {
          "route_seq": 3
        },
        "events": {
          "example.com": [
            {"event": "accepted", ...}
          ]
        },
        "messages": [
          {"domain": "example.com", ..., "raw": "<base64>", ...}
        ],
        "routes": [
          {"actions": ["stop()"], ...}
        ]
      },
      "version": 1
    }

Keys are sorted everywhere and every record sits on a line of its own, so two snapshots of
the same state are identical but for ``saved_at`` and a diff shows one line per record changed.
The text is pure ASCII (anything else is ``\\u``-escaped), so lone surrogates survive too.

One error: :class:`SnapshotError`, for a snapshot that can't be used (the message names the path
and the problem; the file is left as it is).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
import logging
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from .codec import decode_state
from .store import Store

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_VERSION", "SnapshotError", "SnapshotWriter", "load", "save"]

log = logging.getLogger("mailgun_mock")

SNAPSHOT_FORMAT = "mailgun-mock-snapshot"
SNAPSHOT_VERSION = 1

_Path = str | os.PathLike[str]

# The C encoder (used only without ``indent``) writes each record; _Layout lays out the rest.
_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=True, check_circular=False).encode
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_LONG = 1024


class SnapshotError(Exception):
    """A snapshot file that can't be used; the message names the path and what is wrong."""


def save(path: _Path, data: dict[str, Any], *, saved_at: float | None = None) -> None:
    """Write ``data`` (a :meth:`Store.snapshot` dict) to ``path`` atomically.

    The text goes to a temporary file in the same directory, which is flushed, fsynced and
    renamed over ``path``; then the directory is fsynced so the rename itself is durable. If
    anything fails the old file is untouched and the temporary file is removed.

    :param saved_at: the time recorded in ``saved_at``, in seconds since the epoch (default: now).
    :raises OSError: when the file can't be written.
    :raises TypeError: when ``data`` holds something JSON can't represent.
    """
    _save(os.fspath(path), data, saved_at, _Layout())


def _save(path: str, data: dict[str, Any], saved_at: float | None, layout: _Layout) -> None:
    stamp = datetime.datetime.fromtimestamp(time.time() if saved_at is None else saved_at, datetime.timezone.utc)
    document = {
        "format": SNAPSHOT_FORMAT,
        "saved_at": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "state": data,
        "version": SNAPSHOT_VERSION,
    }
    layout.value(document, 0)  # before any file exists, so an encoding error leaves nothing behind
    layout.out.append("\n")
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=directory)
    try:
        with contextlib.suppress(OSError):  # keep the mode of the file replaced (new files: 0600)
            os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))
        with open(fd, "w", encoding="ascii", newline="\n") as file:
            file.writelines(layout.out)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def _temp_prefix(path: str) -> str:
    return f".{os.path.basename(path)}."


_Known = dict[int, tuple[Any, str]]


class _Layout:
    """A snapshot's text, in pieces: objects and lists one entry per line, list items compact.

    :param known: the text of the event records of the previous save, by identity: events are
        the store's own dicts, never changed once stored, so their text can be reused (the
        writer's saves pass it on; :attr:`seen` is what to pass to the next one).
    """

    def __init__(self, known: _Known | None = None) -> None:
        self.out: list[str] = []
        self.known = known
        self.seen: _Known = {}

    def value(self, value: Any, depth: int, events: bool = False) -> None:
        out, inner = self.out, "  " * (depth + 1)
        if isinstance(value, dict) and value:
            out.append("{\n")
            for number, key in enumerate(sorted(value)):
                out.append(f"{inner}{_encode(key)}: ")
                self.value(value[key], depth + 1, events or key == "events")
                out.append(",\n" if number < len(value) - 1 else "\n")
            out.append("  " * depth + "}")
        elif isinstance(value, list) and value:
            out.append("[\n")
            for item in value:
                out.append(inner)
                if events and self.known is not None:
                    self._event(item)
                else:
                    self._record(item)
                out.append(",\n")
            out[-1] = "\n"
            out.append("  " * depth + "]")
        else:
            out.append(_encode(value))

    def _event(self, event: Any) -> None:
        assert self.known is not None
        known = self.known.get(id(event))
        # The entry holds the event itself, so no other object can have its id meanwhile.
        text = known[1] if known is not None and known[0] is event else _encode(event)
        self.seen[id(event)] = (event, text)
        self.out.append(text)

    def _record(self, item: Any) -> None:
        """``item`` as compact JSON, exactly as :data:`_encode` writes it, only faster for raw messages.

        JSON-escaping a string costs a pass over every character, the bulk of saving a large
        store; base64 text needs no escaping, so long strings of pure base64 go in as they are.
        """
        if type(item) is not dict:
            self.out.append(_encode(item))
            return
        verbatim = {key for key, value in item.items() if type(value) is str and len(value) >= _LONG}
        if not verbatim or not all(type(key) is str for key in item) or not all(_is_base64(item[k]) for k in verbatim):
            self.out.append(_encode(item))
            return
        between: dict[str, Any] = {}  # the fields between two verbatim ones, encoded together
        separator = "{"
        for key in sorted(item):
            if key in verbatim:
                if between:
                    self.out += (separator, _encode(between)[1:-1])
                    between, separator = {}, ", "
                self.out += (separator, _encode(key), ': "', item[key], '"')
                separator = ", "
            else:
                between[key] = item[key]
        if between:
            self.out += (separator, _encode(between)[1:-1])
        self.out.append("}")


def _is_base64(text: str) -> bool:
    # isascii() is O(1); deleting the alphabet leaves nothing only if nothing needs escaping.
    return text.isascii() and not text.encode("ascii").translate(None, _BASE64_ALPHABET)


def _fsync_directory(directory: str) -> None:
    # Makes the rename durable on POSIX; some platforms can't open a directory, which is fine.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load(path: _Path) -> dict[str, Any] | None:
    """The state saved in ``path``, decoded and checked, ready for :meth:`Store.restore`.

    The returned dict is :meth:`Store.snapshot`'s shape with its records already decoded
    (:func:`~mailgun_mock.state.codec.decode_state`: routes, messages and attempts as model objects),
    so ``store.restore(load(path))`` decodes every message once.

    :returns: ``None`` when there is no file at ``path``.
    :raises SnapshotError: when the file can't be read, isn't valid JSON (corrupt or truncated),
        isn't a snapshot, has an unknown format or version, or its state doesn't deserialise.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SnapshotError(f"snapshot {path}: can't be read: {exc.strerror or exc}") from exc
    if not raw or raw.isspace():
        raise SnapshotError(f"snapshot {path} is corrupt: the file is empty")
    with _gc_paused():
        return _parse(path, raw)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Loading or saving a large snapshot makes a million objects, none of them cyclic garbage;
    # letting the cyclic collector walk the whole heap meanwhile would add a third to the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(path: str, raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        ended = exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string")
        problem = "truncated (the JSON ends early: " if ended else "corrupt (not valid JSON: "
        raise SnapshotError(f"snapshot {path} is {problem}{exc})") from None
    except (ValueError, RecursionError) as exc:  # bytes that aren't UTF-8; absurd nesting
        raise SnapshotError(f"snapshot {path} is corrupt (not valid JSON: {exc})") from None
    if not isinstance(document, dict) or "format" not in document:
        raise SnapshotError(f"snapshot {path} is corrupt: expected an object with a 'format' field")
    if document["format"] != SNAPSHOT_FORMAT:
        raise SnapshotError(
            f"snapshot {path} has an unknown format {document['format']!r:.60} (expected {SNAPSHOT_FORMAT!r})")
    version = document.get("version")
    if version != SNAPSHOT_VERSION or isinstance(version, bool):
        newer = " (written by a newer mailgun-mock?)" if isinstance(version, int) and version > SNAPSHOT_VERSION else ""
        raise SnapshotError(f"snapshot {path} has an unknown version {version!r:.60}{newer}; "
                            f"this mailgun-mock reads version {SNAPSHOT_VERSION}")
    state = document.get("state")
    if not isinstance(state, dict) or not isinstance(document.get("saved_at"), str):
        raise SnapshotError(f"snapshot {path} is corrupt: expected 'saved_at' (a string) and 'state' (an object)")
    try:
        return decode_state(state)
    except ValueError as exc:
        raise SnapshotError(f"snapshot {path} holds state that doesn't deserialise: {exc}") from None


class SnapshotWriter:
    """Saves ``store`` to ``path`` shortly after it changes, on a daemon thread.

    The first change after a save starts a ``delay``-second wait that gathers further changes,
    then the state as of that moment is saved; so saves come at most once per ``delay`` while
    changes keep coming, and a change is on disk about ``delay`` (plus a save's duration) after
    it happened. A failed save is logged and retried. :meth:`close` saves what is left.

    The store's state when the writer is created is taken to be on disk already (just loaded
    with :func:`load`, or empty with no file yet): only later changes lead to a save. Temporary
    files left beside ``path`` by a save that was killed midway are removed at creation, so
    no two processes may share one snapshot path.

    :param store: the store to keep saved.
    :param path: the snapshot file.
    :param delay: seconds between a change and the save that records it.
    :raises SnapshotError: when ``path``'s directory is missing or not writable (found at start,
        not at the first save).
    """

    #: Seconds to wait before retrying a failed save (at least ``delay``).
    retry_pause = 1.0

    def __init__(self, store: Store, path: _Path, delay: float) -> None:
        if not delay >= 0:
            raise ValueError(f"delay must be a non-negative number of seconds, got {delay!r}")
        self.store = store
        self.path = os.fspath(path)
        self.delay = delay
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
            raise SnapshotError(f"snapshot {self.path}: can't be written: directory {directory} is missing "
                                "or not writable")
        #: How many times the state was written (for logs and tests).
        self.saves = 0
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._save_lock = threading.Lock()
        self._saved_version = store.version
        self._events_text: _Known = {}
        _remove_stale_temps(self.path)
        store.add_listener(self._on_change)
        self._thread = threading.Thread(target=self._run, name="mailgun-mock:snapshot", daemon=True)
        self._thread.start()

    def _on_change(self, version: int) -> None:
        # A store listener: runs under the store's lock, so it only flags the change.
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            # Changes made while this waits join the same save; close() cuts the wait short.
            if self._closing.wait(self.delay):
                return
            self._wake.clear()  # before the snapshot is taken, so no later change goes unseen
            try:
                self._save_if_changed()
            except Exception as exc:
                pause = max(self.retry_pause, self.delay)
                if isinstance(exc, OSError):  # disk full, directory gone...: the message says it all
                    log.error("could not save the snapshot %s: %s; retrying in %g s", self.path, exc, pause)
                else:
                    log.exception("could not save the snapshot %s; retrying in %g s", self.path, pause)
                if self._closing.wait(pause):
                    return
                self._wake.set()

    def _save_if_changed(self) -> bool:
        with self._save_lock:
            version = self.store.version
            if version == self._saved_version:
                return False
            layout = _Layout(self._events_text)
            # A change between these two lines is saved now and once more later: harmless.
            with _gc_paused():  # the snapshot's dicts all die with this call: no cycles to find
                _save(self.path, self.store.snapshot(), None, layout)
            self._events_text = layout.seen
            self._saved_version = version
            self.saves += 1
            log.debug("snapshot %s saved (store version %d)", self.path, version)
            return True

    def flush(self) -> bool:
        """Save now, in the calling thread, if anything changed since the last save.

        :returns: whether a save happened.
        :raises OSError: when the file can't be written.
        """
        return self._save_if_changed()

    def close(self) -> None:
        """Stop the thread, then save the final state if it changed. Safe to call twice.

        :raises OSError: when the final save fails (the error is also logged).
        """
        self._closing.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        self.store.remove_listener(self._on_change)
        try:
            self._save_if_changed()
        except OSError as exc:
            log.error("could not save the final snapshot %s: %s", self.path, exc)
            raise

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _remove_stale_temps(path: str) -> None:
    """Delete the temporary files of saves to ``path`` that never finished (the process died)."""
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"[A-Za-z0-9_]+\.tmp")
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if pattern.fullmatch(name):
                log.info("removing %s, left by an unfinished snapshot save", name)
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))
