"""shared.erc4527 refuses each kind of malformed message with its own error and field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.cbor import CborKey, CborValue, Tag, encode
from shared.erc4527 import (
    MAX_BATCH,
    MAX_SIGN_DATA,
    MAX_TEXT_BYTES,
    CryptoAccount,
    DataType,
    EthBatchSignature,
    EthBatchSignRequest,
    EthSignature,
    EthSignRequest,
    HDKey,
    Keypath,
    PathComponent,
    RequestId,
    decode_ur,
)
from shared.errors import CborError, CborLimitError, DecodeError, SchemaError, URTypeError
from shared.ur import UR

UUID = bytes.fromhex("9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d")
PATH: dict[CborKey, CborValue] = {
    1: [44, True, 60, True, 0, True, 0, False, 1, False],
    2: 0x12345678,
}
# Keystone's published hdkey (bc-ur-and-erc4527.json "keystone.hdkey").
PUBKEY = bytes.fromhex("02eae4b876a8696134b868f88cc2f51f715f2dbedb7446b8e6edf3d4541c4eb67b")
CHAIN_CODE = bytes.fromhex("d882718b7a42806803eeb17f7483f20620611adb88fc943c898dc5aba94c2819")
SIGNATURE = bytes(range(1, 65)) + b"\x25"


def sign_request(**changes: CborValue) -> dict[CborKey, CborValue]:
    """A valid eth-sign-request map; ``k<n>=value`` sets key n, ``k<n>=None`` removes it."""
    entries: dict[CborKey, CborValue] = {
        1: Tag(37, UUID),
        2: bytes.fromhex("02e60180808080949999999999999999999999999999999999999999830f424080c0"),
        3: 4,
        4: 1,
        5: Tag(304, dict(PATH)),
        6: bytes(20),
        7: "coldsign",
    }
    return _apply(entries, changes)


def signature(**changes: CborValue) -> dict[CborKey, CborValue]:
    """A valid eth-signature map, changed as :func:`sign_request`."""
    return _apply({1: Tag(37, UUID), 2: SIGNATURE, 3: "coldsign"}, changes)


def hdkey(**changes: CborValue) -> dict[CborKey, CborValue]:
    """A valid crypto-hdkey map at m/44'/60'/0', changed as :func:`sign_request`."""
    entries: dict[CborKey, CborValue] = {
        3: PUBKEY,
        4: CHAIN_CODE,
        6: Tag(304, {1: [44, True, 60, True, 0, True], 2: 0xE9181CF3}),
        8: 0xD32E4508,
    }
    return _apply(entries, changes)


def _apply(
    entries: dict[CborKey, CborValue], changes: dict[str, CborValue]
) -> dict[CborKey, CborValue]:
    for name, value in changes.items():
        key = int(name.removeprefix("k"))
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value
    return entries


def refused(
    decoder: Callable[[bytes], object], value: Any, error: type[DecodeError], field: str
) -> DecodeError:
    """Decode ``encode(value)`` expecting exactly ``error`` at ``field``."""
    with pytest.raises(error) as caught:
        decoder(encode(value))
    assert type(caught.value) is error, caught.value
    assert caught.value.field == field, caught.value
    return caught.value


def test_the_base_messages_are_valid() -> None:
    assert EthSignRequest.from_cbor(encode(sign_request())).data_type is DataType.TYPED_TRANSACTION
    assert EthSignature.from_cbor(encode(signature())).v == 0x25
    assert HDKey.from_cbor(encode(hdkey())).key == PUBKEY


# --- unknown and missing keys ---------------------------------------------------------


def test_unknown_key_in_sign_request() -> None:
    refused(EthSignRequest.from_cbor, sign_request(k9=1), SchemaError, "eth-sign-request.9")


def test_text_key_in_sign_request() -> None:
    value = {**sign_request(), "1": 1}
    refused(EthSignRequest.from_cbor, value, SchemaError, "eth-sign-request.'1'")


