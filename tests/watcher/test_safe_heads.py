"""Signer audit heads on ``safe import``: the signer's one head in watcher.db, checked and moved.

Owners sign with eth-account's EIP-712 implementation and the executor with watcherlab's test
signer; each response is given the head a test needs. The real ``coldsign-signer``'s heads
are exercised in test_safe_real_signer.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from watcherlab import CSV_HEADER, Lab, byte_hash, sign_parts, ur_lines, with_head

from shared.address import Address, parse_address
from shared.erc4527 import AuditHead, EthBatchSignature, EthSignature, EthSignRequest
from shared.ur import UR
from watcher.errors import ForeignResponseError, ReplayedResponseError, SignerRollbackError
from watcher.parts import read_ur
from watcher.rpc import HttpTransport, Node
from watcher.safe.collect import Collector
from watcher.safe.errors import SafeSignerRollbackError
from watcher.safe.store import SafeStore
from watcher.state import Store
from watcher.verify import read_response, response_digest

EXIT_INPUT = 2
BOTH = ("safe.db", "watcher.db")
OWNERS = (1, 2, 3)
EXECUTOR = 4


def _request(path: Path) -> EthSignRequest:
    ur = read_ur(path.read_text().splitlines(), frozenset({"eth-sign-request"}), source="req")
    return EthSignRequest.from_ur(ur)


@dataclass
class Treasury:
    """A 2-of-3 Safe whose owners and executor are paired accounts of the lab's one signer."""

    lab: Lab
    safe: str
    count: int = 0

    @property
    def fingerprint(self) -> str:
        return f"{self.lab.keys.fingerprint:08x}"

    def owner(self, index: int) -> Address:
        return parse_address(self.lab.keys.address(index), field="test")

    def owner_signature(self, index: int, head: AuditHead | None) -> EthSignature:
        """Owner ``index``'s EIP-712 signature over the JSON its request carries."""
        files = (self.lab.home / "requests").glob("safe-*-owner-*.txt")
        [path] = [p for p in files if p.stem.endswith(self.lab.keys.address(index))]
        request = _request(path)
        key = self.lab.keys.private_key(f"m/44'/60'/0'/0/{index}")
        signed = Account.sign_message(
            encode_typed_data(full_message=json.loads(request.sign_data)), key
        )
        return EthSignature(
            signed.r.to_bytes(32, "big"),
            signed.s.to_bytes(32, "big"),
            signed.v,
            request.request_id,
            None,
            head,
        )

    def owner_response(self, index: int, head: AuditHead | None) -> Path:
        return self.write(self.owner_signature(index, head).to_ur())

    def write(self, ur: UR) -> Path:
        return self.write_lines(ur_lines(ur))

    def write_lines(self, lines: list[str]) -> Path:
        self.count += 1
        return self.lab.write(f"answer-{self.count}.txt", "\n".join(lines) + "\n")

    def execute(self) -> Path:
        """Owners 1 and 2 sign (heads 1 and 2); the executor's request file."""
        self.lab.ok("safe", "import", str(self.owner_response(1, AuditHead(1, byte_hash(1)))))
        self.lab.ok("safe", "import", str(self.owner_response(2, AuditHead(2, byte_hash(2)))))
        self.lab.ok("safe", "execute")
        [path] = (self.lab.home / "requests").glob("safe-*-execute.txt")
        return path

    def executor_response(self, request: Path, head: AuditHead | None) -> Path:
        lines = sign_parts(request.read_text().splitlines(), self.lab.keys)
        return self.write_lines(with_head(lines, head))

    def withdrawal_response(self, head: AuditHead | None) -> Path:
        """One withdrawal from account 0 built and answered, its response given ``head``."""
        self.count += 1
        dest, name = self.lab.keys.address(9), f"w{self.count}"
        request = self.lab.build_request(name, f"{name},anvil,ETH,{dest},1,\n")
        return self.write_lines(
            with_head(sign_parts(request.read_text().splitlines(), self.lab.keys), head)
        )

    def refused(self, path: Path, says: str) -> str:
        """``safe import`` refuses ``path`` with one line and neither database changes."""
        return self.lab.refused(
            "safe", "import", str(path), code=EXIT_INPUT, says=says, databases=BOTH
        )

    def status_lines(self) -> list[str]:
        out = self.lab.ok("safe", "status", "--no-track").out
        start = next(i for i, line in enumerate(out.splitlines()) if line.startswith("signer "))
        return out.splitlines()[start:]

    @contextmanager
    def collector(self) -> Iterator[Collector]:
        """The collector over both stores, as ``safe import`` builds it."""
        safe, watcher = SafeStore.open(self.lab.home), Store.open(self.lab.home / "watcher.db")
        transport = HttpTransport(self.lab.node.url)
        try:
            node = Node(transport)
            yield Collector(safe, lambda chain_id: node, watcher)
        finally:
            transport.close()
            safe.close()
            watcher.close()


