"""Benchmark: what a realistic test costs with the mock, beside what a ``responses`` stub costs (issue #14).

Side by side in one run, 400 tests that each send one message with ``requests`` (an app holding a
``requests.Session``) and assert on it:

- ``stub``: a ``responses`` stub answers the POST to https://api.mailgun.net;
- ``socket``: the ``mailgun_mock`` fixture over its socket, the app pointed at ``mailgun_mock.url``
  (keep-alive: the session's one connection serves every test; interception turned off);
- ``intercept``: the ``mailgun_mock`` fixture's interception, the app posting to https://api.mailgun.net;
- ``fixture``: the fixture alone, no HTTP (what the two above pay before sending anything);
- ``inline``: ``intercept`` with ``deliver="inline"`` (delivery steps run in the sending thread);

minus the same 400 tests with no HTTP at all (same imports, same payload). Each variant runs in its
own pytest process, the variants alternating, ``RUNS`` times after one warm-up run each (which writes the
bytecode caches); the medians are compared, for the whole run (one-time costs included: imports, the
session's server) and for the steady tests after the first ``WARM`` (timed inside the pytest process,
CPU of all its threads). Then, in this
process: ``requests.post`` over the socket with and without keep-alive, and the send handler before
and after the lazy MIME (the stdlib builder vs. ``mail/assemble.py``). Run with ``make bench``.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pathlib
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

TESTS = 400
WARM = 100  # tests left out of the steady per-test figure
RUNS = 5
TARGET_RATIO = 1.3  # issue 14: interception <= 1.3x a stub, per test

FORM = '{"from": "Shop <shop@example.com>", "to": "bob@example.net", "subject": f"Order {n}", "text": "Thanks!"}'
HEADER = "import requests\nSESSION = requests.Session()\nKEY = 'key-0123456789abcdef'\n"
VARIANTS = {
    "none": HEADER + "".join(
        f"def test_{n}():\n    data = {FORM.replace('{n}', str(n))}\n    assert data['subject']\n" for n in range(TESTS)),
    "fixture": HEADER + "".join(
        f"def test_{n}(mailgun_mock):\n    data = {FORM.replace('{n}', str(n))}\n    assert mailgun_mock.outbox == []\n"
        for n in range(TESTS)),
    "stub": HEADER + "import responses\nURL = 'https://api.mailgun.net/v3/example.com/messages'\n" + "".join(
        f"@responses.activate\ndef test_{n}():\n    data = {FORM.replace('{n}', str(n))}\n"
        f"    responses.post(URL, json={{'id': '<x@example.com>', 'message': 'Queued. Thank you.'}})\n"
        f"    assert SESSION.post(URL, auth=('api', KEY), data=data).json()['message'] == 'Queued. Thank you.'\n"
        f"    assert 'Order+{n}' in responses.calls[0].request.body\n" for n in range(TESTS)),
    "socket": HEADER + "".join(
        f"def test_{n}(mailgun_mock):\n    data = {FORM.replace('{n}', str(n))}\n"
        f"    url = mailgun_mock.url + '/v3/example.com/messages'\n"
        f"    assert SESSION.post(url, auth=('api', mailgun_mock.api_key), data=data).json()['message'] == 'Queued. Thank you.'\n"
        f"    assert mailgun_mock.outbox[0]['subject'] == 'Order {n}'\n" for n in range(TESTS)),
    "intercept": HEADER + "URL = 'https://api.mailgun.net/v3/example.com/messages'\n" + "".join(
        f"def test_{n}(mailgun_mock):\n    data = {FORM.replace('{n}', str(n))}\n"
        f"    assert SESSION.post(URL, auth=('api', mailgun_mock.api_key), data=data).json()['message'] == 'Queued. Thank you.'\n"
        f"    assert mailgun_mock.outbox[0]['subject'] == 'Order {n}'\n" for n in range(TESTS)),
}


# The same interception tests with webhooks and delivery steps run in the sending thread (no lane threads).
VARIANTS["inline"] = VARIANTS["intercept"].replace(
    HEADER, HEADER + "import pytest\n\n@pytest.fixture(scope='session')\n"
            "def mailgun_mock_config():\n    return {'deliver': 'inline'}\n", 1)


# Records, in the pytest process, the time and process CPU (all threads) at the first test after the
# warm-up and at the session's end: the steady per-test cost, one-time costs (imports, the session's
# server, the first request through each code path) left out.
STEADY_CONFTEST = """
import json, os, time
SEEN = [0]
MARK = {}
def pytest_runtest_logstart(nodeid, location):
    SEEN[0] += 1
    if SEEN[0] == int(os.environ["BENCH_STUB_WARM"]) + 1:
        MARK["start"] = (time.perf_counter(), time.process_time())
