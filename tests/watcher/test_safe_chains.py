"""Safes on two chains: each chain's proposals are built, broadcast and tracked on that chain.

The session's anvil is chain 31337; a second anvil is moved to chain 31338 with
``anvil_setChainId`` once the same 2-of-3 Safe v1.4.1 (same owners, same salt, canonical
factory) is deployed on it: it lands at the same address on both, as Safe deployments do
(the singleton factory's presigned transaction is for chain 31337, and anvil's dev signers
keep signing for the chain id anvil started with, so everything is sent before the move;
Safe 1.4.1 reads ``block.chainid`` when it hashes). The watcher holds a payout for each.
Owners sign with eth-account's EIP-712 implementation; the executor's transactions are
signed by watcherlab's test signer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from anvil import CHAIN_ID, Anvil, running_anvil
from eth_account import Account
from eth_account.messages import encode_typed_data
from safe_contracts import (
    MULTISEND_CALL_ONLY,
    SafeTxFields,
    calldata,
    create_safe,
    deploy_safe_contracts,
    exec_transaction,
    get_transaction_hash,
    owner_signatures,
    safe_state,
    send,
)
from watcherlab import CSV_HEADER, Lab, ur_lines

from shared.erc4527 import EthSignature, EthSignRequest
from watcher.config import load_config
from watcher.parts import TextPartsWriter, read_ur
from watcher.requestkit import RequestKit
from watcher.rpc import HttpTransport, Node
from watcher.safe.execute import Executor
from watcher.safe.store import ProposalStatus, SafeStore
from watcher.state import Store

OTHER_CHAIN_ID = 31338
OWNERS = (1, 2, 3)
# On the other chain owner 2 was swapped for dev account 5: a Safe read on the wrong chain
# would refuse the owners who signed.
OTHER_OWNER = 5
EXECUTOR = 4
# OwnerManager.sol: the owners' linked list starts at SENTINEL_OWNERS = address(0x1).
SENTINEL = "0x0000000000000000000000000000000000000001"
SAFE_ETH = 10**18


@pytest.fixture
def other_chain() -> Iterator[Anvil]:
    """A second anvil of its own (moved to chain 31338 by the test, once its Safe is there)."""
    with running_anvil() as node:
        yield node


def _deploy_safe(node: Anvil, owners: list[str]) -> str:
    deploy_safe_contracts(node)
    safe = create_safe(node, owners, 2)
    send(node, safe, value=SAFE_ETH)
    return safe


def _swap_owner_2(lab: Lab, node: Anvil, safe: str) -> None:
    """Owners 1 and 2 replace owner 2 by dev account 5 (``swapOwner``, Safe nonce 0)."""
    owner_1, owner_2 = (lab.keys.address(i) for i in OWNERS[:2])
    new = lab.keys.address(OTHER_OWNER)
    data = calldata("swapOwner(address,address,address)", owner_1, owner_2, new)
    fields = SafeTxFields(to=safe, data=data, nonce=0)
    keys = [lab.keys.private_key(f"m/44'/60'/0'/0/{i}") for i in OWNERS[:2]]
    exec_transaction(
        node, safe, fields, owner_signatures(get_transaction_hash(node, safe, fields), keys)
    )
    assert new in safe_state(node, safe)[0] and owner_2 not in safe_state(node, safe)[0]


def _sign_owners(lab: Lab, safe_name: str, indexes: tuple[int, ...]) -> None:
    """Owners ``indexes`` answer their requests for ``safe_name``'s proposal; each imported."""
    for index in indexes:
        owner = lab.keys.address(index)
        [path] = (lab.home / "requests").glob(f"safe-{safe_name}-nonce-*-owner-{owner}.txt")
        ur = read_ur(path.read_text().splitlines(), frozenset({"eth-sign-request"}), source="r")
        request = EthSignRequest.from_ur(ur)
        key = lab.keys.private_key(f"m/44'/60'/0'/0/{index}")
        signed = Account.sign_message(
            encode_typed_data(full_message=json.loads(request.sign_data)), key
        )
        signature = EthSignature(
            signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), signed.v, request.request_id
        )
        answer = lab.write(f"{safe_name}-owner-{index}.txt", "\n".join(ur_lines(signature.to_ur())))
        lab.ok("safe", "import", str(answer))


def _execute(lab: Lab, safe_name: str) -> None:
    """The executor's request for ``safe_name`` is written, signed and imported."""
    lab.ok("safe", "execute", "--safe", safe_name)
    [request] = (lab.home / "requests").glob(f"safe-{safe_name}-nonce-*-execute.txt")
    lab.ok("safe", "import", str(lab.sign(request)))


def _statuses(lab: Lab) -> dict[int, tuple[int, ProposalStatus]]:
    """Each proposal's chain and status."""
    store = SafeStore.open(lab.home)
    try:
        return {p.id: (p.tx.chain_id or 0, p.status) for p in store.proposals()}
    finally:
        store.close()


