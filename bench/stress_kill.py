"""Stress: kill -9 a serving mock with --snapshot during steady writes, 50 times (run by `make stress`).

Each round starts `mailgun-mock serve --snapshot` on the same file (so state accumulates), creates
routes over HTTP as fast as one client can, and SIGKILLs the server at a random moment. After every
kill the file must load, hold only routes that were acknowledged, and miss at most those
acknowledged in the last debounce interval (plus one save's duration) before the kill.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

from mailgun_mock.state import snapshot

ROUNDS = 50
DELAY = 0.05  # MAILGUN_MOCK_SNAPSHOT_DELAY
KEY = "key-mailgunmock0000000000000000000"


def serve(path: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "MAILGUN_MOCK_SNAPSHOT_DELAY": str(DELAY)}
    proc = subprocess.Popen([sys.executable, "-m", "mailgun_mock", "serve", "--port", "0", "--snapshot", path, "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := re.search(r"on (http://\S+)", line):
            return proc, m.group(1)
    raise RuntimeError("serve did not start")


def main() -> int:
    rnd = random.Random(int(os.environ.get("STRESS_SEED", "1")))
    worst_loss = 0.0
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "state.json")
        acknowledged: list[tuple[float, str]] = []  # (time acknowledged, route id)
        for round_no in range(1, ROUNDS + 1):
            proc, url = serve(path)
            stop = threading.Event()

            def write() -> None:
                session = requests.Session()
                session.auth = ("api", KEY)
                n = 0
                while not stop.is_set():
                    try:
                        reply = session.post(f"{url}/v3/routes", data={"expression": f'match_recipient("r{n}@")',
                                                                         "action": "stop()"}, timeout=5)
                    except requests.RequestException:
                        return
                    if reply.status_code == 200:
                        acknowledged.append((time.monotonic(), reply.json()["route"]["id"]))
                    n += 1

            writer = threading.Thread(target=write)
            writer.start()
            time.sleep(rnd.uniform(0.05, 0.5))
            killed_at = time.monotonic()
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
            writer.join()
            proc.stdout.close()  # type: ignore[union-attr]
            try:
                state = snapshot.load(path)
            except snapshot.SnapshotError as exc:
                print(f"round {round_no}: the snapshot does not load: {exc}")
                failures += 1
                break
            saved = {route.id for route in (state or {}).get("routes", [])}
            acked = {rid for _, rid in acknowledged}
            if not saved <= acked:
                print(f"round {round_no}: the snapshot holds routes never acknowledged")
                failures += 1
            lost = [t for t, rid in acknowledged if rid not in saved]
            if lost:
                window = killed_at - min(lost)
                worst_loss = max(worst_loss, window)
                if window > DELAY + 0.5:
                    print(f"round {round_no}: lost changes acknowledged {window:.3f} s before the kill")
                    failures += 1
            acknowledged = [(t, rid) for t, rid in acknowledged if rid in saved]  # the next round starts from the file
    print("stress_kill")
    print(f"  {ROUNDS} kill -9 rounds during steady writes: {failures} failure(s); "
          f"oldest lost change {worst_loss * 1000:.0f} ms before its kill (debounce {DELAY * 1000:.0f} ms)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
