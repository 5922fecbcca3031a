"""review_request: dispatch by data type, unverified request fields, refusals, and properties."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.address import Address
from shared.calls import Operation, pack_transactions
from shared.erc4527 import DataType, EthSignRequest, Keypath, RequestId
from shared.errors import (
    CalldataError,
    DecodeError,
    RefusedTransactionTypeError,
    RLPError,
    TransactionError,
    TypedDataError,
)
from shared.registry import default_registries
from shared.review import (
    Review,
    ReviewKind,
    Severity,
    Source,
    WarningCode,
    review_request,
)
from shared.review.request import with_request_fields
from shared.tx import DynamicFeeTransaction, LegacyTransaction

W = WarningCode
REGISTRIES = default_registries()
TYPED = load_vectors("eip712")["typed_data"]
PATH = Keypath.parse("m/44'/60'/0'/0/0", source_fingerprint=0x12345678)
USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
CALL_ONLY = Address(bytes.fromhex("9641d764fc13c8b624c04430c7356c1c7c8102e2"))
BOB = Address(b"\xb0" * 20)
SAFE = Address(bytes.fromhex("5afe" * 10))
ZERO = Address(bytes(20))
EXEC = "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"


def calldata(signature: str, *args: Any) -> bytes:
    """Call data encoded by eth_abi, independently of shared.abi."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = types.split(",") if types else []
    converted = [a.checksummed() if isinstance(a, Address) else a for a in args]
    return function_signature_to_4byte_selector(signature) + abi_encode(type_list, converted)


def eip1559(to: Address, data: bytes = b"", value: int = 0, chain_id: int = 1) -> bytes:
    return DynamicFeeTransaction(
        chain_id=chain_id,
        nonce=1,
        gas_limit=200_000,
        to=to,
        value=value,
        data=data,
        max_priority_fee_per_gas=1,
        max_fee_per_gas=10**10,
        access_list=(),
    ).unsigned_payload()


def request(
    sign_data: bytes,
    data_type: DataType,
    *,
    chain_id: int | None = 1,
    origin: str | None = None,
) -> EthSignRequest:
    return EthSignRequest(
        sign_data,
        data_type,
        PATH,
        RequestId(bytes(range(16))),
        chain_id,
        Address(b"\xa1" * 20),
        origin,
    )


TRANSFER = eip1559(USDC, calldata("transfer(address,uint256)", BOB, 10**6))
LEGACY = LegacyTransaction(
    chain_id=1, nonce=0, gas_price=10**9, gas_limit=21_000, to=BOB, value=1, data=b""
).unsigned_payload()
BATCH = calldata(
    "multiSend(bytes)",
    pack_transactions([(Operation.CALL, USDC, 0, calldata("transfer(address,uint256)", BOB, 1))]),
)
SAFE_EXEC = eip1559(SAFE, calldata(EXEC, CALL_ONLY, 0, BATCH, 1, 0, 0, 0, ZERO, ZERO, b"\x11" * 65))
PERMIT_JSON = json.dumps(TYPED["permit_usdc"]["typed_data"]).encode()
SAFE_TX_JSON = json.dumps(TYPED["safe_tx_gnosis_chain"]["typed_data"]).encode()


@pytest.mark.parametrize(
    ("sign_data", "data_type", "kind"),
    [
        (LEGACY, DataType.TRANSACTION, ReviewKind.TRANSACTION),
        (TRANSFER, DataType.TYPED_TRANSACTION, ReviewKind.TRANSACTION),
        (SAFE_EXEC, DataType.TYPED_TRANSACTION, ReviewKind.TRANSACTION),
        (PERMIT_JSON, DataType.TYPED_DATA, ReviewKind.PERMIT),
        (b"hello", DataType.PERSONAL_MESSAGE, ReviewKind.PERSONAL_MESSAGE),
    ],
    ids=["legacy", "eip-1559", "safe exec", "permit", "personal"],
)
def test_dispatch_on_data_type(sign_data: bytes, data_type: DataType, kind: ReviewKind) -> None:
    review = review_request(request(sign_data, data_type), REGISTRIES)
    assert review.kind is kind
    requested = [f for f in review.fields if f.source is Source.REQUEST]
    assert [f.label for f in requested] == ["Request id", "Derivation path", "Account", "Chain id"]
    assert requested[1].value == "m/44'/60'/0'/0/0 (master fingerprint 12345678)"


