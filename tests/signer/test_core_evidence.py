"""The review digest the core records, the ledger's fee-neutral payload and the limits store's
spend id: each equals the computation its docstring defines, written out the long way."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address
from shared.review import (
    Asset,
    AssetTotal,
    Payment,
    Review,
    ReviewField,
    ReviewKind,
    ReviewWarning,
    Source,
    Subject,
)
from shared.review.warnings import Severity, WarningCode
from shared.tx import (
    AccessListEntry,
    AccessListTransaction,
    DynamicFeeTransaction,
    LegacyTransaction,
    Transaction,
)
from signer.evidence import review_digest
from signer.ledger import LedgerEntry, NonceKind
from signer.nonces import fee_neutral_payload, spend_id

TOKEN = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
DESTINATION = Address(bytes.fromhex("a0ee7a142d267c1f36714e4a8f75612f20a79720"))
SAFE = Address(bytes(range(20)))


def documented_digest(review: Review) -> bytes:
    """signer/evidence.py's docstring, literally: lists, ``.value`` and ``.name``."""

    def address(value: Address | None) -> str | None:
        return None if value is None else "0x" + value.raw.hex()

    def asset(value: Asset) -> list[Any]:
        return [value.chain_id, address(value.token), value.symbol, value.decimals, value.known]

    content = [
        review.kind.value,
        review.title,
        review.chain_id,
        review.signing_hash.hex(),
        [
            [
                f.section,
                f.label,
                f.value,
                f.source.value,
                f.note,
                None if f.note_source is None else f.note_source.value,
            ]
            for f in review.fields
        ],
        [
            [address(p.destination), p.label, asset(p.asset), p.amount, p.path, address(p.sender)]
            for p in review.payments
        ],
        [[asset(t.asset), t.amount, t.count] for t in review.totals],
        review.fee_cap_wei,
        [[w.code.value, w.severity.name, w.message, w.path] for w in review.warnings],
    ]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).digest()


USDC = Asset(1, TOKEN, "USDC", 6, True)
ETH = Asset(1, None, "ETH", 18, True)
UNKNOWN = Asset(None, SAFE, "?", None, False)

REVIEWS = [
    Review(
        kind=ReviewKind.TRANSACTION,
        title="EIP-1559 transaction: ERC-20 transfer",
        chain_id=1,
        signing_hash=bytes(range(32)),
        fields=(
            ReviewField("transaction", "Chain", "1", Source.DECODED, "Ethereum", Source.REGISTRY),
            ReviewField("call", "To", "0xa0Ee 7A14", Source.DECODED),
            ReviewField("request", "Origin", "caf\u00e9 \u2713", Source.REQUEST),
        ),
        payments=(
            Payment(DESTINATION, "Hot wallet", USDC, 10**6, "transfer"),
            Payment(None, None, ETH, 0, "value", SAFE),
        ),
        totals=(AssetTotal(USDC, 10**6, 1), AssetTotal(ETH, 0, 1)),
        fee_cap_wei=21000 * 30 * 10**9,
        warnings=(
            ReviewWarning(WarningCode.UNKNOWN_TOKEN, Severity.WARNING, 'a "quoted" token', "x"),
            ReviewWarning(WarningCode.UNVERIFIED_ORIGIN, Severity.INFO, "origin"),
        ),
        subject=Subject(),
    ),
    Review(
        kind=ReviewKind.SAFE_TX,
        title="SafeTx",
        chain_id=None,
        signing_hash=bytes(32),
        fields=(),
        payments=(Payment(SAFE, None, UNKNOWN, 2**255, "multiSend[1]", SAFE),),
        totals=(),
        fee_cap_wei=None,
        warnings=(),
        subject=Subject(),
    ),
]


@pytest.mark.parametrize("review", REVIEWS, ids=["erc20-with-warnings", "safe-without-chain"])
def test_the_review_digest_is_the_documented_one(review: Review) -> None:
    assert review_digest(review) == documented_digest(review)


def fee_neutral_copy(transaction: Transaction) -> bytes:
    """The payload of a copy of ``transaction`` with its fee fields set to zero."""
    if isinstance(transaction, DynamicFeeTransaction):
        zeroed: Transaction = dataclasses.replace(
            transaction, max_fee_per_gas=0, max_priority_fee_per_gas=0
        )
    else:
        zeroed = dataclasses.replace(transaction, gas_price=0)
    return zeroed.unsigned_payload()


uints = st.integers(min_value=0, max_value=2**256 - 1)
nonces = st.integers(min_value=0, max_value=2**64 - 2)
chains = st.integers(min_value=1, max_value=2**64 - 1)
destinations = st.none() | st.just(DESTINATION)
datas = st.binary(max_size=80)
access_lists = st.lists(
    st.builds(
        AccessListEntry,
        st.just(TOKEN),
        st.lists(st.binary(min_size=32, max_size=32), max_size=2).map(tuple),
    ),
    max_size=2,
).map(tuple)


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    kind = draw(st.sampled_from(["legacy", "2930", "1559"]))
    common: dict[str, Any] = {
        "chain_id": draw(chains),
        "nonce": draw(nonces),
        "gas_limit": draw(st.integers(min_value=0, max_value=2**64 - 1)),
        "to": draw(destinations),
        "value": draw(uints),
        "data": draw(datas),
    }
    if kind == "legacy":
        return LegacyTransaction(gas_price=draw(uints), **common)
    if kind == "2930":
        return AccessListTransaction(
            gas_price=draw(uints), access_list=draw(access_lists), **common
        )
    priority = draw(uints)
    return DynamicFeeTransaction(
        max_priority_fee_per_gas=priority,
        max_fee_per_gas=draw(st.integers(min_value=priority, max_value=2**256 - 1)),
        access_list=draw(access_lists),
        **common,
    )


