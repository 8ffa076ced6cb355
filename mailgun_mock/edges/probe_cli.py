"""``mailgun-mock probe URL``: check that the application's webhook receiver refuses forged webhooks.

Runs on its own (no mock server needed): the probe set of :mod:`mailgun_mock.delivery.probe` is
signed with ``--signing-key`` (else ``MAILGUN_MOCK_SIGNING_KEY``, else the mock's default key, which
an app set up for ``mailgun-mock serve`` already uses) and POSTed straight to ``URL``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..base.config import Config, ConfigError
from ..base.errors import BadRequest
from ..delivery import probe

__all__ = ["add_parser", "run"]

_EPILOG = """\
exit status: 0 when every forgery was refused and the valid webhook accepted, 1 otherwise, 2 for bad usage.

examples:
  mailgun-mock probe http://localhost:8000/hooks/mailgun/inbound
  mailgun-mock probe http://localhost:8000/anymail/mailgun/tracking/ --kind webhook --signing-key KEY
"""


def add_parser(subparsers: Any) -> None:
    """Register ``probe`` on the CLI's subcommands."""
    parser = subparsers.add_parser(
        "probe",
        help="check that a webhook receiver refuses forged Mailgun webhooks",
        description="Send URL one valid Mailgun webhook and forged ones (wrong signature, signed with the API "
                    "key, stale and future timestamps, a replayed token, no signature fields, an oversized body), "
                    "and print a verdict for each.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", metavar="URL", help="the receiver, e.g. http://localhost:8000/hooks/mailgun")
    parser.add_argument("--kind", default="forward",
                        help="what the receiver takes: forward (a route's forward(), the default), notify "
                             "(store(notify=...)), webhook (a domain event webhook; webhook:opened etc.)")
    parser.add_argument("--signing-key", help="the webhook signing key the receiver checks")
    parser.add_argument("--api-key", help="the API key (for the probe signed with it instead)")
    parser.add_argument("--recipient", metavar="ADDR", help="the recipient the probes' message is addressed to")
    parser.add_argument("--oversize", type=int, metavar="BYTES",
                        help="size of the oversized probe (default: twice the message size limit plus 64 KiB)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="how long one probe may take (default 10)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.set_defaults(quiet=False)  # the CLI's logging set-up reads it; a probe logs nothing anyway


def run(args: argparse.Namespace) -> int:
    """Probe ``args.url``; answers the exit code."""
    try:
        config = Config.from_env(signing_key=args.signing_key, api_key=args.api_key,
                                 delivery_timeout=args.timeout)
        if args.oversize is not None and args.oversize < 1:
            raise ConfigError("--oversize must be a positive number of bytes")
        report = probe.run_probes(args.url, args.kind, config.signing_key, config.api_key,
                                  oversize=args.oversize or probe.oversize_for(config.max_message_size),
                                  recipient=args.recipient, timeout=config.delivery_timeout)
    except (ConfigError, BadRequest) as exc:
        print(f"mailgun-mock probe: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_json(), indent=2) if args.json else report.table(), flush=True)
    return 0 if report.passed else 1
