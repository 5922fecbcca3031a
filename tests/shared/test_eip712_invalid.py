"""Every kind of malformed EIP-712 input is refused with TypedDataError naming its field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from vectorfiles import load_vectors

from shared.errors import TypedDataError
from shared.messages.eip712 import MAX_JSON_BYTES, MAX_JSON_DEPTH, parse_typed_data

# EIP-712's own Mail example, as published (tests/vectors/eip712.json names the source).
_MAIL: dict[str, Any] = load_vectors("eip712")["typed_data"]["mail"]["typed_data"]


def _mail() -> dict[str, Any]:
    return copy.deepcopy(_MAIL)


def _with_value(type_: str, value: Any) -> dict[str, Any]:
    """A document whose primary type has one member ``x`` of ``type_`` set to ``value``."""
    document = _mail()
    document["types"] = {"EIP712Domain": document["types"]["EIP712Domain"]}
    document["types"]["T"] = [{"name": "x", "type": type_}]
    document["primaryType"] = "T"
    document["message"] = {"x": value}
    return document


def _refused(data: dict[str, Any] | bytes | str) -> TypedDataError:
    if isinstance(data, dict):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with pytest.raises(TypedDataError) as caught:
        parse_typed_data(data)
    return caught.value


def test_valid_base_document_is_accepted() -> None:
    assert parse_typed_data(json.dumps(_mail()).encode()).primary_type == "Mail"


# --- types ------------------------------------------------------------------------------


def test_self_referencing_type_is_cyclic() -> None:
    document = _mail()
    document["types"]["Person"].append({"name": "friend", "type": "Person"})
    error = _refused(document)
    assert error.field == "types.Person"
    assert "cyclic" in error.reason


def test_self_referencing_array_type_is_cyclic() -> None:
    document = _mail()
    document["types"]["Person"].append({"name": "children", "type": "Person[]"})
    error = _refused(document)
    assert error.field == "types.Person"
    assert "cyclic" in error.reason


def test_indirectly_cyclic_types_are_refused() -> None:
    document = _mail()
    document["types"]["Person"].append({"name": "box", "type": "Box"})
    document["types"]["Box"] = [{"name": "owner", "type": "Person[2]"}]
    error = _refused(document)
    assert error.field in ("types.Box", "types.Person")
    assert "Box -> Person -> Box" in error.reason or "Person -> Box -> Person" in error.reason


def test_undefined_type_is_refused() -> None:
    document = _mail()
    document["types"]["Mail"][1]["type"] = "Persn"
    error = _refused(document)
    assert error.field == "types.Mail[1].type"
    assert "undefined type Persn" in error.reason


def test_undefined_array_element_type_is_refused() -> None:
    document = _mail()
    document["types"]["Mail"][2]["type"] = "Attachment[]"
    assert _refused(document).field == "types.Mail[2].type"


def test_primary_type_equal_to_the_domain_is_refused() -> None:
    document = _mail()
    document["primaryType"] = "EIP712Domain"
    error = _refused(document)
    assert error.field == "primaryType"
    assert error.reason == "primaryType must not be the domain"


def test_undeclared_primary_type_is_refused() -> None:
    document = _mail()
    document["primaryType"] = "Letter"
    assert _refused(document).field == "primaryType"


def test_unused_type_is_refused() -> None:
    document = _mail()
    document["types"]["Unused"] = [{"name": "x", "type": "uint8"}]
    error = _refused(document)
    assert error.field == "types.Unused"
    assert "not used" in error.reason


def test_primary_type_that_is_only_a_dependency_is_refused() -> None:
    # eth-account derives the primary type as the one nothing references: Mail, not Person.
    document = _mail()
    document["primaryType"] = "Person"
    assert _refused(document).field == "types.Mail"


def test_missing_domain_type_is_refused() -> None:
    document = _mail()
    del document["types"]["EIP712Domain"]
    assert _refused(document).field == "types.EIP712Domain"


def test_unknown_domain_field_is_refused() -> None:
    document = _mail()
    document["types"]["EIP712Domain"][0]["name"] = "title"
    assert _refused(document).field == "types.EIP712Domain[0].name"


def test_domain_field_with_a_nonstandard_type_is_refused() -> None:
    document = _mail()
    document["types"]["EIP712Domain"][2]["type"] = "string"
    assert _refused(document).field == "types.EIP712Domain[2].type"


def test_domain_fields_out_of_order_are_refused() -> None:
    document = _mail()
    fields = document["types"]["EIP712Domain"]
    fields[0], fields[1] = fields[1], fields[0]
    error = _refused(document)
    assert error.field == "types.EIP712Domain[1]"
    assert "order" in error.reason


def test_duplicate_domain_field_is_refused() -> None:
    document = _mail()
    document["types"]["EIP712Domain"].append({"name": "name", "type": "string"})
    assert _refused(document).field == "types.EIP712Domain[4].name"


def test_domain_type_referenced_by_a_struct_is_refused() -> None:
    document = _mail()
    document["types"]["Mail"].append({"name": "where", "type": "EIP712Domain"})
    assert _refused(document).field == "types.Mail[3].type"


def test_type_name_that_is_not_an_identifier_is_refused() -> None:
    document = _mail()
    document["types"]["Per son"] = document["types"].pop("Person")
    assert _refused(document).field == 'types."Per son"'


@pytest.mark.parametrize("name", ["address", "uint256", "bytes32", "uint", "int"])
def test_struct_named_like_an_atomic_type_is_refused(name: str) -> None:
    document = _mail()
    document["types"][name] = [{"name": "x", "type": "uint8"}]
    assert _refused(document).field == f"types.{name}"


@pytest.mark.parametrize(
    "type_",
    ["uint", "int", "uint7", "uint264", "bytes0", "bytes33", "uint256[0]", "uint256[01]",
     "uint256[ 2]", "uint256[", "[]", "Person[]]", "uint 256", ""],
)  # fmt: skip
def test_malformed_member_type_is_refused(type_: str) -> None:
    document = _mail()
    document["types"]["Mail"][2]["type"] = type_
    assert _refused(document).field == "types.Mail[2].type"


def test_duplicate_member_name_is_refused() -> None:
    document = _mail()
    document["types"]["Mail"][1]["name"] = "from"
    assert _refused(document).field == "types.Mail[1].name"


def test_member_name_that_is_not_an_identifier_is_refused() -> None:
    document = _mail()
    document["types"]["Mail"][2]["name"] = "con tents"
    assert _refused(document).field == "types.Mail[2].name"


def test_unknown_key_in_a_member_is_refused() -> None:
    document = _mail()
    document["types"]["Mail"][2]["indexed"] = True
    assert _refused(document).field == "types.Mail[2].indexed"


def test_member_without_a_type_is_refused() -> None:
    document = _mail()
    del document["types"]["Mail"][2]["type"]
    assert _refused(document).field == "types.Mail[2].type"


def test_types_that_are_not_an_object_are_refused() -> None:
    document = _mail()
    document["types"] = []
    assert _refused(document).field == "types"


# --- JSON -------------------------------------------------------------------------------


def test_duplicate_json_keys_are_refused() -> None:
    text = json.dumps(_mail())
    text = text.replace('"contents": "Hello, Bob!"', '"contents": "Hello, Bob!", "contents": "x"')
    error = _refused(text)
    assert error.field == "json"
    assert "duplicate key" in error.reason


@pytest.mark.parametrize("literal", ["1.5", "1.0", "1e3", "-0.0", "2E-1"])
def test_floats_are_refused(literal: str) -> None:
    text = json.dumps(_with_value("uint256", 7)).replace('"x": 7', f'"x": {literal}')
    error = _refused(text)
    assert error.field == "message.x"
    assert "floating-point" in error.reason


def test_float_in_the_domain_is_refused() -> None:
    text = json.dumps(_mail()).replace('"chainId": 1', '"chainId": 1.0')
    assert _refused(text).field == "domain.chainId"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(literal: str) -> None:
    text = json.dumps(_with_value("uint256", 7)).replace('"x": 7', f'"x": {literal}')
    error = _refused(text)
    assert error.field == "message.x"
    assert "NaN" in error.reason


def test_unknown_top_level_key_is_refused() -> None:
    document = _mail()
    document["signature"] = "0x"
    error = _refused(document)
    assert error.field == "signature"
    assert error.reason == "unknown top-level key"


@pytest.mark.parametrize("key", ["types", "primaryType", "domain", "message"])
def test_missing_top_level_key_is_refused(key: str) -> None:
    document = _mail()
    del document[key]
    assert _refused(document).field == key


def test_oversize_json_is_refused_before_parsing() -> None:
    document = _mail()
    document["message"]["contents"] = "a" * MAX_JSON_BYTES
    error = _refused(document)
    assert error.field == "json"
    assert "limit" in error.reason


def test_oversize_garbage_is_refused_before_parsing() -> None:
    assert _refused(b"{" * (MAX_JSON_BYTES + 1)).field == "json"


def test_over_deep_json_is_refused_before_parsing() -> None:
    depth = MAX_JSON_DEPTH + 1
    error = _refused("[" * depth + "]" * depth)
    assert error.field == "json"
    assert "depth" in error.reason


def test_over_deep_unclosed_json_is_refused() -> None:
    assert _refused("[" * 100_000).field == "json"


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    document = _mail()
    document["message"]["contents"] = "[" * 1000 + "{" * 1000
    assert (
        parse_typed_data(json.dumps(document).encode()).message["contents"]
        == document["message"]["contents"]
    )


def test_nesting_at_the_depth_limit_is_accepted() -> None:
    # Depth: document, message, then nested arrays down to the limit.
    levels = MAX_JSON_DEPTH - 2
    type_ = "uint8" + "[]" * levels
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    parse_typed_data(json.dumps(_with_value(type_, value)).encode())
    with pytest.raises(TypedDataError):
        parse_typed_data(json.dumps(_with_value(type_ + "[]", [value])).encode())


def test_invalid_utf8_is_refused() -> None:
    data = json.dumps(_mail()).encode().replace(b"Bob!", b"Bob\xff")
    error = _refused(data)
    assert error.field == "json"
    assert error.offset is not None


def test_byte_order_mark_is_refused() -> None:
    assert _refused(b"\xef\xbb\xbf" + json.dumps(_mail()).encode()).field == "json"


def test_trailing_data_is_refused() -> None:
    assert _refused(json.dumps(_mail()) + " {}").field == "json"


def test_top_level_array_is_refused() -> None:
    assert _refused("[]").field == "json"


def test_truncated_json_is_refused_with_offset() -> None:
    text = json.dumps(_mail())
    error = _refused(text[: len(text) // 2])
    assert error.field == "json"
    assert error.offset is not None


# --- domain and message values ----------------------------------------------------------


def test_missing_message_field_is_refused() -> None:
    document = _mail()
    del document["message"]["contents"]
    error = _refused(document)
    assert error.field == "message.contents"
    assert "missing" in error.reason


def test_missing_nested_field_is_refused() -> None:
    document = _mail()
    del document["message"]["to"]["wallet"]
    assert _refused(document).field == "message.to.wallet"


def test_extra_message_field_is_refused() -> None:
    document = _mail()
    document["message"]["cc"] = "Alice"
    error = _refused(document)
    assert error.field == "message.cc"
    assert "not a member" in error.reason


def test_extra_nested_field_is_refused() -> None:
    document = _mail()
    document["message"]["from"]["email"] = "cow@example.com"
    assert _refused(document).field == "message.from.email"


def test_missing_domain_value_is_refused() -> None:
    document = _mail()
    del document["domain"]["chainId"]
    assert _refused(document).field == "domain.chainId"


def test_undeclared_domain_value_is_refused() -> None:
    document = _mail()
    document["domain"]["salt"] = "0x" + "00" * 32
    assert _refused(document).field == "domain.salt"


def test_null_struct_is_refused() -> None:
    document = _mail()
    document["message"]["to"] = None
    error = _refused(document)
    assert error.field == "message.to"
    assert "null" in error.reason


def test_null_string_is_refused() -> None:
    document = _mail()
    document["message"]["contents"] = None
    assert _refused(document).field == "message.contents"


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("uint8", 256),
        ("uint8", "256"),
        ("uint8", "0x100"),
        ("uint8", -1),
        ("uint256", 2**256),
        ("uint256", "-1"),
        ("int8", 128),
        ("int8", -129),
        ("int8", "-129"),
        ("int256", 2**255),
        ("uint160", 2**160),
    ],
)
def test_out_of_range_integers_are_refused(type_: str, value: Any) -> None:
    error = _refused(_with_value(type_, value))
    assert error.field == "message.x"
    assert "out of range" in error.reason


def test_over_long_integer_literal_is_refused_at_its_field() -> None:
    text = json.dumps(_with_value("uint256", 7)).replace('"x": 7', '"x": ' + "9" * 5000)
    error = _refused(text)
    assert error.field == "message.x"


@pytest.mark.parametrize(
    "value",
    ["01", " 1", "1 ", "1_000", "+1", "-0", "1e3", "", "0x", "0X1", "0x" + "1" * 65, "\u0661",
     "0xg"],
)  # fmt: skip
def test_ambiguous_integer_strings_are_refused(value: str) -> None:
    assert _refused(_with_value("uint256", value)).field == "message.x"


def test_hex_for_a_signed_integer_is_refused() -> None:
    # eth-account reads "0xff" for int8 as 255 (out of range); others read it as -1.
    error = _refused(_with_value("int8", "0xff"))
    assert error.field == "message.x"
    assert "ambiguous" in error.reason


@pytest.mark.parametrize("value", [True, [1], {"v": 1}, None])
def test_non_integer_json_for_an_integer_is_refused(value: Any) -> None:
    assert _refused(_with_value("uint256", value)).field == "message.x"


def test_19_byte_address_is_refused() -> None:
    document = _mail()
    document["message"]["from"]["wallet"] = "0x" + "cd" * 19
    error = _refused(document)
    assert error.field == "message.from.wallet"
    assert "40 hex digits" in error.reason


def test_address_with_a_bad_checksum_is_refused() -> None:
    document = _mail()
    document["message"]["to"]["wallet"] = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbb"
    error = _refused(document)
    assert error.field == "message.to.wallet"
    assert "EIP-55" in error.reason


@pytest.mark.parametrize("value", ["cd2a3d9f938e13cd947ec05abc7fe734df8dd826", 1, "0x" + "zz" * 20])
def test_malformed_address_is_refused(value: Any) -> None:
    assert _refused(_with_value("address", value)).field == "message.x"


def test_bytes32_of_31_bytes_is_refused() -> None:
    error = _refused(_with_value("bytes32", "0x" + "ab" * 31))
    assert error.field == "message.x"
    assert "exactly 32 bytes" in error.reason


def test_domain_salt_of_31_bytes_is_refused() -> None:
    document = _mail()
    document["types"]["EIP712Domain"].append({"name": "salt", "type": "bytes32"})
    document["domain"]["salt"] = "0x" + "00" * 31
    assert _refused(document).field == "domain.salt"


@pytest.mark.parametrize("value", ["0x123", "hello", "0X1234", "0xzz", 5, None])
def test_malformed_bytes_are_refused(value: Any) -> None:
    assert _refused(_with_value("bytes", value)).field == "message.x"


@pytest.mark.parametrize("value", ["true", "false", 1, 0, None])
def test_bool_other_than_true_or_false_is_refused(value: Any) -> None:
    assert _refused(_with_value("bool", value)).field == "message.x"


@pytest.mark.parametrize("value", [5, True, ["a"], None])
def test_string_that_is_not_a_json_string_is_refused(value: Any) -> None:
    assert _refused(_with_value("string", value)).field == "message.x"


def test_string_with_an_unpaired_surrogate_is_refused() -> None:
    text = json.dumps(_mail()).replace("Hello, Bob!", "Hello \\ud800")
    error = _refused(text)
    assert error.field == "message.contents"
    assert "surrogate" in error.reason


def test_fixed_array_of_the_wrong_length_is_refused() -> None:
    error = _refused(_with_value("uint8[3]", [1, 2]))
    assert error.field == "message.x"
    assert "exactly 3" in error.reason


def test_nested_fixed_array_of_the_wrong_length_is_refused() -> None:
    assert _refused(_with_value("uint8[2][]", [[1, 2], [3]])).field == "message.x[1]"


def test_array_value_that_is_not_a_list_is_refused() -> None:
    assert _refused(_with_value("uint8[]", "0x0102")).field == "message.x"


def test_bad_element_is_named_by_index() -> None:
    assert _refused(_with_value("address[]", ["0x" + "11" * 20, "0x11"])).field == "message.x[1]"
