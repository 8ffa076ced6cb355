"""Benchmark: snapshot save and load of 10,000 stored 9 KB messages, and SMTP ingestion with
4 concurrent smtplib clients. Run with `make bench`.
"""

from __future__ import annotations

import logging
import os
import pathlib
import smtplib
import statistics
import tempfile
import threading
import time

from mailgun_mock import MailgunMock
from mailgun_mock.base.records import StoredMessage
from mailgun_mock.edges.smtp import SmtpListener
from mailgun_mock.state import snapshot
from mailgun_mock.state.store import Store

RAW = (pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "reply-outlook.eml").read_bytes()
logging.getLogger("mail.log").setLevel(logging.WARNING)


def snapshot_seconds(count: int = 10_000, runs: int = 3) -> tuple[float, float, int]:
    store = Store()
    for i in range(count):
        raw = RAW + b"\r\n" + os.urandom(16).hex().encode()  # distinct bodies, ~9 KB each
        store.add_message(StoredMessage(key=f"k{i}", domain="example.com", raw=raw, recipients=("a@example.com",),
                                        sender="b@example.net", message_id=f"<{i}@example.net>",
                                        stored_at=1.7e9 + i, expires_at=1.8e9 + i))
    saves, loads = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "state.json")
        for _ in range(runs):
            t0 = time.perf_counter()
            snapshot.save(path, store.snapshot())
            saves.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            Store().restore(snapshot.load(path) or {})
            loads.append(time.perf_counter() - t0)
        size = os.path.getsize(path)
    return statistics.median(saves), statistics.median(loads), size


def smtp_rate(clients: int = 4, per_client: int = 150, runs: int = 3) -> float:
    rates = []
    with MailgunMock() as mock:
        with SmtpListener(mock.backend, "127.0.0.1", 0) as listener:
            for _ in range(runs):
                mock.reset()
                mock.create_route("catch_all()", "store()")

                def send() -> None:
                    with smtplib.SMTP("127.0.0.1", listener.port, local_hostname="bench.example") as client:
                        for _ in range(per_client):
                            client.sendmail("bob@example.net", ["support@example.com"], RAW)

                threads = [threading.Thread(target=send) for _ in range(clients)]
                t0 = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                rates.append(clients * per_client / (time.perf_counter() - t0))
                assert len(mock.backend.store.messages()) == clients * per_client
    return statistics.median(rates)


def main() -> None:
    save, load, size = snapshot_seconds()
    rate = smtp_rate()
    print("bench_state")
    print(f"  snapshot save, 10,000 x 9 KB messages ({size / 1e6:.0f} MB)   {save:6.2f} s   target <= 1 s")
    print(f"  snapshot load + restore, same file                  {load:6.2f} s   target <= 1 s")
    print(f"  SMTP ingestion, 4 smtplib clients, store() route    {rate:6.0f} msgs/s   target >= 300")


if __name__ == "__main__":
    main()
