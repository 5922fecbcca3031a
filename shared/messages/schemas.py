"""Recognising well-known EIP-712 messages (Permit, DAI permit, Permit2, SafeTx, SafeMessage).

A document is recognised only when its primary type's ``encodeType`` string is exactly the
one the verifying contract hashes (so every member name, type and order matches) and its
domain declares exactly the fields that contract uses. A document whose types match but
whose domain does not is refused with TypedDataError: it claims to be, say, a Permit but
could not be verified by any real token, and coldsign does not guess.

Permit2's witness transfers are the one family without a fixed ``encodeType``: Permit2
hashes a fixed stub followed by a witness type string its caller supplies. They are
recognised by the stub (primary type name and its first four members exactly) and refused
when the fifth member is not one declared struct.

Two recognised classes extend another: :class:`DaiPermit` is a :class:`Permit` and the
witness transfers are Permit2 transfers, because each grants exactly what its base grants
(an allowance, a pull of tokens); a policy that judges the base judges them the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from shared.address import Address
from shared.errors import TypedDataError
from shared.messages.eip712 import Struct, TypedData, Value, hash_struct
from shared.messages.safe_tx import (
    OPERATION_CALL,
    OPERATION_DELEGATECALL,
    SAFE_MESSAGE_TYPE,
    SAFE_TX_TYPE,
    SafeMessage,
    SafeTx,
)

# EIP-2612 §Specification: the Permit struct tokens hash.
PERMIT_TYPE = "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
# makerdao/dss src/dai.sol (commit d4cbab910f160d26cd276aa71f9dda872f69791c): the preimage of
# PERMIT_TYPEHASH 0xea2aa0a1be11a07ed86d755c93467f4f82362b452371d1ba94d1715123511acb.
DAI_PERMIT_TYPE = "Permit(address holder,address spender,uint256 nonce,uint256 expiry,bool allowed)"
# dai.sol permit: `require(expiry == 0 || now <= expiry)` and `wad = allowed ? uint(-1) : 0`.
DAI_NO_EXPIRY = 0
UINT256_MAX = 2**256 - 1
# Uniswap/permit2 src/libraries/PermitHash.sol (commit 57a0505b2d9f4700ef6e721092ce99235c5c17eb).
_PERMIT_DETAILS = "PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)"
_TOKEN_PERMISSIONS = "TokenPermissions(address token,uint256 amount)"  # noqa: S105
PERMIT2_SINGLE_TYPE = (
    "PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)" + _PERMIT_DETAILS
)
PERMIT2_BATCH_TYPE = (
    "PermitBatch(PermitDetails[] details,address spender,uint256 sigDeadline)" + _PERMIT_DETAILS
)
PERMIT2_TRANSFER_FROM_TYPE = (
    "PermitTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,"
    "uint256 deadline)" + _TOKEN_PERMISSIONS
)
PERMIT2_BATCH_TRANSFER_FROM_TYPE = (
    "PermitBatchTransferFrom(TokenPermissions[] permitted,address spender,uint256 nonce,"
    "uint256 deadline)" + _TOKEN_PERMISSIONS
)
# PermitHash.sol (same commit) _PERMIT_TRANSFER_FROM_WITNESS_TYPEHASH_STUB and
# _PERMIT_BATCH_WITNESS_TRANSFER_FROM_TYPEHASH_STUB: Permit2 hashes keccak256(stub ||
# witnessTypeString), the caller's string naming the witness member and every struct after.
PERMIT2_WITNESS_TRANSFER_FROM_STUB = (
    "PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,"
    "uint256 deadline,"
)
PERMIT2_BATCH_WITNESS_TRANSFER_FROM_STUB = (
    "PermitBatchWitnessTransferFrom(TokenPermissions[] permitted,address spender,uint256 nonce,"
    "uint256 deadline,"
)
# Uniswap/permit2 src/EIP712.sol: name "Permit2", no version, chainId and the contract.
PERMIT2_DOMAIN_NAME = "Permit2"
# The Permit2 deployment (same address on every chain): Uniswap/permit2-sdk src/constants.ts
# (commit e0684d1fc3e65f901539788b35596ca7aa290037), PERMIT2_ADDRESS.
PERMIT2_ADDRESS = Address(bytes.fromhex("000000000022d473030f116ddee9f6b43ac78ba3"))


@dataclass(frozen=True, slots=True)
class Permit:
    """EIP-2612 permit: ``owner`` lets ``spender`` move ``value`` of ``token`` until ``deadline``.

    ``token`` is the domain's verifyingContract; ``domain_name``/``domain_version`` are the
    token's own (untrusted) strings, to be shown through ``safe_display`` only.
    """

    owner: Address
    spender: Address
    value: int
    nonce: int
    deadline: int
    token: Address
    chain_id: int
    domain_name: str | None
    domain_version: str | None


@dataclass(frozen=True, slots=True)
class DaiPermit(Permit):
    """A DAI-style permit: ``holder`` (``owner``) lets ``spender`` spend every token, or nothing.

    dai.sol sets the allowance to ``uint256`` max when ``allowed`` and to 0 (a revocation)
    when not, and accepts the signature until ``expiry`` (0: forever). The inherited
    ``value`` and ``deadline`` hold that effect in EIP-2612 terms (``deadline`` is
    ``uint256`` max for expiry 0), so a rule for permits judges it as what it does.
    """

    expiry: int
    allowed: bool

    def __post_init__(self) -> None:
        # Built only by the recogniser; a mismatch is a programming error, not bad input.
        if self.value != (UINT256_MAX if self.allowed else 0):
            raise ValueError("a DAI permit's value follows from allowed")
        if self.deadline != (UINT256_MAX if self.expiry == DAI_NO_EXPIRY else self.expiry):
            raise ValueError("a DAI permit's deadline follows from expiry")

    @property
    def never_expires(self) -> bool:
        """True for expiry 0: the signature stays usable until its nonce is spent."""
        return self.expiry == DAI_NO_EXPIRY


@dataclass(frozen=True, slots=True)
class PermitDetails:
    """Permit2 allowance for one token: ``amount`` (uint160) until ``expiration`` (uint48)."""

    token: Address
    amount: int
    expiration: int
    nonce: int


@dataclass(frozen=True, slots=True)
class TokenPermissions:
    """Permit2 signature-transfer allowance: up to ``amount`` of ``token``."""

    token: Address
    amount: int


@dataclass(frozen=True, slots=True)
class Permit2Single:
    """Permit2 ``PermitSingle``: an allowance on one token for ``spender``."""

    permit2: Address
    chain_id: int
    details: PermitDetails
    spender: Address
    sig_deadline: int


@dataclass(frozen=True, slots=True)
class Permit2Batch:
    """Permit2 ``PermitBatch``: allowances on several tokens for one ``spender``."""

    permit2: Address
    chain_id: int
    details: tuple[PermitDetails, ...]
    spender: Address
    sig_deadline: int


@dataclass(frozen=True, slots=True)
class Permit2TransferFrom:
    """Permit2 ``PermitTransferFrom``: one transfer ``spender`` may pull before ``deadline``."""

    permit2: Address
    chain_id: int
    permitted: TokenPermissions
    spender: Address
    nonce: int
    deadline: int


@dataclass(frozen=True, slots=True)
class Permit2BatchTransferFrom:
    """Permit2 ``PermitBatchTransferFrom``: transfers of several tokens ``spender`` may pull."""

    permit2: Address
    chain_id: int
    permitted: tuple[TokenPermissions, ...]
    spender: Address
    nonce: int
    deadline: int


@dataclass(frozen=True, slots=True)
class Permit2Witness:
    """The extra struct a Permit2 witness transfer signs, which only the spender interprets.

    ``member`` is its member name, ``value`` the struct, ``type_string`` the
    ``witnessTypeString`` the spender must pass to Permit2 (the ``encodeType`` after the
    stub) and ``struct_hash`` the ``bytes32 witness`` (``hashStruct`` of the value).
    """

    member: str
    value: Struct
    type_string: str
    struct_hash: bytes


@dataclass(frozen=True, slots=True)
class Permit2WitnessTransferFrom(Permit2TransferFrom):
    """Permit2 ``PermitWitnessTransferFrom``: a ``PermitTransferFrom`` bound to a witness."""

    witness: Permit2Witness


@dataclass(frozen=True, slots=True)
class Permit2BatchWitnessTransferFrom(Permit2BatchTransferFrom):
    """Permit2 ``PermitBatchWitnessTransferFrom``: a batch transfer bound to a witness."""

    witness: Permit2Witness


Permit2Message: TypeAlias = (
    Permit2Single | Permit2Batch | Permit2TransferFrom | Permit2BatchTransferFrom
)
RecognisedMessage: TypeAlias = Permit | Permit2Message | SafeTx | SafeMessage


def is_canonical_permit2(message: Permit2Message) -> bool:
    """True when the message is for the one real Permit2 deployment."""
    return message.permit2 == PERMIT2_ADDRESS


def recognise(typed: TypedData) -> RecognisedMessage | None:
    """The known message ``typed`` is, or None for any other typed data.

    Raises TypedDataError when the types are a known schema but the domain does not fit it,
    a value is outside what the verifying contract accepts (a SafeTx operation above 1), or
    a Permit2 witness transfer's witness is not a declared struct.
    """
    recogniser = _RECOGNISERS.get(typed.encode_type())
    if recogniser is not None:
        return recogniser(typed)
    if typed.primary_type == "PermitWitnessTransferFrom":
        return _permit2_witness_transfer_from(typed)
    if typed.primary_type == "PermitBatchWitnessTransferFrom":
        return _permit2_batch_witness_transfer_from(typed)
    return None


def _address(value: Value) -> Address:
    if not isinstance(value, Address):
        raise TypeError("expected an Address")
    return value


def _int(value: Value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an int")
    return value


def _bytes(value: Value) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError("expected bytes")
    return value


def _bool(value: Value) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected a bool")
    return value


def _struct(value: Value) -> Struct:
    if not isinstance(value, Struct):
        raise TypeError("expected a Struct")
    return value


def _structs(value: Value) -> tuple[Struct, ...]:
    if not isinstance(value, tuple):
        raise TypeError("expected a tuple")
    return tuple(_struct(item) for item in value)


def _require_domain(typed: TypedData, fields: tuple[str, ...], schema: str) -> None:
    found = typed.domain.field_names()
    if found != fields:
        raise TypedDataError(
            "domain",
            f"a {schema} domain declares exactly {', '.join(fields)}; this one declares "
            f"{', '.join(found) or 'nothing'}",
        )


def _chain_and_contract(typed: TypedData) -> tuple[int, Address]:
    # Only called after _require_domain checked both fields are declared.
    chain_id, contract = typed.domain.chain_id, typed.domain.verifying_contract
    if chain_id is None or contract is None:
        raise TypeError("domain lacks chainId or verifyingContract")
    return chain_id, contract


def _permit(typed: TypedData) -> Permit:
    domain = typed.domain
    # EIP-2612 leaves name and version to the token; chainId and the token address must be
    # there or the permit is replayable across chains or cannot name its token.
    if domain.chain_id is None:
        raise TypedDataError("domain", "a Permit domain must declare chainId")
    if domain.verifying_contract is None:
        raise TypedDataError("domain", "a Permit domain must declare verifyingContract")
    if domain.salt is not None:
        raise TypedDataError("domain.salt", "a Permit domain with a salt is not supported")
    message = typed.message
    return Permit(
        owner=_address(message["owner"]),
        spender=_address(message["spender"]),
        value=_int(message["value"]),
        nonce=_int(message["nonce"]),
        deadline=_int(message["deadline"]),
        token=domain.verifying_contract,
        chain_id=domain.chain_id,
        domain_name=domain.name,
        domain_version=domain.version,
    )


def _dai_permit(typed: TypedData) -> DaiPermit:
    # dai.sol hashes exactly these four domain fields (its DOMAIN_SEPARATOR constructor).
    _require_domain(typed, ("name", "version", "chainId", "verifyingContract"), "DAI permit")
    chain_id, token = _chain_and_contract(typed)
    message = typed.message
    expiry, allowed = _int(message["expiry"]), _bool(message["allowed"])
    return DaiPermit(
        owner=_address(message["holder"]),
        spender=_address(message["spender"]),
        value=UINT256_MAX if allowed else 0,
        nonce=_int(message["nonce"]),
        deadline=UINT256_MAX if expiry == DAI_NO_EXPIRY else expiry,
        token=token,
        chain_id=chain_id,
        domain_name=typed.domain.name,
        domain_version=typed.domain.version,
        expiry=expiry,
        allowed=allowed,
    )


def _permit2_domain(typed: TypedData) -> tuple[int, Address]:
    _require_domain(typed, ("name", "chainId", "verifyingContract"), "Permit2")
    if typed.domain.name != PERMIT2_DOMAIN_NAME:
        raise TypedDataError("domain.name", 'a Permit2 domain is named "Permit2"')
    return _chain_and_contract(typed)


def _details(struct: Struct) -> PermitDetails:
    return PermitDetails(
        token=_address(struct["token"]),
        amount=_int(struct["amount"]),
        expiration=_int(struct["expiration"]),
        nonce=_int(struct["nonce"]),
    )


def _permissions(struct: Struct) -> TokenPermissions:
    return TokenPermissions(token=_address(struct["token"]), amount=_int(struct["amount"]))


def _permit2_single(typed: TypedData) -> Permit2Single:
    chain_id, permit2 = _permit2_domain(typed)
    message = typed.message
    return Permit2Single(
        permit2=permit2,
        chain_id=chain_id,
        details=_details(_struct(message["details"])),
        spender=_address(message["spender"]),
        sig_deadline=_int(message["sigDeadline"]),
    )


def _permit2_batch(typed: TypedData) -> Permit2Batch:
    chain_id, permit2 = _permit2_domain(typed)
    message = typed.message
    return Permit2Batch(
        permit2=permit2,
        chain_id=chain_id,
        details=tuple(_details(item) for item in _structs(message["details"])),
        spender=_address(message["spender"]),
        sig_deadline=_int(message["sigDeadline"]),
    )


def _permit2_transfer_from(typed: TypedData) -> Permit2TransferFrom:
    chain_id, permit2 = _permit2_domain(typed)
    message = typed.message
    return Permit2TransferFrom(
        permit2=permit2,
        chain_id=chain_id,
        permitted=_permissions(_struct(message["permitted"])),
        spender=_address(message["spender"]),
        nonce=_int(message["nonce"]),
        deadline=_int(message["deadline"]),
    )


def _permit2_batch_transfer_from(typed: TypedData) -> Permit2BatchTransferFrom:
    chain_id, permit2 = _permit2_domain(typed)
    message = typed.message
    return Permit2BatchTransferFrom(
        permit2=permit2,
        chain_id=chain_id,
        permitted=tuple(_permissions(item) for item in _structs(message["permitted"])),
        spender=_address(message["spender"]),
        nonce=_int(message["nonce"]),
        deadline=_int(message["deadline"]),
    )


def _witness(typed: TypedData, stub: str) -> Permit2Witness | None:
    """The witness of a Permit2 witness transfer whose stub is ``stub``, or None.

    None when the document is not that transfer (a stub member renamed, retyped or moved,
    another TokenPermissions): Permit2 would never verify its signature. TypedDataError when
    it is one but its witness is not a declared struct of its own, which Permit2 would
    verify but coldsign cannot show as a witness.
    """
    types = typed.type_map()
    members = types[typed.primary_type].members
    head = "".join(f"{member.type} {member.name}," for member in members[:4])
    if len(members) != 5 or stub != f"{typed.primary_type}({head}":
        return None
    if typed.encode_type("TokenPermissions") != _TOKEN_PERMISSIONS:
        return None
    member = members[4]
    where = f"types.{typed.primary_type}[4].type"
    if member.type not in types:
        raise TypedDataError(
            where, "a Permit2 witness must be one declared struct, not an atomic type or an array"
        )
    if member.type == "TokenPermissions":
        raise TypedDataError(
            where, "a Permit2 witness must be its own struct, not TokenPermissions"
        )
    encoded = typed.encode_type()
    value = _struct(typed.message[member.name])
    return Permit2Witness(
        member=member.name,
        value=value,
        type_string=encoded[len(stub) :],
        struct_hash=hash_struct(value, types),
    )


def _permit2_witness_transfer_from(typed: TypedData) -> Permit2WitnessTransferFrom | None:
    witness = _witness(typed, PERMIT2_WITNESS_TRANSFER_FROM_STUB)
    if witness is None:
        return None
    base = _permit2_transfer_from(typed)
    return Permit2WitnessTransferFrom(
        permit2=base.permit2,
        chain_id=base.chain_id,
        permitted=base.permitted,
        spender=base.spender,
        nonce=base.nonce,
        deadline=base.deadline,
        witness=witness,
    )


def _permit2_batch_witness_transfer_from(
    typed: TypedData,
) -> Permit2BatchWitnessTransferFrom | None:
    witness = _witness(typed, PERMIT2_BATCH_WITNESS_TRANSFER_FROM_STUB)
    if witness is None:
        return None
    base = _permit2_batch_transfer_from(typed)
    return Permit2BatchWitnessTransferFrom(
        permit2=base.permit2,
        chain_id=base.chain_id,
        permitted=base.permitted,
        spender=base.spender,
        nonce=base.nonce,
        deadline=base.deadline,
        witness=witness,
    )


def _safe_domain(typed: TypedData, schema: str) -> tuple[int | None, Address]:
    # Safe >= 1.3.0 hashes chainId and the Safe; older Safes only the Safe.
    found = typed.domain.field_names()
    if found not in (("chainId", "verifyingContract"), ("verifyingContract",)):
        raise TypedDataError(
            "domain",
            f"a {schema} domain declares chainId and verifyingContract (Safe >= 1.3.0) or "
            f"only verifyingContract; this one declares {', '.join(found) or 'nothing'}",
        )
    contract = typed.domain.verifying_contract
    if contract is None:
        raise TypeError("domain lacks verifyingContract")
    return typed.domain.chain_id, contract


def _safe_tx(typed: TypedData) -> SafeTx:
    chain_id, safe = _safe_domain(typed, "SafeTx")
    message = typed.message
    operation = _int(message["operation"])
    if operation not in (OPERATION_CALL, OPERATION_DELEGATECALL):
        raise TypedDataError(
            "message.operation", "a Safe operation is 0 (call) or 1 (delegatecall)"
        )
    return SafeTx(
        safe=safe,
        chain_id=chain_id,
        to=_address(message["to"]),
        value=_int(message["value"]),
        data=_bytes(message["data"]),
        operation=operation,
        safe_tx_gas=_int(message["safeTxGas"]),
        base_gas=_int(message["baseGas"]),
        gas_price=_int(message["gasPrice"]),
        gas_token=_address(message["gasToken"]),
        refund_receiver=_address(message["refundReceiver"]),
        nonce=_int(message["nonce"]),
    )


def _safe_message(typed: TypedData) -> SafeMessage:
    chain_id, safe = _safe_domain(typed, "SafeMessage")
    return SafeMessage(safe=safe, chain_id=chain_id, message=_bytes(typed.message["message"]))


_RECOGNISERS: dict[str, Callable[[TypedData], RecognisedMessage]] = {
    PERMIT_TYPE: _permit,
    DAI_PERMIT_TYPE: _dai_permit,
    PERMIT2_SINGLE_TYPE: _permit2_single,
    PERMIT2_BATCH_TYPE: _permit2_batch,
    PERMIT2_TRANSFER_FROM_TYPE: _permit2_transfer_from,
    PERMIT2_BATCH_TRANSFER_FROM_TYPE: _permit2_batch_transfer_from,
    SAFE_TX_TYPE: _safe_tx,
    SAFE_MESSAGE_TYPE: _safe_message,
}
