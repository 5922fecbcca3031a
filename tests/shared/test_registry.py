"""Registries: shipped defaults, the operator's strictly parsed file, lookups and lookalikes."""

from __future__ import annotations

import pytest

from shared.address import Address, parse_address
from shared.errors import RegistryFileError
from shared.messages.schemas import PERMIT2_ADDRESS
from shared.registry import Registries, default_registries, parse_registry

HOT = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example address

GOOD = f"""
[[chain]]
id = 31337
name = "Anvil"
symbol = "ETH"

[[token]]
chain = 31337
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
symbol = "TST"
decimals = 6
name = "Test token"

[[safe]]
chain = 31337
version = "1.4.1"
multisend_call_only = "0x9641d764fc13c8B624c04430C7356C1C7C8102e2"

[[label]]
address = "{HOT}"
label = "Exchange hot wallet"

[[label]]
address = "{HOT}"
label = "Hot wallet on Anvil"
chain = 31337
"""


def addr(text: str) -> Address:
    return parse_address(text, field="test")


def test_defaults_know_mainnet_usdc_and_the_canonical_multisend_call_only() -> None:
    reg = default_registries()
    usdc = reg.token(1, addr("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"))
    assert usdc is not None and (usdc.symbol, usdc.decimals) == ("USDC", 6)
    assert reg.is_multisend_call_only(1, addr("0x9641d764fc13c8B624c04430C7356C1C7C8102e2"))
    assert reg.is_multisend_call_only(1, addr("0x40A2aCCbd92BCA938b02010E17A5b8929b49130D"))
    # MultiSend (which allows delegatecall inside) is not MultiSendCallOnly.
    assert not reg.is_multisend_call_only(1, addr("0x38869bf66a61cF6bDB996A6aE40D5853Fd43B526"))
    assert reg.is_multisend(1, addr("0x38869bf66a61cF6bDB996A6aE40D5853Fd43B526"))
    chain = reg.chain(31337)
    assert chain is not None and chain.native_symbol == "ETH"
    assert reg.chain(999_999_999_999) is None


def test_operator_file_parses_and_merges_over_defaults() -> None:
    reg = default_registries().merged(parse_registry(GOOD))
    token = reg.token(31337, addr("0x5FbDB2315678afecb367f032d93F642f64180aa3"))
    assert token is not None and token.decimals == 6
    assert reg.label(31337, addr(HOT)) == "Hot wallet on Anvil"
    assert reg.label(1, addr(HOT)) == "Exchange hot wallet"
    assert reg.is_multisend_call_only(31337, addr("0x9641d764fc13c8B624c04430C7356C1C7C8102e2"))
    chain = reg.chain(31337)
    assert chain is not None and chain.name == "Anvil"


def test_lookalike_shares_both_ends_but_is_not_the_address() -> None:
    reg = parse_registry(GOOD)
    real = addr(HOT)
    fake_hex = real.raw.hex()[:4] + "00" * 16 + real.raw.hex()[-4:]
    fake = Address(bytes.fromhex(fake_hex))
    assert reg.lookalike_of(1, fake) == (real, "Exchange hot wallet")
    assert reg.lookalike_of(1, real) is None
    other = Address(bytes.fromhex("11" * 20))
    assert reg.lookalike_of(1, other) is None


def test_empty_file_is_empty_registries() -> None:
    reg = parse_registry("")
    assert isinstance(reg, Registries) and not reg.chains and not reg.labels


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[[chain]]\nid = 1\nname = 'x'\n", "chain[0].symbol"),
        ("[[chain]]\nid = 1\nname = 'x'\nsymbol = 'X'\ncolour = 'red'\n", "chain[0].colour"),
        ("[[chain]]\nid = 0\nname = 'x'\nsymbol = 'X'\n", "chain[0].id"),
        ("[[chain]]\nid = true\nname = 'x'\nsymbol = 'X'\n", "chain[0].id"),
        ("[[chain]]\nid = 1\nname = ''\nsymbol = 'X'\n", "chain[0].name"),
        ('[[chain]]\nid = 1\nname = "a\\u001b[2J"\nsymbol = "X"\n', "chain[0].name"),
        (
            "[[token]]\nchain = 1\naddress = '0x12'\nsymbol = 'T'\ndecimals = 6\n",
            "token[0].address",
        ),
        (
            "[[token]]\nchain = 1\naddress = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'\n"
            "symbol = 'T'\ndecimals = 6\n",
            "token[0].address",
        ),
        (
            "[[token]]\nchain = 1\naddress = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'\n"
            "symbol = 'T'\ndecimals = 99\n",
            "token[0].decimals",
        ),
        ("[[label]]\naddress = 12\nlabel = 'x'\n", "label[0].address"),
        ("[tokens]\nx = 1\n", "tokens"),
        ("chain = 5\n", "chain"),
        ("[[chain]\n", "registry"),
    ],
    ids=[
        "missing-key",
        "unknown-key",
        "chain-id-zero",
        "bool-not-int",
        "empty-text",
        "control-chars",
        "short-address",
        "bad-checksum",
        "decimals-out-of-range",
        "address-not-text",
        "unknown-table",
        "table-not-array",
        "not-toml",
    ],
)
def test_bad_registry_files_are_refused_naming_the_key(text: str, field: str) -> None:
    with pytest.raises(RegistryFileError) as info:
        parse_registry(text)
    assert info.value.field == field


def test_oversize_file_is_refused_before_parsing() -> None:
    with pytest.raises(RegistryFileError, match="larger than"):
        parse_registry("#" * ((1 << 20) + 1))


def test_defaults_name_the_canonical_permit2_contract_on_every_chain() -> None:
    reg = default_registries()
    assert reg.label(1, PERMIT2_ADDRESS) == "Uniswap Permit2"
    assert reg.label(8453, PERMIT2_ADDRESS) == "Uniswap Permit2"


def test_an_operators_label_overrides_a_shipped_one() -> None:
    own = parse_registry(f'[[label]]\naddress = "{PERMIT2_ADDRESS.checksummed()}"\nlabel = "P2"\n')
    assert default_registries().merged(own).label(1, PERMIT2_ADDRESS) == "P2"
