"""Benchmark: the extra wall time per test of the `mailgun_mock` fixture.

Runs 1,000 trivial tests with the fixture and 1,000 without, in separate pytest processes,
alternating, three times each after one warm-up run each (which writes the bytecode caches, as a
developer's machine has them: the runs are made without PYTHONDONTWRITEBYTECODE); prints the median
difference per test. Run with `make bench`.
"""

from __future__ import annotations

import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

TESTS = 1000
TARGET_MS = 1.0


def run(folder: pathlib.Path, name: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", name],
                   cwd=folder, check=True, capture_output=True,
                   env={key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"})
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = pathlib.Path(tmp)
        (folder / "test_with.py").write_text("".join(
            f"def test_{i}(mailgun_mock):\n    assert mailgun_mock.url\n" for i in range(TESTS)))
        (folder / "test_without.py").write_text("".join(
            f"def test_{i}():\n    assert True\n" for i in range(TESTS)))
        run(folder, "test_with.py")
        run(folder, "test_without.py")
        with_, without = [], []
        for _ in range(3):
            with_.append(run(folder, "test_with.py"))
            without.append(run(folder, "test_without.py"))
    per_test = (statistics.median(with_) - statistics.median(without)) / TESTS * 1000
    print("bench_fixture")
    print(f"  mailgun_mock fixture, extra per test (1,000 tests, median of 3)  {per_test:6.3f} ms   target <= {TARGET_MS} ms")
    print(f"  (whole runs: with {statistics.median(with_):.2f} s, without {statistics.median(without):.2f} s;"
          " the difference includes starting the session's server once)")


if __name__ == "__main__":
    main()
