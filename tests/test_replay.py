"""mailgun-mock replay: .eml files pushed through the routes, in process or into a running server."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
from collections import Counter
from urllib.parse import parse_qsl

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from mailgun_mock import MailgunMock
from mailgun_mock.edges import replay

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
ALL_FIXTURES = sorted(FIXTURES.glob("*.eml"))
RUN_REPLAY = (
    "import argparse, sys; from mailgun_mock.edges import replay; p = argparse.ArgumentParser(); "
    "s = p.add_subparsers(dest='command'); replay.add_parser(s); sys.exit(replay.run(p.parse_args(sys.argv[1:])))"
)


@pytest.fixture(autouse=True)
def _no_mailgun_mock_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's MAILGUN_MOCK_* variables must not leak into these tests."""
    for name in [n for n in os.environ if n.startswith("MAILGUN_MOCK_")]:
        monkeypatch.delenv(name)


def replay_cli(*argv: str) -> int:
    """Parse ``replay ARGV`` the way cli.py will once the subcommand is wired in, and run it."""
    parser = argparse.ArgumentParser(prog="mailgun-mock")
    replay.add_parser(parser.add_subparsers(dest="command", required=True))
    return replay.run(parser.parse_args(["replay", *argv]))


def fields_of(request: Request) -> dict[str, bytes]:
    """An urlencoded POST's fields as raw bytes (body-mime may hold 8-bit bytes that are not UTF-8)."""
    pairs = parse_qsl(request.get_data().decode("ascii"), keep_blank_values=True, encoding="latin-1")
    return {k: v.encode("latin-1") for k, v in pairs}


def row_of(table: str, name: str) -> str:
    """The table line of the file whose path ends in ``name``."""
    (line,) = [line for line in table.splitlines() if line.split(" ", 1)[0].endswith(name)]
    return line


def copies(folder: pathlib.Path, count: int, fixture: str = "plain-text.eml") -> pathlib.Path:
    """``count`` copies of one fixture in ``folder``."""
    folder.mkdir(exist_ok=True)
    for i in range(count):
        (folder / f"msg-{i:03}.eml").write_bytes((FIXTURES / fixture).read_bytes())
    return folder


