"""Benchmark: our stripped-text / stripped-signature against talon, Mailgun's own library, on fixtures/replies/.

Run with `make bench` or `.venv/bin/python bench/bench_replies.py [--verbose]`. talon (1.4.4, 2017) is too old
and heavy to depend on, so this script installs it in a throwaway virtual environment of its own (under
``$MAILGUN_MOCK_TALON_VENV``, default ``~/.cache/mailgun-mock/talon-venv``; created with ``python -m venv`` and
pip on first run, reused after) and asks it, in a subprocess, for Mailgun's two fields:

- stripped-text: ``talon.quotations.extract_from_plain(body)``, then the text part of
  ``talon.signature.bruteforce.extract_signature`` on the result;
- stripped-signature: the signature part of that call (``""`` for None).

That pairing reproduces Mailgun's captured route payload (fixtures/replies/other-mailgun-sample-en.txt).
Answers are compared modulo trailing whitespace. A file agrees when both fields equal talon's; it counts as
"better than talon" when ``manifest.json`` marks talon wrong there (``talon_wrong``: why) and ours equals the
manifest's expected answer. Every other file is listed with the manifest's ``differs`` reason.

If talon cannot be installed (offline, no pip, a build failure) this prints one line saying so and exits 0,
so `make bench` keeps working.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import venv

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fixtures" / "replies"
TALON = "talon==1.4.4"
DEFAULT_VENV = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "mailgun-mock" / "talon-venv"

# Runs inside the talon venv: bodies in on stdin (JSON), [stripped-text, stripped-signature] pairs out.
# "import talon" must come first: it sets up what talon.signature needs with today's scikit-learn.
_ASK_TALON = """
import json, sys
import talon
from talon import quotations
from talon.signature.bruteforce import extract_signature
out = {}
for name, body in json.load(sys.stdin).items():
    text, signature = extract_signature(quotations.extract_from_plain(body))
    out[name] = [text, signature or ""]
json.dump(out, sys.stdout)
"""


def talon_python(where: pathlib.Path) -> pathlib.Path | None:
    """The interpreter of a venv with talon in it, created on first use; None (with a line printed) if impossible."""
    python = where / ("Scripts" if os.name == "nt" else "bin") / "python"
    marker = where / ".talon-ok"
    if marker.exists() and python.exists():
        return python
    print(f"bench_replies: installing {TALON} into {where} (first run only; numpy, scipy, scikit-learn, lxml)...",
          flush=True)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(where)
        done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", TALON],
                              capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError((done.stderr or done.stdout).strip().splitlines()[-1:] or "pip failed")
        check = subprocess.run([str(python), "-c", _ASK_TALON], input="{}", capture_output=True, text=True, timeout=300)
        if check.returncode != 0:
            raise RuntimeError(check.stderr.strip().splitlines()[-1:])
    except Exception as exc:  # offline, no pip, a failed build: the benchmark is optional
        print(f"bench_replies: skipped, talon could not be installed ({exc})")
        return None
    marker.touch()
    return python


def normal(text: str) -> str:
    """The text without trailing whitespace on any line or at either end."""
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--venv", type=pathlib.Path, default=pathlib.Path(os.environ.get("MAILGUN_MOCK_TALON_VENV",
                                                                                         DEFAULT_VENV)))
    parser.add_argument("--verbose", action="store_true", help="also show talon's and our answers for each difference")
    parser.add_argument("--code", type=pathlib.Path, default=ROOT,
                        help="measure the mailgun_mock of another checkout (say, main) on this corpus")
    args = parser.parse_args()

    sys.path.insert(0, str(args.code.resolve()))
    from mailgun_mock.mail.quotes import strip_text

    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    bodies = {path.stem: path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.txt"))}
    python = talon_python(args.venv)
    if python is None:
        return 0
    asked = subprocess.run([str(python), "-c", _ASK_TALON], input=json.dumps(bodies), capture_output=True, text=True,
                           timeout=600)
    if asked.returncode != 0:
        print(f"bench_replies: skipped, talon failed: {asked.stderr.strip().splitlines()[-1:]}")
        return 0
    talon = json.loads(asked.stdout)

    rows = []  # (name, is_reply, verdict, reason)
    for name, body in bodies.items():
        entry = manifest.get(name, {})
        ours = tuple(normal(x) for x in strip_text(body))
        theirs = tuple(normal(x) for x in talon[name])
        expected = (normal(entry.get("stripped_text", "")), normal(entry.get("stripped_signature", "")))
        if ours == theirs:
            verdict, reason = "agrees", ""
        elif entry.get("talon_wrong") and ours == expected:
            verdict, reason = "better", entry["talon_wrong"]
        else:
            verdict, reason = "differs", entry.get("differs", "unexplained: not in manifest.json")
        rows.append((name, entry.get("kind", "reply") == "reply", verdict, reason, ours, theirs))

    def figures(subset: list[tuple[str, bool, str, str, tuple[str, ...], tuple[str, ...]]]) -> str:
        agree = sum(r[2] == "agrees" for r in subset)
        better = sum(r[2] == "better" for r in subset)
        return (f"{agree / len(subset):6.1%} equal to talon, {(agree + better) / len(subset):6.1%} equal or better"
                f"  ({agree} + {better} better of {len(subset)})")

    replies = [r for r in rows if r[1]]
    english = [r for r in rows if manifest.get(r[0], {}).get("language") == "English"]
    languages = sorted({manifest.get(name, {}).get("language", "?") for name in bodies})
    print(f"bench_replies (fixtures/replies: {len(rows)} bodies, {len(replies)} replies, {len(languages)} languages; "
          f"talon 1.4.4 rule-based quotes + bruteforce signature)")
    print(f"  replies         {figures(replies)}")
    print(f"  all messages    {figures(rows)}")
    if english:
        print(f"  English only    {figures(english)}")
    better = [r for r in rows if r[2] == "better"]
    differs = [r for r in rows if r[2] == "differs"]
    print(f"  better than talon ({len(better)}), by reason:")
    reasons: dict[str, list[str]] = {}
    for name, _, _, reason, _, _ in better:  # grouped without the examples in parentheses and language names
        general = re.sub(r"\bthe (?:" + "|".join(languages) + r") ", "the ", re.sub(r" *\([^)]*\)", "", reason))
        reasons.setdefault(general, []).append(name)
    for reason, names in sorted(reasons.items(), key=lambda item: -len(item[1])):
        print(f"    {len(names):3d}  {reason}")
        if args.verbose:
            print(f"         {', '.join(names)}")
    print(f"  remaining differences ({len(differs)}):")
    for name, _, _, reason, ours, theirs in differs:
        print(f"    {name}: {reason}")
        if args.verbose:
            print(f"      ours:  {ours!r}\n      talon: {theirs!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
