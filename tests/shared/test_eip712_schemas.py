"""DAI-style permits, Permit2 witness transfers, salted domains: hashes, schemas, near-misses."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.address import Address
from shared.errors import TypedDataError
from shared.keccak import keccak256
from shared.messages import (
    DaiPermit,
    Permit,
    Permit2BatchTransferFrom,
    Permit2BatchWitnessTransferFrom,
    Permit2TransferFrom,
    Permit2WitnessTransferFrom,
    Struct,
    parse_typed_data,
    recognise,
)
from shared.messages.eip712 import hash_struct
from shared.messages.schemas import (
    DAI_PERMIT_TYPE,
    PERMIT2_BATCH_WITNESS_TRANSFER_FROM_STUB,
    PERMIT2_WITNESS_TRANSFER_FROM_STUB,
    UINT256_MAX,
)

VECTORS = load_vectors("eip712_schemas")
TYPED = VECTORS["typed_data"]
PUBLISHED = VECTORS["published"]
WITNESS_NAMES = sorted(name for name in TYPED if "witness" in name)


def _document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(TYPED[name]["typed_data"])
    return document


def _parse(document: dict[str, Any]) -> Any:
    return parse_typed_data(json.dumps(document).encode())


def _recognise(document: dict[str, Any]) -> Any:
    return recognise(_parse(document))


def _plain(value: Any) -> Any:
    if isinstance(value, Address):
        return value.checksummed()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _eth_account_hash(document: dict[str, Any]) -> bytes:
    return bytes(_hash_eip191_message(encode_typed_data(full_message=document)))


def _refused(document: dict[str, Any]) -> TypedDataError:
    with pytest.raises(TypedDataError) as caught:
        _recognise(document)
    return caught.value


# --- hashes -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TYPED))
def test_signing_hash_matches_vector_and_eth_account(name: str) -> None:
    document = _document(name)
    ours = _parse(document).signing_hash()
    assert "0x" + ours.hex() == TYPED[name]["signing_hash"]
    assert ours == _eth_account_hash(document)


@pytest.mark.parametrize("name", sorted(TYPED))
def test_schema_is_the_vector_schema(name: str) -> None:
    recognised = _recognise(_document(name))
    expected = TYPED[name]["schema"]
    assert (None if recognised is None else type(recognised).__name__) == expected


def test_dai_type_hashes_to_the_published_typehash() -> None:
    assert "0x" + keccak256(DAI_PERMIT_TYPE.encode()).hex() == PUBLISHED["dai_permit_typehash"]
    typed = _parse(_document("dai_permit_unlimited_no_expiry"))
    assert typed.encode_type() == DAI_PERMIT_TYPE


def test_dai_mainnet_domain_separator_is_the_published_one() -> None:
    typed = _parse(_document("dai_permit_revoke"))
    assert "0x" + typed.domain_separator().hex() == PUBLISHED["dai_mainnet_domain_separator"]


# --- DAI-style permit ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dai_permit_unlimited_no_expiry", "dai_permit_revoke"])
def test_dai_permit_fields(name: str) -> None:
    recognised = _recognise(_document(name))
    assert isinstance(recognised, DaiPermit)
    assert _plain(recognised) == TYPED[name]["fields"]


def test_dai_permit_is_judged_as_the_permit_it_amounts_to() -> None:
    unlimited = _recognise(_document("dai_permit_unlimited_no_expiry"))
    revoke = _recognise(_document("dai_permit_revoke"))
    assert isinstance(unlimited, DaiPermit) and isinstance(revoke, DaiPermit)
    assert isinstance(unlimited, Permit) and isinstance(revoke, Permit)
    assert (unlimited.value, unlimited.deadline, unlimited.never_expires) == (
        UINT256_MAX,
        UINT256_MAX,
        True,
    )
    assert (revoke.value, revoke.deadline, revoke.never_expires) == (0, 1767225600, False)


def test_dai_permit_is_not_equal_to_an_eip2612_permit_of_the_same_values() -> None:
    dai = _recognise(_document("dai_permit_revoke"))
    plain = Permit(**{f.name: getattr(dai, f.name) for f in dataclasses.fields(Permit)})
    assert dai != plain


def test_dai_permit_with_inconsistent_derived_values_cannot_be_built() -> None:
    dai = _recognise(_document("dai_permit_revoke"))
    with pytest.raises(ValueError, match="value"):
        dataclasses.replace(dai, allowed=True)
    with pytest.raises(ValueError, match="deadline"):
        dataclasses.replace(dai, expiry=0)


def _rename(document: dict[str, Any], type_name: str, old: str, new: str) -> None:
    for member in document["types"][type_name]:
        if member["name"] == old:
            member["name"] = new


@pytest.mark.parametrize(
    ("old", "new"),
    [("holder", "owner"), ("expiry", "deadline"), ("allowed", "approved")],
)
def test_dai_permit_with_a_member_renamed_is_not_recognised(old: str, new: str) -> None:
    document = _document("dai_permit_unlimited_no_expiry")
    _rename(document, "Permit", old, new)
    document["message"][new] = document["message"].pop(old)
    assert _recognise(document) is None


def test_dai_permit_with_members_reordered_is_not_recognised() -> None:
    document = _document("dai_permit_unlimited_no_expiry")
    members = document["types"]["Permit"]
    members[2], members[3] = members[3], members[2]
    assert _recognise(document) is None


def test_dai_permit_with_allowed_as_uint_is_not_recognised() -> None:
    document = _document("dai_permit_unlimited_no_expiry")
    document["types"]["Permit"][4]["type"] = "uint256"
    document["message"]["allowed"] = 1
    assert _recognise(document) is None


@pytest.mark.parametrize("missing", ["name", "version", "chainId", "verifyingContract"])
def test_dai_permit_without_a_domain_field_is_refused(missing: str) -> None:
    document = _document("dai_permit_unlimited_no_expiry")
    domain_type = document["types"]["EIP712Domain"]
    document["types"]["EIP712Domain"] = [m for m in domain_type if m["name"] != missing]
    del document["domain"][missing]
    error = _refused(document)
    assert error.field == "domain"
    assert "DAI permit" in error.reason


def test_dai_permit_with_a_salt_is_refused() -> None:
    document = _document("dai_permit_revoke")
    document["types"]["EIP712Domain"].append({"name": "salt", "type": "bytes32"})
    document["domain"]["salt"] = "0x" + "00" * 32
    assert _refused(document).field == "domain"


# --- Permit2 witness transfers ------------------------------------------------------------


@pytest.mark.parametrize("name", WITNESS_NAMES)
def test_witness_type_string_is_the_published_one(name: str) -> None:
    recognised = _recognise(_document(name))
    assert isinstance(recognised, Permit2WitnessTransferFrom | Permit2BatchWitnessTransferFrom)
    assert recognised.witness.type_string == PUBLISHED[TYPED[name]["witness_type_string"]]


def test_mock_witness_encode_types_are_permit2s_full_examples() -> None:
    single = _parse(_document("permit2_witness_mock"))
    batch = _parse(_document("permit2_batch_witness_mock"))
    assert single.encode_type() == PUBLISHED["full_example_witness_typehash_preimage"]
    assert batch.encode_type() == PUBLISHED["full_example_witness_batch_typehash_preimage"]
    assert single.encode_type().startswith(PERMIT2_WITNESS_TRANSFER_FROM_STUB)
    assert batch.encode_type().startswith(PERMIT2_BATCH_WITNESS_TRANSFER_FROM_STUB)


def test_witness_transfer_keeps_the_transfer_and_the_witness() -> None:
    typed = _parse(_document("permit2_witness_mock"))
    recognised = recognise(typed)
    assert isinstance(recognised, Permit2WitnessTransferFrom)
    assert isinstance(recognised, Permit2TransferFrom)
    assert recognised.permitted.token.checksummed() == "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    assert recognised.permitted.amount == 2_500_000_000
    assert recognised.spender.checksummed() == "0x5e5E5e5e5E5e5E5E5e5E5E5e5e5E5E5E5e5E5E5e"
    assert (recognised.nonce, recognised.deadline, recognised.chain_id) == (7, 1767225600, 1)
    witness = recognised.witness
    assert witness.member == "witness"
    assert isinstance(witness.value, Struct) and witness.value.type_name == "MockWitness"
    assert witness.value["value"] == 42 and witness.value["test"] is True
    assert witness.struct_hash == hash_struct(witness.value, typed.type_map())


def test_batch_witness_transfer_is_a_batch_transfer() -> None:
    recognised = _recognise(_document("permit2_batch_witness_mock"))
    assert isinstance(recognised, Permit2BatchWitnessTransferFrom)
    assert isinstance(recognised, Permit2BatchTransferFrom)
    assert [p.amount for p in recognised.permitted] == [2_500_000_000, UINT256_MAX]


def test_witness_member_may_have_another_name() -> None:
    # Permit2 takes the member's name from the caller's witnessTypeString.
    document = _document("permit2_witness_mock")
    _rename(document, "PermitWitnessTransferFrom", "witness", "order")
    document["message"]["order"] = document["message"].pop("witness")
    recognised = _recognise(document)
    assert isinstance(recognised, Permit2WitnessTransferFrom)
    assert recognised.witness.member == "order"
    assert recognised.witness.type_string.startswith("MockWitness order)")


@pytest.mark.parametrize("name", ["permit2_witness_mock", "permit2_batch_witness_mock"])
@pytest.mark.parametrize(("old", "new"), [("permitted", "permissions"), ("deadline", "expiry")])
def test_witness_stub_member_renamed_is_not_recognised(name: str, old: str, new: str) -> None:
    document = _document(name)
    _rename(document, document["primaryType"], old, new)
    document["message"][new] = document["message"].pop(old)
    assert _recognise(document) is None


@pytest.mark.parametrize("name", ["permit2_witness_mock", "permit2_batch_witness_mock"])
def test_witness_stub_reordered_is_not_recognised(name: str) -> None:
    document = _document(name)
    members = document["types"][document["primaryType"]]
    members[2], members[3] = members[3], members[2]
    assert _recognise(document) is None


def test_witness_before_the_stub_members_is_not_recognised() -> None:
    document = _document("permit2_witness_mock")
    members = document["types"]["PermitWitnessTransferFrom"]
    members.insert(0, members.pop())
    assert _recognise(document) is None


def test_witness_transfer_with_an_extra_member_is_not_recognised() -> None:
    document = _document("permit2_witness_mock")
    document["types"]["PermitWitnessTransferFrom"].append({"name": "extra", "type": "uint256"})
    document["message"]["extra"] = 1
    assert _recognise(document) is None


def test_witness_transfer_without_a_witness_is_not_recognised() -> None:
    document = _document("permit2_witness_mock")
    document["types"]["PermitWitnessTransferFrom"].pop()
    del document["types"]["MockWitness"]
    del document["message"]["witness"]
    assert _recognise(document) is None


def test_witness_transfer_with_another_token_permissions_is_not_recognised() -> None:
    document = _document("permit2_witness_mock")
    _rename(document, "TokenPermissions", "amount", "maxAmount")
    permitted = document["message"]["permitted"]
    permitted["maxAmount"] = permitted.pop("amount")
    assert _recognise(document) is None


@pytest.mark.parametrize(
    ("type_", "value"),
    [
        ("bytes32", "0x" + "11" * 32),
        ("uint256", "5"),
        ("MockWitness[]", [{"value": "1", "person": "0x" + "00" * 20, "test": False}]),
    ],
)
def test_witness_that_is_not_one_struct_is_refused(type_: str, value: Any) -> None:
    document = _document("permit2_witness_mock")
    document["types"]["PermitWitnessTransferFrom"][4]["type"] = type_
    if type_ != "MockWitness[]":
        del document["types"]["MockWitness"]
    document["message"]["witness"] = value
    error = _refused(document)
    assert error.field == "types.PermitWitnessTransferFrom[4].type"
    assert "one declared struct" in error.reason


def test_witness_of_token_permissions_is_refused() -> None:
    document = _document("permit2_witness_mock")
    document["types"]["PermitWitnessTransferFrom"][4]["type"] = "TokenPermissions"
    del document["types"]["MockWitness"]
    document["message"]["witness"] = {"token": "0x" + "00" * 20, "amount": "1"}
    error = _refused(document)
    assert error.field == "types.PermitWitnessTransferFrom[4].type"
    assert "TokenPermissions" in error.reason


@pytest.mark.parametrize("name", WITNESS_NAMES)
def test_witness_transfer_without_chain_id_is_refused(name: str) -> None:
    document = _document(name)
    domain_type = document["types"]["EIP712Domain"]
    document["types"]["EIP712Domain"] = [m for m in domain_type if m["name"] != "chainId"]
    del document["domain"]["chainId"]
    assert _refused(document).field == "domain"


def test_witness_transfer_with_another_domain_name_is_refused() -> None:
    document = _document("permit2_batch_witness_mock")
    document["domain"]["name"] = "Permit2 "
    assert _refused(document).field == "domain.name"


def test_witness_transfer_of_another_permit2_address_is_recognised_for_the_policy() -> None:
    # As for the other Permit2 types: recognised, and marked non-canonical for the policy.
    document = _document("permit2_witness_mock")
    document["domain"]["verifyingContract"] = "0x" + "00" * 20
    recognised = _recognise(document)
    assert isinstance(recognised, Permit2WitnessTransferFrom)
    assert recognised.permit2 == Address(bytes(20))


# --- salted domains -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fields", "chain_id"),
    [
        ("domain_salt_only", ("salt",), None),
        ("domain_contract_and_salt", ("verifyingContract", "salt"), None),
        ("domain_name_chain_salt", ("name", "chainId", "salt"), 137),
    ],
)
def test_salted_domains_parse_with_their_declared_fields(
    name: str, fields: tuple[str, ...], chain_id: int | None
) -> None:
    typed = _parse(_document(name))
    assert typed.domain.field_names() == fields
    assert typed.domain.chain_id == chain_id
    assert typed.domain.salt is not None and len(typed.domain.salt) == 32


def test_salt_changes_the_signing_hash() -> None:
    document = _document("domain_salt_only")
    before = _parse(document).signing_hash()
    document["domain"]["salt"] = "0x" + "f2" * 31 + "f3"
    assert _parse(document).signing_hash() != before


@pytest.mark.parametrize("salt", ["0x" + "f2" * 31, "0x" + "f2" * 33, "0xf2", "f2" * 32])
def test_salt_that_is_not_32_bytes_of_hex_is_refused(salt: str) -> None:
    document = _document("domain_salt_only")
    document["domain"]["salt"] = salt
    with pytest.raises(TypedDataError) as caught:
        _parse(document)
    assert caught.value.field == "domain.salt"


def test_salt_declared_with_another_type_is_refused() -> None:
    document = _document("domain_salt_only")
    document["types"]["EIP712Domain"][0]["type"] = "uint256"
    document["domain"]["salt"] = "5"
    with pytest.raises(TypedDataError) as caught:
        _parse(document)
    assert caught.value.field == "types.EIP712Domain[0].type"


# --- properties, cross-checked with eth-account -------------------------------------------

_UINT256 = st.integers(min_value=0, max_value=UINT256_MAX)
# Names on both sides of "TokenPermissions" in encodeType's sort order (code points: "Z" <
# "a"), so the witness type string must list the structs in EIP-712 order to match.
_WITNESS_NAMES = st.sampled_from(["AOrder", "MockWitness", "Tz", "Zeta", "order", "Permit"])
_WITNESS_MEMBERS = st.sampled_from(["witness", "order", "w", "permitted2"])
_ATOMIC_MEMBERS = st.lists(
    st.sampled_from(["uint256", "address", "bool", "bytes32", "string", "uint8", "bytes"]),
    min_size=0,
    max_size=4,
)


def _atomic_value(type_: str, draw: st.DrawFn) -> Any:
    if type_ == "address":
        return Address(draw(st.binary(min_size=20, max_size=20))).checksummed()
    if type_ == "bool":
        return draw(st.booleans())
    if type_ == "bytes32":
        return "0x" + draw(st.binary(min_size=32, max_size=32)).hex()
    if type_ == "bytes":
        return "0x" + draw(st.binary(max_size=40)).hex()
    if type_ == "string":
        return draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
    bits = 8 if type_ == "uint8" else 256
    return str(draw(st.integers(min_value=0, max_value=(1 << bits) - 1)))


@st.composite
def _witness_documents(draw: st.DrawFn) -> dict[str, Any]:
    batch = draw(st.booleans())
    document = _document("permit2_batch_witness_mock" if batch else "permit2_witness_mock")
    name, member = draw(_WITNESS_NAMES), draw(_WITNESS_MEMBERS)
    types = draw(_ATOMIC_MEMBERS)
    fields = [{"name": f"f{index}", "type": type_} for index, type_ in enumerate(types)]
    if draw(st.booleans()):
        # A witness may reference TokenPermissions itself (UniswapX-style orders do not,
        # but Permit2 hashes whatever the caller's type string declares).
        fields.append({"name": "extra", "type": "TokenPermissions"})
    primary = document["primaryType"]
    del document["types"]["MockWitness"]
    document["types"][name] = fields
    document["types"][primary][4] = {"name": member, "type": name}
    value: dict[str, Any] = {}
    for field in fields:
        if field["type"] == "TokenPermissions":
            value[field["name"]] = {"token": "0x" + "00" * 20, "amount": "1"}
        else:
            value[field["name"]] = _atomic_value(field["type"], draw)
    del document["message"]["witness"]
    document["message"][member] = value
    document["message"]["nonce"] = str(draw(_UINT256))
    return document


@given(_witness_documents())
def test_any_struct_witness_is_recognised_and_hashes_like_eth_account(
    document: dict[str, Any],
) -> None:
    typed = _parse(document)
    recognised = recognise(typed)
    assert isinstance(recognised, Permit2WitnessTransferFrom | Permit2BatchWitnessTransferFrom)
    stub = (
        PERMIT2_BATCH_WITNESS_TRANSFER_FROM_STUB
        if isinstance(recognised, Permit2BatchWitnessTransferFrom)
        else PERMIT2_WITNESS_TRANSFER_FROM_STUB
    )
    # Permit2 hashes keccak256(stub || witnessTypeString): it must be this document's typeHash.
    assert stub + recognised.witness.type_string == typed.encode_type()
    assert typed.signing_hash() == _eth_account_hash(document)
    assert recognised.nonce == int(document["message"]["nonce"])


@given(
    nonce=_UINT256,
    expiry=st.one_of(st.just(0), _UINT256),
    allowed=st.booleans(),
    chain_id=st.integers(min_value=1, max_value=2**64),
)
def test_any_dai_permit_hashes_like_eth_account_and_maps_its_effect(
    nonce: int, expiry: int, allowed: bool, chain_id: int
) -> None:
    document = _document("dai_permit_unlimited_no_expiry")
    document["domain"]["chainId"] = chain_id
    document["message"].update(nonce=str(nonce), expiry=str(expiry), allowed=allowed)
    typed = _parse(document)
    assert typed.signing_hash() == _eth_account_hash(document)
    recognised = recognise(typed)
    assert isinstance(recognised, DaiPermit)
    assert recognised.value == (UINT256_MAX if allowed else 0)
    assert recognised.deadline == (UINT256_MAX if expiry == 0 else expiry)
    assert (recognised.nonce, recognised.expiry, recognised.chain_id) == (nonce, expiry, chain_id)
