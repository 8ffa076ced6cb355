"""The package type-checks under mypy --strict (STYLE.md: typed, py.typed shipped)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_typing_package_is_mypy_strict_clean() -> None:
    """mypy --strict finds no error in mailgun_mock/, and the package ships py.typed."""
    assert (ROOT / "mailgun_mock" / "py.typed").is_file()
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "mailgun_mock"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
