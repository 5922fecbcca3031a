"""Tests for shared.address: EIP-55 checksums, the grouped form and refusal of bad addresses."""

from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address, address_from_bytes, is_checksummed, parse_address
from shared.errors import AddressError, DecodeError

# EIP-55 "Specification": the four test addresses the EIP itself checks
# (ethereum/EIPs, EIPS/eip-55.md).
EIP55_VECTORS = (
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
)


@pytest.mark.parametrize("text", EIP55_VECTORS)
def test_eip55_vectors_checksum_and_parse(text: str) -> None:
    address = Address(bytes.fromhex(text[2:]))
    assert address.checksummed() == text
    assert str(address) == text
    assert parse_address(text, field="to") == address
    assert is_checksummed(text)


@pytest.mark.parametrize("text", EIP55_VECTORS)
def test_lowercase_accepted_and_reported_unchecksummed(text: str) -> None:
    lower = "0x" + text[2:].lower()
    assert parse_address(lower, field="to").checksummed() == text
    assert not is_checksummed(lower)


@pytest.mark.parametrize("text", EIP55_VECTORS)
def test_uppercase_accepted_and_reported_unchecksummed(text: str) -> None:
    upper = "0x" + text[2:].upper()
    assert parse_address(upper, field="to").checksummed() == text
    assert not is_checksummed(upper)


@pytest.mark.parametrize("text", EIP55_VECTORS)
def test_wrong_checksum_refused(text: str) -> None:
    # Flip the case of the first letter: still mixed case, checksum now wrong.
    index = next(i for i, ch in enumerate(text) if i >= 2 and ch.isalpha())
    flipped = text[:index] + text[index].swapcase() + text[index + 1 :]
    with pytest.raises(AddressError) as info:
        parse_address(flipped, field="recipient")
    assert info.value.field == "recipient"
    assert "EIP-55" in info.value.reason
    assert not is_checksummed(flipped)


def test_grouped_form() -> None:
    address = parse_address(EIP55_VECTORS[0], field="to")
    assert address.grouped() == "0x5aAe b605 3F3E 94C9 b9A0 9f33 6694 35E7 Ef1B eAed"
    assert address.grouped().replace(" ", "") == address.checksummed()


@pytest.mark.parametrize(
    "text",
    [
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea d",
        "",
    ],
    ids=["no-prefix", "upper-prefix", "short", "long", "non-hex", "space", "empty"],
)
def test_malformed_text_refused(text: str) -> None:
    with pytest.raises(AddressError) as info:
        parse_address(text, field="to")
    assert info.value.field == "to"
    assert not is_checksummed(text)


@pytest.mark.parametrize("length", [0, 19, 21, 32])
def test_address_from_bytes_wrong_length(length: int) -> None:
    with pytest.raises(AddressError) as info:
        address_from_bytes(b"\x11" * length, field="tx.to")
    assert info.value.field == "tx.to"


def test_constructor_rejects_wrong_length_as_programmer_error() -> None:
    with pytest.raises(ValueError, match="20 bytes"):
        Address(b"\x00" * 19)


def test_addresses_order_by_bytes() -> None:
    low, high = Address(b"\x00" * 20), Address(b"\xff" * 20)
    assert low < high
    assert sorted([high, low]) == [low, high]


@given(st.binary(min_size=20, max_size=20))
def test_checksum_matches_eth_utils(raw: bytes) -> None:
    address = address_from_bytes(raw, field="a")
    assert address.checksummed() == to_checksum_address(raw)
    assert parse_address(address.checksummed(), field="a") == address
    assert parse_address(address.grouped().replace(" ", ""), field="a") == address


@given(st.text(max_size=50))
def test_random_text_raises_only_address_error(text: str) -> None:
    try:
        parse_address(text, field="a")
    except DecodeError as exc:
        assert isinstance(exc, AddressError)
