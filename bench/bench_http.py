"""Benchmark: inbound mail over HTTP against a bare Flask endpoint (issue target #3), and API
latency while webhooks hang on a receiver that never answers (issue target #10).

Run with `make bench`. Uses fixtures/reply-outlook.eml (8.9 KB). Everything listens on 127.0.0.1.

The HTTP client (one ``requests.Session`` per client thread) runs in a child process started from
this file (``--client``), so that it does not share the server's GIL: in one process the client's
own work would be added to both sides of the comparison and flatter the ratio. The parent drives
it over a pipe, one JSON line per command, and does the untimed setup (reset, routes) in process.
"""

from __future__ import annotations

import json
import logging
import pathlib
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

RAW_PATH = pathlib.Path(__file__).resolve().parent.parent / "fixtures" / "reply-outlook.eml"
STORE_RCPT = "support@example.com"
HOOK_RCPT = "hooks@example.com"

TARGET_RATIO = 0.90  # target #3 (issue 14; 70 % in the first version): mock inbound >= 90% of a bare endpoint's req/s
TARGET_P99_GROWTH = 1.20  # target #10: p99 with 50 hanging deliveries <= 1.2 x idle p99


# --------------------------------------------------------------------------- the client process


def _client_main() -> None:
    """Serve commands from the parent: one JSON object a line in, one a line out."""
    import requests

    sessions: list[requests.Session] = []
    raw = RAW_PATH.read_bytes()

    def session(i: int, key: str) -> requests.Session:
        while len(sessions) <= i:
            s = requests.Session()
            s.trust_env = False  # never a proxy: 127.0.0.1 only
            sessions.append(s)
        sessions[i].auth = ("api", key)
        return sessions[i]

    def one(s: requests.Session, base: str, kind: str) -> None:
        if kind == "routes":
            response = s.get(f"{base}/v3/routes", params={"limit": "10"})
        else:  # "bare" or "mock": the same 8.9 KB body, the same headers and query
            path = "/bare" if kind == "bare" else "/mock/inbound"
            response = s.post(f"{base}{path}", params={"recipient": STORE_RCPT}, data=raw,
                              headers={"Content-Type": "message/rfc822"})
        if response.status_code != 200:
            raise RuntimeError(f"{kind}: HTTP {response.status_code}: {response.text[:200]}")

    for line in sys.stdin:
        cmd = json.loads(line)
        base, key = cmd["url"], cmd["key"]
        if cmd["op"] == "rate":
            clients, n = cmd["clients"], cmd["n"]
            per_client = n // clients
            errors: list[BaseException] = []

            def run(i: int) -> None:
                s = session(i, key)
                try:
                    for _ in range(per_client):
                        one(s, base, cmd["kind"])
                except BaseException as exc:  # reported to the parent, which stops the bench
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
            cpu0, t0 = time.process_time(), time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            result: dict[str, Any] = {"rate": per_client * clients / wall, "client_cpu": cpu / wall}
            if errors:
                result = {"error": repr(errors[0])}
        else:  # "latency": the kinds in turn, n rounds, one client; answers each kind's samples in ms
            s = session(0, key)
            samples: dict[str, list[float]] = {k: [] for k in cmd["kinds"]}
            try:
                for _ in range(cmd["n"]):
                    for k in cmd["kinds"]:
                        t0 = time.perf_counter()
                        one(s, base, k)
                        samples[k].append((time.perf_counter() - t0) * 1000)
                result = {"samples": samples}
            except Exception as exc:
                result = {"error": repr(exc)}
        print(json.dumps(result), flush=True)


