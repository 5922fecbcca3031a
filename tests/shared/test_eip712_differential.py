"""Differential test: random valid typed data (random struct graphs, arrays, atomic types and
value notations) is accepted and hashes exactly as eth-account hashes it."""

from __future__ import annotations

import json
from typing import Any

from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address
from shared.messages.eip712 import DOMAIN_FIELDS, parse_typed_data

# Mixed case on purpose: encodeType sorts referenced types by code point ("Zed" < "alpha").
_TYPE_NAMES = ["Alpha", "Beta", "Zed", "alpha", "Mail", "$Data", "_Inner", "Person2"]
_ATOMIC = [
    "address",
    "bool",
    "string",
    "bytes",
    "uint8",
    "uint48",
    "uint160",
    "uint256",
    "int8",
    "int24",
    "int256",
    "bytes1",
    "bytes20",
    "bytes32",
]


@st.composite
def _type_graphs(draw: st.DrawFn) -> tuple[str, dict[str, list[dict[str, str]]]]:
    names = draw(st.lists(st.sampled_from(_TYPE_NAMES), min_size=1, max_size=4, unique=True))
    members: dict[str, list[dict[str, str]]] = {name: [] for name in names}
    for index, name in enumerate(names):
        # A struct may reference only later structs, so the graph is acyclic; each later
        # struct gets one parent earlier in the list, so all are reachable from names[0].
        if index > 0:
            parent = names[draw(st.integers(min_value=0, max_value=index - 1))]
            members[parent].append({"name": f"m{len(members[parent])}", "type": name + _dims(draw)})
        for _ in range(draw(st.integers(min_value=0, max_value=4))):
            type_ = draw(st.sampled_from(_ATOMIC)) + _dims(draw)
            members[name].append({"name": f"m{len(members[name])}", "type": type_})
    # The order of the types object must not matter.
    order = draw(st.permutations(list(range(len(names)))))
    return names[0], {names[i]: members[names[i]] for i in order}


def _dims(draw: st.DrawFn) -> str:
    count = draw(st.integers(min_value=0, max_value=2))
    return "".join(draw(st.sampled_from(["[]", "[1]", "[2]", "[3]"])) for _ in range(count))


def _split_array(type_: str) -> tuple[str, int | None] | None:
    if not type_.endswith("]"):
        return None
    start = type_.rindex("[")
    digits = type_[start + 1 : -1]
    return type_[:start], int(digits) if digits else None


def _value(draw: st.DrawFn, type_: str, types: dict[str, list[dict[str, str]]]) -> Any:
    array = _split_array(type_)
    if array is not None:
        element, length = array
        count = length if length is not None else draw(st.integers(min_value=0, max_value=2))
        return [_value(draw, element, types) for _ in range(count)]
    if type_ in types:
        return {m["name"]: _value(draw, m["type"], types) for m in types[type_]}
    return _atomic(draw, type_)


def _atomic(draw: st.DrawFn, type_: str) -> Any:
    if type_ == "address":
        address = Address(draw(st.binary(min_size=20, max_size=20)))
        return draw(st.sampled_from([address.checksummed(), "0x" + address.raw.hex()]))
    if type_ == "bool":
        return draw(st.booleans())
    if type_ == "string":
        return draw(st.text(max_size=12))
    if type_ == "bytes":
        return "0x" + draw(st.binary(max_size=40)).hex()
    if type_.startswith("bytes"):
        size = int(type_[5:])
        return "0x" + draw(st.binary(min_size=size, max_size=size)).hex()
    signed = type_.startswith("int")
    bits = int(type_[3:] if signed else type_[4:])
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    number = draw(st.integers(min_value=low, max_value=high))
    notations: list[Any] = [number, str(number)]
    if not signed:
        notations.append(hex(number))
    return draw(st.sampled_from(notations))


@st.composite
def _documents(draw: st.DrawFn) -> dict[str, Any]:
    primary, types = draw(_type_graphs())
    domain_fields = [f for f in DOMAIN_FIELDS if draw(st.booleans())]
    domain = {name: _atomic(draw, type_) for name, type_ in domain_fields}
    return {
        "types": {
            "EIP712Domain": [{"name": n, "type": t} for n, t in domain_fields],
            **types,
        },
        "primaryType": primary,
        "domain": domain,
        "message": _value(draw, primary, types),
    }


@given(_documents())
def test_random_valid_typed_data_hashes_like_eth_account(document: dict[str, Any]) -> None:
    data = json.dumps(document).encode()
    typed = parse_typed_data(data)
    expected = bytes(_hash_eip191_message(encode_typed_data(full_message=json.loads(data))))
    assert typed.signing_hash() == expected
