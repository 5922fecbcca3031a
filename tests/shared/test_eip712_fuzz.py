"""Property tests: arbitrary and mutated EIP-712 input raises only DecodeError, and whatever is
accepted hashes exactly as eth-account does."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.errors import DecodeError
from shared.messages import schemas
from shared.messages.eip712 import TypedData, parse_typed_data

DOCUMENTS = [block["typed_data"] for block in load_vectors("eip712")["typed_data"].values()]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**260), max_value=2**260)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["0x", "0x00", "0x" + "ab" * 20, "0x" + "ff" * 32, "uint256", "Person[]"])
)
_json_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _parse_or_refuse(data: bytes) -> TypedData | None:
    try:
        typed = parse_typed_data(data)
    except DecodeError:
        return None
    with contextlib.suppress(DecodeError):
        schemas.recognise(typed)
    return typed


def _agrees_with_eth_account(typed: TypedData, data: bytes) -> None:
    document = json.loads(data)
    expected = bytes(_hash_eip191_message(encode_typed_data(full_message=document)))
    assert typed.signing_hash() == expected


@given(st.binary(max_size=400))
def test_random_bytes_raise_only_decode_error(data: bytes) -> None:
    _parse_or_refuse(data)


@given(_json_values)
def test_random_json_raises_only_decode_error(value: Any) -> None:
    _parse_or_refuse(json.dumps(value).encode())


@given(
    st.fixed_dictionaries(
        {"types": _json_values, "primaryType": _json_values},
        optional={"domain": _json_values, "message": _json_values},
    )
)
def test_random_typed_data_shapes_raise_only_decode_error(document: dict[str, Any]) -> None:
    _parse_or_refuse(json.dumps(document).encode())


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def _mutated_documents(draw: st.DrawFn) -> bytes:
    document = copy.deepcopy(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        operation = draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if operation == "replace":
            parent[path[-1]] = draw(_json_values)
        elif operation == "delete":
            del parent[path[-1]]
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(_json_values)
        elif operation == "add" and isinstance(parent, list):
            parent.insert(path[-1], draw(_json_values))
        elif isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
    return json.dumps(document).encode()


@given(_mutated_documents())
def test_mutated_typed_data_is_refused_or_hashes_like_eth_account(data: bytes) -> None:
    typed = _parse_or_refuse(data)
    if typed is not None:
        _agrees_with_eth_account(typed, data)


@st.composite
def _byte_mutations(draw: st.DrawFn) -> bytes:
    data = bytearray(json.dumps(draw(st.sampled_from(DOCUMENTS))).encode())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        operation = draw(st.sampled_from(["flip", "insert", "delete"]))
        if operation == "flip":
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif operation == "insert":
            data.insert(position, draw(st.sampled_from(b'{}[]",:0123456789.eE-x\\ ')))
        else:
            del data[position]
    return bytes(data)


@given(_byte_mutations())
def test_byte_mutations_are_refused_or_hash_like_eth_account(data: bytes) -> None:
    typed = _parse_or_refuse(data)
    if typed is not None:
        _agrees_with_eth_account(typed, data)
