"""The watcher's Safe pieces without a node: typed data, payouts, signatures, config, replies."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given
from hypothesis import strategies as st

from shared.abi import encode_values, function_selector, parse_type
from shared.address import Address
from shared.calls import Operation, unpack_transactions
from shared.erc4527 import EthSignature
from shared.messages import SafeTx, hash_typed_data, parse_safe_version, safe_tx_hash
from watcher.config import ChainConfig, WatcherConfig
from watcher.errors import MalformedReplyError
from watcher.rpc import Node
from watcher.safe.config import parse_safes
from watcher.safe.errors import OwnerSignatureError, SafeBuildError, SafeConfigError
from watcher.safe.onchain import read_safe
from watcher.safe.payouts import Payout, multisend_data, payout_tx
from watcher.safe.signatures import check_owner_signature, pack_signatures, recover_owner
from watcher.safe.typed_data import safe_tx_json

V141 = parse_safe_version("1.4.1")
V120 = parse_safe_version("1.2.0")
SAFE = Address(b"\x5a" * 20)
CALL_ONLY = Address(bytes.fromhex("9641d764fc13c8b624c04430c7356c1c7c8102e2"))
KEYS = [bytes([i]) * 32 for i in range(1, 5)]
OWNERS = [Address(bytes.fromhex(Account.from_key(k).address[2:])) for k in KEYS]
DIGEST = bytes(range(32))

addresses = st.binary(min_size=20, max_size=20).map(Address)
uint256 = st.integers(min_value=0, max_value=2**256 - 1)
safe_txs = st.builds(
    SafeTx,
    safe=addresses,
    chain_id=st.integers(min_value=1, max_value=2**64),
    to=addresses,
    value=uint256,
    data=st.binary(max_size=300),
    operation=st.sampled_from([0, 1]),
    safe_tx_gas=uint256,
    base_gas=uint256,
    gas_price=uint256,
    gas_token=addresses,
    refund_receiver=addresses,
    nonce=uint256,
)


@given(safe_txs)
def test_the_typed_data_hashes_to_the_safe_tx_hash_in_coldsign_and_eth_account(
    tx: SafeTx,
) -> None:
    document = safe_tx_json(tx, V141)
    expected = safe_tx_hash(tx, V141)
    assert hash_typed_data(document) == expected
    signable = encode_typed_data(full_message=json.loads(document))
    assert _hash_eip191_message(signable) == expected


def test_a_pre_1_3_safe_gets_the_domain_without_chain_id() -> None:
    tx = payout_tx(SAFE, 1, 3, [Payout("native", OWNERS[0], 5)], CALL_ONLY)
    document = json.loads(safe_tx_json(tx, V120))
    assert document["domain"] == {"verifyingContract": SAFE.checksummed()}
    assert hash_typed_data(safe_tx_json(tx, V120)) == safe_tx_hash(tx, V120)


def test_one_payout_is_a_plain_call_and_several_a_call_only_batch() -> None:
    token = "0x" + "77" * 20
    single = payout_tx(SAFE, 1, 0, [Payout(token, OWNERS[1], 9)], CALL_ONLY)
    assert (single.to, single.operation, single.value) == (Address(b"\x77" * 20), 0, 0)
    assert single.data[:4] == function_selector("transfer(address,uint256)")
    payouts = [Payout("native", OWNERS[0], 10**18), Payout(token, OWNERS[1], 7)]
    batch = payout_tx(SAFE, 1, 0, payouts, CALL_ONLY)
    assert (batch.to, batch.operation, batch.value) == (CALL_ONLY, 1, 0)
    assert batch.data == multisend_data(payouts)
    zero = Address(bytes(20))
    assert (batch.safe_tx_gas, batch.base_gas, batch.gas_price) == (0, 0, 0)
    assert (batch.gas_token, batch.refund_receiver) == (zero, zero)
    # multiSend(bytes): selector, offset word, length word, then the packed entries.
    length = int.from_bytes(batch.data[36:68], "big")
    entries = unpack_transactions(batch.data[68 : 68 + length], path="transactions")
    assert [(e.operation, e.to, e.value) for e in entries] == [
        (Operation.CALL, OWNERS[0], 10**18),
        (Operation.CALL, Address(b"\x77" * 20), 0),
    ]
    with pytest.raises(ValueError):
        payout_tx(SAFE, 1, 0, [], CALL_ONLY)


def signature(key: bytes, digest: bytes = DIGEST, v_delta: int = 0) -> EthSignature:
    signed = Account.unsafe_sign_hash(digest, key)
    return EthSignature(
        signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), signed.v + v_delta
    )


def test_v_27_28_and_y_parity_recover_the_owner() -> None:
    assert recover_owner(DIGEST, signature(KEYS[0]), "s") == OWNERS[0]
    assert recover_owner(DIGEST, signature(KEYS[0], v_delta=-27), "s") == OWNERS[0]


@pytest.mark.parametrize(
    ("v_delta", "words"),
    [(4, "eth_sign"), (2, "v = "), (-25, "v = ")],
    ids=["31/32", "29/30", "2/3"],
)
def test_other_v_values_are_refused(v_delta: int, words: str) -> None:
    with pytest.raises(OwnerSignatureError, match=words):
        recover_owner(DIGEST, signature(KEYS[0], v_delta=v_delta), "s")


def test_zero_r_is_refused() -> None:
    good = signature(KEYS[0])
    with pytest.raises(OwnerSignatureError, match=r"outside \[1, n\)"):
        recover_owner(DIGEST, EthSignature(bytes(32), good.s, good.v), "s")


def test_owner_checks() -> None:
    packed = check_owner_signature(
        DIGEST,
        signature(KEYS[1], v_delta=-27),
        expected=OWNERS[1],
        owners=OWNERS,
        already={},
        where="s",
    )
    assert packed[-1] in (27, 28) and len(packed) == 65
    with pytest.raises(OwnerSignatureError, match="not an owner"):
        check_owner_signature(
            DIGEST, signature(KEYS[3]), expected=OWNERS[3], owners=OWNERS[:3], already={}, where="s"
        )
    with pytest.raises(OwnerSignatureError, match="already signed"):
        check_owner_signature(
            DIGEST,
            signature(KEYS[1]),
            expected=OWNERS[1],
            owners=OWNERS,
            already={OWNERS[1]: packed},
            where="s",
        )


def test_signatures_are_packed_in_ascending_owner_order_up_to_the_threshold() -> None:
    by_owner = {owner: bytes([i]) * 65 for i, owner in enumerate(OWNERS)}
    ordered = sorted(OWNERS, key=lambda o: o.raw)
    packed = pack_signatures(by_owner, 3)
    assert packed == b"".join(by_owner[o] for o in ordered[:3])
    with pytest.raises(ValueError):
        pack_signatures(by_owner, 5)


CONFIG = WatcherConfig(chains=(ChainConfig("anvil", 31337, "http://127.0.0.1:1"),))
SAFE_TEXT = SAFE.checksummed()


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"safes": []}, "safes"),
        ({"safe": {}}, "safe"),
        ({"safe": [1]}, "safe[0]"),
        ({"safe": [{"name": "t", "chain": "anvil"}]}, "safe[0].address"),
        ({"safe": [{"name": "t b", "chain": "anvil", "address": SAFE_TEXT}]}, "safe[0].name"),
        ({"safe": [{"name": "t", "chain": "main", "address": SAFE_TEXT}]}, "safe[0].chain"),
        ({"safe": [{"name": "t", "chain": "anvil", "address": "0x12"}]}, "safe[0].address"),
        (
            {"safe": [{"name": "t", "chain": "anvil", "address": SAFE_TEXT, "guard": "x"}]},
            "safe[0].guard",
        ),
        (
            {"safe": [{"name": "t", "chain": "anvil", "address": SAFE_TEXT}] * 2},
            "safe",
        ),
    ],
)
def test_config_mistakes_name_the_key(data: dict[str, object], where: str) -> None:
    with pytest.raises(SafeConfigError) as caught:
        parse_safes(data, CONFIG)
    assert caught.value.where == where


def test_the_call_only_default_comes_from_the_shipped_registry() -> None:
    (safe,) = parse_safes({"safe": [{"name": "t", "chain": "anvil", "address": SAFE_TEXT}]}, CONFIG)
    assert safe.call_only_for(V141) == CALL_ONLY
    with pytest.raises(SafeConfigError):
        safe.call_only_for(parse_safe_version("1.5.0"))


class ScriptedTransport:
    """Answers eth_call by selector with fixed return data."""

    url = "scripted"

    def __init__(self, replies: dict[str, bytes]) -> None:
        self.replies = {function_selector(k): v for k, v in replies.items()}

    def call(self, method: str, params: Sequence[object]) -> object:
        call = params[0]
        assert method == "eth_call" and isinstance(call, dict)
        return "0x" + self.replies.get(bytes.fromhex(call["data"][2:10]), b"").hex()


def safe_replies(version: str = "1.4.1", owners: int = 3, threshold: int = 2) -> dict[str, bytes]:
    return {
        "VERSION()": encode_values([parse_type("string")], [version]),
        "getOwners()": encode_values([parse_type("address[]")], [tuple(OWNERS[:owners])]),
        "getThreshold()": encode_values([parse_type("uint256")], [threshold]),
        "nonce()": encode_values([parse_type("uint256")], [4]),
    }


def test_read_safe_reads_every_field() -> None:
    info = read_safe(Node(ScriptedTransport(safe_replies())), SAFE, 1)
    assert (info.owners, info.threshold, info.nonce, str(info.version)) == (
        tuple(OWNERS[:3]),
        2,
        4,
        "1.4.1",
    )


@pytest.mark.parametrize(
    ("replies", "error", "words"),
    [
        ({}, SafeBuildError, "not a Safe"),
        ({**safe_replies(), "VERSION()": b"\x00" * 31}, MalformedReplyError, "VERSION()"),
        (safe_replies(version="0.1.0"), SafeBuildError, "before 1.0.0"),
        (safe_replies(threshold=4), SafeBuildError, "not a usable Safe"),
        (safe_replies(threshold=0), SafeBuildError, "not a usable Safe"),
        (
            {**safe_replies(), "getThreshold()": b"\x00" * 33},
            MalformedReplyError,
            "getThreshold()",
        ),
    ],
    ids=["empty", "short", "old", "threshold-above", "threshold-zero", "trailing"],
)
def test_read_safe_refusals(replies: dict[str, bytes], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_safe(Node(ScriptedTransport(replies)), SAFE, 1)
