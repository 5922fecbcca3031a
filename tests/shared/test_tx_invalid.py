"""Bad transaction input: each kind is refused with its specific error class and field."""

from __future__ import annotations

import pytest

from shared.address import Address
from shared.errors import RefusedTransactionTypeError, RLPError, TransactionError
from shared.tx import (
    MAX_DATA_BYTES,
    MAX_PAYLOAD_BYTES,
    AccessListEntry,
    DynamicFeeTransaction,
    LegacyTransaction,
    decode_transaction,
)
from shared.tx.rlp import RLPValue, encode, encode_uint

TO = b"\x35" * 20
KEY = b"\x01" * 32
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _u(number: int) -> bytes:
    return encode_uint(number)


def legacy_fields(chain_id: int = 1) -> list[RLPValue]:
    # EIP-155: [nonce, gasPrice, gas, to, value, data, chainId, 0, 0]
    return [_u(9), _u(20 * 10**9), _u(21000), TO, _u(10**18), b"", _u(chain_id), b"", b""]


def dynamic_fee_fields() -> list[RLPValue]:
    # EIP-1559: [chain_id, nonce, max_priority_fee, max_fee, gas, to, value, data, access_list]
    access_list: RLPValue = ((TO, (KEY, KEY)),)
    return [_u(1), _u(3), _u(10**9), _u(3 * 10**9), _u(50000), TO, _u(0), b"\x12", access_list]


def access_list_fields() -> list[RLPValue]:
    # EIP-2930: [chainId, nonce, gasPrice, gasLimit, to, value, data, accessList]
    return [_u(1), _u(3), _u(10**9), _u(50000), TO, _u(0), b"", ((TO, (KEY,)),)]


def legacy(fields: list[RLPValue]) -> bytes:
    return encode(tuple(fields))


def typed(type_byte: int, fields: list[RLPValue]) -> bytes:
    return bytes([type_byte]) + encode(tuple(fields))


def raw_list(items: list[bytes]) -> bytes:
    """An RLP list of already-encoded items (to place hand-made non-canonical items)."""
    payload = b"".join(items)
    assert len(payload) < 56
    return bytes([0xC0 + len(payload)]) + payload


def refused(
    error: type[Exception], sign_data: bytes, data_type: int, **kwargs: int
) -> TransactionError | RLPError:
    with pytest.raises(error) as info:
        decode_transaction(sign_data, data_type, **kwargs)
    assert isinstance(info.value, TransactionError | RLPError)
    return info.value


def test_valid_baselines_decode() -> None:
    assert isinstance(decode_transaction(legacy(legacy_fields()), 1), LegacyTransaction)
    assert isinstance(decode_transaction(typed(2, dynamic_fee_fields()), 4), DynamicFeeTransaction)
    decode_transaction(typed(1, access_list_fields()), 4)


# --- non-canonical RLP -------------------------------------------------------------


def test_single_byte_wrapped_as_0x81_refused() -> None:
    items = [encode(value) for value in legacy_fields()]
    items[0] = b"\x81\x05"  # nonce 5 must be the single byte 0x05
    error = refused(RLPError, raw_list(items), 1)
    assert error.field == "tx.nonce"
    assert error.offset == 1


def test_long_form_for_short_string_refused() -> None:
    items = [encode(value) for value in legacy_fields()]
    items[5] = b"\xb8\x03abc"  # 3 bytes of data in the long form
    error = refused(RLPError, raw_list(items), 1)
    assert error.field == "tx.data"


def test_leading_zero_in_list_length_refused() -> None:
    body = encode(tuple(legacy_fields()))[1:]
    error = refused(RLPError, b"\xf9\x00" + bytes([len(body)]) + body, 1)
    assert error.field == "tx"
    assert "leading zero" in error.reason


def test_long_form_list_for_short_length_refused() -> None:
    body = encode(tuple(legacy_fields()))[1:]
    error = refused(RLPError, b"\xf8" + bytes([len(body)]) + body, 1)
    assert error.field == "tx"


