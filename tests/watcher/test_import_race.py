"""Two imports of one response (or of two sharing a signature) at once: one typed refusal.

Each race is interleaved deterministically on one real database file: the first import passes
its early checks, a second import on another connection runs to its commit, then the first
writes. The first must be refused with the words the early check uses, nothing stored may
change, and no raw ``sqlite3.IntegrityError`` may escape a store write.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from coincurve import PublicKey
from eth_account import Account
from eth_account.messages import encode_typed_data
from watcherlab import CSV_HEADER, JsonRpcProxy, Lab, byte_hash, sign_parts, ur_lines

from shared.address import Address, parse_address
from shared.erc4527 import AuditHead, EthBatchSignature, EthSignature, EthSignRequest
from shared.ur import UR
from watcher.errors import ReplayedResponseError, ResponseError, StateConflictError
from watcher.parts import read_ur
from watcher.rpc import HttpTransport, Node
from watcher.safe.collect import Collector
from watcher.safe.errors import OwnerSignatureError
from watcher.safe.store import ProposalStatus, SafeStore
from watcher.state import Store, TxRequest
from watcher.verify import SECP256K1_N, Verifier, read_response, response_digest

EXIT_INPUT = 2
OWNERS = (1, 2, 3)
EXECUTOR = 4


class RacedStore(Store):
    """The real store on the real file; runs ``before_write`` once, just before its first write
    transaction begins: another process's import, landing after this one's early checks."""

    before_write: Callable[[], None] | None = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        hook, self.before_write = self.before_write, None
        if hook is not None:
            hook()
        with super().transaction():
            yield


class RacedSafeStore(SafeStore):
    """The real ``safe.db`` store, with :class:`RacedStore`'s one ``before_write``."""

    before_write: Callable[[], None] | None = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        hook, self.before_write = self.before_write, None
        if hook is not None:
            hook()
        with super().transaction():
            yield


def _raced(path: Path, competitor: Callable[[], None]) -> RacedStore:
    store = RacedStore.open(path)
    assert isinstance(store, RacedStore)
    store.before_write = competitor
    return store


def _file(ur: UR) -> list[str]:
    return ur_lines(ur)


def _import(path: Path, lines: list[str], source: str) -> None:
    """An import by another watcher process: its own connection, run to its commit."""
    store = Store.open(path)
    try:
        Verifier(store).import_lines(lines, source=source)
    finally:
        store.close()


def _dump(path: Path) -> str:
    store = Store.open(path)
    try:
        return store.dump()
    finally:
        store.close()


def _refusal(path: Path, lines: list[str], source: str) -> ResponseError:
    """The error an import of ``lines`` raises now, with no race: the early check's."""
    store = Store.open(path)
    try:
        with pytest.raises(ResponseError) as caught:
            Verifier(store).import_lines(lines, source=source)
        return caught.value
    finally:
        store.close()


def _other_signature(signature: EthSignature, request: TxRequest, key: bytes) -> EthSignature:
    """Another valid signature of ``request`` (nonce k = 7, not RFC 6979's), so the stored
    signature can be told from the one a racing import carried."""
    k = 7
    # SEC 1 §4.1.3: r = x(kG) mod n, s = k^-1 (z + r d) mod n; EIP-2 keeps s in the low half.
    point = PublicKey.from_secret(k.to_bytes(32, "big")).format(compressed=True)
    r = int.from_bytes(point[1:], "big") % SECP256K1_N
    parity = point[0] - 2
    d, z = int.from_bytes(key, "big"), int.from_bytes(request.signing_hash, "big")
    s = pow(k, -1, SECP256K1_N) * (z + r * d) % SECP256K1_N
    if s > SECP256K1_N // 2:
        s, parity = SECP256K1_N - s, parity ^ 1
    return EthSignature(r.to_bytes(32, "big"), s.to_bytes(32, "big"), parity, signature.request_id)


@pytest.fixture
def batch(lab: Lab) -> EthBatchSignature:
    """Three withdrawals built into one request and answered by the test signer."""
    lab.configure()
    lab.pair()
    rows = "".join(f"r{i},anvil,ETH,{lab.keys.address(2)},0.1,\n" for i in range(3))
    [request] = [lab.build_request("race", rows)]
    lines = sign_parts(request.read_text().splitlines(), lab.keys)
    return EthBatchSignature.from_ur(read_ur(lines, frozenset({"eth-batch-signature"}), source="r"))


# -- watcher.db: import-signatures -------------------------------------------------------------


