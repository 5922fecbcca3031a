"""RLP encoder boundaries (header table, long forms) against pyrlp, and the list reader's inline
path: every child refused inline before is refused the same way, at the same depth limit."""

from __future__ import annotations

import pytest
import rlp as pyrlp

from shared.errors import RLPError
from shared.tx.rlp import MAX_DEPTH, RLPValue, decode, encode, encode_list


@pytest.mark.parametrize("length", [*range(0, 60), 255, 256, 1024, 65535, 65536])
def test_string_headers_match_pyrlp(length: int) -> None:
    value = bytes([0x80]) * length
    assert encode(value) == pyrlp.encode(value)
    assert encode_list((value,)) == pyrlp.encode([value])


@pytest.mark.parametrize("byte", range(256))
def test_single_bytes_match_pyrlp(byte: int) -> None:
    value = bytes([byte])
    assert encode(value) == pyrlp.encode(value)
    assert encode_list((value, value)) == pyrlp.encode([value, value])


@pytest.mark.parametrize("count", [*range(0, 60), 300])
def test_list_headers_match_pyrlp(count: int) -> None:
    # One-byte items: the list payload is `count` bytes, so every short and long header.
    items = (b"\x01",) * count
    assert encode_list(items) == pyrlp.encode(list(items))
    assert encode(items) == encode_list(items)


def test_nested_lists_and_long_strings_match_pyrlp() -> None:
    value: RLPValue = (b"a" * 56, (b"", (b"\x7f", b"\x80")), b"x" * 70000, ())
    assert encode(value) == pyrlp.encode([b"a" * 56, [b"", [b"\x7f", b"\x80"]], b"x" * 70000, []])


def test_short_string_past_its_list_end_refused() -> None:
    # The list holds 4 payload bytes; its child declares 4 after its own header.
    with pytest.raises(RLPError) as caught:
        decode(bytes.fromhex("c484010203"))
    assert caught.value.field == "rlp[0]"
    assert caught.value.offset == 1
    assert caught.value.reason == "declared length 4 exceeds the 3 bytes remaining"


def test_single_byte_wrapped_inside_a_list_refused() -> None:
    with pytest.raises(RLPError) as caught:
        decode(bytes.fromhex("c3018105"))
    assert caught.value.field == "rlp[1]"
    assert caught.value.offset == 2
    assert caught.value.reason == "a single byte below 0x80 must be encoded as itself"


def test_single_byte_0x80_wrapped_inside_a_list_accepted() -> None:
    assert decode(bytes.fromhex("c28180")) == (b"\x80",)


def _nested(levels: int, leaf: bytes) -> bytes:
    encoded = encode(leaf)
    for _ in range(levels):
        encoded = bytes([0xC0 + len(encoded)]) + encoded
    return encoded


@pytest.mark.parametrize("leaf", [b"\x01", b"dog"])
def test_depth_limit_is_the_same_for_inline_children(leaf: bytes) -> None:
    # The top list is at depth 1, so a leaf inside MAX_DEPTH nested lists is at MAX_DEPTH + 1.
    assert decode(_nested(MAX_DEPTH - 1, leaf)) is not None
    with pytest.raises(RLPError) as caught:
        decode(_nested(MAX_DEPTH, leaf))
    assert caught.value.reason == f"nesting deeper than {MAX_DEPTH} levels"