def test_origin_is_shown_escaped_and_unverified() -> None:
    review = review_request(
        request(TRANSFER, DataType.TYPED_TRANSACTION, origin="Meta\u200bMask"), REGISTRIES
    )
    origin = next(f for f in review.fields if f.label == "Origin")
    assert (origin.value, origin.source) == ("Meta\\u200bMask", Source.REQUEST)
    assert {W.UNVERIFIED_ORIGIN, W.NON_PRINTABLE_TEXT} <= review.codes()
    info = next(w for w in review.warnings if w.code is W.UNVERIFIED_ORIGIN)
    assert info.severity is Severity.INFO


@pytest.mark.parametrize(
    ("sign_data", "data_type"),
    [(TRANSFER, DataType.TYPED_TRANSACTION), (PERMIT_JSON, DataType.TYPED_DATA)],
    ids=["transaction", "typed data"],
)
def test_chain_mismatch_is_danger(sign_data: bytes, data_type: DataType) -> None:
    review = review_request(request(sign_data, data_type, chain_id=5), REGISTRIES)
    assert review.warnings[0].code is W.CHAIN_MISMATCH
    assert review.chain_id == 1


def test_personal_message_has_no_chain_to_mismatch() -> None:
    review = review_request(request(b"hello", DataType.PERSONAL_MESSAGE, chain_id=5), REGISTRIES)
    assert W.CHAIN_MISMATCH not in review.codes()


def test_safe_tx_domain_chain_is_compared() -> None:
    review = review_request(request(SAFE_TX_JSON, DataType.TYPED_DATA, chain_id=1), REGISTRIES)
    assert W.CHAIN_MISMATCH in review.codes()
    same = review_request(request(SAFE_TX_JSON, DataType.TYPED_DATA, chain_id=100), REGISTRIES)
    assert W.CHAIN_MISMATCH not in same.codes()


# --- refusals -----------------------------------------------------------------------------


def test_blob_transaction_is_refused_by_type() -> None:
    with pytest.raises(RefusedTransactionTypeError) as info:
        review_request(request(b"\x03\xc0", DataType.TYPED_TRANSACTION), REGISTRIES)
    assert (info.value.field, info.value.eip) == ("sign-data", "EIP-4844")


def test_legacy_payload_sent_as_typed_is_refused() -> None:
    with pytest.raises(TransactionError) as info:
        review_request(request(LEGACY, DataType.TYPED_TRANSACTION), REGISTRIES)
    assert info.value.field == "sign-data"


def test_truncated_transaction_is_refused() -> None:
    with pytest.raises(RLPError):
        review_request(request(TRANSFER[:-3], DataType.TYPED_TRANSACTION), REGISTRIES)


def test_known_selector_with_bad_arguments_is_refused() -> None:
    bad = calldata("transfer(address,uint256)", BOB, 1)[:-1]
    with pytest.raises(CalldataError) as info:
        review_request(request(eip1559(USDC, bad), DataType.TYPED_TRANSACTION), REGISTRIES)
    assert info.value.field.startswith("transfer")


def test_safe_tx_with_malformed_inner_call_is_refused() -> None:
    document = json.loads(SAFE_TX_JSON)
    document["message"]["data"] = "0xa9059cbb00"
    with pytest.raises(CalldataError):
        review_request(
            request(json.dumps(document).encode(), DataType.TYPED_DATA, chain_id=100), REGISTRIES
        )


def test_malformed_typed_data_is_refused() -> None:
    with pytest.raises(TypedDataError) as info:
        review_request(request(b'{"types": {}}', DataType.TYPED_DATA), REGISTRIES)
    assert info.value.field == "primaryType"


