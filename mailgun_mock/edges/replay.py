"""``mailgun-mock replay``: push saved ``.eml`` files through the routes and report what happened.

Two targets share one loop: a running server reached over HTTP (``--url``), or a
:class:`~mailgun_mock.edges.server.MailgunMock` started in this process with routes given on the command
line (``--forward``, ``--route``/``--action``). Each file is injected with ``wait=1``, so the first
attempt of every webhook it caused is over before the next file goes; the table printed at the end
shows, per file, the recipients, the routes matched, the actions and those attempts' results.

Heavy imports (``requests``, the server) happen inside :func:`run`, so the CLI starts fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base.config import Config, ConfigError
from .replay_files import ReplayError, NotAFile, collect_files, envelope_recipients, read_message_file

if TYPE_CHECKING:
    import requests

    from .server import MailgunMock

__all__ = ["FileResult", "add_parser", "format_table", "run"]

#: Above this many files the running count is shown even when stderr is not a terminal.
PROGRESS_THRESHOLD = 20
#: Seconds to wait for one inject answer (the server itself waits up to 30 s for first attempts).
REQUEST_TIMEOUT = 60.0

_EPILOG = """\
Without --url, a mock starts in this process with the routes that --forward and --route give (at
least one is required: with no route nothing would happen) and stops when the replay ends.
With --url, the running server's own routes apply; the API key is --api-key, else
MAILGUN_MOCK_API_KEY, else the mock's default key.

  --route EXPRESSION --action ACTION [--action ACTION ...], e.g.
      --route 'match_recipient("support@.*")' --action 'forward("http://localhost:8000/hook")' --action 'stop()'
  Routes are evaluated in the order given; the catch_all() route of --forward comes last.

