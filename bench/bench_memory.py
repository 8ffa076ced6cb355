"""Benchmark: memory held for 10,000 stored ~50 KB messages (issue target #6: <= 1.5 x the raw bytes).

Run with `make bench`. Each measurement runs in a fresh child process (this file with ``--child``):
it builds a mock with one ``store()`` route, warms the pipeline up with a few messages and resets,
then injects 10,000 distinct messages through ``MailgunMock.inject``, so the stored copies, the
events and whatever else the pipeline keeps are all counted. One child reads the resident set
size (``/proc/self/statm``) before and after; a second one traces the same run with
``tracemalloc`` (which costs memory of its own, hence the separate process) and names the lines
that allocated what is still held.
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

COUNT = 10_000
TARGET_RATIO = 1.5
TOP = 8  # tracemalloc lines to show

_WORDS = ("the quarterly report attached below covers revenue support tickets shipping delays customer "
          "feedback and the roadmap for next year please review before thursday meeting thanks regards "
          "invoice account order delivery schedule update question answer project team manager").split()


def _corpus(chars: int) -> str:
    """Deterministic English-looking text in lines of at most 76 characters."""
    rng = random.Random(6)
    lines: list[str] = []
    line: list[str] = []
    total = width = 0
    while total < chars:
        word = rng.choice(_WORDS)
        if width + len(word) > 76:
            lines.append(" ".join(line))
            total += width
            line, width = [], 0
        line.append(word)
        width += len(word) + 1
    return "\n".join(lines)


def message_factory() -> Callable[[int], bytes]:
    """``make(i)``: a distinct ~50 KB multipart/alternative message (text and HTML parts), as bytes."""
    corpus = _corpus(400_000)
    span = len(corpus) - 30_000

    def make(i: int) -> bytes:
        a, b = (i * 7919) % span, (i * 104_729 + 12_345) % span
        text = corpus[a:a + 22_200]
        html = "".join(f"<p>{line}</p>\n" for line in corpus[b:b + 24_500].split("\n"))
        head = (f"From: Customer {i} <customer{i}@example.net>\r\n"
                f"To: Support <support@example.com>\r\n"
                f"Subject: Quarterly report {i}\r\n"
                f"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
                f"Message-ID: <{i}.{os.urandom(6).hex()}@example.net>\r\n"
                f"MIME-Version: 1.0\r\n"
                f'Content-Type: multipart/alternative; boundary="b{i}"\r\n\r\n')
        body = (f"--b{i}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
                f"--b{i}\nContent-Type: text/html; charset=utf-8\n\n<html><body>\n{html}</body></html>\n"
                f"--b{i}--\n")
        return (head + body.replace("\n", "\r\n")).encode()

    return make


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(mode: str) -> None:
    import tracemalloc

    from mailgun_mock import MailgunMock

    make = message_factory()
    mock = MailgunMock()
    mock.create_route("catch_all()", "store()")
    for i in range(20):  # warm-up: imports, regex caches, first-use allocations
        mock.inject(make(COUNT + i), recipients=["support@example.com"])
    mock.reset()
    mock.create_route("catch_all()", "store()")
    gc.collect()
    if mode == "tracemalloc":
        tracemalloc.start(1)
    rss0 = _rss()
    raw_bytes = 0
    t0 = time.perf_counter()
    for i in range(COUNT):
        raw = make(i)
        raw_bytes += len(raw)
        mock.inject(raw, recipients=["support@example.com"])
        del raw  # the mock's copy is the only one left
    seconds = time.perf_counter() - t0
    gc.collect()
    result: dict[str, Any] = {"raw": raw_bytes, "seconds": seconds,
                              "stored": len(mock.backend.store.messages()), "events": len(mock.events)}
    if mode == "rss":
        result["growth"] = _rss() - rss0
    else:
        snapshot = tracemalloc.take_snapshot()
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["growth"] = current
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        top = []
        for stat in snapshot.statistics("lineno")[:TOP]:
            frame = stat.traceback[0]
            name = os.path.relpath(frame.filename, here) if frame.filename.startswith(here) else frame.filename
            where = f"{name}:{frame.lineno}"
            if frame.filename == os.path.abspath(__file__):
                where += " (the raw messages: built here, kept as they are by the store)"
            top.append({"where": where, "size": stat.size, "count": stat.count})
        result["top"] = top
    print(json.dumps(result))


def _run_child(mode: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", mode], check=True, capture_output=True,
                         text=True, timeout=300)
    answer: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    if answer["stored"] != COUNT:
        raise RuntimeError(f"{answer['stored']} messages stored, expected {COUNT}")
    return answer


def main() -> None:
    rss = _run_child("rss")
    traced = _run_child("tracemalloc")
    raw = rss["raw"]
    print(f"bench_memory ({COUNT:,} distinct ~{raw / COUNT / 1000:.0f} KB text+HTML messages, "
          "inject() with one store() route, fresh process)")
    print(f"  raw message bytes                          {raw / 1e6:8.1f} MB")
    print(f"  RSS growth                                 {rss['growth'] / 1e6:8.1f} MB   "
          f"x{rss['growth'] / raw:.2f} the raw bytes   target <= x{TARGET_RATIO}")
    print(f"  tracemalloc: held by new allocations       {traced['growth'] / 1e6:8.1f} MB   "
          f"x{traced['growth'] / raw:.2f} the raw bytes")
    print(f"  beyond the raw bytes, per message: RSS {(rss['growth'] - raw) / COUNT / 1000:.1f} KB, "
          f"traced {(traced['growth'] - raw) / COUNT / 1000:.1f} KB "
          f"({rss['events']:,} events kept; {COUNT / rss['seconds']:.0f} injects/s untraced)")
    print(f"  tracemalloc top {TOP} lines by size held (% of held):")
    for stat in traced["top"]:
        print(f"    {stat['size'] / 1e6:8.1f} MB {stat['size'] / traced['growth']:5.1%}  "
              f"{stat['count']:>8,} blocks  {stat['where']}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2])
    else:
        main()
