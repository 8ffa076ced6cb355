"""Compare this tree's package with an older revision's, interleaved, on the same measurements.

    .venv/bin/python bench/compare_trees.py REV [--rounds N]

Extracts ``REV`` (``git archive``) into a temporary folder and, ``N`` times (default 2), runs one
process per tree, the old tree first: each puts its tree's ``mailgun_mock`` first on ``sys.path``
and measures, with *this* tree's ``bench_inbound`` code, inject with a ``store()`` route, inject
with ``forward(url)``, and ``MailgunMock`` start + stop. A machine's speed moves between days; run
side by side, the two trees share the same moment. Not part of ``make bench`` (it needs git).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
MEASURE = """
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(1, sys.argv[2])
import mailgun_mock
from mailgun_mock import MailgunMock
import bench_inbound
with MailgunMock(port=0) as mock:
    store = bench_inbound.store_rate(mock)
    forward = bench_inbound.forward_figures(mock)[0]
times = []
for _ in range(40):
    t0 = time.perf_counter()
    server = MailgunMock(port=0)
    server.start()
    server.stop()
    times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"package": mailgun_mock.__file__, "store": store, "forward": forward,
                  "start_stop": statistics.median(times)}))
"""


def measure(tree: pathlib.Path) -> dict[str, float | str]:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(tree), str(HERE)], cwd=tree,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev", help="the older revision (a commit, tag or branch of this repository)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    current = HERE.parent
    with tempfile.TemporaryDirectory() as tmp:
        old = pathlib.Path(tmp)
        archive = subprocess.run(["git", "archive", args.rev], cwd=current, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        runs: dict[str, list[dict[str, float | str]]] = {"old": [], "new": []}
        for _ in range(args.rounds):
            runs["old"].append(measure(old))
            runs["new"].append(measure(current))
    print(f"compare_trees: {args.rev} (old) against this tree (new), {args.rounds} interleaved rounds")
    for name in ("old", "new"):
        print(f"  {name}: package {runs[name][0]['package']}")
    rows = (("store", "inject with store(), msgs/s", "{:.0f}"), ("forward", "inject with forward(), msgs/s", "{:.0f}"),
            ("start_stop", "MailgunMock start + stop, ms (median of 40)", "{:.1f}"))
    for key, label, fmt in rows:
        old_values = " / ".join(fmt.format(run[key]) for run in runs["old"])
        new_values = " / ".join(fmt.format(run[key]) for run in runs["new"])
        print(f"  {label:<45} old {old_values:<16} new {new_values}")


if __name__ == "__main__":
    main()