@pytest.mark.parametrize(
    ("index", "field", "value"),
    [(1, "tx.gas_price", b"\x00\x01"), (4, "tx.value", b"\x00"), (0, "tx.nonce", b"\x00\x09")],
)
def test_leading_zeros_in_integers_refused(index: int, field: str, value: bytes) -> None:
    fields = legacy_fields()
    fields[index] = value
    error = refused(RLPError, legacy(fields), 1)
    assert error.field == field
    assert "leading zero" in error.reason


def test_leading_zero_in_typed_chain_id_refused() -> None:
    fields = dynamic_fee_fields()
    fields[0] = b"\x00\x01"
    error = refused(RLPError, typed(2, fields), 4)
    assert error.field == "tx.chain_id"
    assert error.offset == 3


def test_long_form_for_short_nested_list_refused() -> None:
    fields = access_list_fields()
    items = [encode(value) for value in fields[:7]]
    # storage_keys [KEY] is a 33-byte list: short form e1, here in long form f8 21.
    keys = b"\xf8\x21" + encode(KEY)
    entry = encode_list_payload(encode(TO) + keys)
    items.append(encode_list_payload(entry))
    error = refused(RLPError, b"\x01" + encode_list_payload(b"".join(items)), 4)
    assert error.field == "tx.access_list[0].storage_keys"
    assert "short form" in error.reason


def encode_list_payload(payload: bytes) -> bytes:
    """An RLP list header for an already-encoded payload, then the payload."""
    if len(payload) < 56:
        return bytes([0xC0 + len(payload)]) + payload
    length = encode_uint(len(payload))
    return bytes([0xF7 + len(length)]) + length + payload


# --- field counts ------------------------------------------------------------------


def test_typed_too_few_fields_refused() -> None:
    error = refused(RLPError, typed(2, dynamic_fee_fields()[:-1]), 4)
    assert error.field == "tx"
    assert "too few" in error.reason


def test_typed_too_many_fields_refused() -> None:
    # A signed transaction (y_parity, r, s appended) is not an unsigned payload.
    error = refused(RLPError, typed(2, [*dynamic_fee_fields(), b"", _u(5), _u(6)]), 4)
    assert error.field == "tx"
    assert "too many" in error.reason


def test_legacy_too_few_fields_refused() -> None:
    error = refused(RLPError, legacy(legacy_fields()[:8]), 1)
    assert error.field == "tx"


def test_legacy_too_many_fields_refused() -> None:
    error = refused(RLPError, legacy([*legacy_fields(), b""]), 1)
    assert error.field == "tx"


def test_access_list_entry_with_three_items_refused() -> None:
    fields = access_list_fields()
    fields[7] = ((TO, (KEY,), b""),)
    error = refused(RLPError, typed(1, fields), 4)
    assert error.field == "tx.access_list[0]"


# --- field bounds ------------------------------------------------------------------


@pytest.mark.parametrize("length", [19, 21, 32])
def test_destination_of_wrong_length_refused(length: int) -> None:
    fields = legacy_fields()
    fields[3] = b"\x35" * length
    error = refused(TransactionError, legacy(fields), 1)
    assert error.field == "tx.to"
    assert f"{length} bytes" in error.reason


@pytest.mark.parametrize("length", [19, 21])
def test_typed_destination_of_wrong_length_refused(length: int) -> None:
    fields = dynamic_fee_fields()
    fields[5] = b"\x35" * length
    error = refused(TransactionError, typed(2, fields), 4)
    assert error.field == "tx.to"


def test_empty_destination_is_contract_creation() -> None:
    fields = dynamic_fee_fields()
    fields[5] = b""
    assert decode_transaction(typed(2, fields), 4).to is None


def test_destination_as_list_refused() -> None:
    fields = legacy_fields()
    fields[3] = (TO,)
    error = refused(RLPError, legacy(fields), 1)
    assert error.field == "tx.to"