@given(transactions())
def test_the_fee_neutral_payload_is_that_of_a_zero_fee_copy(transaction: Transaction) -> None:
    expected = fee_neutral_copy(transaction)
    assert fee_neutral_payload(transaction) == expected
    # As the core calls it: spliced into the exact unsigned bytes it decoded.
    assert fee_neutral_payload(transaction, transaction.unsigned_payload()) == expected


def _dynamic_fee(data: bytes, fee: int) -> DynamicFeeTransaction:
    return DynamicFeeTransaction(
        chain_id=1,
        nonce=0,
        max_priority_fee_per_gas=fee,
        max_fee_per_gas=fee,
        gas_limit=21000,
        to=DESTINATION,
        value=0,
        data=data,
        access_list=(),
    )


@pytest.mark.parametrize(
    ("data", "fee", "before", "after"),
    [
        # Zero fees make a 31-byte list (short header 0xc0 + 31); two 32-byte fees add 64 bytes,
        # a 95-byte list with the long header 0xf8 0x5f: zeroing them turns it short again...
        (b"", 2**256 - 1, 0xF8, 0xC0 + 31),
        # ...with 62 bytes of data the zero-fee list is 93 bytes: both headers are long...
        (bytes(62), 2**256 - 1, 0xF8, 0xF8),
        # ...and fees already zero leave the payload as it is.
        (b"", 0, 0xC0 + 31, 0xC0 + 31),
    ],
    ids=["long-to-short", "long-to-long", "zero-fees"],
)
def test_the_fee_neutral_payload_rewrites_the_list_header(
    data: bytes, fee: int, before: int, after: int
) -> None:
    transaction = _dynamic_fee(data, fee)
    payload = transaction.unsigned_payload()
    neutral = fee_neutral_payload(transaction, payload)
    assert (payload[1], neutral[1]) == (before, after)
    assert neutral == fee_neutral_copy(transaction)


def documented_spend_id(entry: LedgerEntry | None, digest: bytes, signer: bytes) -> bytes:
    """signer/nonces.py's spend_id docstring, literally."""
    domain = b"coldsign spend id v1"
    if entry is None:
        return hashlib.sha256(domain + b"\x01" + signer + digest).digest()
    preimage = (
        domain
        + b"\x00"
        + int(entry.kind).to_bytes(1, "big")
        + entry.chain_id.to_bytes(32, "big")
        + entry.account
        + entry.nonce.to_bytes(32, "big")
        + entry.fee_neutral_digest
    )
    return hashlib.sha256(preimage).digest()


@st.composite
def ledger_entries(draw: st.DrawFn) -> LedgerEntry:
    kind = draw(st.sampled_from(NonceKind))
    limit = 2**64 - 1 if kind is NonceKind.ACCOUNT else 2**256 - 1
    return LedgerEntry(
        kind=kind,
        chain_id=draw(st.integers(min_value=1, max_value=2**256 - 1)),
        account=draw(st.binary(min_size=20, max_size=20)),
        nonce=draw(st.integers(min_value=0, max_value=limit)),
        payload_digest=draw(st.binary(min_size=32, max_size=32)),
        fee_neutral_digest=draw(st.binary(min_size=32, max_size=32)),
        max_fee=draw(uints),
        priority_fee=draw(uints),
    )


@given(
    st.none() | ledger_entries(),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=20, max_size=20),
)
def test_the_spend_id_is_the_documented_one(
    entry: LedgerEntry | None, digest: bytes, signer: bytes
) -> None:
    assert spend_id(entry, digest, signer) == documented_spend_id(entry, digest, signer)


def test_spend_ids_stay_what_the_limits_store_already_holds() -> None:
    # Ids the store recorded before: computed by the first implementation of spend_id.
    account = LedgerEntry(
        NonceKind.ACCOUNT, 2**64 + 5, bytes(range(20)), 7, bytes(32), bytes(range(32)), 3, 2
    )
    safe = dataclasses.replace(account, kind=NonceKind.SAFE, nonce=2**255 + 3)
    assert [
        spend_id(account, bytes(32), bytes(20)).hex(),
        spend_id(safe, bytes(32), bytes(20)).hex(),
        spend_id(None, bytes(range(32)), bytes(range(20))).hex(),
    ] == [
        "7387bd0051f28352f4cd17d87addb51970034dd7a50419ce83983c78e976c263",
        "a406b1e76980e551e8063836001e0ef68a04c76a6a89832c24c45b3c59d0cff3",
        "9cffd479276ab860cbb3a2a9736ff20351be007b5471e44b1002e2dbdc628e94",
    ]
