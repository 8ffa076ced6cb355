"""Benchmark: MailgunMock start+stop, and Routes API throughput over real HTTP.

Run with `make bench`. Prints medians of repeated runs (this machine is noisy).
"""

from __future__ import annotations

import statistics
import time

import requests

from mailgun_mock import MailgunMock

TARGET_START_STOP_MS = 50


def start_stop_ms(runs: int = 40) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        MailgunMock().start().stop()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def routes_per_second(requests_per_run: int = 300, runs: int = 5) -> tuple[float, float]:
    creates, lists = [], []
    with MailgunMock() as mock:
        session = requests.Session()
        session.auth = ("api", mock.api_key)
        for _ in range(runs):
            mock.reset()
            t0 = time.perf_counter()
            for i in range(requests_per_run):
                session.post(f"{mock.url}/v3/routes", data={"expression": f'match_recipient("r{i}@")', "action": "stop()"})
            creates.append(requests_per_run / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for _ in range(requests_per_run):
                session.get(f"{mock.url}/v3/routes", params={"limit": "10"})
            lists.append(requests_per_run / (time.perf_counter() - t0))
    return statistics.median(creates), statistics.median(lists)


def main() -> None:
    start_stop = start_stop_ms()
    create, listing = routes_per_second()
    print("bench_server")
    print(f"  MailgunMock start+stop (median of 40)   {start_stop:8.1f} ms   target <= {TARGET_START_STOP_MS} ms")
    print(f"  POST /v3/routes over HTTP (median of 5)  {create:8.0f} req/s")
    print(f"  GET /v3/routes?limit=10 (median of 5)    {listing:8.0f} req/s")


if __name__ == "__main__":
    main()