@pytest.mark.parametrize("length", [19, 21])
def test_access_list_address_of_wrong_length_refused(length: int) -> None:
    fields = access_list_fields()
    fields[7] = ((b"\x11" * length, ()),)
    error = refused(TransactionError, typed(1, fields), 4)
    assert error.field == "tx.access_list[0].address"


@pytest.mark.parametrize("length", [0, 31, 33])
def test_storage_key_of_wrong_length_refused(length: int) -> None:
    fields = dynamic_fee_fields()
    fields[8] = ((TO, ()), (TO, (KEY, b"\x02" * length)))
    error = refused(TransactionError, typed(2, fields), 4)
    assert error.field == "tx.access_list[1].storage_keys[1]"
    assert error.offset is not None


def test_storage_key_as_list_refused() -> None:
    fields = dynamic_fee_fields()
    fields[8] = ((TO, ((KEY,),)),)
    error = refused(RLPError, typed(2, fields), 4)
    assert error.field == "tx.access_list[0].storage_keys[0]"


def test_nonce_at_eip2681_limit_refused() -> None:
    fields = legacy_fields()
    fields[0] = _u(2**64 - 1)
    error = refused(TransactionError, legacy(fields), 1)
    assert error.field == "tx.nonce"
    assert "EIP-2681" in error.reason
    fields[0] = _u(2**64 - 2)
    assert decode_transaction(legacy(fields), 1).nonce == 2**64 - 2


def test_gas_limit_of_2_pow_64_refused() -> None:
    fields = dynamic_fee_fields()
    fields[4] = _u(2**64)
    error = refused(TransactionError, typed(2, fields), 4)
    assert error.field == "tx.gas_limit"


def test_value_above_256_bits_refused() -> None:
    fields = legacy_fields()
    fields[4] = _u(2**256)
    error = refused(TransactionError, legacy(fields), 1)
    assert error.field == "tx.value"


def test_max_fee_above_256_bits_refused() -> None:
    fields = dynamic_fee_fields()
    fields[3] = _u(2**256)
    error = refused(TransactionError, typed(2, fields), 4)
    assert error.field == "tx.max_fee_per_gas"


@pytest.mark.parametrize("chain_id", [0, 2**64])
def test_chain_id_out_of_range_refused(chain_id: int) -> None:
    fields = dynamic_fee_fields()
    fields[0] = _u(chain_id)
    error = refused(TransactionError, typed(2, fields), 4)
    assert error.field == "tx.chain_id"


def test_legacy_chain_id_zero_refused() -> None:
    error = refused(TransactionError, legacy(legacy_fields(chain_id=0)), 1)
    assert error.field == "tx.chain_id"


def test_priority_fee_above_max_fee_refused() -> None:
    fields = dynamic_fee_fields()
    fields[2], fields[3] = _u(5 * 10**9), _u(4 * 10**9)
    error = refused(TransactionError, typed(2, fields), 4)
    assert error.field == "tx.max_priority_fee_per_gas"
    assert "EIP-1559" in error.reason


def test_data_at_limit_accepted_and_above_refused() -> None:
    fields = dynamic_fee_fields()
    fields[8] = ()
    fields[7] = b"\xab" * MAX_DATA_BYTES
    assert len(decode_transaction(typed(2, fields), 4).data) == MAX_DATA_BYTES
    fields[7] = b"\xab" * (MAX_DATA_BYTES + 1)
    error = refused(TransactionError, typed(2, fields), 4)
    assert error.field == "tx.data"


def test_payload_above_size_limit_refused_before_parsing() -> None:
    error = refused(TransactionError, b"\x02" + b"\x00" * MAX_PAYLOAD_BYTES, 4)
    assert error.field == "sign-data"


def test_empty_payload_refused() -> None:
    assert refused(TransactionError, b"", 4).field == "sign-data"


# --- trailing bytes and truncation -------------------------------------------------