def test_one_response_imported_twice_at_once_is_refused_as_a_replay(
    lab: Lab, batch: EthBatchSignature
) -> None:
    db = lab.home / "watcher.db"
    lines = _file(batch.to_ur())
    after_second: list[str] = []

    def second() -> None:
        _import(db, lines, "second")
        after_second.append(_dump(db))

    first = _raced(db, second)
    try:
        with pytest.raises(ReplayedResponseError) as caught:
            Verifier(first).import_lines(lines, source="answer.txt")
        assert first.dump() == after_second[0]
    finally:
        first.close()
    assert str(caught.value) == str(_refusal(db, lines, "answer.txt"))
    assert str(caught.value) == "answer.txt: this response was imported before"
    assert set(lab.statuses().values()) == {"signed"}


def _request_of(signature: EthSignature, db: Path) -> TxRequest:
    assert signature.request_id is not None
    store = Store.open(db)
    try:
        request = store.request(str(uuid.UUID(bytes=signature.request_id.raw)))
    finally:
        store.close()
    assert request is not None
    return request


def test_two_responses_sharing_a_signature_keep_the_one_stored_first(
    lab: Lab, batch: EthBatchSignature
) -> None:
    db = lab.home / "watcher.db"
    ours = _file(EthBatchSignature(batch.signatures[:2]).to_ur())
    # The other response answers our second request with another valid signature.
    shared = _request_of(batch.signatures[1], db)
    other = _other_signature(batch.signatures[1], shared, lab.keys.private_key(shared.path))
    assert other.r != batch.signatures[1].r
    after_second: list[str] = []

    def second() -> None:
        _import(db, _file(other.to_ur()), "theirs.txt")
        after_second.append(_dump(db))

    first = _raced(db, second)
    try:
        with pytest.raises(ReplayedResponseError) as caught:
            Verifier(first).import_lines(ours, source="ours.txt")
        assert first.dump() == after_second[0]
        stored = first.signature(shared.request_id)
        assert stored is not None and (stored.r, stored.s) == (other.r, other.s)
    finally:
        first.close()
    assert str(caught.value) == (
        f"signature 2: request {shared.request_id} is already signed (status signed)"
    )
    assert str(caught.value) == str(_refusal(db, ours, "ours.txt"))
    assert sorted(lab.statuses().values()) == ["awaiting-signature", "awaiting-signature", "signed"]


def test_each_watcher_store_write_turns_a_collision_into_a_state_conflict(
    lab: Lab, batch: EthBatchSignature
) -> None:
    db = lab.home / "watcher.db"
    lines = _file(EthBatchSignature(batch.signatures[:1]).to_ur())
    _import(db, lines, "answer.txt")
    digest = response_digest(read_response(lines, source="answer.txt"))
    signed = _request_of(batch.signatures[0], db)
    store = Store.open(db)
    try:
        stored = store.signature(signed.request_id)
        assert stored is not None
        before = store.dump()
        # The checks are skipped: the row already stored is what the write collides with.
        with pytest.raises(StateConflictError) as response:
            store.add_signatures(digest, (), "again")
        assert (response.value.what, response.value.key) == ("response", digest)
        with pytest.raises(StateConflictError) as signature:
            store.add_signatures("another digest", (stored,), "again")
        assert signature.value.what == "signature of request"
        assert signature.value.key == signed.request_id
        with pytest.raises(StateConflictError) as head:
            store.save_signer_head("0badf00d", 1, byte_hash(1), "no such response")
        assert (head.value.what, head.value.key) == ("audit head of signer", "0badf00d")
        assert "FOREIGN KEY" in head.value.reason
        assert not store._db.in_transaction
        assert store.dump() == before
    finally:
        store.close()


# -- safe.db: safe import ----------------------------------------------------------------------


