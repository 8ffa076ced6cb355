"""``python -m mailgun_mock``: the same as the ``mailgun-mock`` command."""

import sys

from .edges.cli import main

sys.exit(main())