def test_trailing_bytes_after_legacy_list_refused() -> None:
    payload = legacy(legacy_fields())
    error = refused(RLPError, payload + b"\x00", 1)
    assert error.field == "tx"
    assert error.offset == len(payload)


def test_trailing_bytes_after_typed_list_refused() -> None:
    payload = typed(2, dynamic_fee_fields())
    error = refused(RLPError, payload + b"\x80", 4)
    assert error.offset == len(payload)


def test_declared_length_beyond_input_refused() -> None:
    payload = typed(2, dynamic_fee_fields())
    error = refused(RLPError, payload[:-5], 4)
    assert error.field == "tx"
    assert "exceeds" in error.reason


# --- pre-EIP-155 -------------------------------------------------------------------


def test_pre_eip155_six_fields_refused() -> None:
    error = refused(TransactionError, legacy(legacy_fields()[:6]), 1)
    assert error.field == "tx"
    assert "pre-EIP-155" in error.reason


def test_pre_eip155_signed_v27_refused() -> None:
    fields = legacy_fields()
    fields[6:9] = [_u(27), _u(12345), _u(67890)]
    error = refused(TransactionError, legacy(fields), 1)
    assert error.field == "tx.r"
    assert "pre-EIP-155" in error.reason


def test_legacy_with_nonzero_s_refused() -> None:
    fields = legacy_fields()
    fields[8] = _u(1)
    assert refused(TransactionError, legacy(fields), 1).field == "tx.s"


# --- prefix confusion --------------------------------------------------------------


def test_data_type_1_with_typed_payload_refused() -> None:
    error = refused(TransactionError, typed(2, dynamic_fee_fields()), 1)
    assert error.field == "sign-data"
    assert "data-type 4" in error.reason


def test_data_type_4_with_legacy_list_refused() -> None:
    error = refused(TransactionError, legacy(legacy_fields()), 4)
    assert error.field == "sign-data"
    assert "legacy" in error.reason


def test_data_type_1_with_rlp_string_refused() -> None:
    error = refused(TransactionError, encode(b"\x01" * 10), 1)
    assert error.field == "sign-data"


@pytest.mark.parametrize("data_type", [1, 4])
def test_eip7702_authorization_message_prefix_refused(data_type: int) -> None:
    # EIP-7702: authorization preimage 0x05 || rlp([chain_id, address, nonce]).
    message = b"\x05" + encode((_u(1), TO, _u(0)))
    error = refused(TransactionError, message, data_type)
    assert not isinstance(error, RefusedTransactionTypeError)
    assert error.field == "sign-data"
    assert "authorization" in error.reason


@pytest.mark.parametrize("data_type", [1, 4])
def test_eip191_prefix_refused(data_type: int) -> None:
    message = b"\x19Ethereum Signed Message:\n5hello"
    error = refused(TransactionError, message, data_type)
    assert error.field == "sign-data"
    assert "EIP-191" in error.reason


@pytest.mark.parametrize("type_byte", [0x00, 0x06, 0x7E, 0x7F])
def test_unknown_type_byte_refused(type_byte: int) -> None:
    error = refused(TransactionError, typed(type_byte, dynamic_fee_fields()), 4)
    assert not isinstance(error, RefusedTransactionTypeError)
    assert error.field == "sign-data"
    assert "unknown transaction type" in error.reason


def test_rlp_string_header_as_type_byte_refused() -> None:
    error = refused(TransactionError, b"\x85hello", 4)
    assert error.field == "sign-data"


@pytest.mark.parametrize(("type_byte", "eip"), [(0x03, "EIP-4844"), (0x04, "EIP-7702")])
def test_blob_and_set_code_types_refused_by_name(type_byte: int, eip: str) -> None:
    with pytest.raises(RefusedTransactionTypeError) as info:
        decode_transaction(typed(type_byte, dynamic_fee_fields()), 4)
    assert info.value.tx_type == type_byte
    assert info.value.eip == eip
    assert eip in info.value.reason
    assert info.value.field == "sign-data"