def pytest_sessionfinish(session):
    wall, cpu = time.perf_counter(), time.process_time()
    with open(os.environ["BENCH_STUB_STEADY"], "w") as out:
        json.dump([wall - MARK["start"][0], cpu - MARK["start"][1]], out)
"""


def pytest_env() -> dict[str, str]:
    """The environment of the pytest runs: bytecode caches written and read, as on a developer's machine
    (some machines set PYTHONDONTWRITEBYTECODE, which makes every run compile every import afresh)."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def run_pytest(folder: pathlib.Path, variant: str) -> tuple[float, float, float, float]:
    """Wall and CPU time (user + system) of one pytest process running the variant's tests (all must pass),
    then the wall and CPU time of its tests after the first :data:`WARM` (measured inside the process)."""
    extra = ["-o", "mailgun_mock_intercept=false"] if variant == "socket" else []
    steady = folder / f"steady_{variant}.json"
    env = {**pytest_env(), "BENCH_STUB_STEADY": str(steady), "BENCH_STUB_WARM": str(WARM)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           "-p", "no:xdist", *extra, f"test_{variant}.py"], cwd=folder, capture_output=True, text=True,
                          env=env)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"bench_stub: the {variant} tests failed:\n{done.stdout[-3000:]}")
    steady_wall, steady_cpu = json.loads(steady.read_text())
    return elapsed, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), steady_wall, steady_cpu


def per_test_figures() -> dict[str, dict[str, float]]:
    """Median per variant, in seconds: whole-run ``wall`` and ``cpu``, and ``steady_wall``/``steady_cpu``
    over the tests after the first :data:`WARM`."""
    runs: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": [], "steady_wall": [], "steady_cpu": []}
                                               for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n")
        (folder / "conftest.py").write_text(STEADY_CONFTEST)
        for name, source in VARIANTS.items():
            (folder / f"test_{name}.py").write_text(source)
        for name in VARIANTS:  # warm-up: writes the bytecode caches (pytest's rewritten test files included)
            run_pytest(folder, name)
        for _ in range(RUNS):
            for name in VARIANTS:
                for key, value in zip(("wall", "cpu", "steady_wall", "steady_cpu"), run_pytest(folder, name)):
                    runs[name][key].append(value)
    return {name: {key: statistics.median(values) for key, values in figures.items()}
            for name, figures in runs.items()}


def timed(action: Callable[[], Any], count: int, rounds: int = 5) -> float:
    """Median over ``rounds`` of the mean time of ``action``, in ms."""
    means = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(count):
            action()
        means.append((time.perf_counter() - t0) / count * 1000)
    return statistics.median(means)


def in_process_figures() -> dict[str, float]:
    """requests over the socket with and without keep-alive, and the send handler before/after the lazy MIME."""
    import requests

    from mailgun_mock import MailgunMock
    from mailgun_mock.edges.intercept import Interception
    from mailgun_mock.mail import compose

    form = {"from": "Shop <shop@example.com>", "to": "bob@example.net", "subject": "Order 1", "text": "Thanks!"}
    figures = {}
    with MailgunMock(port=0) as mock, requests.Session() as session:
        url, auth = f"{mock.url}/v3/example.com/messages", ("api", mock.api_key)
        session.auth = auth

        sent = [0]

        def settle(action: Callable[[], Any]) -> Callable[[], Any]:
            def run() -> None:  # the mock's state kept small: reset every 100 sends, as a test suite would
                action()
                sent[0] += 1
                if sent[0] % 100 == 0:
                    mock.settle()
                    mock.reset()
            return run

        figures["post, keep-alive (Session)"] = timed(settle(lambda: session.post(url, data=form)), 200)
        figures["post, new connection each (Connection: close)"] = timed(
            settle(lambda: session.post(url, data=form, headers={"Connection": "close"})), 200)
        figures["requests.post (no Session)"] = timed(settle(lambda: requests.post(url, auth=auth, data=form)), 200)
        call = Interception(mock.app, ["api.mailgun.net"]).call
        body = b"from=Shop+%3Cshop%40example.com%3E&to=bob%40example.net&subject=Order+1&text=Thanks%21"
        headers = [("Authorization", session.auth and requests.auth._basic_auth_str(*auth)),
                   ("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", str(len(body)))]
        handler = settle(lambda: call("POST", "https://api.mailgun.net/v3/example.com/messages", headers, body))
        figures["send handler in process, lazy MIME"] = timed(handler, 300)
        fast = compose.assemble
        compose.assemble = lambda **kwargs: None  # type: ignore[assignment]  # the stdlib builder, as before
        try:
            figures["send handler in process, stdlib MIME (before)"] = timed(handler, 300)
        finally:
            compose.assemble = fast
        mock.settle()
    return figures