def test_unknown_key_in_keypath() -> None:
    path = Tag(304, {**PATH, 4: 1})
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=path),
        SchemaError,
        "eth-sign-request.derivation-path.4",
    )


def test_unknown_key_in_hdkey() -> None:
    refused(HDKey.from_cbor, hdkey(k11="x"), SchemaError, "crypto-hdkey.11")


@pytest.mark.parametrize(
    ("key", "name"), [(2, "sign-data"), (3, "data-type"), (5, "derivation-path")]
)
def test_missing_required_key_in_sign_request(key: int, name: str) -> None:
    error = refused(
        EthSignRequest.from_cbor,
        sign_request(**{f"k{key}": None}),
        SchemaError,
        f"eth-sign-request.{name}",
    )
    assert "missing" in error.reason


def test_missing_signature() -> None:
    refused(EthSignature.from_cbor, signature(k2=None), SchemaError, "eth-signature.signature")


def test_missing_key_data() -> None:
    refused(HDKey.from_cbor, hdkey(k3=None), SchemaError, "crypto-hdkey.key-data")


def test_missing_keypath_components() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=Tag(304, {2: 0x12345678})),
        SchemaError,
        "eth-sign-request.derivation-path.components",
    )


# --- wrong CBOR types ------------------------------------------------------------------


def test_sign_data_as_text() -> None:
    error = refused(
        EthSignRequest.from_cbor, sign_request(k2="f8"), SchemaError, "eth-sign-request.sign-data"
    )
    assert "text string" in error.reason


def test_chain_id_as_bytes() -> None:
    refused(
        EthSignRequest.from_cbor, sign_request(k4=b"\x01"), SchemaError, "eth-sign-request.chain-id"
    )


def test_chain_id_negative() -> None:
    refused(EthSignRequest.from_cbor, sign_request(k4=-1), SchemaError, "eth-sign-request.chain-id")


def test_chain_id_at_the_top_of_uint64_is_accepted() -> None:
    request = EthSignRequest.from_cbor(encode(sign_request(k4=2**64 - 1)))
    assert request.chain_id == 2**64 - 1


def test_null_for_an_optional_key() -> None:
    value = sign_request()
    value[7] = None
    refused(EthSignRequest.from_cbor, value, SchemaError, "eth-sign-request.origin")


def test_top_level_array() -> None:
    refused(EthSignRequest.from_cbor, [1, 2], SchemaError, "eth-sign-request")


def test_hardened_flag_not_boolean() -> None:
    path = Tag(304, {1: [44, 1], 2: 1})
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=path),
        SchemaError,
        "eth-sign-request.derivation-path.components[0].is-hardened",
    )


# --- wrong tags ------------------------------------------------------------------------


def test_derivation_path_with_the_uuid_tag() -> None:
    error = refused(
        EthSignRequest.from_cbor,
        sign_request(k5=Tag(37, dict(PATH))),
        SchemaError,
        "eth-sign-request.derivation-path",
    )
    assert "tag 304" in error.reason


def test_derivation_path_untagged() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=dict(PATH)),
        SchemaError,
        "eth-sign-request.derivation-path",
    )


def test_request_id_with_the_keypath_tag() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k1=Tag(304, UUID)),
        SchemaError,
        "eth-sign-request.request-id",
    )


def test_request_id_untagged() -> None:
    refused(EthSignature.from_cbor, signature(k1=UUID), SchemaError, "eth-signature.request-id")


def test_tag_not_allowed_in_a_sign_request() -> None:
    # #6.303 (crypto-hdkey) has no place in a sign request: the CBOR layer refuses it.
    refused(EthSignRequest.from_cbor, sign_request(k5=Tag(303, dict(PATH))), CborError, "$.{5}")


# --- field sizes and ranges ---------------------------------------------------------------


