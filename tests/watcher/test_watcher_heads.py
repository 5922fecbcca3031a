"""Signer audit heads on import: stored per signer, refused when behind, forked or missing.

Responses are signed by the lab's eth-account signer and given the heads each test needs;
the real signer's heads are exercised in test_watcher_real_signer.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from watcherlab import Lab, byte_hash, sign_parts, with_head

from shared.address import Address
from shared.erc4527 import AuditHead
from watcher.errors import ConfigError, ForeignResponseError, SignerRollbackError
from watcher.heads import check_forward, parse_fingerprint, parse_note, signer_of
from watcher.state import SignerHead, Status, Store, TxRequest
from watcher.state.schema import MIGRATIONS

EXIT_INPUT, EXIT_REFUSED = 2, 4


class Answers:
    """A paired lab that builds one withdrawal per call and answers it with a chosen head."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.count = 0
        lab.configure()
        lab.pair()
        self.fingerprint = f"{lab.keys.fingerprint:08x}"

    def response(self, head: AuditHead | None, withdrawals: int = 1) -> Path:
        self.count += 1
        dest = self.lab.keys.address(2)
        rows = "".join(f"w{self.count}-{i},anvil,ETH,{dest},1,\n" for i in range(withdrawals))
        request = self.lab.build_request(f"w{self.count}", rows)
        lines = with_head(sign_parts(request.read_text().splitlines(), self.lab.keys), head)
        return self.lab.write(f"response-{self.count}.txt", "\n".join(lines) + "\n")

    def head_line(self) -> str:
        return self.lab.head_line(self.fingerprint)


@pytest.fixture
def answers(lab: Lab) -> Answers:
    return Answers(lab)


def test_the_first_head_is_stored_and_shown_whole(answers: Answers) -> None:
    assert answers.head_line() == f"signer {answers.fingerprint}: no audit head stored yet"
    answers.lab.ok("import", str(answers.response(AuditHead(5, byte_hash(0xAB)))))
    assert answers.head_line().startswith(f"signer {answers.fingerprint}: audit head 5:{'ab' * 32}")


def test_a_later_head_replaces_the_stored_one(answers: Answers) -> None:
    answers.lab.ok("import", str(answers.response(AuditHead(5, byte_hash(1)))))
    answers.lab.ok("import", str(answers.response(AuditHead(9, byte_hash(2)))))
    assert f"audit head 9:{'02' * 32}" in answers.head_line()


def test_the_same_head_again_is_accepted(answers: Answers) -> None:
    answers.lab.ok("import", str(answers.response(AuditHead(5, byte_hash(1)))))
    answers.lab.ok("import", str(answers.response(AuditHead(5, byte_hash(1)))))
    assert f"audit head 5:{'01' * 32}" in answers.head_line()


def test_a_batch_response_s_head_is_the_batch_s(answers: Answers) -> None:
    answers.lab.ok("import", str(answers.response(AuditHead(12, byte_hash(3)), withdrawals=3)))
    assert f"audit head 12:{'03' * 32}" in answers.head_line()


def test_a_lower_head_is_a_rolled_back_signer(answers: Answers) -> None:
    answers.lab.ok("import", str(answers.response(AuditHead(9, byte_hash(1)))))
    older = answers.response(AuditHead(8, byte_hash(2)))
    line = answers.lab.refused("import", str(older), code=EXIT_INPUT, says="was rolled back")
    assert f"signer {answers.fingerprint} answered with audit head 8:" in line
    assert "Nothing was stored" in line
    assert answers.lab.statuses()["w2-0"] == "awaiting-signature"


def test_the_same_seq_with_another_hash_is_a_cloned_signer(answers: Answers) -> None:
    answers.lab.ok("import", str(answers.response(AuditHead(9, byte_hash(1)))))
    forked = answers.response(AuditHead(9, byte_hash(2)))
    answers.lab.refused("import", str(forked), code=EXIT_INPUT, says="a cloned signer")


def test_a_missing_head_after_one_was_seen_is_refused(answers: Answers) -> None:
    answers.lab.ok("import", str(answers.response(AuditHead(9, byte_hash(1)))))
    bare = answers.response(None)
    answers.lab.refused("import", str(bare), code=EXIT_INPUT, says="carries no audit head")


def test_responses_without_heads_are_accepted_while_none_is_stored(answers: Answers) -> None:
    answers.lab.ok("import", str(answers.response(None)))
    assert answers.head_line().endswith("no audit head stored yet")
    answers.lab.ok("import", str(answers.response(AuditHead(1, byte_hash(1)))))
    assert "audit head 1:" in answers.head_line()