def profile_intercept(top: int = 18) -> str:
    """Where an intercepted test's time goes: reset, interception, one send through requests, the outbox."""
    import requests

    from mailgun_mock import MailgunMock

    form = {"from": "Shop <shop@example.com>", "to": "bob@example.net", "subject": "Order 1", "text": "Thanks!"}
    with MailgunMock(port=0) as mock, requests.Session() as session:
        def one_test() -> None:
            mock.reset()
            with mock.intercept():
                session.post("https://api.mailgun.net/v3/example.com/messages", auth=("api", mock.api_key), data=form)
                assert mock.outbox[0]["subject"] == "Order 1"
            mock.raise_errors()

        for _ in range(50):
            one_test()
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [one_test() for _ in range(300)])
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    figures = per_test_figures()
    print("bench_stub")
    print(f"  {TESTS} tests each sending one message with requests and asserting on it: added time per test over the "
          f"same tests without HTTP (median of {RUNS} runs, one pytest process each, after a warm-up run that writes "
          "the bytecode caches; CPU = user + system of the process, all threads)")
    rows = [("stub", "responses stub"), ("fixture", "mailgun_mock fixture alone, no HTTP"),
            ("socket", "mailgun_mock over the socket, keep-alive"), ("intercept", "mailgun_mock interception (no socket)"),
            ("inline", "interception, deliver='inline'")]
    steady = TESTS - WARM
    added = {
        "wall": {name: (figures[name]["wall"] - figures["none"]["wall"]) / TESTS * 1000 for name, _ in rows},
        "CPU": {name: (figures[name]["cpu"] - figures["none"]["cpu"]) / TESTS * 1000 for name, _ in rows},
        "steady": {name: (figures[name]["steady_cpu"] - figures["none"]["steady_cpu"]) / steady * 1000
                   for name, _ in rows},
    }
    met = added["CPU"]["intercept"] <= TARGET_RATIO * added["CPU"]["stub"]
    print(f"    {'':44} {'whole run: wall':>15} {'ratio':>6} {'CPU':>9} {'ratio':>6}   "
          f"{'steady, CPU (tests ' + str(WARM + 1) + '-' + str(TESTS) + ')':>30} {'ratio':>6}")
    for name, text in rows:
        w, c, s = added["wall"][name], added["CPU"][name], added["steady"][name]
        note = f"   target <= {TARGET_RATIO}x a stub{'' if met else ' (not met)'}" if name == "intercept" else ""
        print(f"    {text:44} {w:12.3f} ms {w / added['wall']['stub']:5.1f}x {c:6.3f} ms {c / added['CPU']['stub']:5.1f}x"
              f"   {s:27.3f} ms {s / added['steady']['stub']:5.1f}x{note}")
    print("  (whole runs, wall: " + ", ".join(f"{name} {value['wall']:.2f} s" for name, value in figures.items())
          + "; the mock's include importing Flask and starting the session's server once)")
    for name, value in in_process_figures().items():
        print(f"  {name:<48} {value:6.3f} ms")
    if not met:
        print("  target not met; where an intercepted test's time goes (cProfile, 300 tests, by own time):")
        print("\n".join("    " + line for line in profile_intercept().splitlines() if line.strip())[:6000])


if __name__ == "__main__":
    main()
