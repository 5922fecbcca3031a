"""Verification of the audit log: the hash chain, the head record, and a head recorded elsewhere.

What verification detects, naming the first bad entry: an edited entry (its hash no longer
matches its seq, prev and body; or it was re-hashed and the next entry's ``prev`` no longer
matches), a deleted, inserted, duplicated or reordered entry (seq numbers out of order or a
broken ``prev`` link), a malformed or non-canonical line, a half-written last line (a crash
during ``append``: reported as such, never accepted), and a cut tail (the log ends before the
entry the head record names).

What it cannot detect locally: an attacker who rewrites the tail *and* the head record
consistently (or replaces the whole log with a fresh one) leaves a log that verifies on its
own, since nothing in it is secret. That is why every signer response carries the
``(seq, hash)`` head and the watcher keeps the latest one it received: ``verify(known_head=...)``
checks that the log still holds that exact entry, which exposes a rollback.

One state is accepted and reported: the log holding entries past the head record, chained to
it, when they are exactly one entry, or a ``batch`` entry and at most as many entries as it
announces. ``append`` and ``append_many`` write (and fsync) the lines before they replace the
head, so this is what a crash between the two (or part-way through a batch's lines) leaves;
the next ``append`` or ``open`` brings the head forward. Entries past the head that no
``batch`` entry announced are refused ("past the head").
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from signer.audit.record import (
    ENTRY_LINE_PREFIX,
    GENESIS_PREV,
    MAX_LINE_BYTES,
    AuditEntry,
    announced_batch,
    entry_hash,
    parse_head,
    parse_line,
)
from signer.errors import AuditError, AuditTamperedError

MAX_HEAD_BYTES = 256


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """A verified log: its size, head, time span, and whether the head record lagged by one."""

    entries: int
    head_seq: int
    head_hash: bytes
    first_time: int
    last_time: int
    head_lagging: bool
    # How many entries the log holds past the one the head record names (0 when it does not lag).
    entries_past_head: int = 0


def head_path(log_path: Path) -> Path:
    """Where the head record of ``log_path`` lives."""
    return log_path.with_name(log_path.name + ".head")


def tampered(seq: int, problem: str, detail: str) -> AuditTamperedError:
    """The error for the first bad entry ``seq``; messages read 'entry N: problem: detail'."""
    return AuditTamperedError(f"audit log entry {seq}: {problem}: {detail}")


def read_head(log_path: Path) -> tuple[int, bytes] | None:
    """The head record ``(seq, hash)``, or None when there is none."""
    path = head_path(log_path)
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_HEAD_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AuditError(f"cannot read the audit head record {path}: {exc.strerror}") from exc
    try:
        return parse_head(data)
    except AuditError as exc:
        raise AuditTamperedError(f"audit head record {path} is malformed: {exc}") from exc


def snapshot(stream: BinaryIO, log_path: Path) -> tuple[tuple[int, bytes] | None, int]:
    """The head record and the log's size, read together under a shared lock.

    ``append`` changes both under an exclusive lock, so the pair is consistent; the bytes
    before ``size`` are never rewritten by a well-behaved writer, so they can then be read
    without holding the lock.
    """
    fd = stream.fileno()
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError as exc:
        raise AuditError(f"cannot lock the audit log {log_path}: {exc.strerror}") from exc
    try:
        return read_head(log_path), os.fstat(fd).st_size
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


class Scanner:
    """Reads a log stream entry by entry, checking the chain, then checks the head at the end."""

    def __init__(
        self,
        stream: BinaryIO,
        size: int,
        head: tuple[int, bytes] | None,
        known_head: tuple[int, bytes] | None = None,
    ) -> None:
        self._stream = stream
        self._remaining = size
        self._head = head
        self._known_head = known_head
        self.head_lagging = False
        self.entries_past_head = 0
        # The entries right at and after the head record's seq, seen on the way.
        self._at_head: AuditEntry | None = None
        self._after_head: AuditEntry | None = None

    def entries(self) -> Iterator[AuditEntry]:
        """Yield each entry once it is checked; raise at the first problem."""
        expected, prev, offset = 0, GENESIS_PREV, 0
        while True:
            line = self._readline()
            if not line:
                break
            entry = self._parse(line, expected, offset)
            if entry_hash(entry.seq, entry.prev, entry.body()) != entry.entry_hash:
                raise tampered(
                    expected,
                    "edited",
                    f"the line at byte {offset} (seq {entry.seq}) does not hash to its"
                    " recorded hash: its body, seq, prev or hash was changed",
                )
            if entry.seq != expected:
                raise self._misplaced(entry, expected)
            if entry.prev != prev:
                raise tampered(
                    expected,
                    "chain broken",
                    f"its prev does not match the hash of entry {expected - 1}: entry"
                    f" {expected - 1} was rewritten, or entry {expected} was inserted",
                )
            if self._known_head is not None and self._known_head[0] == expected:
                self._check_known(entry)
            if self._head is not None and entry.seq == self._head[0]:
                self._at_head = entry
            elif self._head is not None and entry.seq == self._head[0] + 1:
                self._after_head = entry
            yield entry
            expected, prev, offset = expected + 1, entry.entry_hash, offset + len(line)
        self._check_end(expected)

    def _readline(self) -> bytes:
        line = self._stream.readline(min(MAX_LINE_BYTES + 1, self._remaining))
        self._remaining -= len(line)
        return line

    def _parse(self, line: bytes, expected: int, offset: int) -> AuditEntry:
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE_BYTES:
                raise tampered(
                    expected, "malformed", f"the line at byte {offset} is over {MAX_LINE_BYTES}"
                )
            entry_like = line.startswith(ENTRY_LINE_PREFIX) or ENTRY_LINE_PREFIX.startswith(line)
            if entry_like and self._head is not None and self._head[0] >= expected:
                raise tampered(
                    expected,
                    "truncated",
                    f"the last line ({len(line)} bytes at byte {offset}) is cut short, but the"
                    f" head record names seq {self._head[0]}: an acknowledged entry was cut",
                )
            if entry_like:
                raise tampered(
                    expected,
                    "half-written",
                    f"the last line ({len(line)} bytes at byte {offset}) has no newline: an"
                    " append was cut short by a crash (or the file was cut);"
                    " 'coldsign-signer audit recover' removes it and logs that it did",
                )
        try:
            return parse_line(line)
        except AuditError as exc:
            if offset == 0:
                raise AuditError(f"not a coldsign audit log: the first line: {exc}") from exc
            raise tampered(expected, "malformed", f"the line at byte {offset}: {exc}") from exc

    def _misplaced(self, entry: AuditEntry, expected: int) -> AuditTamperedError:
        if entry.seq < expected:
            return tampered(
                expected,
                "inserted",
                f"seq {entry.seq} appears a second time where seq {expected} belongs",
            )
        if self._found_later(expected):
            return tampered(expected, "reordered", f"seq {entry.seq} comes before seq {expected}")
        missing = (
            f"entry {expected} is"
            if entry.seq == expected + 1
            else f"entries {expected} to {entry.seq - 1} are"
        )
        return tampered(expected, "deleted", f"{missing} missing (the next is seq {entry.seq})")

    def _found_later(self, seq: int) -> bool:
        """Whether a well-formed entry with ``seq`` follows (tells a swap from a deletion)."""
        while line := self._readline():
            try:
                if parse_line(line).seq == seq:
                    return True
            except AuditError:
                continue
        return False

    def _check_known(self, entry: AuditEntry) -> None:
        assert self._known_head is not None
        if entry.entry_hash != self._known_head[1]:
            raise tampered(
                entry.seq,
                "rewritten",
                "its hash differs from the head recorded earlier (a rollback or a rewritten log)",
            )

    def _check_end(self, count: int) -> None:
        last = count - 1
        if self._known_head is not None and self._known_head[0] > last:
            raise tampered(
                last + 1,
                "truncated",
                f"the log ends at seq {last} but seq {self._known_head[0]} was recorded"
                " earlier (a rollback: the tail and the head record were cut together)",
            )
        head = self._head
        if head is None:
            if count == 0:
                raise AuditError("the audit log is empty and has no head record")
            if count == 1:
                # A crash during creation, between entry 0 and the first head record.
                self.head_lagging = True
                self.entries_past_head = 1
                return
            raise tampered(last, "head missing", "the head record is missing")
        head_seq, head_hash = head
        if head_seq > last:
            raise tampered(
                last + 1,
                "truncated",
                f"the head record names seq {head_seq} but the log ends at seq {last}"
                " (the tail was cut)",
            )
        if self._at_head is None or self._at_head.entry_hash != head_hash:
            raise tampered(
                head_seq,
                "head mismatch",
                "its hash differs from the head record (the tail was rewritten)",
            )
        past = last - head_seq
        if past > 1 and (self._after_head is None or announced_batch(self._after_head) < past - 1):
            raise tampered(
                head_seq + 1,
                "past the head",
                f"entries {head_seq + 1} to {last} follow the entry the head record names"
                " and are not one batch write",
            )
        self.head_lagging = past > 0
        self.entries_past_head = past


def verify_log(path: str | Path, *, known_head: tuple[int, bytes] | None = None) -> VerifyReport:
    """Verify the log at ``path`` (read-only) for ``coldsign-signer audit verify``.

    ``known_head`` is a ``(seq, hash)`` received earlier (the watcher keeps the latest): the
    log must still hold that exact entry. Raises ``AuditTamperedError`` naming the first bad
    entry, or ``AuditError`` for a file that is missing, unreadable or not an audit log.
    """
    path = Path(path)
    try:
        stream = path.open("rb")
    except FileNotFoundError as exc:
        raise AuditError(f"no audit log at {path}") from exc
    except OSError as exc:
        raise AuditError(f"cannot open the audit log {path}: {exc.strerror}") from exc
    with stream:
        return verify_stream(stream, path, known_head=known_head)


def verify_stream(
    stream: BinaryIO, path: Path, *, known_head: tuple[int, bytes] | None = None
) -> VerifyReport:
    """Verify an open log file (see :func:`verify_log`)."""
    head, size = snapshot(stream, path)
    scanner = Scanner(stream, size, head, known_head)
    first: AuditEntry | None = None
    last: AuditEntry | None = None
    count = 0
    try:
        for entry in scanner.entries():
            first = entry if first is None else first
            last, count = entry, count + 1
    except OSError as exc:
        raise AuditError(f"cannot read the audit log {path}: {exc.strerror}") from exc
    assert first is not None and last is not None  # an empty log raised above
    return VerifyReport(
        entries=count,
        head_seq=last.seq,
        head_hash=last.entry_hash,
        first_time=first.time,
        last_time=last.time,
        head_lagging=scanner.head_lagging,
        entries_past_head=scanner.entries_past_head,
    )