@dataclass
class Treasury:
    """A 2-of-3 Safe whose owners and executor are paired accounts of the lab's one signer,
    with one payout proposed."""

    lab: Lab
    written: int = 0

    def owner(self, index: int) -> Address:
        return parse_address(self.lab.keys.address(index), field="test")

    def owner_response(self, index: int, head: AuditHead) -> list[str]:
        """Owner ``index``'s answer, with ``head``."""
        return _file(self.owner_signature(index, head).to_ur())

    def owner_signature(self, index: int, head: AuditHead | None) -> EthSignature:
        """Owner ``index``'s EIP-712 signature over its request's JSON."""
        files = (self.lab.home / "requests").glob("safe-*-owner-*.txt")
        [path] = [p for p in files if p.stem.endswith(self.lab.keys.address(index))]
        ur = read_ur(path.read_text().splitlines(), frozenset({"eth-sign-request"}), source="q")
        request = EthSignRequest.from_ur(ur)
        key = self.lab.keys.private_key(f"m/44'/60'/0'/0/{index}")
        signed = Account.sign_message(
            encode_typed_data(full_message=json.loads(request.sign_data)), key
        )
        r, s = signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
        return EthSignature(r, s, signed.v, request.request_id, None, head)

    def write(self, lines: list[str]) -> Path:
        self.written += 1
        return self.lab.write(f"answer-{self.written}.txt", "\n".join(lines) + "\n")

    def executor_answers(self, *heads: AuditHead) -> list[list[str]]:
        """Owners 1 and 2 sign; ``safe execute``; the executor's answer, once with each head."""
        for index in (1, 2):
            answer = self.write(self.owner_response(index, AuditHead(index, byte_hash(index))))
            self.lab.ok("safe", "import", str(answer))
        self.lab.ok("safe", "execute")
        [path] = (self.lab.home / "requests").glob("safe-*-execute.txt")
        lines = sign_parts(path.read_text().splitlines(), self.lab.keys)
        one = EthSignature.from_ur(read_ur(lines, frozenset({"eth-signature"}), source="x"))
        return [
            _file(EthSignature(one.r, one.s, one.v, one.request_id, None, head).to_ur())
            for head in heads
        ]

    def dumps(self) -> tuple[str, str]:
        return self.lab.dumps()

    @contextmanager
    def collector(self, safe: SafeStore | None = None) -> Iterator[Collector]:
        """A collector over both stores (``safe`` or a new one), as ``safe import`` builds it."""
        safe = SafeStore.open(self.lab.home) if safe is None else safe
        watcher = Store.open(self.lab.home / "watcher.db")
        transport = HttpTransport(self.lab.node.url)
        try:
            node = Node(transport)
            yield Collector(safe, lambda chain_id: node, watcher)
        finally:
            transport.close()
            safe.close()
            watcher.close()

    def collect(self, lines: list[str], source: str) -> None:
        """An import by another watcher process, run to its commit."""
        with self.collector() as collector:
            collector.import_lines(lines, source=source)

    def refusal(self, lines: list[str], source: str) -> ResponseError:
        """The error an import of ``lines`` raises now, with no race: the early check's."""
        with self.collector() as collector, pytest.raises(ResponseError) as caught:
            collector.import_lines(lines, source=source)
        return caught.value

    def raced(self, lines: list[str], source: str, competitor: Callable[[], None]) -> Exception:
        """Import ``lines``; ``competitor`` runs to its commit once this import has passed its
        early checks, as it opens its write transaction. What it raised; both databases must be
        as the competitor left them."""
        after: list[tuple[str, str]] = []

        def second() -> None:
            competitor()
            after.append(self.dumps())

        safe = RacedSafeStore.open(self.lab.home)
        assert isinstance(safe, RacedSafeStore)
        safe.before_write = second
        with self.collector(safe) as collector, pytest.raises(ResponseError) as caught:
            collector.import_lines(lines, source=source)
        assert after and self.dumps() == after[0]
        return caught.value


@pytest.fixture
def t(lab: Lab) -> Treasury:
    lab.add_safe([lab.keys.address(i) for i in OWNERS], lab.keys.address(EXECUTOR))
    lab.configure()
    lab.pair(count=6)
    payee = lab.keys.address(8)
    payout = lab.write("payout.csv", CSV_HEADER + f"s1,anvil,ETH,{payee},0.5,\n")
    lab.ok("safe", "intake", str(payout))
    lab.ok("safe", "propose")
    return Treasury(lab)


def _proposal(t: Treasury) -> ProposalStatus:
    safe = SafeStore.open(t.lab.home)
    try:
        [proposal] = safe.proposals()
        return proposal.status
    finally:
        safe.close()


def test_one_safe_response_imported_twice_at_once_is_refused_as_a_replay(t: Treasury) -> None:
    lines = t.owner_response(1, AuditHead(1, byte_hash(1)))
    error = t.raced(lines, "answer.txt", lambda: t.collect(lines, "second"))
    assert isinstance(error, ReplayedResponseError)
    assert str(error) == "answer.txt: this response was imported before"
    assert str(error) == str(t.refusal(lines, "answer.txt"))


