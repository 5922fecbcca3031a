"""Safe (Gnosis Safe) transaction and message hashes, computed from the values directly.

Type strings and domains as in safe-global/safe-smart-account:
- contracts/Safe.sol (v1.3.0 and later, e.g. commit 00a7e3441a20b80c8e4181590f8f884a44cfd84c):
  ``DOMAIN_SEPARATOR_TYPEHASH = keccak256("EIP712Domain(uint256 chainId,address
  verifyingContract)")`` and ``SAFE_TX_TYPEHASH`` over the SafeTx string below;
- contracts/GnosisSafe.sol before v1.3.0: ``EIP712Domain(address verifyingContract)``; the
  SafeTx member ``baseGas`` was called ``dataGas`` before v1.0.0, so those are refused;
- contracts/handler/CompatibilityFallbackHandler.sol: ``SafeMessage(bytes message)`` hashed as
  ``keccak256(abi.encode(SAFE_MSG_TYPEHASH, keccak256(message)))`` in the Safe's domain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.address import Address
from shared.errors import TypedDataError
from shared.keccak import keccak256

SAFE_TX_TYPE = (
    "SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
    "uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
)
SAFE_MESSAGE_TYPE = "SafeMessage(bytes message)"
DOMAIN_WITH_CHAIN_ID = "EIP712Domain(uint256 chainId,address verifyingContract)"
DOMAIN_WITHOUT_CHAIN_ID = "EIP712Domain(address verifyingContract)"
# Enum.Operation in Safe's common/Enum.sol: 0 Call, 1 DelegateCall.
OPERATION_CALL = 0
OPERATION_DELEGATECALL = 1

_UINT256_MAX = (1 << 256) - 1
_VERSION = re.compile(r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})(\+L2)?")


@dataclass(frozen=True, slots=True, order=True)
class SafeVersion:
    """A Safe contract version (the ``VERSION()`` string), 1.0.0 or later."""

    major: int
    minor: int
    patch: int

    @property
    def domain_has_chain_id(self) -> bool:
        """Safe 1.3.0 added chainId to the domain (safe-smart-account PR #264)."""
        return (self.major, self.minor) >= (1, 3)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def parse_safe_version(text: str, *, field: str = "safe_version") -> SafeVersion:
    """Parse ``VERSION()`` text such as ``1.3.0`` or ``1.3.0+L2``; TypedDataError otherwise."""
    match = _VERSION.fullmatch(text)
    if match is None:
        raise TypedDataError(field, "expected a Safe version such as 1.3.0 or 1.4.1+L2")
    version = SafeVersion(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if version < SafeVersion(1, 0, 0):
        raise TypedDataError(field, "Safe versions before 1.0.0 (dataGas) are not supported")
    return version


@dataclass(frozen=True, slots=True)
class SafeTx:
    """One Safe transaction as its owners sign it.

    ``chain_id`` is None only for a SafeTx read from typed data with a pre-1.3.0 domain,
    which names no chain.
    """

    safe: Address
    chain_id: int | None
    to: Address
    value: int
    data: bytes
    operation: int
    safe_tx_gas: int
    base_gas: int
    gas_price: int
    gas_token: Address
    refund_receiver: Address
    nonce: int

    def __post_init__(self) -> None:
        # Built by trusted code (watcher, schema recognition): out-of-range values are bugs.
        for name in ("value", "safe_tx_gas", "base_gas", "gas_price", "nonce"):
            number = getattr(self, name)
            if isinstance(number, bool) or not isinstance(number, int):
                raise TypeError(f"SafeTx.{name} must be an int")
            if not 0 <= number <= _UINT256_MAX:
                raise ValueError(f"SafeTx.{name} is out of the uint256 range")
        if self.chain_id is not None and not 0 <= self.chain_id <= _UINT256_MAX:
            raise ValueError("SafeTx.chain_id is out of the uint256 range")
        if self.operation not in (OPERATION_CALL, OPERATION_DELEGATECALL):
            raise ValueError("SafeTx.operation must be 0 (call) or 1 (delegatecall)")
        if not isinstance(self.data, bytes):
            raise TypeError("SafeTx.data must be bytes")

    @property
    def is_delegatecall(self) -> bool:
        """True when the Safe would DELEGATECALL ``to`` (runs foreign code as the Safe)."""
        return self.operation == OPERATION_DELEGATECALL


@dataclass(frozen=True, slots=True)
class SafeMessage:
    """A message a Safe's owners sign off-chain (EIP-1271 via CompatibilityFallbackHandler).

    ``chain_id`` is None only for a pre-1.3.0 domain.
    """

    safe: Address
    chain_id: int | None
    message: bytes


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _address_word(address: Address) -> bytes:
    return address.raw.rjust(32, b"\x00")


def safe_domain_separator(safe: Address, chain_id: int | None, version: SafeVersion) -> bytes:
    """The Safe's EIP-712 domain separator for ``version``.

    Safe >= 1.3.0: ``keccak256(typeHash || chainId || safe)``; older: ``keccak256(typeHash ||
    safe)``, where the chain id is ignored.
    """
    if version.domain_has_chain_id:
        if chain_id is None:
            raise ValueError(f"a Safe {version} domain needs the chain id")
        type_hash = keccak256(DOMAIN_WITH_CHAIN_ID.encode("ascii"))
        return keccak256(type_hash + _word(chain_id) + _address_word(safe))
    type_hash = keccak256(DOMAIN_WITHOUT_CHAIN_ID.encode("ascii"))
    return keccak256(type_hash + _address_word(safe))


def safe_tx_struct_hash(tx: SafeTx) -> bytes:
    """``hashStruct(SafeTx)``: keccak256 of the type hash and the ten members, ``data`` hashed."""
    encoded = b"".join(
        (
            keccak256(SAFE_TX_TYPE.encode("ascii")),
            _address_word(tx.to),
            _word(tx.value),
            keccak256(tx.data),
            _word(tx.operation),
            _word(tx.safe_tx_gas),
            _word(tx.base_gas),
            _word(tx.gas_price),
            _address_word(tx.gas_token),
            _address_word(tx.refund_receiver),
            _word(tx.nonce),
        )
    )
    return keccak256(encoded)


def safe_tx_hash(tx: SafeTx, version: SafeVersion) -> bytes:
    """The safeTxHash owners sign: ``keccak256(0x19 || 0x01 || domainSeparator || hashStruct)``.

    Equal to the Safe's own ``getTransactionHash(...)`` for a Safe at ``version``.
    """
    domain = safe_domain_separator(tx.safe, tx.chain_id, version)
    return keccak256(b"\x19\x01" + domain + safe_tx_struct_hash(tx))


def safe_message_hash(message: SafeMessage, version: SafeVersion) -> bytes:
    """The hash owners sign for a SafeMessage (``getMessageHashForSafe`` on-chain)."""
    struct_hash = keccak256(
        keccak256(SAFE_MESSAGE_TYPE.encode("ascii")) + keccak256(message.message)
    )
    domain = safe_domain_separator(message.safe, message.chain_id, version)
    return keccak256(b"\x19\x01" + domain + struct_hash)