def test_replay_in_process_delivers_every_fixture(receiver: HTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    """An in-process replay of fixtures/ with two --forward URLs POSTs every file, byte for byte, and lists every file."""
    receiver.expect_request("/hook").respond_with_data("ok")
    receiver.expect_request("/hook/mime").respond_with_data("ok")
    code = replay_cli(str(FIXTURES), "--forward", receiver.url_for("/hook"), "--forward", receiver.url_for("/hook/mime"))
    out = capsys.readouterr().out
    assert code == 0
    mime_posts = [fields_of(r)["body-mime"] for r, _ in receiver.log if r.path == "/hook/mime"]
    parsed_posts = [r for r, _ in receiver.log if r.path == "/hook"]
    arrived = Counter(mime_posts)
    for path in ALL_FIXTURES:
        row = row_of(out, path.name)
        recipients = int(row.split()[1])
        assert arrived[path.read_bytes()] == recipients >= 1, path.name
        assert row.endswith(f"  200 x{2 * recipients}"), row
    assert len(parsed_posts) == len(mime_posts)
    assert out.splitlines()[-1].startswith(f"{len(ALL_FIXTURES)} files: {len(ALL_FIXTURES)} injected, 0 failed, 0 skipped (not regular files);")


def test_replay_envelope_falls_back_to_delivered_to(receiver: HTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    """A message whose To holds no address (undisclosed-recipients:;) goes to its Delivered-To address."""
    receiver.expect_request("/hook").respond_with_data("ok")
    code = replay_cli(str(FIXTURES / "bcc-undisclosed.eml"), "--forward", receiver.url_for("/hook"))
    assert code == 0, capsys.readouterr()
    (request, _), = receiver.log
    assert fields_of(request)["recipient"] == b"hannah.weber@example.com"


def test_replay_url_uses_server_routes_and_recipient_override(mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """With --url, files go to the running server, whose routes see the --recipient and --sender envelope."""
    receiver.expect_request("/hook").respond_with_data("ok")
    mailgun_mock.backend.create_route('match_recipient("override@example.com")',
                                      [f'forward("{receiver.url_for("/hook")}")'])
    files = [FIXTURES / "plain-text.eml", FIXTURES / "many-recipients.eml"]
    code = replay_cli(*map(str, files), "--url", mailgun_mock.url, "--api-key", mailgun_mock.api_key,
                      "--recipient", "override@example.com", "--sender", "bounces@example.org")
    out = capsys.readouterr().out
    assert code == 0
    posts = [fields_of(r) for r, _ in receiver.log]
    assert [(p["recipient"], p["sender"]) for p in posts] == [(b"override@example.com", b"bounces@example.org")] * 2
    for path in files:
        assert row_of(out, path.name).split()[1:] == ["1", "1", "forward", "200"]
    assert [a["status"] for a in mailgun_mock.deliveries] == [200, 200]


def test_replay_url_exit_0_when_no_route_matches(mailgun_mock: MailgunMock, capsys: pytest.CaptureFixture[str]) -> None:
    """Files injected into a server without routes still count as injected: exit 0, zero routes in the row."""
    code = replay_cli(str(FIXTURES / "plain-text.eml"), "--url", mailgun_mock.url, "--api-key", mailgun_mock.api_key)
    out = capsys.readouterr().out
    assert code == 0
    assert row_of(out, "plain-text.eml").split()[1:] == ["1", "0", "-", "-"]


def test_replay_webhook_error_status_does_not_fail_the_run(receiver: HTTPServer,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A receiver answering 500 shows in the webhooks column, but the file was injected, so the exit code is 0."""
    receiver.expect_request("/hook").respond_with_data("no", status=500)
    code = replay_cli(str(FIXTURES / "plain-text.eml"), "--forward", receiver.url_for("/hook"))
    out = capsys.readouterr().out
    assert code == 0
    assert row_of(out, "plain-text.eml").endswith("forward  500")
    assert "(0 answered 2xx)" in out.splitlines()[-1]


def test_replay_route_and_action_flags_build_ordered_routes(receiver: HTTPServer,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """--route/--action make routes in the order given; --forward's catch_all() only takes what they left."""
    for path in ("/support", "/rest"):
        receiver.expect_request(path).respond_with_data("ok")
    code = replay_cli(str(FIXTURES / "plain-text.eml"), str(FIXTURES / "reply-gmail.eml"),
                      "--route", 'match_recipient("support@.*")',
                      "--action", f'forward("{receiver.url_for("/support")}")', "--action", "stop()",
                      "--forward", receiver.url_for("/rest"))
    assert code == 0, capsys.readouterr()
    posts = [(fields_of(r)["recipient"], r.path) for r, _ in receiver.log]
    assert posts == [(b"support@example.com", "/support"), (b"jane@example.com", "/rest")]


@pytest.mark.parametrize("mode", ["url", "in-process"])
def test_replay_empty_file_fails_its_row_with_server_reason(mode: str, mailgun_mock: MailgunMock, receiver: HTTPServer,
                                                            tmp_path: pathlib.Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """An empty .eml is refused with the mock's 400 'the message is empty' in its row; the others still go; exit 1."""
    receiver.expect_request("/hook").respond_with_data("ok")
    (tmp_path / "a-empty.eml").write_bytes(b"")
    (tmp_path / "b-good.eml").write_bytes((FIXTURES / "plain-text.eml").read_bytes())
    if mode == "url":
        mailgun_mock.backend.create_route("catch_all()", [f'forward("{receiver.url_for("/hook")}")'])
        target = ["--url", mailgun_mock.url, "--api-key", mailgun_mock.api_key]
    else:
        target = ["--forward", receiver.url_for("/hook")]
    code = replay_cli(str(tmp_path), *target)
    out = capsys.readouterr().out
    assert code == 1
    assert row_of(out, "a-empty.eml").endswith("FAILED: 400 the message is empty")
    assert row_of(out, "b-good.eml").endswith("forward  200")
    assert out.splitlines()[-1].startswith("2 files: 1 injected, 1 failed, 0 skipped (not regular files);")
    assert len(receiver.log) == 1


def test_replay_unreadable_file_fails_its_row(receiver: HTTPServer, tmp_path: pathlib.Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A file that cannot be read (a dangling symlink) is reported in its row and makes the exit code 1."""
    receiver.expect_request("/hook").respond_with_data("ok")
    (tmp_path / "gone.eml").symlink_to(tmp_path / "nowhere.eml")
    (tmp_path / "here.eml").write_bytes((FIXTURES / "plain-text.eml").read_bytes())
    code = replay_cli(str(tmp_path), "--forward", receiver.url_for("/hook"))
    out = capsys.readouterr().out
    assert code == 1
    assert row_of(out, "gone.eml").endswith("FAILED: cannot read: No such file or directory")
    assert row_of(out, "here.eml").endswith("200")


def test_replay_wrong_api_key_exits_1_with_clear_message(mailgun_mock: MailgunMock,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A key the server refuses stops the replay before any file, saying the key was refused: exit 1."""
    code = replay_cli(str(FIXTURES / "plain-text.eml"), "--url", mailgun_mock.url, "--api-key", "key-wrong")
    captured = capsys.readouterr()
    assert code == 1
    assert "refused the API key (401 Forbidden)" in captured.err and "--api-key" in captured.err
    assert captured.out == ""
    assert mailgun_mock.events == []


def test_replay_api_key_defaults_to_environment(mailgun_mock: MailgunMock, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Without --api-key, MAILGUN_MOCK_API_KEY authenticates the replay."""
    monkeypatch.setenv("MAILGUN_MOCK_API_KEY", mailgun_mock.api_key)
    assert replay_cli(str(FIXTURES / "plain-text.eml"), "--url", mailgun_mock.url) == 0, capsys.readouterr()


def test_replay_unreachable_server_exits_1(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --url nobody listens on is reported as a connection problem, exit 1."""
    code = replay_cli(str(FIXTURES / "plain-text.eml"), "--url", "http://127.0.0.1:1")
    assert code == 1
    assert "cannot connect to http://127.0.0.1:1: Connection refused" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["{empty}", "--forward", "http://127.0.0.1:1/"], "no .eml files found"),
    (["{empty}/missing.eml", "--forward", "http://127.0.0.1:1/"], "no such file or folder"),
    ([str(FIXTURES / "plain-text.eml")], "nothing would happen"),
    ([str(FIXTURES / "plain-text.eml"), "--url", "http://127.0.0.1:1", "--forward", "http://127.0.0.1:1/"],
     "apply to the in-process mock only"),
    ([str(FIXTURES / "plain-text.eml"), "--route", "match_sender('x')", "--action", "stop()"],
     "unknown function"),
])
def test_replay_usage_errors_exit_2(argv: list[str], message: str, tmp_path: pathlib.Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Missing paths, folders without .eml, no routes in process, routes with --url, bad routes: exit 2."""
    (tmp_path / "notes.txt").write_text("not mail")
    code = replay_cli(*(a.replace("{empty}", str(tmp_path)) for a in argv))
    assert code == 2
    assert message in capsys.readouterr().err


def test_replay_action_before_route_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--action with no --route before it is refused by the parser, with exit status 2."""
    with pytest.raises(SystemExit) as exited:
        replay_cli(str(FIXTURES / "plain-text.eml"), "--action", "stop()")
    assert exited.value.code == 2
    assert "--action must follow a --route" in capsys.readouterr().err


@pytest.mark.parametrize(("count", "shown"), [(20, False), (21, True)])
def test_replay_progress_shown_above_20_files(count: int, shown: bool, receiver: HTTPServer, tmp_path: pathlib.Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """With stderr not a terminal, the [n/total] count appears only for more than 20 files."""
    receiver.expect_request("/hook").respond_with_data("ok")
    folder = copies(tmp_path / "many", count)
    assert replay_cli(str(folder), "--forward", receiver.url_for("/hook")) == 0
    err = capsys.readouterr().err
    lines = [f"[{n}/{count}] {folder / f'msg-{n - 1:03}.eml'}" for n in range(1, count + 1)]
    assert err.splitlines() == (lines if shown else [])


def test_replay_runs_as_a_command(receiver: HTTPServer, tmp_path: pathlib.Path) -> None:
    """Run in a subprocess (as `mailgun-mock replay` will be), it prints the table and summary and exits 0."""
    receiver.expect_request("/hook").respond_with_data("ok")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILGUN_MOCK_")}
    done = subprocess.run(
        [sys.executable, "-c", RUN_REPLAY, "replay", str(FIXTURES / "plain-text.eml"),
         str(FIXTURES / "html-only.eml"), "--forward", receiver.url_for("/hook")],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["FILE", "RCPTS", "ROUTES", "ACTIONS", "WEBHOOKS"]
    assert [line.split()[1:] for line in lines[1:3]] == [["1", "1", "forward", "200"]] * 2
    assert lines[3] == ("2 files: 2 injected, 0 failed, 0 skipped (not regular files); 2 recipients, 2 files matched a route, 2 actions, "
                        "2 webhooks (2 answered 2xx).")
    assert len(receiver.log) == 2
    assert json.loads(fields_of(receiver.log[0][0])["message-headers"])


def test_replay_skips_a_fifo_and_refuses_an_endless_file(tmp_path: pathlib.Path, receiver: HTTPServer) -> None:
    """A FIFO (which would block a read forever) and a symlink to /dev/zero (which never ends) are skipped
    and reported, never read; the real message still goes through and the exit code stays 0."""
    import os

    receiver.expect_request("/hook").respond_with_data("ok")
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "a-real.eml").write_bytes((FIXTURES / "plain-text.eml").read_bytes())
    os.mkfifo(folder / "b-pipe.eml")
    (folder / "c-zero.eml").symlink_to("/dev/zero")
    done = subprocess.run([sys.executable, "-m", "mailgun_mock", "replay", str(folder), "--forward",
                           receiver.url_for("/hook"), "--recipient", "in@example.com"],
                          capture_output=True, text=True, timeout=60)
    lines = done.stdout.splitlines()
    assert any(line.startswith(str(folder / "b-pipe.eml")) and "skipped: a FIFO, not a regular file" in line
               for line in lines)
    assert any(line.startswith(str(folder / "c-zero.eml")) and "skipped: a device, not a regular file" in line
               for line in lines)
    assert lines[-1].startswith("3 files: 1 injected, 0 failed, 2 skipped (not regular files);")
    assert done.returncode == 0


def test_read_message_file_refuses_a_file_over_the_limit(tmp_path: pathlib.Path) -> None:
    """A regular file larger than the limit is refused before it is read."""
    from mailgun_mock.edges.replay_files import read_message_file

    big = tmp_path / "big.eml"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(OSError, match="2048 bytes, more than the 1024 bytes a message may have"):
        read_message_file(big, 1024)
    assert read_message_file(big, 4096) == b"x" * 2048