def _executor_here(lab: Lab, nodes: dict[int, Node]) -> tuple[Executor, SafeStore, Store]:
    """Chain 31337's executor as ``safe broadcast`` builds it, over both chains' nodes."""
    config = load_config(lab.home / "watcher.toml")
    store, accounts = SafeStore.open(lab.home), Store.open(lab.home / "watcher.db")
    writer = TextPartsWriter(lab.home / "requests", config.max_fragment_length)
    kit = RequestKit(config, accounts, lambda chain: nodes[chain.chain_id], writer)
    return Executor(kit, store, CHAIN_ID), store, accounts


def test_each_chains_executor_sends_and_tracks_only_its_own_proposals(
    lab: Lab, chain: Anvil, other_chain: Anvil
) -> None:
    owners = [lab.keys.address(i) for i in OWNERS]
    safe = _deploy_safe(chain, owners)
    assert _deploy_safe(other_chain, owners) == safe
    _swap_owner_2(lab, other_chain, safe)
    other_chain.rpc("anvil_setChainId", OTHER_CHAIN_ID)
    lab.configure(
        extra=f'\n[chains.other]\nchain_id = {OTHER_CHAIN_ID}\nrpc = "{other_chain.url}"\n'
        "confirmations = 1\n"
    )
    lab.pair(count=6)
    executor = lab.keys.address(EXECUTOR)
    (lab.home / "safes.toml").write_text(
        "".join(
            f'[[safe]]\nname = "{name}"\nchain = "{chain_name}"\naddress = "{safe}"\n'
            # No shipped deployment list names chain 31338: its MultiSendCallOnly is named.
            f'executor = "{executor}"\nmultisend_call_only = "{MULTISEND_CALL_ONLY.address}"\n\n'
            for name, chain_name in (("there", "other"), ("here", "anvil"))
        )
    )
    # Fresh payees: dev account 8 deploys and relays for tests/safe_contracts.py.
    here, there = (Account.from_key((0x2000 + i).to_bytes(32, "big")).address for i in (1, 2))
    # Both payouts wait before either is proposed; the other chain's is proposed first, so
    # its proposal has the lower id.
    for name, chain_name, payee, amount in (
        ("there", "other", there, "0.25"),
        ("here", "anvil", here, "0.5"),
    ):
        rows = CSV_HEADER + f"{name}-1,{chain_name},ETH,{payee},{amount},\n"
        lab.ok("safe", "intake", str(lab.write(f"{name}.csv", rows)), "--safe", name)
    for name, signers in (("there", (1, OTHER_OWNER)), ("here", OWNERS[:2])):
        # Each proposal pays its own chain's withdrawal only, though the Safe address is one.
        assert "1 payouts" in lab.ok("safe", "propose", "--safe", name).out
        _sign_owners(lab, name, signers)
        _execute(lab, name)
    proposal_there, proposal_here = 1, 2
    assert _statuses(lab) == {
        proposal_there: (OTHER_CHAIN_ID, ProposalStatus.SIGNED),
        proposal_here: (CHAIN_ID, ProposalStatus.SIGNED),
    }
    balances = {
        (node.url, payee): node.balance(payee)
        for node in (chain, other_chain)
        for payee in (here, there)
    }

    transports = [HttpTransport(chain.url), HttpTransport(other_chain.url)]
    nodes = {CHAIN_ID: Node(transports[0]), OTHER_CHAIN_ID: Node(transports[1])}
    executor_here, store, accounts = _executor_here(lab, nodes)
    try:
        # This chain's executor sends its own proposal and leaves the other chain's alone
        # (sent to this node it would be refused for its chain id and stop the run).
        assert executor_here.broadcast() == (proposal_here,)
        assert _statuses(lab)[proposal_there] == (OTHER_CHAIN_ID, ProposalStatus.SIGNED)
        executed = store.execution_of(proposal_there)
        assert executed is not None and executed.tx_hash is not None
        for node in (chain, other_chain):
            assert node.rpc("eth_getTransactionByHash", "0x" + executed.tx_hash.hex()) is None
        # Its tracking looks up its own execution only.
        tracked = executor_here.track()
        assert tracked.executed == (proposal_here,) and tracked.failed == ()
        assert _statuses(lab)[proposal_there] == (OTHER_CHAIN_ID, ProposalStatus.SIGNED)
    finally:
        store.close()
        accounts.close()
        for transport in transports:
            transport.close()

    # The command runs each chain's executor: only the other chain's execution is left.
    assert "1 Safe executions sent" in lab.ok("safe", "broadcast").out
    assert other_chain.rpc("eth_getTransactionByHash", "0x" + executed.tx_hash.hex()) is not None
    status = lab.ok("safe", "status").out
    assert status.count(": executed,") == 2, status
    assert _statuses(lab) == {
        proposal_there: (OTHER_CHAIN_ID, ProposalStatus.EXECUTED),
        proposal_here: (CHAIN_ID, ProposalStatus.EXECUTED),
    }
    # Each payee was paid on its own chain only.
    paid = {
        key: node.balance(key[1]) - before
        for key, before in balances.items()
        for node in (chain, other_chain)
        if node.url == key[0]
    }
    assert paid == {
        (chain.url, here): SAFE_ETH // 2,
        (chain.url, there): 0,
        (other_chain.url, here): 0,
        (other_chain.url, there): SAFE_ETH // 4,
    }