Envelope: To, Cc and Bcc, or --recipient. A file with no such address (e.g. "To:
undisclosed-recipients:;") goes to its Delivered-To (else X-Original-To) address, the envelope
recipient its mail server recorded.

Exit status: 0 every file was injected (even if no route matched); 1 a file could not be
injected (its row says why) or the server refused us; 2 usage error (bad path, no .eml file).
"""


class _InjectFailed(Exception):
    """One file the target refused or could not take; the message goes in the file's row."""


@dataclasses.dataclass
class FileResult:
    """What became of one file: ``error`` says why it was not injected; else the recipients, the
    distinct route ids matched, the action names (repeats kept), the webhooks' delivery ids and,
    filled in last, each webhook's first-attempt result (a status code, or the error).
    """

    name: str
    error: str | None = None
    #: why the entry was not read at all (not a regular file: a FIFO, a device, a socket)
    skipped: str | None = None
    recipients: list[str] = dataclasses.field(default_factory=list)
    routes: list[str] = dataclasses.field(default_factory=list)
    actions: list[str] = dataclasses.field(default_factory=list)
    deliveries: list[str] = dataclasses.field(default_factory=list)
    webhooks: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def from_answer(cls, name: str, answer: Mapping[str, Any]) -> FileResult:
        """Read an inject answer (``POST /mock/inbound``, ``MailgunMock.inject``)."""
        result = cls(name)
        for recipient in answer.get("recipients", []):
            result.recipients.append(recipient["recipient"])
            result.routes.extend(r for r in recipient["matched"] if r not in result.routes)
            for action in recipient["actions"]:
                result.actions.append(action["action"])
                if "delivery" in action:
                    result.deliveries.append(action["delivery"])
        return result


# -- command line ---------------------------------------------------------------------------------


class _RouteFlag(argparse.Action):
    """``--route EXPR`` opens a route; each ``--action ACTION`` after it adds to the latest one."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        routes: list[tuple[str, list[str]]] = list(namespace.routes or [])
        if option_string == "--route":
            routes.append((str(values), []))
        elif routes:
            routes[-1][1].append(str(values))
        else:
            parser.error("--action must follow a --route EXPRESSION")
        namespace.routes = routes


def add_parser(subparsers: Any) -> None:
    """Add the ``replay`` subcommand and its arguments.

    :param subparsers: what ``ArgumentParser.add_subparsers()`` returned.
    """
    replay = subparsers.add_parser(
        "replay",
        help="push .eml files through the routes (in process, or into a running mock)",
        description="Inject saved .eml files as inbound mail, one by one, and print what each caused:\n"
                    "recipients, routes matched, actions, and the first attempt of every webhook.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replay.add_argument("paths", nargs="+", metavar="PATH",
                        help=".eml file, or folder searched recursively for *.eml (sorted)")
    replay.add_argument("--url", help="base URL of a running mailgun-mock, e.g. http://127.0.0.1:8090")
    replay.add_argument("--api-key", metavar="KEY", help="API key of the server at --url")
    replay.add_argument("--recipient", action="append", dest="recipients", metavar="ADDR",
                        help="envelope recipient instead of the message's To/Cc/Bcc (repeatable)")
    replay.add_argument("--sender", metavar="ADDR", help="envelope sender (default: the From address)")
    replay.add_argument("--forward", action="append", dest="forwards", metavar="URL",
                        help="in process: a catch_all() route forwarding to URL (repeatable: one route, every URL)")
    replay.add_argument("--route", action=_RouteFlag, dest="routes", metavar="EXPRESSION",
                        help="in process: a route filter; follow it with its --action flags")
    replay.add_argument("--action", action=_RouteFlag, dest="routes", metavar="ACTION",
                        help="in process: an action of the preceding --route (repeatable)")
    replay.add_argument("--signing-key", metavar="KEY",
                        help="in process: the webhook signing key (default: MAILGUN_MOCK_SIGNING_KEY, "
                             "else the mock's default)")
    replay.add_argument("-q", "--quiet", action="store_true", help="log only warnings; no running count")


def run(args: argparse.Namespace) -> int:
    """Replay the files ``args`` names; answers the exit code (0 all injected, 1 failures, 2 usage)."""
    try:
        files = collect_files(args.paths)
        target = _open_target(args)
    except ReplayError as exc:
        print(f"mailgun-mock replay: {exc.message}", file=sys.stderr)
        return exc.exit_code
    try:
        results = _replay(files, target, args.recipients, args.sender, quiet=args.quiet)
        attempts = target.first_attempts()
    finally:
        target.close()
    for result in results:
        result.webhooks = [attempts.get(d, "pending") for d in result.deliveries]
    print(format_table(results))
    print(_summary(results))
    return 1 if any(r.error for r in results) else 0


def _open_target(args: argparse.Namespace) -> _LocalTarget | _RemoteTarget:
    try:
        config = Config.from_env(api_key=args.api_key, signing_key=args.signing_key)
    except ConfigError as exc:
        raise ReplayError(str(exc)) from None
    routes: list[tuple[str, list[str]]] = list(args.routes or [])
    if args.forwards:
        routes.append(("catch_all()", [f'forward("{url}")' for url in args.forwards]))
    if args.url:
        if routes:
            raise ReplayError("--forward and --route apply to the in-process mock only; "
                              "with --url the server's own routes are used")
        remote = _RemoteTarget(args.url, config.api_key)
        remote.check()
        return remote
    if not routes:
        raise ReplayError("nothing would happen: give --forward URL or --route EXPRESSION --action ACTION "
                          "(or --url to use a running server's routes); see --help")
    return _LocalTarget(config, routes)


def _replay(files: Sequence[Path], target: _LocalTarget | _RemoteTarget, recipients: Sequence[str] | None,
            sender: str | None, quiet: bool) -> list[FileResult]:
    results: list[FileResult] = []
    tty = sys.stderr.isatty()
    show = not quiet and (tty or len(files) > PROGRESS_THRESHOLD)
    for number, path in enumerate(files, 1):
        name = str(path)
        if show:
            line = f"[{number}/{len(files)}] {name}"
            print(f"\r\x1b[K{line}" if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)
        try:
            raw = read_message_file(path, target.max_size)
        except NotAFile as exc:
            results.append(FileResult(name, skipped=str(exc)))
            continue
        except OSError as exc:
            results.append(FileResult(name, error=f"cannot read: {exc.strerror or exc}"))
            continue
        try:
            answer = target.inject(raw, envelope_recipients(raw, recipients), sender)
        except _InjectFailed as exc:
            results.append(FileResult(name, error=str(exc)))
            continue
        results.append(FileResult.from_answer(name, answer))
    if show and tty:
        print("\r\x1b[K", end="", file=sys.stderr, flush=True)
    return results


# -- targets --------------------------------------------------------------------------------------


class _LocalTarget:
    """A mock started here, holding the routes given on the command line."""

    def __init__(self, config: Config, routes: Sequence[tuple[str, list[str]]]) -> None:
        from ..base.errors import MailgunMockError
        from .server import MailgunMock

        # Never the user's snapshot, SMTP port or public URL: this mock lives for one replay.
        self.mock: MailgunMock = MailgunMock(dataclasses.replace(config, host="127.0.0.1", port=0, smtp_port=None,
                                                                 snapshot="", public_url=""))
        try:
            for priority, (expression, actions) in enumerate(routes):
                self.mock.backend.create_route(expression, actions, priority)
        except MailgunMockError as exc:
            self.mock.backend.close()
            raise ReplayError(f"route {expression!r}: {exc.message}") from None
        # Started so storage URLs work: a notify receiver may fetch the message during the replay.
        self.mock.start()
        #: the largest file read: what the mock accepts
        self.max_size = self.mock.config.max_message_size

    def inject(self, raw: bytes, recipients: list[str] | None, sender: str | None) -> dict[str, Any]:
        from ..base.errors import MailgunMockError

        try:
            return self.mock.inject(raw, recipients=recipients, sender=sender, wait=True)
        except MailgunMockError as exc:
            raise _InjectFailed(f"{exc.status} {exc.message}") from None

    def first_attempts(self) -> dict[str, str]:
        return _first_attempts(self.mock.deliveries)

    def close(self) -> None:
        self.mock.stop()


class _RemoteTarget:
    """A running mailgun-mock, reached with one ``requests`` session."""

    def __init__(self, url: str, api_key: str) -> None:
        import requests

        self.url = url.rstrip("/")
        #: the largest file read: what a mock accepts by default (the server refuses more anyway)
        self.max_size = Config().max_message_size
        self.session: requests.Session = requests.Session()
        self.session.auth = ("api", api_key)

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        import requests

        try:
            return self.session.request(method, self.url + path, timeout=REQUEST_TIMEOUT, **kwargs)
        except requests.Timeout:
            raise _InjectFailed(f"no answer from {self.url} within {REQUEST_TIMEOUT:g} s") from None
        except requests.RequestException as exc:
            raise _InjectFailed(f"cannot connect to {self.url}: {_short_reason(exc)}") from None

    def check(self) -> None:
        """Fail early, with one clear message, on an unreachable server, a wrong key or a non-mock.

        :raises ReplayError: exit code 1.
        """
        try:
            reply = self._request("GET", "/mock/clock")
        except _InjectFailed as exc:
            self.close()
            raise ReplayError(str(exc), exit_code=1) from None
        problem = None
        if reply.status_code == 401:
            problem = ("the server refused the API key (401 Forbidden): pass its key with --api-key "
                       "or MAILGUN_MOCK_API_KEY")
        elif reply.status_code == 404:
            problem = "this is not a mailgun-mock server (GET /mock/clock answered 404)"
        elif not reply.ok:
            problem = f"GET /mock/clock answered {_reason(reply)}"
        if problem:
            self.close()
            raise ReplayError(f"{self.url}: {problem}", exit_code=1)

    def inject(self, raw: bytes, recipients: list[str] | None, sender: str | None) -> dict[str, Any]:
        params: list[tuple[str, str]] = [("wait", "1")]
        params += [("recipient", r) for r in recipients or []]
        params += [("sender", sender)] if sender is not None else []
        reply = self._request("POST", "/mock/inbound", params=params, data=raw,
                              headers={"Content-Type": "message/rfc822"})
        if not reply.ok:
            raise _InjectFailed(_reason(reply))
        try:
            answer: dict[str, Any] = reply.json()
        except ValueError:
            raise _InjectFailed(f"{reply.status_code}, but the answer is not JSON") from None
        return answer

    def first_attempts(self) -> dict[str, str]:
        try:
            reply = self._request("GET", "/mock/deliveries")
        except _InjectFailed:
            return {}  # rows then say "pending": the injects themselves went through
        return _first_attempts(reply.json().get("items", [])) if reply.ok else {}

    def close(self) -> None:
        self.session.close()


def _first_attempts(attempts: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each delivery's first attempt, as a status code or the error that replaced it."""
    return {a["delivery_id"]: str(a["status"]) if a["status"] is not None else str(a["error"] or a["outcome"])
            for a in attempts if a["attempt"] == 1}


def _reason(reply: requests.Response) -> str:
    """``400 the message is empty``: the status and the mock's message (or the body's start)."""
    try:
        body = reply.json()
        message = str(body["message"]) if isinstance(body, dict) and "message" in body else reply.text
    except ValueError:
        message = reply.text
    return f"{reply.status_code} {' '.join(message.split())[:200]}".rstrip()


def _short_reason(exc: Exception) -> str:
    # requests nests the socket error deep in a long text; the errno message is what a user needs.
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return found.group(1).strip() if found else type(exc).__name__


# -- output ---------------------------------------------------------------------------------------


def _counted(items: Iterable[str]) -> str:
    """``forward x2, store``: distinct items in first-seen order, with their counts."""
    counts = Counter(items)
    return ", ".join(item if n == 1 else f"{item} x{n}" for item, n in counts.items()) or "-"


def format_table(results: Sequence[FileResult]) -> str:
    """One row per file: file, recipients, routes matched, actions, first-attempt webhook results."""
    header = ("FILE", "RCPTS", "ROUTES", "ACTIONS", "WEBHOOKS")
    rows = [(r.name, str(len(r.recipients)), str(len(r.routes)), _counted(r.actions), _counted(r.webhooks))
            for r in results]
    width = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = []
    for row, result in zip([header, *rows], [None, *results]):
        if result is not None and result.error:
            lines.append(f"{row[0]:<{width[0]}}  FAILED: {result.error}")
            continue
        if result is not None and result.skipped:
            lines.append(f"{row[0]:<{width[0]}}  {result.skipped}")
            continue
        lines.append(f"{row[0]:<{width[0]}}  {row[1]:>{width[1]}}  {row[2]:>{width[2]}}  "
                     f"{row[3]:<{width[3]}}  {row[4]}".rstrip())
    return "\n".join(lines)


def _summary(results: Sequence[FileResult]) -> str:
    done = [r for r in results if not r.error and not r.skipped]
    skipped = sum(1 for r in results if r.skipped)
    webhooks = [w for r in done for w in r.webhooks]
    answered = sum(w.isdigit() and w.startswith("2") for w in webhooks)
    return (f"{len(results)} files: {len(done)} injected, {len(results) - len(done) - skipped} failed, "
            f"{skipped} skipped (not regular files); "
            f"{sum(len(r.recipients) for r in done)} recipients, "
            f"{sum(len(r.routes) > 0 for r in done)} files matched a route, "
            f"{sum(len(r.actions) for r in done)} actions, "
            f"{len(webhooks)} webhooks ({answered} answered 2xx).")