@pytest.fixture
def t(lab: Lab) -> Treasury:
    safe = lab.add_safe([lab.keys.address(i) for i in OWNERS], lab.keys.address(EXECUTOR))
    lab.configure()
    lab.pair(count=6)
    payee = lab.keys.address(8)
    lab.ok(
        "safe", "intake", str(lab.write("payout.csv", CSV_HEADER + f"s1,anvil,ETH,{payee},0.5,\n"))
    )
    lab.ok("safe", "propose")
    return Treasury(lab, safe)


def test_an_owner_s_head_is_stored_once_and_shown_by_both_statuses(t: Treasury) -> None:
    assert t.status_lines()[0] == f"signer {t.fingerprint}: no audit head stored yet"
    imported = t.lab.ok("safe", "import", str(t.owner_response(1, AuditHead(5, byte_hash(0xAB)))))
    assert f"signer {t.fingerprint}: audit head 5:{'ab' * 32}\n" in imported.out
    head = f"signer {t.fingerprint}: audit head 5:{'ab' * 32} (imported "
    lines = t.status_lines()
    assert lines[0].startswith(head)
    owners = ", ".join(
        f"owner {t.owner(i).checksummed()}" for i in sorted(OWNERS, key=lambda i: t.owner(i).raw)
    )
    assert lines[1] == f"  answers for {owners}"
    # The withdrawal side's status reads the same row: one head per signer.
    status = t.lab.ok("status", "--no-track").out
    assert any(line.startswith(head) for line in status.splitlines())


def test_a_later_head_and_the_same_head_again_are_accepted(t: Treasury) -> None:
    t.lab.ok("safe", "import", str(t.owner_response(1, AuditHead(5, byte_hash(1)))))
    t.lab.ok("safe", "import", str(t.owner_response(2, AuditHead(5, byte_hash(1)))))
    t.lab.ok("safe", "import", str(t.owner_response(3, AuditHead(9, byte_hash(2)))))
    assert f"audit head 9:{'02' * 32}" in t.status_lines()[0]


@pytest.mark.parametrize(
    ("head", "got", "says"),
    [
        (AuditHead(8, byte_hash(2)), (8, byte_hash(2)), "was rolled back"),
        (AuditHead(9, byte_hash(2)), (9, byte_hash(2)), "a cloned signer"),
        (None, None, "carries no audit head"),
    ],
    ids=["behind", "beside", "missing"],
)
def test_each_refusal_raises_the_safe_rollback_error_and_stores_nothing(
    t: Treasury, head: AuditHead | None, got: tuple[int, bytes] | None, says: str
) -> None:
    t.lab.ok("safe", "import", str(t.owner_response(1, AuditHead(9, byte_hash(1)))))
    path = t.owner_response(2, head)
    before = t.lab.dumps()
    with t.collector() as collector, pytest.raises(SafeSignerRollbackError) as caught:
        collector.import_lines(path.read_text().splitlines(), source=str(path))
    error = caught.value
    assert isinstance(error, SignerRollbackError)
    assert error.fingerprint == t.fingerprint
    assert error.known == (9, byte_hash(1)) and error.got == got
    assert error.accounts == (("owner", t.owner(2)),)
    assert str(error).startswith(f"owner {t.owner(2).checksummed()}: ")
    assert f"signer {t.fingerprint} " in str(error)
    assert says in str(error) and "Nothing was stored" in str(error)
    assert t.lab.dumps() == before


def test_a_lower_head_is_refused_at_the_cli_naming_owner_and_signer(t: Treasury) -> None:
    t.lab.ok("safe", "import", str(t.owner_response(1, AuditHead(9, byte_hash(1)))))
    line = t.refused(t.owner_response(2, AuditHead(3, byte_hash(2))), "was rolled back")
    assert line.startswith(
        f"coldsign-watcher: safe: owner {t.owner(2).checksummed()}: signer {t.fingerprint} "
        "answered with audit head 3:"
    )
    assert f"owner {t.owner(2).checksummed()}: waiting" in t.lab.ok("safe", "status").out


def test_a_cloned_or_headless_answer_is_refused_at_the_cli(t: Treasury) -> None:
    t.lab.ok("safe", "import", str(t.owner_response(1, AuditHead(9, byte_hash(1)))))
    t.refused(t.owner_response(2, AuditHead(9, byte_hash(7))), "a cloned signer")
    t.refused(t.owner_response(3, None), "carries no audit head")


