"""Amounts as exact decimal text with registry decimals; unknown assets in base units; no floats."""

from __future__ import annotations

from decimal import Context, Decimal
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address
from shared.registry import default_registries
from shared.review import Asset
from shared.review.amounts import (
    allowance_text,
    amount_text,
    decimal_text,
    gwei_text,
    is_unlimited,
    native_asset,
    token_asset,
)

REGISTRIES = default_registries()
USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
MAX = 2**256 - 1


@pytest.mark.parametrize(
    ("amount", "decimals", "text"),
    [
        (0, 18, "0"),
        (1, 18, "0.000000000000000001"),
        (1_500_000, 6, "1.5"),
        (10**24, 18, "1,000,000"),
        (1_234_567_891, 3, "1,234,567.891"),
        (5, 0, "5"),
        (999, 3, "0.999"),
        (1000, 3, "1"),
        (
            MAX,
            18,
            "115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457"
            ".584007913129639935",
        ),
    ],
)
def test_decimal_text(amount: int, decimals: int, text: str) -> None:
    assert decimal_text(amount, decimals) == text


@given(st.integers(min_value=0, max_value=MAX), st.integers(min_value=0, max_value=36))
def test_decimal_text_is_exact(amount: int, decimals: int) -> None:
    exact = Context(prec=200)
    shown = Decimal(decimal_text(amount, decimals).replace(",", ""))
    assert shown == exact.multiply(Decimal(amount), Decimal(10) ** -decimals)


def test_negative_amounts_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="never negative"):
        decimal_text(-1, 2)


def test_assets_from_the_registry() -> None:
    assert native_asset(REGISTRIES, 1) == Asset(1, None, "ETH", 18, True)
    assert native_asset(REGISTRIES, 100) == Asset(100, None, "xDAI", 18, True)
    assert token_asset(REGISTRIES, 1, USDC) == Asset(1, USDC, "USDC", 6, True)
    # The same contract address on another chain is another, unknown, token.
    assert token_asset(REGISTRIES, 10, USDC) == Asset(10, USDC, "?", None, False)
    assert native_asset(REGISTRIES, 424242) == Asset(424242, None, "?", None, False)


def test_amount_text() -> None:
    assert amount_text(token_asset(REGISTRIES, 1, USDC), 2_500_000) == "2.5 USDC"
    assert amount_text(token_asset(REGISTRIES, 5, USDC), 2_500_000) == (
        "2,500,000 base units (unknown token)"
    )
    assert amount_text(native_asset(REGISTRIES, 7), 10**18) == (
        "1,000,000,000,000,000,000 wei (native coin of unknown chain 7)"
    )
    assert gwei_text(1_500_000_000) == "1.5 gwei"
    assert gwei_text(1) == "0.000000001 gwei"


@pytest.mark.parametrize(
    ("amount", "bits", "unlimited"),
    [
        (2**255 - 1, 256, False),
        (2**255, 256, True),
        (MAX, 256, True),
        (2**160 - 1, 160, True),
        (2**160 - 2, 160, False),
        (0, 256, False),
    ],
)
def test_unlimited_allowances(amount: int, bits: int, unlimited: bool) -> None:
    assert is_unlimited(amount, bits) is unlimited
    text = allowance_text(token_asset(REGISTRIES, 1, USDC), amount, bits)
    assert text.startswith("UNLIMITED") is unlimited


class _Lookalike(NamedTuple):
    chain_id: int | None
    token: Address | None
    symbol: str
    decimals: int | None
    known: bool


def test_an_asset_never_equals_a_tuple_of_its_values() -> None:
    # Amounts are summed under Asset keys: a tuple of the same values is another key.
    usdc = token_asset(REGISTRIES, 1, USDC)
    values = (usdc.chain_id, usdc.token, usdc.symbol, usdc.decimals, usdc.known)
    assert usdc != values
    assert values != usdc
    assert not usdc == values  # noqa: SIM201 (== is the operator under test)
    assert not values == usdc  # noqa: SIM201
    # Another named tuple: with the asset on the left (as a dictionary holding assets asks).
    assert usdc != _Lookalike(*values)
    assert not usdc == _Lookalike(*values)  # noqa: SIM201
    same = Asset(*values)
    assert usdc == same
    assert not usdc != same  # noqa: SIM202 (!= is the operator under test)
    assert hash(usdc) == hash(same)
    assert usdc != native_asset(REGISTRIES, 1)


def test_asset_keys_never_merge_with_tuples() -> None:
    eth = native_asset(REGISTRIES, 1)
    values = (eth.chain_id, eth.token, eth.symbol, eth.decimals, eth.known)
    sums: dict[object, int] = {eth: 1, values: 2}
    assert len(sums) == 2
    assert sums[native_asset(REGISTRIES, 1)] == 1
    assert sums[values] == 2
    # A dictionary compares its stored asset key with the one looked up, asset on the left.
    assert _Lookalike(*values) not in {eth: 1}
