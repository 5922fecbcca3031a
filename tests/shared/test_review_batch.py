"""Batch reviews: totals per asset, counts per destination, fee caps, duplicate nonces, refusals."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from vectorfiles import load_vectors

from shared.address import Address
from shared.erc4527 import DataType, EthBatchSignRequest, EthSignRequest, Keypath, RequestId
from shared.errors import CalldataError, RefusedTransactionTypeError
from shared.registry import default_registries
from shared.review import WarningCode, review_batch
from shared.tx import DynamicFeeTransaction

W = WarningCode
REGISTRIES = default_registries()
PATH = Keypath.parse("m/44'/60'/0'/0/0")
USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
MYSTERY = Address(b"\x77" * 20)
DESTINATIONS = [Address(bytes([0x10 + i]) * 20) for i in range(7)]
GAS_LIMIT = 90_000
MAX_FEE = 35 * 10**9


def transfer(to: Address, amount: int) -> bytes:
    selector = function_signature_to_4byte_selector("transfer(address,uint256)")
    return selector + abi_encode(["address", "uint256"], [to.checksummed(), amount])


def eip1559(nonce: int, to: Address, value: int = 0, data: bytes = b"") -> bytes:
    return DynamicFeeTransaction(
        chain_id=1,
        nonce=nonce,
        gas_limit=GAS_LIMIT,
        to=to,
        value=value,
        data=data,
        max_priority_fee_per_gas=10**9,
        max_fee_per_gas=MAX_FEE,
        access_list=(),
    ).unsigned_payload()


def sign_request(index: int, sign_data: bytes, data_type: DataType) -> EthSignRequest:
    return EthSignRequest(
        sign_data, data_type, PATH, RequestId(index.to_bytes(16, "big")), chain_id=1
    )


def withdrawal(index: int) -> tuple[bytes, str, Address, int]:
    """Request ``index`` of the batch: ETH, USDC and an unknown token in turn."""
    destination = DESTINATIONS[index % len(DESTINATIONS)]
    if index % 3 == 0:
        amount = (index + 1) * 10**15
        return eip1559(index, destination, value=amount), "ETH", destination, amount
    if index % 3 == 1:
        amount = (index + 1) * 10**6
        return eip1559(index, USDC, data=transfer(destination, amount)), "USDC", destination, amount
    amount = index + 1
    return eip1559(index, MYSTERY, data=transfer(destination, amount)), "?", destination, amount


def test_batch_of_100_eip1559_requests() -> None:
    built = [withdrawal(i) for i in range(100)]
    batch = EthBatchSignRequest(
        tuple(
            sign_request(i, data, DataType.TYPED_TRANSACTION) for i, (data, *_) in enumerate(built)
        )
    )
    review = review_batch(batch, REGISTRIES)
    assert len(review.items) == 100

    expected_totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    expected_destinations: Counter[tuple[Address, str]] = Counter()
    expected_sums: dict[tuple[Address, str], int] = defaultdict(int)
    for _, symbol, destination, amount in built:
        expected_totals[symbol][0] += amount
        expected_totals[symbol][1] += 1
        expected_destinations[(destination, symbol)] += 1
        expected_sums[(destination, symbol)] += amount
    totals = {t.asset.symbol: [t.amount, t.count] for t in review.totals}
    assert totals == dict(expected_totals)
    assert [t.asset.symbol for t in review.totals] == ["ETH", "?", "USDC"]
    unknown = next(t.asset for t in review.totals if t.asset.symbol == "?")
    assert (unknown.token, unknown.known, unknown.decimals) == (MYSTERY, False, None)

    counts = {(d.destination, d.asset.symbol): d.count for d in review.destinations}
    assert counts == dict(expected_destinations)
    sums = {(d.destination, d.asset.symbol): d.amount for d in review.destinations}
    assert sums == dict(expected_sums)

    (fee,) = review.fee_caps
    assert (fee.asset.symbol, fee.amount, fee.count) == ("ETH", 100 * GAS_LIMIT * MAX_FEE, 100)

    unknown_token = [w for w in review.warnings if w.code is W.UNKNOWN_TOKEN]
    assert len(unknown_token) == 33
    assert unknown_token[0].path == "requests[2].transfer"
    assert review.codes() == {W.UNKNOWN_TOKEN}


def test_duplicate_nonce_is_flagged() -> None:
    first = sign_request(0, eip1559(5, DESTINATIONS[0], value=1), DataType.TYPED_TRANSACTION)
    second = sign_request(1, eip1559(5, DESTINATIONS[1], value=2), DataType.TYPED_TRANSACTION)
    review = review_batch(EthBatchSignRequest((first, second)), REGISTRIES)
    (warning,) = review.warnings
    assert (warning.code, warning.path) == (W.DUPLICATE_NONCE, "requests[1]")
    assert "requests[0]" in warning.message


def test_duplicate_safe_nonce_is_flagged() -> None:
    document = load_vectors("eip712")["typed_data"]["safe_tx_gnosis_chain"]["typed_data"]
    data = json.dumps(document).encode()
    requests = tuple(
        EthSignRequest(data, DataType.TYPED_DATA, PATH, RequestId(bytes([i]) * 16), chain_id=100)
        for i in range(2)
    )
    review = review_batch(EthBatchSignRequest(requests), REGISTRIES)
    duplicates = [w for w in review.warnings if w.code is W.DUPLICATE_NONCE]
    assert [w.path for w in duplicates] == ["requests[1]"]
    assert "Safe nonce 5" in duplicates[0].message


def test_a_refused_request_refuses_the_batch_and_is_named() -> None:
    good = sign_request(0, eip1559(0, DESTINATIONS[0], value=1), DataType.TYPED_TRANSACTION)
    blob = sign_request(1, b"\x03\xc0", DataType.TYPED_TRANSACTION)
    with pytest.raises(RefusedTransactionTypeError) as info:
        review_batch(EthBatchSignRequest((good, blob)), REGISTRIES)
    assert (info.value.field, info.value.tx_type) == ("requests[1].sign-data", 3)


def test_malformed_calldata_in_a_batch_names_the_request() -> None:
    bad = eip1559(0, USDC, data=transfer(DESTINATIONS[0], 1)[:-2])
    with pytest.raises(CalldataError) as info:
        review_batch(
            EthBatchSignRequest((sign_request(0, bad, DataType.TYPED_TRANSACTION),)), REGISTRIES
        )
    assert info.value.field.startswith("requests[0].transfer")


def test_item_warnings_keep_their_request_path() -> None:
    data: Any = eip1559(0, DESTINATIONS[0], value=1)
    message = sign_request(1, b"a" * 32, DataType.PERSONAL_MESSAGE)
    review = review_batch(
        EthBatchSignRequest((sign_request(0, data, DataType.TYPED_TRANSACTION), message)),
        REGISTRIES,
    )
    (warning,) = review.warnings
    assert (warning.code, warning.path) == (W.MESSAGE_IS_HASH, "requests[1].message")
    assert review.fee_caps[0].count == 1