@pytest.mark.parametrize("length", [19, 21])
def test_address_not_20_bytes(length: int) -> None:
    error = refused(
        EthSignRequest.from_cbor,
        sign_request(k6=bytes(length)),
        SchemaError,
        "eth-sign-request.address",
    )
    assert str(length) in error.reason


@pytest.mark.parametrize("length", [15, 17])
def test_uuid_not_16_bytes(length: int) -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k1=Tag(37, bytes(length))),
        SchemaError,
        "eth-sign-request.request-id",
    )


@pytest.mark.parametrize("data_type", [0, 5])
def test_data_type_out_of_range(data_type: int) -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k3=data_type),
        SchemaError,
        "eth-sign-request.data-type",
    )


def test_sign_data_beyond_the_limit() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k2=bytes(MAX_SIGN_DATA + 1)),
        SchemaError,
        "eth-sign-request.sign-data",
    )


def test_sign_data_at_the_limit_is_accepted() -> None:
    request = EthSignRequest.from_cbor(encode(sign_request(k2=bytes(MAX_SIGN_DATA))))
    assert len(request.sign_data) == MAX_SIGN_DATA


def test_message_far_beyond_the_limit_refused_before_decoding() -> None:
    refused(EthSignRequest.from_cbor, sign_request(k2=bytes(1 << 20)), CborLimitError, "$")


def test_origin_with_a_control_character() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k7="meta\x1b[2Jmask"),
        SchemaError,
        "eth-sign-request.origin",
    )


def test_origin_with_a_bidirectional_override() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k7="metamask\u202eevil"),
        SchemaError,
        "eth-sign-request.origin",
    )


def test_origin_too_long() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k7="a" * (MAX_TEXT_BYTES + 1)),
        SchemaError,
        "eth-sign-request.origin",
    )


# --- keypaths ---------------------------------------------------------------------------


def test_keypath_index_with_the_hardened_bit() -> None:
    path = Tag(304, {1: [44, True, 2**31, True], 2: 1})
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=path),
        SchemaError,
        "eth-sign-request.derivation-path.components[1]",
    )


def test_keypath_index_not_an_integer() -> None:
    path = Tag(304, {1: [44, True, "60", True], 2: 1})
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=path),
        SchemaError,
        "eth-sign-request.derivation-path.components[1]",
    )


def test_keypath_odd_number_of_items() -> None:
    path = Tag(304, {1: [44, True, 60], 2: 1})
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=path),
        SchemaError,
        "eth-sign-request.derivation-path.components",
    )


def test_keypath_child_index_range_refused() -> None:
    path = Tag(304, {1: [44, True, [0, 5], False], 2: 1})
    error = refused(
        EthSignRequest.from_cbor,
        sign_request(k5=path),
        SchemaError,
        "eth-sign-request.derivation-path.components[1]",
    )
    assert "range" in error.reason


def test_signing_path_with_a_wildcard() -> None:
    path = Tag(304, {1: [44, True, [], False], 2: 1})
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=path),
        SchemaError,
        "eth-sign-request.derivation-path",
    )


def test_keypath_source_fingerprint_zero() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=Tag(304, {1: [44, True], 2: 0})),
        SchemaError,
        "eth-sign-request.derivation-path.source-fingerprint",
    )


def test_keypath_source_fingerprint_beyond_uint32() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=Tag(304, {1: [44, True], 2: 2**32})),
        SchemaError,
        "eth-sign-request.derivation-path.source-fingerprint",
    )


def test_empty_keypath_without_fingerprint() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=Tag(304, {1: []})),
        SchemaError,
        "eth-sign-request.derivation-path.source-fingerprint",
    )


def test_keypath_depth_shorter_than_its_steps() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=Tag(304, {**PATH, 3: 4})),
        SchemaError,
        "eth-sign-request.derivation-path.depth",
    )


def test_keypath_depth_beyond_uint8() -> None:
    refused(
        EthSignRequest.from_cbor,
        sign_request(k5=Tag(304, {**PATH, 3: 256})),
        SchemaError,
        "eth-sign-request.derivation-path.depth",
    )


