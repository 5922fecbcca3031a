"""Plain-text rendering: at most 100 columns whatever the content, provenance on every field."""

from __future__ import annotations

import json
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.address import Address
from shared.calls import Operation, pack_transactions
from shared.erc4527 import DataType, EthBatchSignRequest, EthSignRequest, Keypath
from shared.messages import parse_typed_data
from shared.registry import AddressLabel, Registries, default_registries
from shared.review import (
    render_batch,
    render_review,
    review_batch,
    review_personal_message,
    review_request,
    review_transaction,
    review_typed_data,
)
from shared.review.render import WIDTH, text_width, wrap
from shared.tx import DynamicFeeTransaction

USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
CALL_ONLY = Address(bytes.fromhex("9641d764fc13c8b624c04430c7356c1c7c8102e2"))
SAFE = Address(bytes.fromhex("5afe" * 10))
BOB = Address(b"\xb0" * 20)
ZERO = Address(bytes(20))
EXEC = "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"
REGISTRIES = default_registries().merged(
    Registries.build(labels=[AddressLabel(BOB, "Bob " + "very long label " * 3)])
)
TYPED = load_vectors("eip712")["typed_data"]


def calldata(signature: str, *args: Any) -> bytes:
    """Call data encoded by eth_abi, independently of shared.abi."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = types.split(",") if types else []
    converted = [a.checksummed() if isinstance(a, Address) else a for a in args]
    return function_signature_to_4byte_selector(signature) + abi_encode(type_list, converted)


def safe_batch_tx() -> DynamicFeeTransaction:
    transfer = calldata("transfer(address,uint256)", BOB, 2**256 - 1)
    packed = pack_transactions([(Operation.CALL, USDC, 0, transfer)] * 2)
    batch = calldata("multiSend(bytes)", packed)
    data = calldata(EXEC, CALL_ONLY, 0, batch, 1, 0, 0, 7, ZERO, BOB, b"\x11" * 650)
    return DynamicFeeTransaction(
        chain_id=1,
        nonce=1,
        gas_limit=10**6,
        to=SAFE,
        value=0,
        data=data,
        max_priority_fee_per_gas=1,
        max_fee_per_gas=2**200,
        access_list=(),
    )


def assert_fits(text: str) -> None:
    for line in text.splitlines():
        assert text_width(line) <= WIDTH, line


def test_safe_batch_renders_within_width_with_every_part() -> None:
    text = render_review(review_transaction(safe_batch_tx(), REGISTRIES))
    assert_fits(text)
    assert text.index("WARNINGS") < text.index("-- transaction --")
    for part in ("[decoded]", "[computed]", "[registry]", "[address book]", "PAYMENTS (2)"):
        assert part in text
    assert "safe-gas-refund" in text
    assert BOB.grouped() in text


def test_request_fields_are_tagged_unverified() -> None:
    request = EthSignRequest(
        b"hello",
        DataType.PERSONAL_MESSAGE,
        Keypath.parse("m/44'/60'/0'/0/0"),
        origin="dapp \u200b" + "x" * 200,
    )
    text = render_review(review_request(request, REGISTRIES))
    assert_fits(text)
    origin = next(line for line in text.splitlines() if line.startswith("  Origin"))
    assert origin.split()[1] == "dapp"
    assert "\\u200bxxxx" in text
    assert "[request, unverified]" in text
    assert "unverified-origin" in text


def test_typed_data_renders_within_width() -> None:
    for name in sorted(TYPED):
        document = json.dumps(TYPED[name]["typed_data"]).encode()
        assert_fits(render_review(review_typed_data(parse_typed_data(document), REGISTRIES)))


@given(st.text(max_size=600))
def test_any_message_text_fits(message: str) -> None:
    encoded = message.encode("utf-8", "surrogatepass")
    assert_fits(render_review(review_personal_message(encoded, REGISTRIES)))


@given(st.text(max_size=300), st.integers(min_value=4, max_value=120))
def test_wrap_keeps_every_visible_character(text: str, width: int) -> None:
    lines = wrap(text, width)
    assert all(text_width(line) <= width for line in lines)
    expanded = text.replace("\t", "    ")
    assert "".join(lines).replace(" ", "") == expanded.replace("\n", "").replace(" ", "")


def test_batch_renders_summary_and_items() -> None:
    requests = tuple(
        EthSignRequest(
            DynamicFeeTransaction(
                chain_id=1,
                nonce=n,
                gas_limit=21_000,
                to=BOB,
                value=10**18,
                data=b"",
                max_priority_fee_per_gas=1,
                max_fee_per_gas=10**9,
                access_list=(),
            ).unsigned_payload(),
            DataType.TYPED_TRANSACTION,
            Keypath.parse("m/44'/60'/0'/0/0"),
        )
        for n in (0, 1, 1)
    )
    text = render_batch(review_batch(EthBatchSignRequest(requests), REGISTRIES))
    assert_fits(text)
    assert "== Batch of 3 requests ==" in text
    assert "3 ETH (3 payments)" in text
    assert "3 payments, 3 ETH" in text
    assert "0.000063 ETH (3 txs)" in text
    assert "duplicate-nonce x1" in text
    assert text.count("--- requests[") == 3
    short = render_batch(review_batch(EthBatchSignRequest(requests), REGISTRIES), details=False)
    assert "--- requests[" not in short
