"""What ``replay`` reads: the ``.eml`` files found under the paths given, each read only if it is a
regular file of a size a message may have, and the envelope to inject it with."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

__all__ = ["NotAFile", "ReplayError", "collect_files", "envelope_recipients", "read_message_file"]


class ReplayError(Exception):
    """A problem that stops the whole replay before it starts.

    :param message: what is wrong, for the user.
    :param exit_code: 2 for usage errors, 1 for a server that cannot be used.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def collect_files(paths: Sequence[str]) -> list[Path]:
    """The files to replay: each file as given, each folder's ``*.eml`` recursively, sorted.

    :raises ReplayError: for a path that does not exist, or when no file is found at all.
    """
    files: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            # not is_dir() rather than is_file(): a dangling symlink is listed, and reported unreadable.
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() == ".eml" and not p.is_dir()))
        elif path.exists():
            files.append(path)
        else:
            raise ReplayError(f"no such file or folder: {text}")
    if not files:
        raise ReplayError(f"no .eml files found in {', '.join(paths)}")
    return files


class NotAFile(Exception):
    """A folder entry that is no regular file: skipped, never read."""


def read_message_file(path: Path, limit: int) -> bytes:
    """The bytes of a message file, read only if it is a regular file of at most ``limit`` bytes.

    Opened without blocking and checked before reading, so a FIFO (which would block forever) or a
    symlink to ``/dev/zero`` (which never ends) is reported instead of read.

    :raises OSError: for a file that cannot be opened, or is larger than ``limit``.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode)
                    or stat.S_ISBLK(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a file")
            raise NotAFile(f"skipped: {kind}, not a regular file")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"{info.st_size} bytes, more than the {limit} bytes a message may have")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read
        raise OSError(errno.EFBIG, f"more than the {limit} bytes a message may have")
    return data


def envelope_recipients(raw: bytes, given: Sequence[str] | None) -> list[str] | None:
    """The recipients to inject with: ``given``, else ``None`` (the mock's default, To + Cc + Bcc),
    else, for a message without any such address, its Delivered-To or X-Original-To addresses.
    """
    if given:
        return list(given)
    from ..mail.parse import ParsedMessage

    msg = ParsedMessage(raw)
    if msg.addresses("To", "Cc", "Bcc"):
        return None
    return msg.addresses("Delivered-To") or msg.addresses("X-Original-To") or None