def test_a_withdrawal_s_head_binds_the_safe_side(t: Treasury) -> None:
    t.lab.ok("import", str(t.withdrawal_response(AuditHead(9, byte_hash(1)))))
    t.refused(t.owner_response(1, AuditHead(8, byte_hash(2))), "was rolled back")
    t.lab.ok("safe", "import", str(t.owner_response(1, AuditHead(10, byte_hash(3)))))


def test_a_safe_head_binds_the_withdrawal_side(t: Treasury) -> None:
    t.lab.ok("safe", "import", str(t.owner_response(1, AuditHead(9, byte_hash(1)))))
    path = t.withdrawal_response(AuditHead(9, byte_hash(4)))
    before = t.lab.dumps()
    result = t.lab.cli("import", str(path))
    assert result.code == EXIT_INPUT and "a cloned signer" in result.err, result
    assert t.lab.dumps() == before


def test_a_safe_response_is_recorded_in_watcher_db_and_refused_there(t: Treasury) -> None:
    path = t.owner_response(1, AuditHead(4, byte_hash(1)))
    t.lab.ok("safe", "import", str(path))
    result = t.lab.cli("import", str(path))
    assert result.code == EXIT_INPUT and "imported before" in result.err, result
    t.refused(path, "imported before")


def test_the_executor_s_head_is_checked_and_named(t: Treasury) -> None:
    request = t.execute()
    executor = parse_address(t.lab.keys.address(EXECUTOR), field="test")
    line = t.refused(t.executor_response(request, AuditHead(1, byte_hash(9))), "was rolled back")
    assert f"safe: executor {executor.checksummed()}: signer {t.fingerprint}" in line
    t.lab.ok("safe", "import", str(t.executor_response(request, AuditHead(3, byte_hash(3)))))
    lines = t.status_lines()
    assert f"audit head 3:{'03' * 32}" in lines[0]
    assert f"executor {executor.checksummed()}" in lines[1]


def test_reset_head_lets_a_restored_signer_in_and_is_shown(t: Treasury) -> None:
    t.lab.ok("safe", "import", str(t.owner_response(1, AuditHead(9, byte_hash(1)))))
    restored = t.owner_response(2, AuditHead(3, byte_hash(2)))
    t.refused(restored, "was rolled back")
    t.lab.ok("reset-head", t.fingerprint, "--by", "bob", "--reason", "restored from backup")
    imported = t.lab.ok("safe", "import", str(restored)).out
    assert f"owner {t.owner(2).checksummed()} signed (2 of 2)" in imported
    lines = t.status_lines()
    assert f"audit head 3:{'02' * 32}" in lines[0]
    assert lines[2].startswith("  reset ") and "by bob: restored from backup" in lines[2]
    assert f"(dropped 9:{'01' * 32})" in lines[2]


def test_a_response_answering_two_signers_is_refused(t: Treasury) -> None:
    db = sqlite3.connect(t.lab.home / "safe.db")
    try:
        # As if owner 2's request had gone to another paired device.
        with db:
            db.execute(
                "UPDATE owner_requests SET master_fingerprint = 'deadbeef' WHERE owner = ?",
                ("0x" + t.owner(2).raw.hex(),),
            )
    finally:
        db.close()
    both = EthBatchSignature(
        (t.owner_signature(1, None), t.owner_signature(2, None)), AuditHead(4, byte_hash(1))
    )
    line = t.refused(t.write(both.to_ur()), "requests for signers")
    assert f"deadbeef (owner {t.owner(2).checksummed()})" in line
    with t.collector() as collector:
        path = t.write(both.to_ur())
        with pytest.raises(ForeignResponseError):
            collector.import_lines(path.read_text().splitlines(), source=str(path))


def test_an_import_stopped_between_the_two_commits_is_finished_by_importing_again(
    t: Treasury,
) -> None:
    path = t.owner_response(1, AuditHead(5, byte_hash(1)))
    digest = response_digest(read_response(path.read_text().splitlines(), source="answer"))
    # The watcher.db half committed (the head and the response), safe.db's did not; since
    # then the signer's head moved on with a withdrawal.
    store = Store.open(t.lab.home / "watcher.db")
    try:
        store.add_signatures(digest, (), "safe import")
        store.save_signer_head(t.fingerprint, 5, byte_hash(1), digest)
    finally:
        store.close()
    t.lab.ok("import", str(t.withdrawal_response(AuditHead(7, byte_hash(2)))))
    imported = t.lab.ok("safe", "import", str(path)).out
    assert f"owner {t.owner(1).checksummed()} signed (1 of 2)" in imported
    assert f"audit head 7:{'02' * 32}" in t.status_lines()[0]
    with t.collector() as collector, pytest.raises(ReplayedResponseError):
        collector.import_lines(path.read_text().splitlines(), source=str(path))