class Client:
    """The parent's handle on the client process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--client"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the client process died")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"client: {answer['error']}")
        return answer

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def client_process() -> Iterator[Client]:
    client = Client()
    try:
        yield client
    finally:
        client.close()


# --------------------------------------------------------------------------- target #3


@contextmanager
def mock_beside_bare() -> Iterator[tuple[Any, str]]:
    """The mock's app and a bare Flask endpoint, on one server of the mock's own class.

    One ``WsgiServer`` (werkzeug's threaded server, as ``MailgunMock.start`` binds it) serves a
    two-line WSGI switch: ``/bare`` goes to a Flask app whose one view reads the body and answers
    "ok"; everything else goes to the mock's app. Both sides pay the switch.
    """
    from flask import Flask, request

    from mailgun_mock import MailgunMock
    from mailgun_mock.edges.wsgi_server import WsgiServer

    mock = MailgunMock()
    bare = Flask("bare")

    @bare.post("/bare")
    def bare_endpoint() -> str:
        request.get_data()
        return "ok"

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = bare if environ.get("PATH_INFO") == "/bare" else mock.app
        return target(environ, start_response)

    server = WsgiServer.bind("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_until_stopped, name="bench-http", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}"
    mock.backend.server_url = url
    try:
        yield mock, url
    finally:
        server.request_stop()
        thread.join()
        server.close()
        mock.backend.close()


def inbound_vs_bare(client: Client, clients: int, n: int, rounds: int) -> dict[str, Any]:
    """Interleaved runs, bare then mock, each from a fresh state with one ``store()`` route."""
    rates: dict[str, list[float]] = {"bare": [], "mock": []}
    cpu: dict[str, list[float]] = {"bare": [], "mock": []}
    server_cpu: dict[str, list[float]] = {"bare": [], "mock": []}
    ratios: list[float] = []
    with mock_beside_bare() as (mock, url):
        for r in range(rounds + 1):  # round 0 warms connections, threads and caches; not counted
            pair: dict[str, float] = {}
            for kind in ("bare", "mock"):
                mock.reset()
                mock.create_route("catch_all()", "store()")
                # This process only serves while the client runs, so its CPU time is the server's.
                cpu0 = time.process_time()
                answer = client.ask(op="rate", url=url, key=mock.api_key, kind=kind, clients=clients, n=n)
                server_ms = (time.process_time() - cpu0) * 1000 / (n // clients * clients)
                pair[kind] = answer["rate"]
                if r:
                    rates[kind].append(answer["rate"])
                    cpu[kind].append(answer["client_cpu"])
                    server_cpu[kind].append(server_ms)
            if r:
                ratios.append(pair["mock"] / pair["bare"])
            assert len(mock.backend.store.messages()) == n // clients * clients
        errors = list(mock.backend.errors)
    if errors:
        raise RuntimeError(f"the mock hit internal errors: {errors[:3]!r}")
    return {
        "bare": statistics.median(rates["bare"]),
        "mock": statistics.median(rates["mock"]),
        "ratio": statistics.median(ratios),
        "ratio_range": (min(ratios), max(ratios)),
        "client_cpu_bare": statistics.median(cpu["bare"]),
        "server_ms_bare": statistics.median(server_cpu["bare"]),
        "server_ms_mock": statistics.median(server_cpu["mock"]),
    }


# --------------------------------------------------------------------------- target #10


class SilentReceiver:
    """A TCP listener on 127.0.0.1 that accepts connections and never answers; holds them until dropped."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="silent-receiver", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self._listener and not self._stopping:
                        conn, _ = self._listener.accept()
                        with self._lock:
                            self._held.append(conn)  # never read, never answered

    @property
    def held(self) -> int:
        """How many connections are open and waiting for an answer."""
        with self._lock:
            return len(self._held)

    def drop_all(self) -> None:
        """Reset every held connection, so whatever waits on it fails at once."""
        with self._lock:
            held, self._held = self._held, []
        for conn in held:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
            conn.close()

    def close(self) -> None:
        self._stopping = True
        self._wake_w.send(b"x")
        self._thread.join()
        self.drop_all()
        for s in (self._listener, self._wake_r, self._wake_w):
            s.close()


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def latency_under_hanging_deliveries(client: Client, block: int = 100, blocks: int = 5, repeats: int = 3,
                                     hooks: int = 50) -> dict[str, Any]:
    """Latency of GET /v3/routes and of POST /mock/inbound (to a store() route), idle and loaded.

    Blocks of ``block`` rounds (one request of each kind a round) alternate idle, loaded, idle,
    loaded…; ``blocks`` blocks of each state are pooled into one measurement (``block * blocks``
    requests of each kind), and the measurement is made ``repeats`` times. Before a loaded block,
    ``hooks`` messages whose route forwards to the silent receiver are injected (``wait=False``):
    each delivery thread hangs on one of them and the rest wait queued behind.
    """
    from mailgun_mock import MailgunMock

    kinds = ["routes", "mock"]
    states = ("idle", "loaded")
    p99: dict[str, dict[str, list[float]]] = {s: {k: [] for k in kinds} for s in states}
    p50: dict[str, dict[str, list[float]]] = {s: {k: [] for k in kinds} for s in states}
    hanging: list[int] = []
    queued: list[int] = []
    receiver = SilentReceiver()
    mock = MailgunMock(delivery_timeout=30)
    threads = getattr(mock.backend.delivery, "_thread_count", 4)  # read only, to report it (default 4)
    try:
        mock.start()

        def fresh_state() -> None:
            mock.reset()
            mock.create_route(f'match_recipient("{STORE_RCPT}")', "store()")
            mock.create_route(f'match_recipient("{HOOK_RCPT}")',
                              f'forward("http://127.0.0.1:{receiver.port}/hook")')

        def unhang() -> None:
            # Drop the queued hooks first, then reset the hanging connections: the attempts in
            # flight fail at once (their retry, 10 minutes later on the mock's clock, is dropped too).
            in_flight = receiver.held
            mock.reset()
            receiver.drop_all()
            mock.wait_for_deliveries(in_flight, timeout=10)
            mock.reset()

        raw = RAW_PATH.read_bytes()
        fresh_state()
        client.ask(op="latency", url=mock.url, key=mock.api_key, kinds=kinds, n=50)  # warm-up, not counted
        for _ in range(repeats):
            pooled: dict[str, dict[str, list[float]]] = {s: {k: [] for k in kinds} for s in states}
            for _ in range(blocks):
                for state in states:
                    fresh_state()
                    if state == "loaded":
                        for _ in range(hooks):
                            mock.inject(raw, recipients=[HOOK_RCPT], wait=False)
                        if not _wait(lambda: receiver.held >= min(threads, hooks), 10):
                            raise RuntimeError(f"only {receiver.held} deliveries reached the receiver")
                    answer = client.ask(op="latency", url=mock.url, key=mock.api_key, kinds=kinds, n=block)
                    if state == "loaded":
                        hanging.append(receiver.held)  # still hanging at the end of the block?
                        queued.append(mock.backend.delivery.pending() - receiver.held)
                        unhang()
                    for k in kinds:
                        pooled[state][k].extend(answer["samples"][k])
            for state in states:
                for k in kinds:
                    p99[state][k].append(_p(pooled[state][k], 0.99))
                    p50[state][k].append(_p(pooled[state][k], 0.50))
        errors = list(mock.backend.errors)
    finally:
        if mock.running:
            mock.reset()
            receiver.drop_all()  # so no delivery thread hangs for 30 s while the mock stops
            mock.stop()
        receiver.close()
    if errors:
        raise RuntimeError(f"the mock hit internal errors: {errors[:3]!r}")
    out: dict[str, Any] = {"hanging": min(hanging), "queued": min(queued), "threads": threads,
                           "requests": block * blocks, "repeats": repeats}
    for k in kinds:
        ratios = [loaded / idle for idle, loaded in zip(p99["idle"][k], p99["loaded"][k])]
        out[k] = {
            "idle_p50": statistics.median(p50["idle"][k]), "idle_p99": statistics.median(p99["idle"][k]),
            "loaded_p50": statistics.median(p50["loaded"][k]), "loaded_p99": statistics.median(p99["loaded"][k]),
            "ratio": statistics.median(ratios), "ratio_range": (min(ratios), max(ratios)),
        }
    return out


# --------------------------------------------------------------------------- main


def main() -> None:
    logging.getLogger("mailgun_mock").setLevel(logging.WARNING)
    with client_process() as client:
        one = inbound_vs_bare(client, clients=1, n=300, rounds=7)
        four = inbound_vs_bare(client, clients=4, n=400, rounds=7)
        hang = latency_under_hanging_deliveries(client)

    print("bench_http (client: requests.Session in a separate process; server: the mock's werkzeug threaded server)")
    print("  #3 POST /mock/inbound, 8.9 KB message/rfc822, store() route, vs a bare Flask endpoint taking the same body")
    print("     interleaved bare/mock runs, median of 7 (one warm-up pair dropped)")
    for label, r in (("1 client ", one), ("4 clients", four)):
        lo, hi = r["ratio_range"]
        print(f"    {label}  bare {r['bare']:6.0f} req/s   mock {r['mock']:6.0f} req/s   "
              f"ratio {r['ratio']:5.0%} (runs {lo:.0%}-{hi:.0%})   target >= {TARGET_RATIO:.0%}")
        print(f"               server CPU per request: bare {r['server_ms_bare']:.2f} ms, "
              f"mock {r['server_ms_mock']:.2f} ms (bare/mock {r['server_ms_bare'] / r['server_ms_mock']:.0%})")
    print(f"    (client process CPU during bare runs: {one['client_cpu_bare']:.0%} / {four['client_cpu_bare']:.0%} "
          "of wall; near 100% would mean the bare rate is client-bound)")
    print("  #10 API latency while 50 forward() webhooks hang on a receiver that never answers (timeout 30 s)")
    print(f"      {hang['threads']} delivery threads, so {hang['hanging']} attempts hang at once and "
          f"{hang['queued']} wait queued behind them")
    print(f"      idle and loaded blocks of 100 requests of each kind interleaved, pooled by {hang['requests']}; "
          f"median of {hang['repeats']}")
    for k, label in (("routes", "GET /v3/routes?limit=10   "), ("mock", "POST /mock/inbound store()")):
        r = hang[k]
        lo, hi = r["ratio_range"]
        print(f"    {label}  idle p50/p99 {r['idle_p50']:5.2f} / {r['idle_p99']:5.2f} ms   "
              f"loaded {r['loaded_p50']:5.2f} / {r['loaded_p99']:5.2f} ms   p99 x{r['ratio']:.2f} "
              f"(repeats x{lo:.2f}-x{hi:.2f})   target <= x{TARGET_P99_GROWTH:.2f}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--client"]:
        _client_main()
    else:
        main()
