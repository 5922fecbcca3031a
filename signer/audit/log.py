"""The append-only audit log: fsync'd, hash-chained lines, one per decision or device event.

Storage: an append-only file plus a head record, not SQLite. The log's whole value is that
anyone can re-check it with SHA-256 and a JSON reader (the format is in ``record.py``), and
that its bytes are only ever appended, which a plain ``O_APPEND`` file shows directly while a
database rewrites pages in place. Durability comes from ``fsync`` of the log before the head
record is replaced (write to a temporary file, fsync, rename, fsync the directory), so a crash
leaves either the old state, a log one entry ahead of its head (accepted; the head is brought
forward), or a half-written last line (refused until :meth:`AuditLog.recover_torn_tail`).

:meth:`AuditLog.append_many` writes a batch (a signed batch's decisions) with one fsync and one
head record: a ``batch`` entry saying how many entries follow, then the entries, chained as
usual. A crash during it leaves the old state or a *prefix* of that write: the ``batch`` entry
and the first complete entries after it, possibly followed by a half-written line. A prefix is
accepted like the one-entry lag above (the head is brought forward to its last complete entry);
entries past the head that no ``batch`` entry announced are still refused as tampering.

``open`` and ``append`` compare only the last line with the head record (constant time);
the whole chain is checked by ``verify`` (or ``verify.verify_log``), which the signer runs at
start-up.

Writers hold an exclusive ``flock`` on the log file for the whole append, so two processes
cannot interleave entries; readers take a shared lock just long enough to read the head and
the file size together (see ``verify.snapshot``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from signer.audit.record import (
    ENTRY_LINE_PREFIX,
    GENESIS_PREV,
    MAX_BATCH_ENTRIES,
    MAX_LINE_BYTES,
    AuditEntry,
    AuditKind,
    announced_batch,
    entry_hash,
    head_line,
    make_entry,
    parse_line,
)
from signer.audit.verify import (
    Scanner,
    VerifyReport,
    head_path,
    read_head,
    snapshot,
    tampered,
    verify_stream,
)
from signer.errors import AuditError, AuditTamperedError

LOG_FORMAT = 1


def _unix_time() -> int:
    return int(time.time())


@dataclass(frozen=True, slots=True)
class _Tail:
    """The end of the log compared with the head record.

    ``last`` is the last complete entry (None for an empty log); ``lagging`` says the head
    record names the entry before it; ``torn_at`` is where a half-written last line starts.
    """

    last: AuditEntry | None = None
    lagging: bool = False
    torn_at: int | None = None


class AuditLog:
    """An open audit log. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, path: Path, fd: int, clock: Callable[[], int]) -> None:
        self._path = path
        self._fd = fd
        self._clock = clock
        # flock excludes other open files, not other threads sharing this descriptor.
        self._mutex = threading.Lock()

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], int] = _unix_time) -> AuditLog:
        """Open the log at ``path``, creating it (with a ``log-created`` entry 0) if absent.

        A head record one entry behind the log is brought forward. A half-written last line
        is left for :meth:`recover_torn_tail`; ``append`` refuses until then.
        """
        path = Path(path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise AuditError(f"cannot open the audit log {path}: {exc.strerror}") from exc
        log = cls(path, fd, clock)
        try:
            with log._locked():
                tail = log._tail()
                if tail.torn_at is None:
                    log._settle(tail)
        except BaseException:
            os.close(fd)
            raise
        return log

    def close(self) -> None:
        """Close the log file."""
        os.close(self._fd)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def append(self, kind: str, fields: Mapping[str, object]) -> AuditEntry:
        """Append one entry and fsync it (and the head record) before returning it.

        Refuses (``AuditError``) secrets, non-JSON values and floats in ``fields``, and any
        append onto a log whose tail does not match its head record.
        """
        with self._locked():
            last = self._settle(self._clean_tail())
            return self._write(last.seq + 1, last.entry_hash, kind, fields)

    def append_many(
        self, records: Sequence[tuple[str, Mapping[str, object]]]
    ) -> tuple[AuditEntry, ...]:
        """Append ``records`` (kind, fields) as consecutive entries with one fsync.

        More than one record is preceded by a ``batch`` entry naming how many follow, so that
        a crash part-way leaves a prefix the log recognises (see the module docstring). Every
        record is validated (secrets refused) before anything is written: a refused record
        writes none of them. Returns the records' entries, in order (not the ``batch`` entry).
        """
        if not records:
            return ()
        if len(records) > MAX_BATCH_ENTRIES:
            raise AuditError(
                f"{len(records)} audit entries in one write; the limit is {MAX_BATCH_ENTRIES}"
            )
        if len(records) == 1:
            kind, fields = records[0]
            return (self.append(kind, fields),)
        with self._locked():
            last = self._settle(self._clean_tail())
            now = self._clock()
            marker = make_entry(
                last.seq + 1,
                last.entry_hash,
                AuditKind.BATCH,
                now,
                {"entries": len(records)},
            )
            made: list[AuditEntry] = []
            previous = marker
            for kind, fields in records:
                previous = make_entry(previous.seq + 1, previous.entry_hash, kind, now, fields)
                made.append(previous)
            self._write_lines([marker, *made])
            return tuple(made)

    def head(self) -> tuple[int, bytes]:
        """The latest entry's ``(seq, hash)``, as every signer response carries it."""
        with self._locked():
            last = self._settle(self._clean_tail())
        return last.seq, last.entry_hash

    def last_entry(self) -> AuditEntry:
        """The latest complete entry (a new log's is its ``log-created`` entry 0)."""
        with self._locked():
            return self._settle(self._clean_tail())

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry in order, each checked against the chain before it is yielded."""
        try:
            stream = self._path.open("rb")
        except OSError as exc:
            raise AuditError(f"cannot read the audit log {self._path}: {exc.strerror}") from exc
        with stream:
            head, size = snapshot(stream, self._path)
            try:
                yield from Scanner(stream, size, head).entries()
            except OSError as exc:
                raise AuditError(f"cannot read the audit log {self._path}: {exc.strerror}") from exc

    def verify(self, *, known_head: tuple[int, bytes] | None = None) -> VerifyReport:
        """Check the whole log (see ``signer.audit.verify``); raises ``AuditTamperedError``."""
        try:
            stream = self._path.open("rb")
        except OSError as exc:
            raise AuditError(f"cannot read the audit log {self._path}: {exc.strerror}") from exc
        with stream:
            return verify_stream(stream, self._path, known_head=known_head)

    def recover_torn_tail(self) -> AuditEntry:
        """Remove a half-written last line left by a crash, and log that it was removed.

        Only a line that was never acknowledged is removed: the complete entries must end at
        the head record (or one past it). The new ``log-recovered`` entry records the removed
        bytes' length and SHA-256, so the recovery is itself evidence.
        """
        with self._locked():
            tail = self._tail()
            if tail.torn_at is None:
                raise AuditError(f"the audit log {self._path} has no half-written entry")
            size = os.fstat(self._fd).st_size
            removed = os.pread(self._fd, size - tail.torn_at, tail.torn_at)
            try:
                os.ftruncate(self._fd, tail.torn_at)
                os.fsync(self._fd)
            except OSError as exc:
                raise AuditError(f"cannot truncate the audit log: {exc.strerror}") from exc
            last = self._settle(self._tail())
            return self._write(
                last.seq + 1,
                last.entry_hash,
                AuditKind.LOG_RECOVERED,
                {
                    "removed_bytes": len(removed),
                    "removed_sha256": hashlib.sha256(removed).hexdigest(),
                    "at_offset": tail.torn_at,
                },
            )

    def _locked(self) -> _FileLock:
        return _FileLock(self._fd, self._mutex, self._path)

    def _clean_tail(self) -> _Tail:
        tail = self._tail()
        if tail.torn_at is not None:
            raise AuditError(
                f"the audit log {self._path} ends in a half-written entry (a crash during an"
                " append); run 'coldsign-signer audit recover' to remove it before appending"
            )
        return tail

    def _tail(self) -> _Tail:
        """Read the last line and the head record; refuse a tail that does not match."""
        head = read_head(self._path)
        size = os.fstat(self._fd).st_size
        if size == 0:
            if head is not None:
                raise tampered(0, "truncated", "the log is empty but has a head record")
            return _Tail()
        start = max(0, size - (MAX_LINE_BYTES + 2))
        window = os.pread(self._fd, size - start, start)
        if not window.endswith(b"\n"):
            cut = window.rfind(b"\n")
            torn = window[cut + 1 :]
            torn_at = start + cut + 1
            if (cut < 0 and start > 0) or not (
                torn.startswith(ENTRY_LINE_PREFIX) or ENTRY_LINE_PREFIX.startswith(torn)
            ):
                raise self._not_an_entry(torn_at, "no newline and not the start of an entry")
            if torn_at > 0:
                self._check_tail(self._last_line(torn_at), head)
            elif head is not None:
                raise tampered(0, "half-written", "entry 0 is cut but a head record exists")
            return _Tail(torn_at=torn_at)
        return self._check_tail(self._last_line(size), head)

    def _last_line(self, end: int) -> tuple[bytes, int]:
        """The complete line ending at byte ``end`` and its offset."""
        start = max(0, end - (MAX_LINE_BYTES + 1))
        window = os.pread(self._fd, end - start, start)
        cut = window.rfind(b"\n", 0, len(window) - 1)
        if cut < 0 and start > 0:
            raise self._not_an_entry(end, f"longer than {MAX_LINE_BYTES} bytes")
        return window[cut + 1 :], start + cut + 1

    def _not_an_entry(self, offset: int, reason: str) -> AuditError:
        if offset == 0 or not self._first_line_is_an_entry():
            return AuditError(f"{self._path} is not a coldsign audit log: {reason}")
        return AuditTamperedError(
            f"audit log {self._path}: the last line (at byte {offset}) is malformed: {reason}"
        )

    def _first_line_is_an_entry(self) -> bool:
        first = os.pread(self._fd, MAX_LINE_BYTES + 1, 0)
        try:
            parse_line(first[: first.find(b"\n") + 1])
        except AuditError:
            return False
        return True

    def _check_tail(self, found: tuple[bytes, int], head: tuple[int, bytes] | None) -> _Tail:
        line, offset = found
        try:
            last = parse_line(line)
        except AuditError as exc:
            raise self._not_an_entry(offset, str(exc)) from exc
        if entry_hash(last.seq, last.prev, last.body()) != last.entry_hash:
            raise tampered(last.seq, "edited", "the last entry does not hash to its hash")
        if head is None:
            if last.seq == 0 and offset == 0 and last.prev == GENESIS_PREV:
                return _Tail(last=last, lagging=True)
            raise tampered(last.seq, "head missing", "the head record is missing")
        if head == (last.seq, last.entry_hash):
            return _Tail(last=last)
        if last.seq == head[0] + 1 and last.prev == head[1]:
            return _Tail(last=last, lagging=True)
        if head[0] + 1 < last.seq <= head[0] + 1 + MAX_BATCH_ENTRIES:
            self._check_batch_prefix(last, offset, head)
            return _Tail(last=last, lagging=True)
        raise tampered(
            min(last.seq, head[0] + 1),
            "head mismatch",
            f"the log ends at seq {last.seq} but the head record names seq {head[0]}",
        )

    def _check_batch_prefix(self, last: AuditEntry, offset: int, head: tuple[int, bytes]) -> None:
        """Accept entries past the head only as a prefix of one ``append_many`` write.

        Walks back from ``last`` (whose line starts at ``offset``) to the entry after the
        head, checking each link; that entry must be a ``batch`` entry chained to the head
        and announcing at least as many entries as follow it.
        """
        head_seq, head_hash = head
        current = last
        while current.seq > head_seq + 1:
            line, offset = self._last_line(offset)
            try:
                earlier = parse_line(line)
            except AuditError as exc:
                raise self._not_an_entry(offset, str(exc)) from exc
            if (
                earlier.seq != current.seq - 1
                or current.prev != earlier.entry_hash
                or entry_hash(earlier.seq, earlier.prev, earlier.body()) != earlier.entry_hash
            ):
                raise tampered(current.seq, "chain broken", "past the head record")
            current = earlier
        if current.prev != head_hash or announced_batch(current) < last.seq - current.seq:
            raise tampered(
                head_seq + 1,
                "past the head",
                f"entries {head_seq + 1} to {last.seq} follow the entry the head record names"
                " and are not one batch write",
            )

    def _settle(self, tail: _Tail) -> AuditEntry:
        """Bring a lagging head forward, or write entry 0 of a new log; return the last entry."""
        if tail.last is None:
            return self._write(
                0,
                GENESIS_PREV,
                AuditKind.LOG_CREATED,
                {"format": LOG_FORMAT, "log_id": os.urandom(16).hex()},
            )
        if tail.lagging:
            self._write_head(tail.last)
        return tail.last

    def _write(self, seq: int, prev: bytes, kind: str, fields: Mapping[str, object]) -> AuditEntry:
        entry = make_entry(seq, prev, kind, self._clock(), fields)
        self._write_lines([entry])
        return entry

    def _write_lines(self, entries: Sequence[AuditEntry]) -> None:
        """Append the entries' lines, fsync once, then point the head record at the last."""
        data = b"".join(entry.line() for entry in entries)
        size = os.fstat(self._fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except OSError as exc:
            # Nothing was acknowledged: take the partial lines back if the disk lets us.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)
            raise AuditError(f"cannot write the audit log {self._path}: {exc.strerror}") from exc
        self._write_head(entries[-1])

    def _write_head(self, entry: AuditEntry) -> None:
        target = head_path(self._path)
        temporary = target.with_name(target.name + ".tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                data = head_line(entry.seq, entry.entry_hash)
                if os.write(fd, data) != len(data):
                    raise OSError(0, "short write")
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, target)
            directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit head record {target}: {exc.strerror}"
            ) from exc


class _FileLock:
    """An exclusive flock on the log plus the in-process mutex, as a context manager."""

    def __init__(self, fd: int, mutex: threading.Lock, path: Path) -> None:
        self._fd = fd
        self._mutex = mutex
        self._path = path

    def __enter__(self) -> None:
        self._mutex.acquire()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError as exc:
            self._mutex.release()
            raise AuditError(f"cannot lock the audit log {self._path}: {exc.strerror}") from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._mutex.release()
