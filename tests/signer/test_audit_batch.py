"""AuditLog.append_many: one fsync per batch, and what a crash part-way through one leaves."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signer.audit import AuditKind, AuditLog, verify_log
from signer.audit.record import MAX_BATCH_ENTRIES, make_entry, parse_line
from signer.errors import AuditError, AuditTamperedError

ROOT = Path(__file__).resolve().parents[2]


def records(count: int) -> list[tuple[str, dict[str, object]]]:
    return [(AuditKind.DECISION, {"item": n, "digest": f"{n:064x}"}) for n in range(count)]


def head_file(path: Path) -> Path:
    return path.with_name(path.name + ".head")


def started_log(path: Path) -> tuple[int, bytes]:
    """A log with entry 0 and one unlock entry; its head."""
    with AuditLog.open(path, clock=itertools.count(1_700_000_000).__next__) as log:
        log.append(AuditKind.UNLOCK, {"result": "unlocked"})
        return log.head()


def test_a_batch_is_a_batch_entry_then_the_records_chained(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    head = started_log(path)
    with AuditLog.open(path) as log:
        written = log.append_many(records(3))
        assert [entry.seq for entry in written] == [head[0] + 2, head[0] + 3, head[0] + 4]
        assert log.head() == (written[-1].seq, written[-1].entry_hash)
        read = list(log.entries())
    marker = read[head[0] + 1]
    assert (marker.kind, dict(marker.fields), marker.prev) == ("batch", {"entries": 3}, head[1])
    assert read[head[0] + 2 :] == list(written)
    assert written[0].prev == marker.entry_hash
    assert [entry.fields["item"] for entry in written] == [0, 1, 2]
    report = verify_log(path)
    assert (report.head_seq, report.head_lagging, report.entries_past_head) == (5, False, 0)


def test_one_record_is_a_plain_append_and_none_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    head = started_log(path)
    with AuditLog.open(path) as log:
        assert log.append_many([]) == ()
        (only,) = log.append_many(records(1))
        assert (only.seq, only.kind, only.prev) == (head[0] + 1, "decision", head[1])


def test_a_thousand_entries_cost_a_bounded_number_of_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.log"
    started_log(path)
    calls: list[int] = []
    real_fsync: Callable[[int], None] = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    with AuditLog.open(path) as log:
        monkeypatch.setattr(os, "fsync", counting)
        log.append_many(records(1000))
        monkeypatch.undo()
    # The log once, the head record's temporary file once, its directory once.
    assert len(calls) == 3
    assert verify_log(path).entries == 2 + 1 + 1000


def test_a_refused_record_writes_none_of_the_batch(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    started_log(path)
    before = path.read_bytes(), head_file(path).read_bytes()
    batch = [*records(2), ("decision", {"passphrase": "x"}), *records(2)]
    with AuditLog.open(path) as log, pytest.raises(AuditError, match="looks like a secret"):
        log.append_many(batch)
    assert (path.read_bytes(), head_file(path).read_bytes()) == before


def test_more_than_the_limit_in_one_write_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    started_log(path)
    with AuditLog.open(path) as log, pytest.raises(AuditError, match="in one write"):
        log.append_many([("event", {})] * (MAX_BATCH_ENTRIES + 1))


def _crashed_batch(tmp_path: Path, count: int) -> tuple[Path, bytes, bytes, list[bytes]]:
    """A batch written whole, then the head record put back as it was before it.

    Returns the log path, the old head record, the bytes before the batch, and the batch's
    lines (the ``batch`` entry first).
    """
    path = tmp_path / "audit.log"
    started_log(path)
    old_head = head_file(path).read_bytes()
    before = path.read_bytes()
    with AuditLog.open(path) as log:
        log.append_many(records(count))
    written = path.read_bytes()[len(before) :].splitlines(keepends=True)
    head_file(path).write_bytes(old_head)
    return path, old_head, before, written


@settings(max_examples=60, deadline=None)
@given(count=st.integers(2, 6), data=st.data())
def test_a_crash_part_way_leaves_a_prefix_of_the_batch(
    tmp_path_factory: pytest.TempPathFactory, count: int, data: st.DataObject
) -> None:
    path, _, before, written = _crashed_batch(tmp_path_factory.mktemp("crash"), count)
    batch = b"".join(written)
    cut = data.draw(st.integers(0, len(batch)), label="bytes of the batch on disk")
    path.write_bytes(before + batch[:cut])
    whole_lines = batch[:cut].count(b"\n")
    if cut == sum(len(line) for line in written[:whole_lines]):
        # Cut on a line boundary: accepted, and the head is brought forward on open.
        report = verify_log(path)
        assert report.entries_past_head == whole_lines
        assert report.head_lagging is (whole_lines > 0)
    else:
        with pytest.raises(AuditTamperedError, match="half-written"):
            verify_log(path)
        with AuditLog.open(path) as log:
            log.recover_torn_tail()
    with AuditLog.open(path) as log:
        after = [entry.line() for entry in log.entries()][before.count(b"\n") :]
        head = log.head()
    # What survives is the batch's first lines, unchanged (then a log-recovered entry).
    kept = [line for line in after if b'"kind":"log-recovered"' not in line]
    assert kept == written[:whole_lines]
    assert verify_log(path).head_seq == head[0]
    assert not verify_log(path).head_lagging


def test_open_brings_the_head_forward_over_a_batch_prefix(tmp_path: Path) -> None:
    path, _, before, written = _crashed_batch(tmp_path, 5)
    path.write_bytes(before + b"".join(written[:4]))
    with AuditLog.open(path) as log:
        last = list(log.entries())[-1]
        assert log.head() == (last.seq, last.entry_hash)
        assert last.fields["item"] == 2
        follow = log.append(AuditKind.LOCK, {})
    assert follow.prev == last.entry_hash
    assert verify_log(path).entries_past_head == 0


def test_more_entries_than_the_batch_announced_are_past_the_head(tmp_path: Path) -> None:
    path, _, before, written = _crashed_batch(tmp_path, 2)
    last = parse_line(written[-1])
    extra = make_entry(last.seq + 1, last.entry_hash, "event", 1, {})
    path.write_bytes(before + b"".join(written) + extra.line())
    with pytest.raises(AuditTamperedError, match="past the head"):
        verify_log(path)
    with pytest.raises(AuditTamperedError, match="past the head"):
        AuditLog.open(path)


def test_entries_past_the_head_without_a_batch_entry_are_refused_on_open(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    started_log(path)
    old_head = head_file(path).read_bytes()
    with AuditLog.open(path) as log:
        log.append("event", {"n": 1})
        log.append("event", {"n": 2})
    head_file(path).write_bytes(old_head)
    with pytest.raises(AuditTamperedError, match="past the head"):
        AuditLog.open(path)


def test_a_rewritten_entry_inside_a_batch_prefix_is_refused_on_open(tmp_path: Path) -> None:
    path, _, before, written = _crashed_batch(tmp_path, 4)
    forged = written[2].replace(b'"item":1', b'"item":9')
    path.write_bytes(before + b"".join([*written[:2], forged, *written[3:]]))
    with pytest.raises(AuditTamperedError):
        AuditLog.open(path)
    with pytest.raises(AuditTamperedError, match="edited"):
        verify_log(path)


_KILLED_BATCHER = textwrap.dedent(
    """
    import sys
    from signer.audit import AuditLog
    with AuditLog.open(sys.argv[1]) as log:
        n = 0
        while True:
            written = log.append_many(
                [("event", {"n": n + i, "pad": "x" * 2000}) for i in range(25)]
            )
            print(written[-1].seq, flush=True)
            n += 25
    """
)


def test_kill_9_during_batches_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_BATCHER, str(path)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert writer.stdout is not None
    acknowledged = 0
    while acknowledged < 200:
        acknowledged = int(writer.stdout.readline())
    writer.kill()
    writer.communicate()
    try:
        report = verify_log(path)
    except AuditTamperedError as exc:
        assert "half-written" in str(exc)
        with AuditLog.open(path) as log:
            log.recover_torn_tail()
        report = verify_log(path)
    assert report.head_seq >= acknowledged
    with AuditLog.open(path) as log:
        numbers = [entry.fields["n"] for entry in log.entries() if entry.kind == "event"]
    assert numbers == list(range(len(numbers)))
