"""Benchmark: sending through the SMTP relay vs. POST /v3/<domain>/messages.mime, in the same run.

Run with `make bench`. 4 concurrent clients each way, the same 9 KB message (fixtures/reply-outlook.eml
with two X-Mailgun-Tag headers, variables and X-Mailgun-Track: no): authenticated smtplib clients
that log in once and send over their connection (as Django's SMTP backend does for a batch), and
requests sessions posting multipart forms. Prints medians of repeated runs; the target is the relay
at >= 80 % of the HTTP figure.
"""

from __future__ import annotations

import logging
import pathlib
import smtplib
import statistics
import threading
import time
from collections.abc import Callable

import requests

from mailgun_mock import MailgunMock

logging.getLogger("mail.log").setLevel(logging.WARNING)
logging.getLogger("mailgun_mock").setLevel(logging.WARNING)

DOMAIN = "mg.example.com"
CLIENTS = 4
TARGET_SHARE = 0.80
RAW = (b"X-Mailgun-Tag: bench\r\nX-Mailgun-Tag: relay\r\nX-Mailgun-Variables: {\"run\": \"1\"}\r\n"
       b"X-Mailgun-Track: no\r\n"
       + (pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "reply-outlook.eml").read_bytes())
RECIPIENTS = ["ann@example.net"]


def _rate(mock: MailgunMock, per_client: int, send: Callable[[int], None]) -> float:
    mock.reset()
    threads = [threading.Thread(target=send, args=(per_client,)) for _ in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = CLIENTS * per_client / (time.perf_counter() - t0)
    assert len(mock.outbox) == CLIENTS * per_client, "a send was lost"
    return rate


def http_rate(mock: MailgunMock, per_client: int) -> float:
    def send(count: int) -> None:
        with requests.Session() as session:
            session.auth = ("api", mock.api_key)
            for _ in range(count):
                reply = session.post(f"{mock.url}/v3/{DOMAIN}/messages.mime", data={"to": RECIPIENTS},
                                     files={"message": ("m.eml", RAW, "message/rfc822")}, timeout=30)
                reply.raise_for_status()

    return _rate(mock, per_client, send)


def relay_rate(mock: MailgunMock, per_client: int, reconnect: bool = False) -> float:
    assert mock.smtp_submission_port is not None
    port = mock.smtp_submission_port

    def connect() -> smtplib.SMTP:
        client = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example", timeout=30)
        client.login(f"postmaster@{DOMAIN}", mock.smtp_password)
        return client

    def send(count: int) -> None:
        if reconnect:
            for _ in range(count):
                with connect() as client:
                    client.sendmail(f"app@{DOMAIN}", RECIPIENTS, RAW)
            return
        with connect() as client:
            for _ in range(count):
                client.sendmail(f"app@{DOMAIN}", RECIPIENTS, RAW)

    return _rate(mock, per_client, send)


def main(per_client: int = 100, runs: int = 5) -> None:
    http, relay, fresh = [], [], []
    with MailgunMock(smtp_submission_port=0, domains=(DOMAIN,)) as mock:
        http_rate(mock, 10)  # warm up both paths (imports, first-use caches)
        relay_rate(mock, 10)
        for _ in range(runs):  # interleaved, so a noisy moment hurts both
            http.append(http_rate(mock, per_client))
            relay.append(relay_rate(mock, per_client))
            fresh.append(relay_rate(mock, per_client // 2, reconnect=True))
    http_m, relay_m, fresh_m = statistics.median(http), statistics.median(relay), statistics.median(fresh)
    rows = [(f"messages.mime over HTTP, {CLIENTS} clients (median of {runs})", http_m, ""),
            (f"SMTP relay, {CLIENTS} authenticated smtplib clients (median of {runs})", relay_m,
             f"{relay_m / http_m:4.0%} of HTTP, target >= {TARGET_SHARE:.0%}"),
            ("SMTP relay, a new connection + AUTH per message", fresh_m, f"{fresh_m / http_m:4.0%} of HTTP (reference)")]
    print("bench_smtp_relay")
    for label, rate, note in rows:
        print(f"  {label:<62} {rate:7.0f} msgs/s   {note}".rstrip())

if __name__ == "__main__":
    main()