@pytest.mark.parametrize("text", ["44'/60'", "m/abc", "m/2147483648", "m/01", "m/-1", "m//1"])
def test_keypath_text_refused(text: str) -> None:
    with pytest.raises(SchemaError) as caught:
        Keypath.parse(text)
    assert caught.value.field.startswith("keypath")


# --- signatures ---------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 64, 74])
def test_signature_length_refused(length: int) -> None:
    refused(
        EthSignature.from_cbor,
        signature(k2=bytes([1]) * length),
        SchemaError,
        "eth-signature.signature",
    )


def test_signature_v_with_a_leading_zero() -> None:
    refused(
        EthSignature.from_cbor,
        signature(k2=SIGNATURE[:64] + b"\x00\x25"),
        SchemaError,
        "eth-signature.signature.v",
    )


def test_signature_v_zero_and_multi_byte_accepted() -> None:
    assert EthSignature.from_cbor(encode(signature(k2=SIGNATURE[:64] + b"\x00"))).v == 0
    # EIP-155 for chain id 11155111 (Sepolia): v = 2 * 11155111 + 35 + 1 = 22310258.
    long_v = SIGNATURE[:64] + (22310258).to_bytes(4, "big")
    decoded = EthSignature.from_cbor(encode(signature(k2=long_v)))
    assert decoded.v == 22310258
    assert decoded.signature == long_v


# --- hdkeys and accounts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (PUBKEY[:32], "33 bytes"),
        (b"\x04" + PUBKEY[1:], "prefix"),
        (b"\x02" + b"\xff" * 32, "field prime"),
        (b"\x02" + (5).to_bytes(32, "big"), "curve"),
    ],
)
def test_hdkey_key_data_refused(key: bytes, reason: str) -> None:
    error = refused(HDKey.from_cbor, hdkey(k3=key), SchemaError, "crypto-hdkey.key-data")
    assert reason in error.reason


def test_hdkey_chain_code_not_32_bytes() -> None:
    refused(HDKey.from_cbor, hdkey(k4=CHAIN_CODE[:31]), SchemaError, "crypto-hdkey.chain-code")


def test_hdkey_private_refused() -> None:
    refused(HDKey.from_cbor, hdkey(k2=True), SchemaError, "crypto-hdkey.is-private")


def test_hdkey_master_refused() -> None:
    refused(HDKey.from_cbor, hdkey(k1=True), SchemaError, "crypto-hdkey.is-master")


def test_hdkey_parent_fingerprint_zero() -> None:
    refused(HDKey.from_cbor, hdkey(k8=0), SchemaError, "crypto-hdkey.parent-fingerprint")


def test_hdkey_parent_differs_from_one_step_origin() -> None:
    value = hdkey(k6=Tag(304, {1: [44, True], 2: 0xE9181CF3}), k8=0x11111111)
    refused(HDKey.from_cbor, value, SchemaError, "crypto-hdkey.parent-fingerprint")


def test_hdkey_origin_component_names_its_path() -> None:
    origin = Tag(304, {1: [44, True, 60, True, -1, True], 2: 0xE9181CF3})
    refused(HDKey.from_cbor, hdkey(k6=origin), SchemaError, "crypto-hdkey.origin.components[2]")


def test_hdkey_origin_with_a_wildcard() -> None:
    origin = Tag(304, {1: [44, True, [], True], 2: 0xE9181CF3})
    refused(HDKey.from_cbor, hdkey(k6=origin), SchemaError, "crypto-hdkey.origin")


def test_hdkey_use_info_unknown_key() -> None:
    refused(HDKey.from_cbor, hdkey(k5=Tag(305, {3: 1})), SchemaError, "crypto-hdkey.use-info.3")


def test_hdkey_name_not_text() -> None:
    refused(HDKey.from_cbor, hdkey(k9=b"Keystone"), SchemaError, "crypto-hdkey.name")


