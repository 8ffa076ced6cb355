"""Benchmark: the web inbox with 10,000 stored messages (issue #16).

Run with `make bench`. Loads 5,000 sent and 5,000 received messages into a mock on 127.0.0.1, then
measures, medians of repeats:

- ``/mock/messages`` (first page of 50): the first answer after the bulk load (every message is
  summarised once, then), and answers after that;
- a search answer (``q=`` one word of one subject, and a word in every message);
- in Chromium (Debian's, through Playwright): the list's first paint (navigation start to the first
  row in the DOM), and a new message visible in an open page after an inject (inject call to row).

Browser figures are skipped, saying why, when /usr/bin/chromium or playwright is missing.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from mailgun_mock import MailgunMock  # noqa: E402

COUNT = 10_000
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TARGETS = {"paint": 300.0, "search": 100.0, "live": 500.0}
# Records (ms since navigation start, and epoch ms) when the first row, and each row by subject, appear.
OBSERVER = """
window.__rows = {};
new MutationObserver(() => {
  for (const el of document.querySelectorAll('[data-testid=row-subject]')) {
    if (!(el.textContent in window.__rows)) window.__rows[el.textContent] = performance.timeOrigin + performance.now();
    if (window.__firstRow === undefined) window.__firstRow = performance.now();
  }
}).observe(document, {childList: true, subtree: true});
"""


def load(mock: MailgunMock) -> None:
    backend = mock.backend
    for n in range(COUNT // 2):
        backend.send_message("example.com", {"from": "App <app@example.com>", "to": [f"user{n}@example.net"],
                                             "subject": f"Welcome {n}", "o:tag": ["welcome"],
                                             "text": f"Hello user {n}, your code is {100000 + n}."}, [])
        backend.receive_inbound(f"From: Customer {n} <c{n}@example.net>\r\nTo: support@example.com\r\n"
                                f"Subject: Ticket {n} zebra{n}\r\nMessage-Id: <t{n}@example.net>\r\n\r\n"
                                f"My order {n} has not arrived.\r\n".encode())
    mock.settle(120)


def timed(get: requests.Session, url: str, repeats: int) -> tuple[float, float]:
    """(first, median of the rest) milliseconds of GET ``url``."""
    samples = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        reply = get.get(url, timeout=60)
        samples.append((time.perf_counter() - start) * 1000)
        assert reply.status_code == 200, reply.text
    return samples[0], statistics.median(samples[1:])


def browser_figures(mock: MailgunMock) -> dict[str, float] | str:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright is not installed"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM}"
    paints, lives = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(5):
            context = browser.new_context()
            page = context.new_page()
            page.add_init_script(OBSERVER)
            page.goto(mock.url + "/")
            page.wait_for_selector("[data-testid=message-row]")
            paints.append(page.evaluate("window.__firstRow"))
            page.wait_for_selector(".live.on")  # the live stream is connected
            subject = f"Live {len(lives)}"
            started = time.time() * 1000
            mock.inject(from_="a@example.net", to=["support@example.com"], subject=subject, text="x")
            page.wait_for_selector(f"text={subject}")
            lives.append(page.evaluate(f"window.__rows[{subject!r}]") - started)
            context.close()
        browser.close()
    return {"paint": statistics.median(paints), "live": statistics.median(lives)}


def main() -> int:
    with MailgunMock() as mock:
        start = time.perf_counter()
        load(mock)
        print(f"loaded {COUNT:,} messages in {time.perf_counter() - start:.1f} s")
        session = requests.Session()
        session.trust_env = False
        first, warm = timed(session, f"{mock.url}/mock/messages?limit=50", 20)
        _, one = timed(session, f"{mock.url}/mock/messages?q=zebra4321&limit=50", 20)
        _, many = timed(session, f"{mock.url}/mock/messages?q=order&limit=50", 20)
        figures = browser_figures(mock)
    rows = [
        ("/mock/messages, first answer after the bulk load (summarises all)", f"{first:.0f} ms", "(once)"),
        ("/mock/messages, page of 50, afterwards", f"{warm:.1f} ms", "-"),
        ("search answer, q= one subject word (1 hit)", f"{one:.1f} ms", f"<= {TARGETS['search']:.0f} ms"),
        ("search answer, q= a word in 5,000 messages", f"{many:.1f} ms", f"<= {TARGETS['search']:.0f} ms"),
    ]
    if isinstance(figures, str):
        rows.append(("browser figures", f"skipped: {figures}", ""))
    else:
        rows.append(("list's first paint in Chromium (navigation to first row)", f"{figures['paint']:.0f} ms",
                     f"<= {TARGETS['paint']:.0f} ms"))
        rows.append(("new message visible in an open page after inject", f"{figures['live']:.0f} ms",
                     f"<= {TARGETS['live']:.0f} ms"))
    print(f"web inbox with {COUNT:,} messages (medians):")
    for name, figure, target in rows:
        print(f"  {name:<66} {figure:>12}   target {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
