"""Benchmark: inbound mail through the routes, in process, with store() and with forward(url).

Run with `make bench`. Uses fixtures/reply-outlook.eml (8.9 KB, text + HTML with quoted history).
Prints medians of repeated runs; the webhook receiver is a bare werkzeug app on 127.0.0.1.
"""

from __future__ import annotations

import logging
import pathlib
import statistics
import threading
import time

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from mailgun_mock import MailgunMock

logging.getLogger("werkzeug").setLevel(logging.ERROR)

RAW = (pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "reply-outlook.eml").read_bytes()
RECIPIENT = ["support@example.com"]


def store_rate(mock: MailgunMock, n: int = 400, runs: int = 5) -> float:
    rates = []
    for _ in range(runs):
        mock.reset()
        mock.backend.create_route("catch_all()", ["store()"])
        t0 = time.perf_counter()
        for _ in range(n):
            mock.inject(RAW, recipients=RECIPIENT)
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def forward_figures(mock: MailgunMock, n: int = 300, runs: int = 3) -> tuple[float, float, float]:
    received: list[float] = []

    @Request.application
    def app(request: Request) -> Response:
        request.get_data()
        received.append(time.perf_counter())
        return Response("ok")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    rates, latencies = [], []
    try:
        for _ in range(runs):
            mock.reset()
            mock.backend.create_route("catch_all()", [f'forward("http://127.0.0.1:{server.port}/hook")'])
            t0 = time.perf_counter()
            for _ in range(n):
                started = time.perf_counter()
                received.clear()
                mock.inject(RAW, recipients=RECIPIENT)  # returns after the first attempt
                latencies.append((received[0] if received else time.perf_counter()) - started)
            rates.append(n / (time.perf_counter() - t0))
    finally:
        server.shutdown()
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return statistics.median(rates), p50, p99


def inline_figures(n: int = 400, runs: int = 5) -> tuple[float, float]:
    """inject with forward(url) under deliver="inline", the URL taken by wsgi_targets into a bare WSGI
    app: messages a second, and p50 of inject -> the app has handled the webhook (in the same thread)."""
    handled: list[float] = []

    @Request.application
    def app(request: Request) -> Response:
        request.form  # the app reads the webhook's fields, as a receiver does
        handled.append(time.perf_counter())
        return Response("ok")

    rates, latencies = [], []
    with MailgunMock(deliver="inline", smtp_port=None) as mock:
        mock.wsgi_targets({"http://app.test": app})
        for _ in range(runs):
            mock.reset()
            mock.backend.create_route("catch_all()", ['forward("http://app.test/hook")'])
            t0 = time.perf_counter()
            for _ in range(n):
                started = time.perf_counter()
                handled.clear()
                mock.inject(RAW, recipients=RECIPIENT, wait=False)
                latencies.append(handled[0] - started)
            rates.append(n / (time.perf_counter() - t0))
    latencies.sort()
    return statistics.median(rates), latencies[len(latencies) // 2] * 1000


def events_page_ms(mock: MailgunMock, count: int) -> float:
    mock.reset()
    now = mock.backend.clock.now()
    for i in range(count):
        kind = "stored" if i % 10 == 0 else "accepted"
        mock.backend.store.add_event("example.com", {"event": kind, "id": f"e{i}", "timestamp": now - count + i,
                                                     "recipient": f"u{i % 50}@example.com"})
    samples = []
    for _ in range(50):
        t0 = time.perf_counter()
        page = mock.backend.list_events("example.com", {"event": "stored", "limit": "100"})
        samples.append((time.perf_counter() - t0) * 1000)
        assert len(page["items"]) == 100
    return statistics.median(samples)


def main() -> None:
    with MailgunMock() as mock:
        store = store_rate(mock)
        forward, p50, p99 = forward_figures(mock)
        pages = {n: events_page_ms(mock, n) for n in (10_000, 100_000, 1_000_000)}
    inline_rate, inline_p50 = inline_figures()
    print("bench_inbound (8.9 KB message, one recipient, in process)")
    print(f"  inject with store()                      {store:8.0f} msgs/s  (issue target >= 2000)")
    print(f"  inject with forward(url), wait=True      {forward:8.0f} msgs/s  (issue target >= 1000)")
    print(f"  inject -> webhook received  p50 / p99    {p50:6.2f} / {p99:.2f} ms  (issue target <= 5 / 20 ms)")
    print(f"  inline into a WSGI app: inject+forward   {inline_rate:8.0f} msgs/s  (issue target >= 3000)")
    print(f"  inline: inject -> webhook handled, p50   {inline_p50:6.2f} ms  (issue target <= 0.5 ms)")
    for n, ms in pages.items():
        print(f"  events page, limit 100, event=stored, {n:>7,} events  {ms:6.2f} ms  (target <= 5 ms)")


if __name__ == "__main__":
    main()