def test_account_source_fingerprint_not_the_master() -> None:
    value = {1: 0x12345678, 2: [Tag(303, hdkey())]}
    refused(
        CryptoAccount.from_cbor,
        value,
        SchemaError,
        "crypto-account.output-descriptors[0].origin.source-fingerprint",
    )


def test_account_entry_untagged() -> None:
    value = {1: 0xE9181CF3, 2: [hdkey()]}
    refused(CryptoAccount.from_cbor, value, SchemaError, "crypto-account.output-descriptors[0]")


def test_account_entry_error_names_its_position() -> None:
    value = {1: 0xE9181CF3, 2: [Tag(303, hdkey()), Tag(303, hdkey(k3=PUBKEY[:20]))]}
    refused(
        CryptoAccount.from_cbor,
        value,
        SchemaError,
        "crypto-account.output-descriptors[1].key-data",
    )


def test_account_without_outputs() -> None:
    refused(
        CryptoAccount.from_cbor,
        {1: 0xE9181CF3, 2: []},
        SchemaError,
        "crypto-account.output-descriptors",
    )


def test_account_with_an_eckey_output() -> None:
    refused(CryptoAccount.from_cbor, {1: 1, 2: [Tag(306, {3: PUBKEY})]}, CborError, "$.{2}[0]")


# --- batches -----------------------------------------------------------------------------


def test_batch_without_requests() -> None:
    refused(EthBatchSignRequest.from_cbor, {1: []}, SchemaError, "eth-batch-sign-request.requests")


def test_batch_beyond_the_limit() -> None:
    entry = Tag(402, signature(k1=None))
    refused(
        EthBatchSignature.from_cbor,
        {1: [entry] * (MAX_BATCH + 1)},
        SchemaError,
        "eth-batch-signature.signatures",
    )


def test_batch_request_untagged() -> None:
    refused(
        EthBatchSignRequest.from_cbor,
        {1: [sign_request()]},
        SchemaError,
        "eth-batch-sign-request.requests[0]",
    )


def test_batch_holding_a_signature() -> None:
    refused(EthBatchSignRequest.from_cbor, {1: [Tag(402, signature())]}, CborError, "$.{1}[0]")


def test_batch_entry_error_names_its_position() -> None:
    value = {1: [Tag(401, sign_request()), Tag(401, sign_request(k1=None, k3=9))]}
    refused(
        EthBatchSignRequest.from_cbor,
        value,
        SchemaError,
        "eth-batch-sign-request.requests[1].data-type",
    )


def test_batch_with_a_repeated_request_id() -> None:
    value = {1: [Tag(401, sign_request()), Tag(401, sign_request())]}
    refused(
        EthBatchSignRequest.from_cbor,
        value,
        SchemaError,
        "eth-batch-sign-request.requests[1].request-id",
    )


def test_batch_signature_with_a_repeated_request_id() -> None:
    value = {1: [Tag(402, signature()), Tag(402, signature())]}
    refused(
        EthBatchSignature.from_cbor,
        value,
        SchemaError,
        "eth-batch-signature.signatures[1].request-id",
    )


# --- framing ------------------------------------------------------------------------------


def test_trailing_bytes() -> None:
    with pytest.raises(CborError) as caught:
        EthSignRequest.from_cbor(encode(sign_request()) + b"\x00")
    assert type(caught.value) is CborError
    assert caught.value.field == "$"
    assert "trailing" in caught.value.reason


def test_wrong_ur_type() -> None:
    ur = UR("eth-signature", encode(signature()))
    with pytest.raises(URTypeError) as caught:
        EthSignRequest.from_ur(ur)
    assert caught.value.field == "ur.type"
    with pytest.raises(URTypeError):
        HDKey.from_ur(ur)
    with pytest.raises(URTypeError):
        CryptoAccount.from_ur(ur)


def test_unknown_ur_type_in_the_registry() -> None:
    with pytest.raises(URTypeError) as caught:
        decode_ur(UR("crypto-psbt", b"\x40"))
    assert caught.value.field == "ur.type"


