"""The ``mailgun-mock`` command: ``serve`` (and more subcommands as the product grows)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from ..base.config import Config, ConfigError, parse_schedule
from . import probe_cli, replay

__all__ = ["main"]

#: The dev server's port when neither --port nor MAILGUN_MOCK_PORT says otherwise.
DEFAULT_SERVE_PORT = 8090

log = logging.getLogger("mailgun_mock")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailgun-mock", description="A Mailgun-compatible mock server.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the mock API on localhost",
        description="Run the mock. Every flag can also be set as MAILGUN_MOCK_<FLAG> (e.g. MAILGUN_MOCK_PORT).",
    )
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help=f"port; 0 picks a free one (default {DEFAULT_SERVE_PORT})")
    serve.add_argument("--api-key", help="the API key clients use (HTTP Basic, user 'api')")
    serve.add_argument("--signing-key", help="the webhook signing key")
    serve.add_argument("--public-url", help="base of storage and paging URLs when behind a proxy")
    serve.add_argument("--retention", type=float, metavar="SECONDS",
                       help="how long stored messages are kept (default 3 days)")
    serve.add_argument("--retry-schedule", type=_schedule, metavar="S1,S2,…",
                       help="seconds between webhook retries (default 600,600,900,1800,3600,7200,14400)")
    serve.add_argument("--delivery-timeout", type=float, metavar="SECONDS",
                       help="how long one webhook attempt may take (default 10)")
    serve.add_argument("--domain", action="append", dest="domains", metavar="DOMAIN",
                       help="a domain to serve (repeatable; default: any domain)")
    serve.add_argument("--smtp-port", type=int, metavar="PORT", help="also accept mail over SMTP on this port")
    serve.add_argument("--smtp-submission-port", type=int, metavar="PORT",
                       help="also run Mailgun's SMTP relay (sending with AUTH) on this port")
    serve.add_argument("--smtp-submission-tls-port", type=int, metavar="PORT",
                       help="also run the relay with TLS from the first byte (Mailgun's 465) on this port; needs --tls")
    serve.add_argument("--smtp-password", metavar="PASSWORD",
                       help="the relay password of postmaster@<domain> for domains without their own")
    serve.add_argument("--snapshot", metavar="PATH", help="load state from PATH at start and keep it saved there")
    serve.add_argument("--allowed-host", action="append", dest="allowed_hosts", metavar="NAME",
                       help="another name clients use in the Host header, e.g. mailgun-mock from another container "
                            "(repeatable; '*' = any; loopback, the bound address and the --public-url host always work); "
                            "the HTTPS certificate names it")
    serve.add_argument("--tls", action="store_const", const=True,
                       help="serve HTTPS (same port) with a certificate from a local CA the mock creates once")
    serve.add_argument("--tls-dir", metavar="DIR",
                       help="where the CA and certificate are kept (default: beside --snapshot, else "
                            "$XDG_DATA_HOME/mailgun-mock/tls)")
    serve.add_argument("--ui-auth", metavar="USER:PASSWORD",
                       help="guard the web inbox with HTTP Basic auth (advised when binding beyond loopback)")
    serve.add_argument("--namespaces", action="store_const", const=True,
                       help="each API key is an account of its own, made on first use (shared servers: parallel "
                            "test workers, several developers); POST /mock/reset with a key resets its account alone")
    serve.add_argument("-q", "--quiet", action="store_true", help="log only warnings")
    replay.add_parser(sub)
    probe_cli.add_parser(sub)
    return parser


def _schedule(text: str) -> tuple[float, ...]:
    try:
        return parse_schedule(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _serve(args: argparse.Namespace) -> int:
    from .server import MailgunMock

    try:
        config = Config.from_env(
            host=args.host, port=args.port, api_key=args.api_key, signing_key=args.signing_key,
            public_url=args.public_url, retention=args.retention, retry_schedule=args.retry_schedule,
            delivery_timeout=args.delivery_timeout, domains=tuple(args.domains) if args.domains else None,
            smtp_port=args.smtp_port, snapshot=args.snapshot, tls=args.tls, tls_dir=args.tls_dir,
            allowed_hosts=tuple(args.allowed_hosts) if args.allowed_hosts else None, ui_auth=args.ui_auth,
            smtp_submission_port=args.smtp_submission_port, smtp_password=args.smtp_password,
            smtp_submission_tls_port=args.smtp_submission_tls_port, namespaces=args.namespaces,
        )
    except ConfigError as exc:
        print(f"mailgun-mock: {exc}", file=sys.stderr)
        return 2
    if args.port is None and "MAILGUN_MOCK_PORT" not in os.environ:
        config = config.replace(port=DEFAULT_SERVE_PORT)
    from ..state.snapshot import SnapshotError

    mock = MailgunMock(config)
    try:
        mock.start()
    except SnapshotError as exc:
        print(f"mailgun-mock: {exc}; not starting (the file is left as it is)", file=sys.stderr)
        return 1
    except OSError as exc:  # a ListenError names the listener and its port
        print(f"mailgun-mock: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except _tls_error(config) as exc:
        print(f"mailgun-mock: {exc}; not starting", file=sys.stderr)
        return 1
    stopping = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"mailgun-mock serving the Mailgun API on {mock.url}", flush=True)
    if config.host in ("", "0.0.0.0", "::"):
        print(f"  Bound to:    {config.host or '0.0.0.0'}:{mock.port}, every interface: other machines can reach it")
    print(f"  Web inbox:   {mock.url}/" + ("  (--ui-auth)" if config.ui_auth else ""))
    print(f"  API key:     {mock.api_key}")
    if config.namespaces:
        print("  Namespaces:  on: every other key is an account of its own (SMTP and the web inbox see this key's)")
    print(f"  Signing key: {mock.signing_key}")
    if config.snapshot:
        print(f"  Snapshot:    {config.snapshot} (saved {config.snapshot_delay:g} s after changes and at exit)")
    curl_ca = ""
    if mock.tls_files is not None:
        from .tls import client_hints

        made = "created now" if mock.tls_files.created_ca else "reused"
        print(f"  HTTPS CA:    {mock.tls_files.ca_file} ({made}; clients trust the mock by trusting this file)")
        print(f"  Cert names:  {', '.join(mock.tls_files.names)} (more: --allowed-host NAME)")
        for label, hint in zip(["  Hand it to: ", "             ", "             "], client_hints(mock.tls_files.ca_file)):
            print(f"{label}{hint}")
        curl_ca = f"--cacert {mock.tls_files.ca_file} "
    print(f"  Try:         curl -s {curl_ca}--user 'api:{mock.api_key}' {mock.url}/v3/routes")
    if mock.smtp_port:
        print(f"  SMTP:        {config.host}:{mock.smtp_port} (inbound mail, routed like POST /mock/inbound)")
        print(f"  Try:         python -c \"import smtplib; smtplib.SMTP('{config.host}', {mock.smtp_port})"
              f".sendmail('bob@example.net', ['support@example.com'], 'Subject: Hi\\r\\n\\r\\nHello')\"")
    if mock.smtp_submission_port or mock.smtp_submission_tls_port:
        domain = config.domains[0] if config.domains else "<your domain>"
        ports = [f"{config.host}:{mock.smtp_submission_port}" + (" (STARTTLS)" if mock.tls_files else "")
                 if mock.smtp_submission_port else "",
                 f"{config.host}:{mock.smtp_submission_tls_port} (TLS)" if mock.smtp_submission_tls_port else ""]
        print(f"  SMTP relay:  {', '.join(p for p in ports if p)} (send like smtp.mailgun.org: AUTH, then "
              f"X-Mailgun-* headers as Mailgun reads them)")
        print(f"  SMTP login:  postmaster@{domain}  password: {mock.smtp_password}")
    print("Press Ctrl-C to stop.", flush=True)
    while not stopping.wait(3600):
        pass
    mock.stop()
    print("mailgun-mock stopped.", flush=True)
    return 0


def _tls_error(config: Config) -> type[Exception]:
    """The error of a TLS folder that cannot be used; cryptography is imported only with ``--tls``."""
    if not config.tls:
        return _NeverRaised
    from .tls import TlsError

    return TlsError


class _NeverRaised(Exception):
    """Stands for TLS errors when TLS is off."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; answers the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
    if args.command == "serve":
        return _serve(args)
    if args.command == "replay":
        # Replay prints its own table; per-webhook log lines would only interleave with it.
        logging.getLogger("mailgun_mock").setLevel(logging.WARNING)
        return replay.run(args)
    if args.command == "probe":
        return probe_cli.run(args)
    return 2  # argparse refuses unknown commands before this


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
