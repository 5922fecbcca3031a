"""``coldsign-watcher safe``: a 2-of-3 Safe v1.4.1 on anvil pays a batch, with every refusal.

Owners sign with eth-account's EIP-712 implementation (independent of coldsign) over the
JSON the watcher wrote; the executor's transaction is signed by watcherlab's test signer.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from anvil import Anvil
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from safe_contracts import (
    MULTISEND_CALL_ONLY,
    SafeTxFields,
    create_safe,
    deploy_safe_contracts,
    exec_transaction,
    get_transaction_hash,
    owner_signatures,
    safe_state,
    send,
)
from watcherlab import Lab, ur_lines

from shared.abi import function_selector
from shared.erc4527 import DataType, EthBatchSignature, EthSignature, EthSignRequest, RequestId
from shared.messages import hash_typed_data
from shared.ur import UR
from watcher.config import load_config
from watcher.parts import TextPartsWriter, read_ur
from watcher.requestkit import RequestKit
from watcher.rpc import HttpTransport, Node
from watcher.safe.config import load_safes
from watcher.safe.errors import SafeHashMismatchError
from watcher.safe.onchain import GET_TRANSACTION_HASH, checked_tx_hash, read_safe
from watcher.safe.payouts import Payout, payout_tx
from watcher.safe.propose import Proposer
from watcher.safe.store import SafeStore
from watcher.state import Store

OWNER_INDEXES = (1, 2, 3)
EXECUTOR = 4
STRANGER = 5
TOKEN_SUPPLY = 10**6 * 10**18
SAFE_ETH = 50 * 10**18
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass
class Treasury:
    lab: Lab
    safe: str
    token: str
    owners: list[str]

    def key(self, index: int) -> bytes:
        return self.lab.keys.private_key(f"m/44'/60'/0'/0/{index}")

    def owner_files(self) -> dict[str, Path]:
        files = sorted((self.lab.home / "requests").glob("safe-*-owner-*.txt"))
        return {path.stem.rsplit("-", 1)[1]: path for path in files}


def build_treasury(lab: Lab, chain: Anvil, *, executor: bool = True) -> Treasury:
    deploy_safe_contracts(chain)
    owners = [lab.keys.address(i) for i in OWNER_INDEXES]
    safe = create_safe(chain, owners, 2)
    send(chain, safe, value=SAFE_ETH)
    token = lab.deploy_token(safe, TOKEN_SUPPLY)
    lab.configure(tokens=((token, "TKN"),))
    lab.pair(count=6)
    lines = ["[[safe]]", 'name = "treasury"', 'chain = "anvil"', f'address = "{safe}"']
    if executor:
        lines.append(f'executor = "{lab.keys.address(EXECUTOR)}"')
    (lab.home / "safes.toml").write_text("\n".join(lines) + "\n")
    return Treasury(lab, safe, token, owners)


def payees(count: int) -> list[str]:
    return [Account.from_key((0x1000 + i).to_bytes(32, "big")).address for i in range(count)]


def withdrawals_csv(t: Treasury, count: int) -> Path:
    rows = ["id,chain,asset,destination,amount,memo"]
    for i, payee in enumerate(payees(count)):
        asset, amount = ("ETH", f"0.{i + 1:02d}") if i % 2 == 0 else ("TKN", f"{i + 1}.5")
        rows.append(f"w{i},anvil,{asset},{payee},{amount},payout {i}")
    return t.lab.write("safe-withdrawals.csv", "\n".join(rows) + "\n")


def request_of(path: Path) -> EthSignRequest:
    ur = read_ur(path.read_text().splitlines(), frozenset({"eth-sign-request"}), source="req")
    return EthSignRequest.from_ur(ur)


def typed_signature(request: EthSignRequest, key: bytes) -> EthSignature:
    """eth-account's EIP-712 signature over the request's JSON (what MetaMask would sign)."""
    signed = Account.sign_message(
        encode_typed_data(full_message=json.loads(request.sign_data)), key
    )
    return EthSignature(
        signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), signed.v, request.request_id
    )


def response(t: Treasury, name: str, *signatures: EthSignature) -> Path:
    ur: UR = (
        signatures[0].to_ur()
        if len(signatures) == 1
        else EthBatchSignature(tuple(signatures)).to_ur()
    )
    return t.lab.write(name, "\n".join(ur_lines(ur)) + "\n")


def owner_response(t: Treasury, owner_index: int, name: str | None = None) -> Path:
    owner = t.lab.keys.address(owner_index)
    request = request_of(t.owner_files()[owner])
    signature = typed_signature(request, t.key(owner_index))
    return response(t, name or f"owner-{owner_index}.txt", signature)


def safe_db(t: Treasury) -> str:
    db = sqlite3.connect(t.lab.home / "safe.db")
    try:
        return "\n".join(db.iterdump())
    finally:
        db.close()


def test_a_batch_of_eth_and_token_payouts_is_proposed_signed_and_executed(
    lab: Lab, chain: Anvil
) -> None:
    t = build_treasury(lab, chain)
    lab.ok("safe", "intake", str(withdrawals_csv(t, 20)))
    proposed = lab.ok("safe", "propose").out
    assert "20 payouts" in proposed and "2 of 3" in proposed
    files = t.owner_files()
    assert sorted(files) == sorted(t.owners)
    # Every owner is asked to sign the same typed data, whose hash is the Safe's own.
    requests = {owner: request_of(path) for owner, path in files.items()}
    payloads = {r.sign_data for r in requests.values()}
    assert len(payloads) == 1
    request = requests[t.owners[0]]
    assert request.data_type is DataType.TYPED_DATA and request.chain_id == 31337
    assert str(request.derivation_path) == "m/44'/60'/0'/0/1"
    document = json.loads(request.sign_data)
    assert document["primaryType"] == "SafeTx"
    message = document["message"]
    assert message["to"] == MULTISEND_CALL_ONLY.address and message["operation"] == 1
    assert (message["gasPrice"], message["refundReceiver"]) == ("0", "0x" + "00" * 20)
    onchain = get_transaction_hash(
        chain,
        t.safe,
        SafeTxFields(
            MULTISEND_CALL_ONLY.address, data=bytes.fromhex(message["data"][2:]), operation=1
        ),
    )
    assert hash_typed_data(request.sign_data) == onchain
    assert f"0x{onchain.hex()}" in proposed
    # Owners answer in any order, each from their own device.
    lab.ok("safe", "import", str(owner_response(t, 3)))
    status = lab.ok("safe", "status").out
    assert "1 of 2 signatures" in status
    assert f"owner {t.owners[2]}: signed" in status and f"owner {t.owners[0]}: waiting" in status
    imported = lab.ok("safe", "import", str(owner_response(t, 1))).out
    assert "(2 of 2)" in imported
    assert "ready" in lab.ok("safe", "status").out
    # The executor's transaction is a request to its own signer.
    executed = lab.ok("safe", "execute").out
    (exec_file,) = (lab.home / "requests").glob("safe-*-execute.txt")
    assert str(exec_file) in executed
    exec_request = request_of(exec_file)
    assert exec_request.data_type is DataType.TYPED_TRANSACTION
    assert str(exec_request.derivation_path) == f"m/44'/60'/0'/0/{EXECUTOR}"
    lab.ok("safe", "import", str(lab.sign(exec_file, "executor.txt")))
    assert "1 Safe executions sent" in lab.ok("safe", "broadcast").out
    final = lab.ok("safe", "status").out
    assert "executed" in final and "0 Safe withdrawals not yet proposed" in final
    for i, payee in enumerate(payees(20)):
        if i % 2 == 0:
            assert chain.balance(payee) == (i + 1) * 10**16
        else:
            assert lab.token_balance(t.token, payee) == (2 * i + 3) * 10**18 // 2
    assert safe_state(chain, t.safe)[2] == 1


def test_one_withdrawal_is_a_plain_call_and_executes(lab: Lab, chain: Anvil) -> None:
    t = build_treasury(lab, chain)
    payee = payees(1)[0]
    csv = lab.write("one.csv", f"id,chain,asset,destination,amount\nx1,anvil,TKN,{payee},7\n")
    lab.ok("safe", "intake", str(csv))
    lab.ok("safe", "propose")
    message = json.loads(request_of(t.owner_files()[t.owners[1]]).sign_data)["message"]
    assert (message["to"], message["operation"], message["value"]) == (t.token, 0, "0")
    for index in (2, 1):
        lab.ok("safe", "import", str(owner_response(t, index)))
    lab.ok("safe", "execute")
    (exec_file,) = (lab.home / "requests").glob("safe-*-execute.txt")
    lab.ok("safe", "import", str(lab.sign(exec_file, "executor.txt")))
    lab.ok("safe", "broadcast")
    assert "executed" in lab.ok("safe", "status").out
    assert lab.token_balance(t.token, payee) == 7 * 10**18


def proposed_treasury(lab: Lab, chain: Anvil, count: int = 3) -> Treasury:
    t = build_treasury(lab, chain)
    lab.ok("safe", "intake", str(withdrawals_csv(t, count)))
    lab.ok("safe", "propose")
    return t


def refused_import(t: Treasury, path: Path, text: str) -> None:
    before = safe_db(t)
    result = t.lab.cli("safe", "import", str(path))
    assert result.code == 2, result
    assert text in result.err
    assert safe_db(t) == before


def test_a_non_owner_signature_is_refused(lab: Lab, chain: Anvil) -> None:
    t = proposed_treasury(lab, chain)
    request = request_of(t.owner_files()[t.owners[0]])
    path = response(t, "stranger.txt", typed_signature(request, t.key(STRANGER)))
    refused_import(t, path, "is not an owner of the Safe")


def test_another_owners_signature_on_a_request_is_refused(lab: Lab, chain: Anvil) -> None:
    t = proposed_treasury(lab, chain)
    request = request_of(t.owner_files()[t.owners[0]])
    path = response(t, "swapped.txt", typed_signature(request, t.key(2)))
    refused_import(t, path, f"but the request was sent to owner {t.owners[0]}")


def test_an_owner_signing_twice_is_refused(lab: Lab, chain: Anvil) -> None:
    t = proposed_treasury(lab, chain)
    signature = typed_signature(request_of(t.owner_files()[t.owners[0]]), t.key(1))
    lab.ok("safe", "import", str(response(t, "once.txt", signature)))
    again = EthSignature(signature.r, signature.s, signature.v - 27, signature.request_id)
    refused_import(t, response(t, "again.txt", again), "has already signed")
    refused_import(t, response(t, "once.txt", signature), "imported before")


def test_an_eth_sign_signature_over_the_hash_is_refused(lab: Lab, chain: Anvil) -> None:
    t = proposed_treasury(lab, chain)
    request = request_of(t.owner_files()[t.owners[0]])
    digest = hash_typed_data(request.sign_data)
    # Safe's eth_sign scheme: ECDSA over EIP-191("\x19Ethereum Signed Message:\n32" || hash),
    # marked by v + 4 (31/32). It proves only that the owner signed an opaque hash.
    signed = Account.sign_message(encode_defunct(primitive=digest), t.key(1))
    eth_sign = EthSignature(
        signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), signed.v + 4, request.request_id
    )
    refused_import(t, response(t, "eth-sign.txt", eth_sign), "eth_sign signature")


def test_a_high_s_signature_is_refused(lab: Lab, chain: Anvil) -> None:
    t = proposed_treasury(lab, chain)
    good = typed_signature(request_of(t.owner_files()[t.owners[0]]), t.key(1))
    high_s = (N - int.from_bytes(good.s, "big")).to_bytes(32, "big")
    assert int.from_bytes(high_s, "big") > HALF_N
    flipped = EthSignature(good.r, high_s, 55 - good.v, good.request_id)
    refused_import(t, response(t, "high-s.txt", flipped), "upper half")


def test_an_unknown_or_missing_request_id_is_refused(lab: Lab, chain: Anvil) -> None:
    t = proposed_treasury(lab, chain)
    good = typed_signature(request_of(t.owner_files()[t.owners[0]]), t.key(1))
    missing = EthSignature(good.r, good.s, good.v, None)
    refused_import(t, response(t, "no-id.txt", missing), "request-id")
    foreign = EthSignature(good.r, good.s, good.v, RequestId(uuid.uuid4().bytes))
    refused_import(t, response(t, "foreign.txt", foreign), "was not made by")


def test_execute_needs_the_threshold(lab: Lab, chain: Anvil) -> None:
    t = proposed_treasury(lab, chain)
    lab.ok("safe", "import", str(owner_response(t, 2)))
    result = lab.cli("safe", "execute")
    assert result.code == 4 and "nothing to execute" in result.err
    assert "awaiting-signatures" in result.err


def test_a_second_proposal_waits_for_the_first(lab: Lab, chain: Anvil) -> None:
    t = proposed_treasury(lab, chain)
    more = lab.write(
        "more.csv", f"id,chain,asset,destination,amount\nm1,anvil,ETH,{t.owners[0]},1\n"
    )
    lab.ok("safe", "intake", str(more))
    result = lab.cli("safe", "propose")
    assert result.code == 4 and "is still awaiting-signatures" in result.err


def test_a_nonce_used_elsewhere_fails_the_proposal_and_frees_its_withdrawals(
    lab: Lab, chain: Anvil
) -> None:
    t = proposed_treasury(lab, chain)
    for index in (1, 2):
        lab.ok("safe", "import", str(owner_response(t, index)))
    # The owners execute something else at the same Safe nonce behind the watcher's back.
    other = SafeTxFields(t.owners[0], value=1, nonce=0)
    digest = get_transaction_hash(chain, t.safe, other)
    exec_transaction(chain, t.safe, other, owner_signatures(digest, [t.key(1), t.key(2)]))
    result = lab.cli("safe", "execute")
    assert result.code == 4 and "another transaction used it" in result.err
    status = lab.ok("safe", "status").out
    assert "failed" in status and "3 Safe withdrawals not yet proposed" in status
    assert "nonce 1" in lab.ok("safe", "propose").out


class LyingTransport:
    """Forwards to anvil but answers getTransactionHash with another hash."""

    def __init__(self, url: str) -> None:
        self.inner = HttpTransport(url)

    @property
    def url(self) -> str:
        return self.inner.url

    def call(self, method: str, params: Sequence[object]) -> object:
        result = self.inner.call(method, params)
        call = params[0] if params else None
        selector = "0x" + function_selector(GET_TRANSACTION_HASH).hex()
        if method == "eth_call" and isinstance(call, dict) and call["data"].startswith(selector):
            return "0x" + "ab" * 32
        return result


def test_a_hash_the_safe_does_not_confirm_is_refused_before_anything_is_written(
    lab: Lab, chain: Anvil
) -> None:
    t = build_treasury(lab, chain)
    lab.ok("safe", "intake", str(withdrawals_csv(t, 2)))
    config = load_config(lab.home / "watcher.toml")
    (safe,) = load_safes(lab.home, config)
    lying, honest = LyingTransport(chain.url), HttpTransport(chain.url)
    store, accounts = SafeStore.open(lab.home), Store.open(lab.home / "watcher.db")
    try:
        writer = TextPartsWriter(lab.home / "requests", 200)
        proposer = Proposer(RequestKit(config, accounts, lambda chain: Node(lying), writer), store)
        with pytest.raises(SafeHashMismatchError) as caught:
            proposer.propose(safe)
        assert caught.value.theirs == b"\xab" * 32
        assert store.proposals() == () and len(store.pending(safe.chain_id, safe.address)) == 2
        # A SafeTx hashed for another chain is what the real Safe refuses to confirm.
        node = Node(honest)
        info = read_safe(node, safe.address, safe.chain_id)
        tx = payout_tx(
            safe.address, 1, info.nonce, [Payout("native", safe.address, 1)], safe.address
        )
        with pytest.raises(SafeHashMismatchError):
            checked_tx_hash(node, tx, info.version)
    finally:
        lying.inner.close()
        honest.close()
        store.close()
        accounts.close()
    assert not list((lab.home / "requests").glob("safe-*"))


def test_configuration_mistakes_are_named(lab: Lab, chain: Anvil) -> None:
    t = build_treasury(lab, chain)
    safes = lab.home / "safes.toml"
    cases = {
        "[[safe]]\nname = 'x'\nchain = 'anvil'\naddress = '0x1'\n": "safe[0].address",
        f"[[safe]]\nname = 'x'\nchain = 'mainnet'\naddress = '{t.safe}'\n": "safe[0].chain",
        f"[[safe]]\nname = 'x'\nchain = 'anvil'\naddress = '{t.safe}'\nmodule = 1\n": (
            "safe[0].module"
        ),
        "[safes]\n": "safes: unknown key",
    }
    for text, where in cases.items():
        safes.write_text(text)
        result = lab.cli("safe", "status", "--no-track")
        assert result.code == 2 and where in result.err, (text, result)


def test_intake_refusals_name_line_and_field(lab: Lab, chain: Anvil) -> None:
    t = build_treasury(lab, chain)
    header = "id,chain,asset,destination,amount\n"
    payee = payees(1)[0]
    cases = {
        f"a,anvil,DAI,{payee},1\n": "line 2, asset",
        f"a,anvil,ETH,{t.safe},1\n": "line 2, destination",
        f"a,anvil,ETH,{payee},0.0000000000000000001\n": "line 2, amount",
        f"a,1,ETH,{payee},1\n": "line 2, chain",
        f"a,anvil,ETH,{payee},1\na,anvil,ETH,{payee},2\n": "line 3, id",
    }
    for body, where in cases.items():
        result = lab.cli("safe", "intake", str(lab.write("bad.csv", header + body)))
        assert result.code == 2 and where in result.err, (body, result)
    assert "0 Safe withdrawals" in lab.ok("safe", "status", "--no-track").out