# --- construction checks the same rules ---------------------------------------------------


def test_constructing_an_invalid_object_is_refused() -> None:
    path = Keypath.parse("m/44'/60'/0'/0/0", source_fingerprint=1)
    with pytest.raises(SchemaError) as caught:
        EthSignRequest(bytes(MAX_SIGN_DATA + 1), DataType.TRANSACTION, path)
    assert caught.value.field == "eth-sign-request.sign-data"
    with pytest.raises(SchemaError):
        PathComponent(2**31, False)
    with pytest.raises(SchemaError):
        RequestId(bytes(15))
    with pytest.raises(SchemaError):
        EthSignature(bytes(32), bytes(32), -1)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"r": bytes(31)}, "eth-signature.signature.r", "expected 32 bytes, got 31"),
        ({"r": bytearray(32)}, "eth-signature.signature.r", "expected bytes, got bytearray"),
        ({"s": bytes(33)}, "eth-signature.signature.s", "expected 32 bytes, got 33"),
        ({"s": "00" * 32}, "eth-signature.signature.s", "expected bytes, got str"),
        ({"v": -1}, "eth-signature.signature.v", "-1 is negative"),
        ({"v": True}, "eth-signature.signature.v", "expected an integer, got bool"),
        ({"v": 1.0}, "eth-signature.signature.v", "expected an integer, got float"),
        ({"v": 2**72}, "eth-signature.signature.v", f"{2**72} is larger than {2**72 - 1}"),
        ({"request_id": UUID}, "eth-signature.request-id", "must be a RequestId"),
        ({"origin": "a\nb"}, "eth-signature.origin", "character 1 (U+000A) is a control character"),
        ({"audit_head": (1, bytes(32))}, "eth-signature.audit-head", "must be an AuditHead"),
    ],
)
def test_constructing_an_invalid_signature_names_the_field(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    fields: dict[str, Any] = {"r": bytes(32), "s": bytes(32), "v": 27, **changes}
    with pytest.raises(SchemaError) as caught:
        EthSignature(**fields)
    assert (caught.value.field, caught.value.reason) == (field, reason)


def test_signature_constructor_accepts_the_edges() -> None:
    top = EthSignature(bytes(32), b"\xff" * 32, 2**72 - 1, RequestId(UUID), "coldsign")
    assert top.signature == bytes(32) + b"\xff" * 32 + b"\xff" * 9
    assert EthSignature(bytes(32), bytes(32), 0).signature == bytes(65)
    assert EthSignature(bytes(32), bytes(32), 255).signature[64:] == b"\xff"
    assert EthSignature(bytes(32), bytes(32), 256).signature[64:] == b"\x01\x00"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (Tag(304, UUID), "expected tag 37, got tag 304"),
        (UUID, "expected tag 37, got a byte string"),
        (Tag(37, UUID[:15]), "expected 16 bytes, got 15"),
        (Tag(37, UUID + b"\x00"), "expected 16 bytes, got 17"),
        (Tag(37, "x" * 16), "expected a byte string, got a text string"),
        (Tag(37, [1]), "expected a byte string, got an array"),
    ],
)
def test_request_id_refusal_names_the_field_and_reason(value: CborValue, reason: str) -> None:
    with pytest.raises(SchemaError) as caught:
        RequestId.from_value(value, "eth-sign-request.request-id")
    assert (caught.value.field, caught.value.reason) == ("eth-sign-request.request-id", reason)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (UUID[:15], "expected 16 bytes, got 15"),
        (bytearray(UUID), "expected bytes, got bytearray"),
        (UUID.hex(), "expected bytes, got str"),
    ],
)
def test_constructing_an_invalid_request_id_names_the_reason(raw: Any, reason: str) -> None:
    with pytest.raises(SchemaError) as caught:
        RequestId(raw)
    assert (caught.value.field, caught.value.reason) == ("request-id", reason)