# --- properties ---------------------------------------------------------------------------

VALID = [
    (LEGACY, DataType.TRANSACTION),
    (TRANSFER, DataType.TYPED_TRANSACTION),
    (SAFE_EXEC, DataType.TYPED_TRANSACTION),
    (PERMIT_JSON, DataType.TYPED_DATA),
    (SAFE_TX_JSON, DataType.TYPED_DATA),
    (json.dumps(TYPED["nested_structs_and_arrays"]["typed_data"]).encode(), DataType.TYPED_DATA),
    (b"hello \xe2\x80\xae world", DataType.PERSONAL_MESSAGE),
]


@st.composite
def mutated_requests(draw: st.DrawFn) -> EthSignRequest:
    sign_data, data_type = draw(st.sampled_from(VALID))
    data = bytearray(sign_data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "set" and data:
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data.insert(position, draw(st.integers(min_value=0, max_value=255)))
        elif kind == "delete" and data:
            del data[position]
        else:
            del data[position:]
    if draw(st.booleans()):
        data_type = draw(st.sampled_from(list(DataType)))
    chain_id = draw(st.none() | st.integers(min_value=0, max_value=2**64 - 1))
    return request(bytes(data), data_type, chain_id=chain_id)


@given(mutated_requests())
def test_mutated_requests_review_or_raise_only_decode_error(req: EthSignRequest) -> None:
    try:
        review = review_request(req, REGISTRIES)
    except DecodeError:
        return
    assert isinstance(review, Review)


@given(mutated_requests())
def test_an_accepted_transaction_is_hashed_as_its_re_encoding(req: EthSignRequest) -> None:
    # The review hashes the exact sign-data; that equals hashing the re-encoded transaction
    # only because the decoder accepts nothing but the canonical encoding.
    try:
        review = review_request(req, REGISTRIES)
    except DecodeError:
        return
    transaction = review.subject.transaction
    if transaction is not None:
        assert transaction.unsigned_payload() == req.sign_data
        assert review.signing_hash == transaction.signing_hash()


@given(mutated_requests())
def test_equal_inputs_give_equal_reviews(req: EthSignRequest) -> None:
    try:
        first = review_request(req, REGISTRIES)
    except DecodeError:
        return
    again = EthSignRequest.from_cbor(req.to_cbor())
    assert review_request(again, default_registries()) == first


@given(st.binary(max_size=200), st.sampled_from(list(DataType)))
def test_random_sign_data_raises_only_decode_error(data: bytes, data_type: DataType) -> None:
    with contextlib.suppress(DecodeError):
        review_request(request(data, data_type), REGISTRIES)


@given(mutated_requests(), st.data())
def test_mutated_request_cbor_decodes_and_reviews_or_raises_decode_error(
    req: EthSignRequest, data: st.DataObject
) -> None:
    cbor = bytearray(req.to_cbor())
    position = data.draw(st.integers(min_value=0, max_value=len(cbor) - 1))
    cbor[position] = data.draw(st.integers(min_value=0, max_value=255))
    try:
        review_request(EthSignRequest.from_cbor(bytes(cbor)), REGISTRIES)
    except DecodeError:
        return


def test_with_request_fields_carries_every_review_field() -> None:
    # with_request_fields builds its copy field by field (cheaper than dataclasses.replace):
    # a field added to Review and not passed on there would silently take its default. Each
    # field here holds its own sentinel, so any field not carried over fails by name.
    values: dict[str, Any] = {field.name: object() for field in dataclasses.fields(Review)}
    # The fields the function reads: the chain for its draft, the tuples it extends.
    values.update(chain_id=1, fields=(), warnings=())
    review = Review(**values)
    req = request(b"hello", DataType.PERSONAL_MESSAGE, origin="dapp")
    copied = with_request_fields(review, req, REGISTRIES, None)
    for name, value in values.items():
        if name not in ("fields", "warnings"):
            assert getattr(copied, name) is value, name
    assert copied.fields and all(field.source is Source.REQUEST for field in copied.fields)
    assert copied.warnings