def test_reset_head_records_who_and_why_and_the_next_head_is_taken(answers: Answers) -> None:
    lab = answers.lab
    lab.ok("import", str(answers.response(AuditHead(40, byte_hash(1)))))
    out = lab.ok(
        "reset-head", answers.fingerprint.upper(), "--by", "alice", "--reason", "rebuilt from words"
    ).out
    assert f"audit head 40:{'01' * 32} dropped by alice (rebuilt from words)" in out
    assert answers.head_line().endswith("no audit head stored yet")
    lab.ok("import", str(answers.response(AuditHead(3, byte_hash(2)))))
    status = lab.ok("status", "--no-track").out
    assert f"audit head 3:{'02' * 32}" in status
    assert f"by alice: rebuilt from words (dropped 40:{'01' * 32})" in status
    store = Store.open(lab.home / "watcher.db")
    try:
        [reset] = store.head_resets(answers.fingerprint)
    finally:
        store.close()
    assert (reset.seq, reset.head_hash, reset.reset_by, reset.reason) == (
        40,
        byte_hash(1),
        "alice",
        "rebuilt from words",
    )


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("xyz",), EXIT_INPUT, "FINGERPRINT: expected 8 hex digits, got 'xyz'"),
        (("deadbeef",), EXIT_INPUT, "no paired signer has master fingerprint deadbeef"),
        (("{fp}", "--by", " "), EXIT_INPUT, "--by: must not be empty"),
        (("{fp}", "--reason", "two\nlines"), EXIT_INPUT, "--reason: must be printable text"),
        (("{fp}", "--reason", "x" * 201), EXIT_INPUT, "--reason: at most 200 characters"),
    ],
)
def test_reset_head_refuses_bad_values(
    answers: Answers, args: tuple[str, ...], code: int, says: str
) -> None:
    answers.lab.ok("import", str(answers.response(AuditHead(4, byte_hash(1)))))
    words = [a.replace("{fp}", answers.fingerprint) for a in args]
    for flag, value in (("--by", "alice"), ("--reason", "restore")):
        if flag not in words:
            words += [flag, value]
    answers.lab.refused("reset-head", *words, code=code, says=says)


def test_reset_head_without_a_stored_head_is_refused(answers: Answers) -> None:
    answers.lab.refused(
        "reset-head",
        answers.fingerprint,
        "--by",
        "alice",
        "--reason",
        "restore",
        code=EXIT_REFUSED,
        says=f"no audit head is stored for signer {answers.fingerprint}",
    )


def test_reset_head_needs_by_and_reason(answers: Answers) -> None:
    with pytest.raises(SystemExit) as exited:
        answers.lab.cli("reset-head", answers.fingerprint, "--by", "alice")
    assert exited.value.code == 2


# --- units ------------------------------------------------------------------------------------


def _request(fingerprint: str, request_id: str) -> TxRequest:
    return TxRequest(
        request_id, 1, 0, "w1", 1, Address(bytes(20)), "m/44'/60'/0'/0/0", fingerprint, 0,
        b"", bytes(32), 0, 0, 0, 21000, None, Status.AWAITING_SIGNATURE,
    )  # fmt: skip


def test_a_response_answering_two_signers_is_foreign() -> None:
    assert signer_of((_request("0a0b0c0d", "a"), _request("0a0b0c0d", "b"))) == "0a0b0c0d"
    with pytest.raises(ForeignResponseError, match="signers 0a0b0c0d, 11223344"):
        signer_of((_request("0a0b0c0d", "a"), _request("11223344", "b")))


@pytest.mark.parametrize(
    ("got", "error"),
    [
        (AuditHead(6, byte_hash(1)), None),
        (AuditHead(5, byte_hash(1)), None),
        (AuditHead(4, byte_hash(1)), "rolled back"),
        (AuditHead(5, byte_hash(2)), "cloned"),
        (None, "carries no audit head"),
    ],
)
def test_check_forward(got: AuditHead | None, error: str | None) -> None:
    known = SignerHead("0a0b0c0d", 5, byte_hash(1), "digest", "then")
    check_forward("0a0b0c0d", None, got)
    if error is None:
        check_forward("0a0b0c0d", known, got)
        return
    with pytest.raises(SignerRollbackError, match=error) as raised:
        check_forward("0a0b0c0d", known, got)
    assert raised.value.fingerprint == "0a0b0c0d"
    assert raised.value.known == (5, byte_hash(1))
    assert raised.value.got == (None if got is None else (got.seq, got.head_hash))


@pytest.mark.parametrize("text", ["", "0a0b0c0", "0a0b0c0d0", "0x0a0b0c", "0a0b0c0g", "0a0b 0c0"])
def test_parse_fingerprint_refuses(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_fingerprint(text)
    assert raised.value.where == "FINGERPRINT"


def test_parse_note_keeps_one_printable_line() -> None:
    assert parse_note("  alice  ", "--by") == "alice"
    for bad in ("", "   ", "a\tb", "a\x1bb", "y" * 201):
        with pytest.raises(ConfigError) as raised:
            parse_note(bad, "--by")
        assert raised.value.where == "--by"


def test_a_version_1_database_is_migrated_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    zero = "0x" + "00" * 20
    db.execute(f"INSERT INTO batches VALUES (1, 1, '{zero}', 'bump', 'eth-sign-request', 'f', 't')")
    db.execute(
        f"INSERT INTO withdrawals VALUES ('w1', 1, 'native', '{zero}', '1', '1', '', '{zero}', "
        "'awaiting-signature', 'r1', 1)"
    )
    db.execute(
        f"INSERT INTO requests VALUES ('r1', 1, 0, 'w1', 1, '{zero}', 'm/0', "
        "'0a0b0c0d', 0, x'02', x'" + "00" * 32 + "', '0', '1', '1', '21000', NULL, "
        "'awaiting-signature')"
    )
    db.execute("PRAGMA user_version = 1")
    db.close()
    store = Store.open(path)
    try:
        request = store.request("r1")
        assert request is not None and request.purpose == "payment"
        assert store.batch(1).kind == "bump"
        batch = store.add_batch(1, Address(bytes(20)), "gap", "eth-sign-request")
        assert store.batch(batch).kind == "gap"
        assert store.signer_heads() == ()
    finally:
        store.close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(f"INSERT INTO batches VALUES (9, 1, '{zero}', 'other', 'x', NULL, 't')")
    finally:
        db.close()
