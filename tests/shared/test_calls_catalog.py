"""The known-call catalogue: selectors against published values, kinds, table-driven decoding."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode as eth_abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from vectorfiles import load_vectors

from shared.abi import (
    AbiType,
    AbiValue,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    FixedBytesType,
    IntType,
    StringType,
    TupleType,
    UIntType,
)
from shared.address import Address
from shared.calls import (
    DEFAULT_CATALOG,
    CallKind,
    Catalog,
    FunctionSpec,
    KnownCall,
    NestedCall,
    Operation,
    PackedTransactions,
    decode_call,
    pack_transactions,
)

VECTORS = load_vectors("calls")
FUNCTIONS = [f for block in VECTORS["selectors"].values() for f in block["functions"]]
TARGET = Address(bytes.fromhex("40a2accbd92bca938b02010e17a5b8929b49130d"))

# Selectors the issue names, each checked against its published value (EIP-20, EIP-721,
# OpenZeppelin, safe-smart-account; see tests/vectors/calls.json for sources).
CITED = {
    "transfer(address,uint256)": "a9059cbb",
    "approve(address,uint256)": "095ea7b3",
    "transferFrom(address,address,uint256)": "23b872dd",
    "increaseAllowance(address,uint256)": "39509351",
    "safeTransferFrom(address,address,uint256)": "42842e0e",
    "safeTransferFrom(address,address,uint256,bytes)": "b88d4fde",
    "setApprovalForAll(address,bool)": "a22cb465",
    "multiSend(bytes)": "8d80ff0a",
    "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)": (
        "6a761202"
    ),
    "transferOwnership(address)": "f2fde38b",
    "upgradeTo(address)": "3659cfe6",
    "upgradeToAndCall(address,bytes)": "4f1ef286",
    "grantRole(bytes32,address)": "2f2ff15d",
    "enableModule(address)": "610b5925",
    "setGuard(address)": "e19a9dd9",
    "addOwnerWithThreshold(address,uint256)": "0d582f13",
    "changeMasterCopy(address)": "7de7edef",
}


def _sample(abi_type: AbiType, seed: int) -> AbiValue:
    """A deterministic valid value of ``abi_type`` that differs per argument position."""
    if isinstance(abi_type, UIntType):
        return 1 if abi_type.bits == 8 else 10**18 + seed
    if isinstance(abi_type, IntType):
        return -seed
    if isinstance(abi_type, AddressType):
        return Address(bytes([seed + 1]) * 20)
    if isinstance(abi_type, BoolType):
        return True
    if isinstance(abi_type, FixedBytesType):
        return bytes([seed + 0x40]) * abi_type.size
    if isinstance(abi_type, BytesType):
        # Unknown selector: decodes as an unexplained inner call wherever it is nested.
        return b"\xde\xad\xbe\xef" + bytes([seed]) * 37
    if isinstance(abi_type, StringType):
        return f"text {seed}"
    if isinstance(abi_type, ArrayType):
        return tuple(_sample(abi_type.item, seed + i) for i in range(abi_type.length or 2))
    assert isinstance(abi_type, TupleType)
    return tuple(_sample(c, seed + i) for i, c in enumerate(abi_type.components))


def _eth_abi(value: AbiValue) -> Any:
    if isinstance(value, Address):
        return value.checksummed()
    if isinstance(value, tuple):
        return tuple(_eth_abi(v) for v in value)
    return value


def _sample_args(spec: FunctionSpec) -> tuple[AbiValue, ...]:
    values = [_sample(t, i) for i, t in enumerate(spec.types)]
    if isinstance(spec.inner, PackedTransactions):
        index = spec.arg_names.index(spec.inner.arg)
        values[index] = pack_transactions(
            [(Operation.CALL, Address(b"\x77" * 20), 5, b""), (Operation.CALL, TARGET, 0, b"")]
        )
    return tuple(values)


def test_vectors_name_every_catalogued_function_and_nothing_else() -> None:
    assert sorted(f["signature"] for f in FUNCTIONS) == sorted(s.signature for s in DEFAULT_CATALOG)


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f["signature"])
def test_selector_kind_and_argument_names_match_the_vectors(function: dict[str, Any]) -> None:
    signature = function["signature"]
    selector = bytes.fromhex(function["selector"][2:])
    # eth_utils is an independent Keccak-256 and signature implementation.
    assert function_signature_to_4byte_selector(signature) == selector
    spec = DEFAULT_CATALOG.get(selector)
    assert spec is not None
    assert spec.signature == signature
    assert spec.kind == CallKind(function["kind"])
    assert list(spec.arg_names) == function["args"]


@pytest.mark.parametrize(("signature", "selector"), sorted(CITED.items()))
def test_cited_selectors(signature: str, selector: str) -> None:
    assert function_signature_to_4byte_selector(signature).hex() == selector
    spec = DEFAULT_CATALOG.get(bytes.fromhex(selector))
    assert spec is not None
    assert spec.signature == signature


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f["signature"])
def test_call_built_by_eth_abi_decodes_to_name_kind_and_args(function: dict[str, Any]) -> None:
    signature = function["signature"]
    spec = DEFAULT_CATALOG.get(function_signature_to_4byte_selector(signature))
    assert spec is not None
    values = _sample_args(spec)
    calldata = function_signature_to_4byte_selector(signature) + eth_abi_encode(
        [t.canonical() for t in spec.types], _eth_abi(values)
    )
    call = decode_call(TARGET, 0, calldata)
    assert isinstance(call, KnownCall)
    assert call.signature == signature
    assert call.name == signature.split("(")[0]
    assert call.kind == CallKind(function["kind"])
    assert [a.name for a in call.args] == function["args"]
    assert tuple(a.value for a in call.args) == values
    assert call.calldata() == calldata


def test_catalog_refuses_two_entries_with_one_selector() -> None:
    spec = DEFAULT_CATALOG.get(bytes.fromhex("a9059cbb"))
    assert spec is not None
    with pytest.raises(ValueError, match="already catalogued"):
        Catalog([spec, spec])


def test_spec_refuses_a_selector_that_is_not_the_keccak_of_its_signature() -> None:
    with pytest.raises(ValueError, match="keccak gives 0xa9059cbb"):
        FunctionSpec(
            "transfer(address,uint256)", "0xa9059cbc", CallKind.TOKEN_TRANSFER, ("to", "x"), "t"
        )


def test_spec_refuses_wrong_argument_names() -> None:
    with pytest.raises(ValueError, match="distinct argument names"):
        FunctionSpec(
            "transfer(address,uint256)", "0xa9059cbb", CallKind.TOKEN_TRANSFER, ("to",), ""
        )
    with pytest.raises(ValueError, match="distinct argument names"):
        FunctionSpec(
            "transfer(address,uint256)", "0xa9059cbb", CallKind.TOKEN_TRANSFER, ("a", "a"), ""
        )


def test_spec_refuses_an_inner_rule_naming_a_missing_or_mistyped_argument() -> None:
    with pytest.raises(ValueError, match="inner rule"):
        FunctionSpec(
            "transfer(address,uint256)",
            "0xa9059cbb",
            CallKind.TOKEN_TRANSFER,
            ("to", "amount"),
            "",
            inner=NestedCall(to_arg="to", data_arg="amount"),
        )


def test_spec_refuses_a_non_canonical_signature() -> None:
    with pytest.raises(ValueError):
        FunctionSpec(
            "transfer(address,uint)", "0xa9059cbb", CallKind.TOKEN_TRANSFER, ("a", "b"), ""
        )


def test_every_catalogue_entry_names_its_source() -> None:
    assert all(spec.source for spec in DEFAULT_CATALOG)