def test_two_responses_with_one_owner_signature_at_once_store_it_once(t: Treasury) -> None:
    # The same signature answered twice by one signer: the log moved on in between.
    earlier = t.owner_response(1, AuditHead(1, byte_hash(1)))
    later = t.owner_response(1, AuditHead(2, byte_hash(2)))
    error = t.raced(later, "later.txt", lambda: t.collect(earlier, "earlier.txt"))
    assert isinstance(error, OwnerSignatureError)
    assert str(error) == (f"signature 1: owner {t.owner(1)} has already signed this transaction")
    assert str(error) == str(t.refusal(later, "later.txt"))
    assert _proposal(t) is ProposalStatus.AWAITING_SIGNATURES


def test_two_executor_answers_at_once_sign_the_execution_once(t: Treasury) -> None:
    earlier, later = t.executor_answers(AuditHead(3, byte_hash(3)), AuditHead(4, byte_hash(4)))
    error = t.raced(later, "later.txt", lambda: t.collect(earlier, "earlier.txt"))
    assert isinstance(error, ReplayedResponseError)
    assert str(error) == str(t.refusal(later, "later.txt"))
    assert "the executor transaction of proposal 1 is not awaited" in str(error)
    assert _proposal(t) is ProposalStatus.SIGNED


def test_each_safe_store_write_turns_a_collision_into_a_state_conflict(t: Treasury) -> None:
    lines = t.owner_response(1, AuditHead(1, byte_hash(1)))
    t.collect(lines, "answer.txt")
    digest = response_digest(read_response(lines, source="answer.txt"))
    before = t.dumps()
    safe = SafeStore.open(t.lab.home)
    try:
        [proposal] = safe.proposals()
        [(owner, packed)] = safe.owner_signatures(proposal.id).items()
        [request] = [r for r in safe.owner_requests(proposal.id) if r.owner == owner]
        with pytest.raises(StateConflictError) as response, safe.transaction():
            safe.add_response(digest)
        assert (response.value.what, response.value.key) == ("response", digest)
        with pytest.raises(StateConflictError) as signature, safe.transaction():
            safe.add_owner_signature(proposal.id, owner, request.request_id, packed)
        assert signature.value.what == "owner signature"
        assert signature.value.key == f"{owner.checksummed()} of proposal {proposal.id}"
    finally:
        safe.close()
    assert t.dumps() == before


# -- the CLI: ``safe import`` raced through its node ---------------------------------------------


# keccak256("VERSION()")[:4]: the first call of each owner signature's on-chain check.
VERSION_SELECTOR = "0xffa1ad74"


class RacingProxy(JsonRpcProxy):
    """A proxy to anvil that runs ``competitor`` once, before forwarding the second
    ``VERSION()`` call after it is armed. ``safe import`` reads the Safe once per owner
    signature, before checking that owner: with a response of two owner signatures, the
    competitor lands after the first one's early checks and before the import writes."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.competitor: Callable[[], None] | None = None
        self.versions = 0

    def answer(self, body: bytes) -> bytes:
        competitor = self.competitor
        if competitor is not None and _calls_version(json.loads(body)):
            self.versions += 1
        if competitor is not None and self.versions == 2:
            self.competitor = None
            # A failure here leaves the CLI without a reply: the test sees no dumps.
            competitor()
        return self.forward(body)


def _calls_version(call: dict[str, Any]) -> bool:
    if call.get("method") != "eth_call":
        return False
    data = str(call["params"][0].get("data") or call["params"][0].get("input") or "")
    return data.startswith(VERSION_SELECTOR)


def test_safe_import_raced_at_the_cli_is_one_line_and_exit_2(t: Treasury) -> None:
    earlier = t.owner_response(1, AuditHead(1, byte_hash(1)))
    # Owner 1's signature (checked first), then owner 2's, with a later head.
    both = [t.owner_signature(index, None) for index in (1, 2)]
    later = t.write(_file(EthBatchSignature(tuple(both), AuditHead(2, byte_hash(2))).to_ur()))
    after: list[tuple[str, str]] = []

    def competitor() -> None:
        t.collect(earlier, "earlier.txt")
        after.append(t.dumps())

    with RacingProxy(t.lab.node.url) as proxy:
        t.lab.configure(rpc=proxy.url)
        proxy.competitor = competitor
        result = t.lab.cli("safe", "import", str(later))
    assert len(after) == 1
    assert result.code == EXIT_INPUT, result.err
    [line] = result.err.strip().splitlines()
    assert line.endswith(f"signature 1: owner {t.owner(1)} has already signed this transaction")
    assert t.dumps() == after[0]
