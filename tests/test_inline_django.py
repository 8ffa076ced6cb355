"""A Django project's TestCase receives an inbound webhook inline (deliver="inline" and wsgi_targets
into Django's get_wsgi_application()) and the view sees the test's own uncommitted rows.

The project (tests/django_shop: a model, a view, a migration, the TestCase itself) runs under Django's
own test runner in a process of its own, since Django's settings are made once per process and the
suite's other Django tests configure them differently.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).parent / "django_shop"


def test_django_testcase_receives_an_inbound_webhook_inside_its_transaction() -> None:
    """shop/tests.py: the view runs in the test's thread, sees the uncommitted customer, stores the
    reply in the same transaction, and refuses (406) an unknown sender; Django's runner says OK."""
    env = {**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run([sys.executable, "manage.py", "test", "shop", "-v", "2"], cwd=PROJECT, env=env,
                         capture_output=True, text=True, timeout=120)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "test_the_view_sees_the_tests_uncommitted_rows" in report and "Ran 1 test" in report, report
    assert "\nOK" in report, report
