"""Crash-safe small-file writes (temp file, fsync, rename, fsync directory), mode 0600.

The file-system steps are an injectable :class:`FileOps` so tests can fail the rename and
check that the previous file survives intact.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class FileOps:
    """The two steps that publish a written temp file under its final name."""

    # Atomically replace ``dst`` with ``src`` (POSIX rename(2)).
    replace: Callable[[str, str], None] = os.replace
    # Create ``dst`` as a new name for ``src``; fails if ``dst`` exists (POSIX link(2)).
    link: Callable[[str, str], None] = os.link


OS_FILE_OPS = FileOps()


def write_atomic(path: Path, data: bytes, *, overwrite: bool, ops: FileOps = OS_FILE_OPS) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one.

    With ``overwrite=False`` the final step is link(2), which refuses an existing ``path``
    atomically (raises ``FileExistsError``) instead of a check-then-rename race.
    Raises ``OSError`` on failure; the temp file is removed whenever we still run.
    """
    directory = path.parent
    temp = directory / f".{path.name}.tmp-{secrets.token_hex(8)}"
    # O_EXCL: never reuse or follow an existing temp name; 0600 from the first byte on.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # the umask may have removed bits; never added any
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            ops.replace(str(temp), str(path))
        else:
            ops.link(str(temp), str(path))
            os.unlink(temp)
        fsync_directory(directory)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def read_limited(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path`` (so the caller can tell it is too long),
    refusing to follow a symlink at the final component. Raises ``OSError``."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def file_mode(path: Path) -> int:
    """The permission bits of ``path`` (not following a symlink). Raises ``OSError``."""
    return os.lstat(path).st_mode & 0o777


def fsync_directory(directory: Path) -> None:
    """fsync ``directory``: a rename, link or unlink in it is durable only once its entry is."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