@pytest.mark.parametrize("data_type", [2, 3, 0, 5])
def test_non_transaction_data_type_refused(data_type: int) -> None:
    error = refused(TransactionError, legacy(legacy_fields()), data_type)
    assert error.field == "data-type"


# --- chain id ----------------------------------------------------------------------


def test_chain_id_mismatch_refused_legacy() -> None:
    error = refused(TransactionError, legacy(legacy_fields(chain_id=137)), 1, chain_id=1)
    assert error.field == "tx.chain_id"
    assert "137" in error.reason


def test_chain_id_mismatch_refused_typed() -> None:
    error = refused(TransactionError, typed(2, dynamic_fee_fields()), 4, chain_id=10)
    assert error.field == "tx.chain_id"


def test_chain_id_match_accepted() -> None:
    assert decode_transaction(legacy(legacy_fields(chain_id=137)), 1, chain_id=137).chain_id == 137


# --- signatures given to signed_payload ---------------------------------------------


def test_legacy_signed_payload_refuses_non_eip155_v() -> None:
    tx = decode_transaction(legacy(legacy_fields(chain_id=137)), 1)
    for v in (27, 28, 0, 1, 137 * 2 + 37):
        with pytest.raises(TransactionError) as info:
            tx.signed_payload(v, 1, 1)
        assert info.value.field == "signature.v"
    tx.signed_payload(137 * 2 + 36, 1, 1)


def test_typed_signed_payload_refuses_v_other_than_parity() -> None:
    tx = decode_transaction(typed(2, dynamic_fee_fields()), 4)
    for v in (27, 2, 37):
        with pytest.raises(TransactionError) as info:
            tx.signed_payload(v, 1, 1)
        assert info.value.field == "signature.v"


@pytest.mark.parametrize(("r", "s", "field"), [(0, 1, "r"), (1, 0, "s"), (1, SECP256K1_N, "s")])
def test_signed_payload_refuses_out_of_range_r_s(r: int, s: int, field: str) -> None:
    tx = decode_transaction(typed(2, dynamic_fee_fields()), 4)
    with pytest.raises(TransactionError) as info:
        tx.signed_payload(0, r, s)
    assert info.value.field == f"signature.{field}"


# --- objects built by programs are checked too ------------------------------------------


def _dynamic(**changes: object) -> DynamicFeeTransaction:
    fields: dict[str, object] = {
        "chain_id": 1,
        "nonce": 0,
        "max_priority_fee_per_gas": 1,
        "max_fee_per_gas": 2,
        "gas_limit": 21000,
        "to": Address(TO),
        "value": 0,
        "data": b"",
        "access_list": (),
    }
    fields.update(changes)
    return DynamicFeeTransaction(**fields)  # type: ignore[arg-type]


def test_constructor_checks_bounds() -> None:
    with pytest.raises(TransactionError) as info:
        _dynamic(max_priority_fee_per_gas=3)
    assert info.value.field == "tx.max_priority_fee_per_gas"
    with pytest.raises(TransactionError):
        _dynamic(nonce=2**64 - 1)
    with pytest.raises(TransactionError) as info:
        _dynamic(access_list=(AccessListEntry(Address(TO), (b"\x00" * 31,)),))
    assert info.value.field == "tx.access_list[0].storage_keys[0]"


def test_constructor_refuses_wrong_python_types() -> None:
    with pytest.raises(TypeError):
        _dynamic(nonce=True)
    with pytest.raises(TypeError):
        _dynamic(data=bytearray(b"x"))
    with pytest.raises(TypeError):
        _dynamic(to=TO)


def test_max_fee_cost() -> None:
    assert _dynamic(gas_limit=21000, max_fee_per_gas=7).max_fee_cost() == 147000
    tx = decode_transaction(legacy(legacy_fields()), 1)
    assert isinstance(tx, LegacyTransaction)
    assert tx.max_fee_cost() == 21000 * 20 * 10**9
