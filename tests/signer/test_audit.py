"""Tests for the audit log: the hash chain, every kind of tampering, crashes, secrets, bad files."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
import tempfile
import textwrap
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signer.audit import GENESIS_PREV, AuditKind, AuditLog, verify_log
from signer.audit.record import make_entry
from signer.errors import AuditError, AuditTamperedError

ROOT = Path(__file__).resolve().parents[2]
DECISION = {
    "request_digest": "aa" * 32,
    "review_digest": "bb" * 32,
    "verdict": "allow",
    "rules": ["chains.allowed", "limits.per_tx"],
    "signature_digest": "cc" * 32,
    "policy_hash": "dd" * 32,
}


def clock() -> itertools.count[int]:
    return itertools.count(1_700_000_000)


def make_log(path: Path, count: int = 5) -> AuditLog:
    """A log with entry 0 (log-created) and ``count`` decisions numbered 1..count."""
    log = AuditLog.open(path, clock=clock().__next__)
    for n in range(1, count + 1):
        log.append(AuditKind.DECISION, {**DECISION, "n": n})
    return log


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, content: list[bytes]) -> None:
    path.write_bytes(b"".join(content))


def head_file(path: Path) -> Path:
    return path.with_name(path.name + ".head")


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit.log"
    make_log(path).close()
    return path


# -- the round trip and the format -------------------------------------------------------------


def test_append_then_verify_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    with AuditLog.open(path, clock=clock().__next__) as log:
        created = next(log.entries())
        assert (created.seq, created.kind, created.prev) == (0, "log-created", GENESIS_PREV)
        unlock = log.append(AuditKind.UNLOCK, {})
        decision = log.append(AuditKind.DECISION, {**DECISION, "note": "café ☕"})
        online = log.append(AuditKind.ALLOW_ONLINE, {"interfaces": ["eth0 (ethernet, up)"]})
        assert [e.seq for e in (unlock, decision, online)] == [1, 2, 3]
        assert decision.prev == unlock.entry_hash and online.prev == decision.entry_hash
        assert log.head() == (3, online.entry_hash)
        read = list(log.entries())
        assert read[1:] == [unlock, decision, online]
        assert read[2].fields["rules"] == ("chains.allowed", "limits.per_tx")
        assert read[2].fields["note"] == "café ☕"
        report = log.verify()
    assert (report.entries, report.head_seq, report.head_hash) == (4, 3, online.entry_hash)
    assert (report.first_time, report.last_time) == (1_700_000_000, 1_700_000_003)
    assert not report.head_lagging
    assert verify_log(path) == report


def test_the_hash_preimage_is_as_documented(log_path: Path) -> None:
    assert hashlib.sha256(b"coldsign audit log genesis v1").digest() == GENESIS_PREV
    prev = GENESIS_PREV.hex()
    for seq, raw in enumerate(lines(log_path)):
        line = json.loads(raw)
        body = json.dumps(line["body"], sort_keys=True, separators=(",", ":")).encode()
        # hash = SHA-256( u64be(seq) || prev || canonical_json(body) )
        digest = hashlib.sha256(seq.to_bytes(8, "big") + bytes.fromhex(prev) + body).hexdigest()
        assert (line["seq"], line["prev"], line["hash"]) == (seq, prev, digest)
        assert raw == json.dumps(line, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        prev = digest
    head = json.loads(head_file(log_path).read_bytes())
    assert head == {"seq": 5, "hash": prev}


def test_reopening_continues_the_chain(log_path: Path) -> None:
    with AuditLog.open(log_path) as log:
        before = log.head()
        entry = log.append(AuditKind.LOCK, {})
        assert (entry.seq, entry.prev) == (before[0] + 1, before[1])
        assert log.verify().entries == 7


def test_two_handles_in_one_process_interleave_safely(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    with AuditLog.open(path) as one, AuditLog.open(path) as two:
        for n in range(10):
            (one if n % 2 else two).append("event", {"n": n})
        assert one.head() == two.head()
        assert two.verify().entries == 11


_APPENDER = textwrap.dedent(
    """
    import sys
    from signer.audit import AuditLog
    sys.stdin.readline()
    with AuditLog.open(sys.argv[1]) as log:
        for n in range(30):
            log.append("event", {"writer": sys.argv[2], "n": n})
    """
)


def test_concurrent_processes_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    AuditLog.open(path).close()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, str(path), name], cwd=ROOT, stdin=subprocess.PIPE
        )
        for name in ("a", "b", "c")
    ]
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write(b"go\n")
        writer.stdin.close()
    assert [writer.wait() for writer in writers] == [0, 0, 0]
    report = verify_log(path)
    assert report.entries == 91
    with AuditLog.open(path) as log:
        seen = [(e.fields["writer"], e.fields["n"]) for e in log.entries() if e.kind == "event"]
    for name in ("a", "b", "c"):
        assert [n for w, n in seen if w == name] == list(range(30))


# -- tampering ---------------------------------------------------------------------------------


def test_an_edited_body_is_detected(log_path: Path) -> None:
    content = lines(log_path)
    content[2] = content[2].replace(b'"verdict":"allow"', b'"verdict":"deny!"')
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match="entry 2: edited"):
        verify_log(log_path)


def test_an_edited_hash_is_detected(log_path: Path) -> None:
    content = lines(log_path)
    entry = json.loads(content[3])
    content[3] = content[3].replace(entry["hash"].encode(), b"0" * 64)
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match="entry 3: edited"):
        verify_log(log_path)


def test_an_edited_and_rehashed_entry_breaks_the_next_link(log_path: Path) -> None:
    content = lines(log_path)
    original = json.loads(content[2])
    forged = make_entry(2, bytes.fromhex(original["prev"]), "decision", 1, {"verdict": "allow"})
    content[2] = forged.line()
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match=r"entry 3: chain broken.*entry 2 was rewritten"):
        verify_log(log_path)


def test_a_deleted_middle_entry_is_detected(log_path: Path) -> None:
    content = lines(log_path)
    del content[2]
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match="entry 2: deleted: entry 2 is missing"):
        verify_log(log_path)


def test_an_inserted_copy_is_detected(log_path: Path) -> None:
    content = lines(log_path)
    content.insert(2, content[1])
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match="entry 2: inserted: seq 1 appears a second"):
        verify_log(log_path)


def test_an_inserted_forged_entry_is_detected(log_path: Path) -> None:
    # A well-formed entry 2 chained to entry 1: the original entry 2 then repeats its seq.
    content = lines(log_path)
    after = json.loads(content[1])
    forged = make_entry(2, bytes.fromhex(after["hash"]), "decision", 1, {"verdict": "allow"})
    content.insert(2, forged.line())
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match="entry 3: inserted"):
        verify_log(log_path)


def test_two_swapped_entries_are_detected(log_path: Path) -> None:
    content = lines(log_path)
    content[2], content[3] = content[3], content[2]
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match="entry 2: reordered: seq 3 comes before seq 2"):
        verify_log(log_path)


def test_a_cut_tail_is_detected_against_the_head_record(log_path: Path) -> None:
    write_lines(log_path, lines(log_path)[:4])
    with pytest.raises(AuditTamperedError, match=r"entry 4: truncated.*names seq 5"):
        verify_log(log_path)
    # The writer refuses to append onto it too.
    with pytest.raises(AuditTamperedError, match="head mismatch"), AuditLog.open(log_path):
        pass


def test_a_tail_cut_with_its_head_is_undetectable_locally_but_not_against_a_kept_head(
    log_path: Path,
) -> None:
    kept = verify_log(log_path)  # the watcher keeps the (seq, hash) of every response
    content = lines(log_path)[:4]
    write_lines(log_path, content)
    last = json.loads(content[-1])
    head_file(log_path).write_bytes(
        json.dumps({"hash": last["hash"], "seq": 3}, separators=(",", ":")).encode() + b"\n"
    )
    assert verify_log(log_path).entries == 4  # documented: consistent on its own
    with pytest.raises(AuditTamperedError, match=r"entry 4: truncated.*rollback"):
        verify_log(log_path, known_head=(kept.head_seq, kept.head_hash))


def test_a_rewritten_tail_and_head_is_caught_by_a_kept_head(log_path: Path) -> None:
    kept = verify_log(log_path)
    content = lines(log_path)
    prev = bytes.fromhex(json.loads(content[4])["hash"])
    forged = make_entry(5, prev, "decision", 1, {"verdict": "deny"})
    content[5] = forged.line()
    write_lines(log_path, content)
    head_file(log_path).write_bytes(
        json.dumps({"hash": forged.entry_hash.hex(), "seq": 5}, separators=(",", ":")).encode()
        + b"\n"
    )
    assert verify_log(log_path).head_hash == forged.entry_hash
    with pytest.raises(AuditTamperedError, match="entry 5: rewritten"):
        verify_log(log_path, known_head=(kept.head_seq, kept.head_hash))
    # An older kept head that the log still holds verifies.
    with AuditLog.open(log_path) as log:
        third = list(log.entries())[3]
    assert verify_log(log_path, known_head=(3, third.entry_hash)).entries == 6


def test_an_edited_head_record_is_detected(log_path: Path) -> None:
    head_file(log_path).write_bytes(
        json.dumps({"hash": "ee" * 32, "seq": 5}, separators=(",", ":")).encode() + b"\n"
    )
    with pytest.raises(AuditTamperedError, match="entry 5: head mismatch"):
        verify_log(log_path)


def test_a_missing_head_record_is_detected(log_path: Path) -> None:
    head_file(log_path).unlink()
    with pytest.raises(AuditTamperedError, match="head missing"):
        verify_log(log_path)
    with pytest.raises(AuditTamperedError, match="head missing"):
        AuditLog.open(log_path)


def test_entries_past_the_head_record_are_detected(log_path: Path) -> None:
    head_file(log_path).write_bytes(
        json.dumps(
            {"hash": json.loads(lines(log_path)[2])["hash"], "seq": 2}, separators=(",", ":")
        ).encode()
        + b"\n"
    )
    with pytest.raises(AuditTamperedError, match="entry 3: past the head"):
        verify_log(log_path)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b'{"body":{', b'{ "body":{', "not in canonical form"),
        (b'"verdict":"allow"', b'"verdict":"allow","verdict":"allow"', "duplicate key"),
        (b'"n":2', b'"n":2.0', "floats are not allowed"),
        (b'"n":2', b'"n":NaN', "floats are not allowed"),
        (b'"verdict":"allow"', b'"verdict":"\xc3\xa9"', "non-ASCII byte"),
        (b'"verdict":"allow"', b'"verdict":"\\ud800"', "not valid Unicode"),
        (b'"seq":2', b'"seq":-2', "seq is not a non-negative integer"),
        (b'"kind":"decision"', b'"kind":"Decision"', "body.kind"),
        (b'"verdict":"allow"', b'"verdict":"allow"', None),
    ],
    ids=[
        "whitespace",
        "duplicate-key",
        "float",
        "nan",
        "non-ascii",
        "surrogate",
        "negative-seq",
        "bad-kind",
        "control",
    ],
)
def test_a_malformed_line_is_detected(
    log_path: Path, old: bytes, new: bytes, reason: str | None
) -> None:
    content = lines(log_path)
    assert old in content[2]
    content[2] = content[2].replace(old, new)
    write_lines(log_path, content)
    if reason is None:
        assert verify_log(log_path).entries == 6
        return
    with pytest.raises(AuditTamperedError, match=rf"entry 2: malformed.*{reason}"):
        verify_log(log_path)


def test_an_overlong_line_is_refused_before_parsing(log_path: Path) -> None:
    content = lines(log_path)
    content.insert(2, b"[" * 100_000 + b"\n")
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match=r"entry 2: malformed.*over 65536"):
        verify_log(log_path)


def test_deep_nesting_in_a_line_is_refused(log_path: Path) -> None:
    content = lines(log_path)
    content[2] = content[2].replace(b'"n":2', b'"n":' + b"[" * 5000 + b"]" * 5000)
    write_lines(log_path, content)
    with pytest.raises(AuditTamperedError, match="entry 2: malformed"):
        verify_log(log_path)


@cache
def _pristine() -> tuple[bytes, bytes]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "audit.log"
        make_log(path, count=3).close()
        return path.read_bytes(), head_file(path).read_bytes()


@given(st.data())
def test_any_single_byte_change_is_detected(data: st.DataObject) -> None:
    log, head = _pristine()
    position = data.draw(st.integers(0, len(log) - 1), label="position")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != log[position]), label="byte")
    mutated = log[:position] + bytes([byte]) + log[position + 1 :]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "audit.log"
        path.write_bytes(mutated)
        head_file(path).write_bytes(head)
        with pytest.raises(AuditError):
            verify_log(path)


# -- crashes -----------------------------------------------------------------------------------


def test_a_half_written_last_line_is_detected_and_recovered_explicitly(log_path: Path) -> None:
    before = verify_log(log_path)
    whole = make_entry(6, before.head_hash, "decision", 1, DECISION).line()
    with log_path.open("ab") as stream:
        stream.write(whole[:57])  # the crash: part of the line, no newline, head not updated
    with pytest.raises(AuditTamperedError, match=r"entry 6: half-written.*57 bytes"):
        verify_log(log_path)
    with AuditLog.open(log_path) as log:
        with pytest.raises(AuditError, match="half-written"):
            log.append(AuditKind.LOCK, {})
        with pytest.raises(AuditError, match="half-written"):
            log.head()
        with pytest.raises(AuditTamperedError, match="half-written"):
            list(log.entries())
        recovered = log.recover_torn_tail()
        assert recovered.seq == 6 and recovered.kind == "log-recovered"
        assert recovered.fields["removed_bytes"] == 57
        assert recovered.fields["removed_sha256"] == hashlib.sha256(whole[:57]).hexdigest()
        with pytest.raises(AuditError, match="no half-written entry"):
            log.recover_torn_tail()
        log.append(AuditKind.LOCK, {})
    report = verify_log(log_path)
    assert report.entries == 8
    assert verify_log(log_path, known_head=(before.head_seq, before.head_hash)) == report


def test_the_half_written_message_names_the_operator_command(log_path: Path) -> None:
    before = verify_log(log_path)
    with log_path.open("ab") as stream:
        stream.write(make_entry(6, before.head_hash, "decision", 1, DECISION).line()[:30])
    with pytest.raises(AuditTamperedError) as verified:
        verify_log(log_path)
    with AuditLog.open(log_path) as log, pytest.raises(AuditError) as appended:
        log.append(AuditKind.LOCK, {})
    for message in (str(verified.value), str(appended.value)):
        assert "'coldsign-signer audit recover'" in message
        assert "recover_torn_tail" not in message


def test_a_cut_inside_an_acknowledged_entry_is_truncation_not_a_crash(log_path: Path) -> None:
    content = lines(log_path)
    write_lines(log_path, [*content[:5], content[5][:40]])
    with pytest.raises(AuditTamperedError, match=r"entry 5: truncated.*acknowledged entry"):
        verify_log(log_path)
    with pytest.raises(AuditTamperedError, match="head mismatch"):
        AuditLog.open(log_path)  # and recover_torn_tail is never offered for it


def test_a_half_written_first_entry_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(b'{"body":{"fields":{"form')
    with pytest.raises(AuditTamperedError, match="entry 0: half-written"):
        verify_log(path)
    with AuditLog.open(path) as log:
        entry = log.recover_torn_tail()
        assert [e.kind for e in log.entries()] == ["log-created", "log-recovered"]
    assert entry.seq == 1


def test_a_crash_between_the_line_and_the_head_is_accepted_and_settled(log_path: Path) -> None:
    before = verify_log(log_path)
    written = make_entry(6, before.head_hash, "decision", 1, DECISION)
    with log_path.open("ab") as stream:
        stream.write(written.line())  # line fsync'd, head record not yet replaced
    report = verify_log(log_path)
    assert report.head_lagging and report.head_seq == 6
    with AuditLog.open(log_path) as log:
        assert log.head() == (6, written.entry_hash)
    assert not verify_log(log_path).head_lagging


_KILLED_APPENDER = textwrap.dedent(
    """
    import sys
    from signer.audit import AuditLog
    with AuditLog.open(sys.argv[1]) as log:
        n = 0
        while True:
            entry = log.append("event", {"n": n, "pad": "x" * 3000})
            print(entry.seq, flush=True)
            n += 1
    """
)


def test_kill_9_during_appends_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_APPENDER, str(path)], cwd=ROOT, stdout=subprocess.PIPE
    )
    assert writer.stdout is not None
    acknowledged = 0
    while acknowledged < 40:
        acknowledged = int(writer.stdout.readline())
    writer.kill()
    writer.communicate()
    try:
        report = verify_log(path)
    except AuditTamperedError as exc:
        # The only damage a crash may leave is a half-written last line.
        assert "half-written" in str(exc)
        with AuditLog.open(path) as log:
            log.recover_torn_tail()
        report = verify_log(path)
    assert report.head_seq >= acknowledged


# -- refused fields ----------------------------------------------------------------------------

MNEMONIC = " ".join(["abandon"] * 11 + ["about"])  # the BIP-39 all-zero-entropy test phrase


@pytest.mark.parametrize(
    "fields",
    [
        {"mnemonic": "x"},
        {"passphrase": "x"},
        {"wallet_password": "x"},
        {"private_key": "x"},
        {"privateKey": "x"},
        {"Seed-Phrase": "x"},
        {"seed": None},
        {"client_secret": "x"},
        {"entropy": "x"},
        {"account": {"xprv": "x"}},
        {"keys": ["0x" + "ab" * 32]},
        {"signing_key": "AB" * 32},
        {"note": MNEMONIC},
        {"notes": [MNEMONIC.upper()]},
        {"account": "xprv9s21ZrQH143K" + "a" * 95},
    ],
    ids=lambda fields: "-".join(str(k) for k in fields),
)
def test_a_field_that_looks_like_a_secret_is_refused(
    log_path: Path, fields: dict[str, object]
) -> None:
    with AuditLog.open(log_path) as log:
        with pytest.raises(AuditError, match="looks like") as info:
            log.append(AuditKind.DECISION, fields)
        assert type(info.value) is AuditError
        for value in ("abandon", "xprv9s", "ab" * 32, "AB" * 32):
            assert value not in str(info.value)
        assert log.head()[0] == 5  # nothing was written


def test_digests_public_keys_and_paths_are_not_secrets(log_path: Path) -> None:
    with AuditLog.open(log_path) as log:
        log.append(
            AuditKind.DECISION,
            {
                **DECISION,
                "public_key": "02" + "ab" * 32,
                "keypath": "m/44'/60'/0'/0/0",
                "note": "abandon the request: " + " ".join(["about"] * 11),
            },
        )


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("decision", {"amount": 1.5}, "is a float"),
        ("decision", {"data": b"\x01"}, "bytes"),
        ("decision", {"set": {1, 2}}, "set, not JSON-safe"),
        ("decision", {"n": 2**256}, "beyond 256 bits"),
        ("decision", {1: "x"}, "non-string key"),
        ("decision", {"text": "\ud800"}, "not valid Unicode"),
        ("decision", {"deep": [[[[[[[[[[1]]]]]]]]]]}, "nested deeper"),
        ("decision", {"big": "x" * 70_000}, "limit is about 64 KiB"),
        ("decision", ["not", "a", "mapping"], "must be a mapping"),
        ("Decision", {}, "lower-case word"),
        ("", {}, "lower-case word"),
        ("two words", {}, "lower-case word"),
    ],
    ids=[
        "float",
        "bytes",
        "set",
        "huge-int",
        "int-key",
        "surrogate",
        "deep",
        "big",
        "list",
        "upper-kind",
        "empty-kind",
        "space-kind",
    ],
)
def test_a_value_that_is_not_json_safe_is_refused(
    log_path: Path, kind: str, fields: object, message: str
) -> None:
    with AuditLog.open(log_path) as log:
        with pytest.raises(AuditError, match=message):
            log.append(kind, fields)  # type: ignore[arg-type]
        assert log.verify().entries == 6


# -- bad files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"hello world\n", b"\x00\xff" * 500, b"[1,2,3]\n{}\n", b'{"seq":0}\n'],
    ids=["text", "binary", "json", "json-object"],
)
def test_a_garbage_file_is_a_clear_audit_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(content)
    with pytest.raises(AuditError, match="not a coldsign audit log"):
        verify_log(path)
    with pytest.raises(AuditError, match="not a coldsign audit log"):
        AuditLog.open(path)
    assert path.read_bytes() == content  # refused files are left alone


def test_an_empty_file_without_a_head_is_refused_by_verify(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_bytes(b"")
    with pytest.raises(AuditError, match="empty"):
        verify_log(path)


def test_an_emptied_log_with_a_head_is_truncation(log_path: Path) -> None:
    log_path.write_bytes(b"")
    with pytest.raises(AuditTamperedError, match="entry 0: truncated"):
        verify_log(log_path)
    with pytest.raises(AuditTamperedError, match="truncated"):
        AuditLog.open(log_path)


def test_a_missing_or_unopenable_log_is_a_clear_audit_error(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match="no audit log at"):
        verify_log(tmp_path / "absent.log")
    with pytest.raises(AuditError, match="cannot open the audit log"):
        verify_log(tmp_path)
    with pytest.raises(AuditError, match="cannot open the audit log"):
        AuditLog.open(tmp_path)
    with pytest.raises(AuditError, match="cannot open the audit log"):
        AuditLog.open(tmp_path / "no-such-dir" / "audit.log")


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage\n", b'{"hash":"00","seq":5}\n', b'{"hash":"' + b"a" * 64 + b'","seq":5}'],
    ids=["empty", "garbage", "short-hash", "no-newline"],
)
def test_a_malformed_head_record_is_detected(log_path: Path, content: bytes) -> None:
    head_file(log_path).write_bytes(content)
    with pytest.raises(AuditTamperedError, match=r"head record .* is malformed"):
        verify_log(log_path)
