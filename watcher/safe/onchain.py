"""What the watcher asks a Safe on chain: owners, threshold, nonce, version and its own tx hash.

Selectors are from safe-global/safe-smart-account v1.4.1 (contracts/Safe.sol,
base/OwnerManager.sol); ``shared.abi`` computes them from the signatures below and decodes
each reply strictly, so a node that answers with anything but the canonical encoding is
refused as a malformed reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.abi import AbiValue, decode_values, encode_values, function_selector, parse_type
from shared.address import Address
from shared.errors import CalldataError, TypedDataError
from shared.messages import SafeTx, SafeVersion, parse_safe_version, safe_tx_hash
from watcher.errors import MalformedReplyError
from watcher.rpc import Node
from watcher.safe.errors import SafeBuildError, SafeHashMismatchError

GET_OWNERS = "getOwners()"
GET_THRESHOLD = "getThreshold()"
NONCE = "nonce()"
VERSION = "VERSION()"
GET_TRANSACTION_HASH = (
    "getTransactionHash(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,"
    "uint256)"
)
EXEC_TRANSACTION = (
    "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"
)
_TX_TYPES = tuple(
    parse_type(t)
    for t in (
        "address",
        "uint256",
        "bytes",
        "uint8",
        "uint256",
        "uint256",
        "uint256",
        "address",
        "address",
    )
)
_UINT256 = parse_type("uint256")
# A Safe's owners are a linked list in storage; thousands would not fit a block's gas anyway.
MAX_OWNERS = 256


@dataclass(frozen=True, slots=True)
class SafeInfo:
    """A Safe as read from the chain at one moment."""

    address: Address
    chain_id: int
    version: SafeVersion
    version_text: str
    owners: tuple[Address, ...]
    threshold: int
    nonce: int


def _read(node: Node, safe: Address, signature: str, result_type: str) -> object:
    reply = node.call(safe, function_selector(signature))
    if not reply:
        raise SafeBuildError(f"{safe.checksummed()} answers {signature} with nothing: not a Safe")
    try:
        (value,) = decode_values([parse_type(result_type)], reply, path=signature)
    except CalldataError as exc:
        raise MalformedReplyError("eth_call", f"{signature}: {exc.field}", exc.reason) from exc
    return value


def read_safe(node: Node, safe: Address, chain_id: int) -> SafeInfo:
    """Owners, threshold, nonce and ``VERSION()`` of ``safe``; refuses what is not a Safe."""
    version_text = _read(node, safe, VERSION, "string")
    if not isinstance(version_text, str):
        raise MalformedReplyError("eth_call", VERSION, "not UTF-8 text")
    try:
        version = parse_safe_version(version_text)
    except TypedDataError as exc:
        raise SafeBuildError(
            f"{safe.checksummed()}: VERSION() {version_text!r}: {exc.reason}"
        ) from exc
    owners = _read(node, safe, GET_OWNERS, "address[]")
    threshold = _read(node, safe, GET_THRESHOLD, "uint256")
    nonce = _read(node, safe, NONCE, "uint256")
    if not isinstance(owners, tuple) or not all(isinstance(o, Address) for o in owners):
        raise MalformedReplyError("eth_call", GET_OWNERS, "expected addresses")
    if not isinstance(threshold, int) or not isinstance(nonce, int):
        raise MalformedReplyError("eth_call", GET_THRESHOLD, "expected integers")
    owner_list = tuple(o for o in owners if isinstance(o, Address))
    if not 1 <= threshold <= len(owner_list) <= MAX_OWNERS or len(set(owner_list)) != len(
        owner_list
    ):
        raise SafeBuildError(
            f"{safe.checksummed()}: {len(owner_list)} owners with threshold {threshold} "
            "is not a usable Safe"
        )
    return SafeInfo(safe, chain_id, version, version_text, owner_list, threshold, nonce)


def _tx_values(tx: SafeTx) -> list[AbiValue]:
    return [
        tx.to,
        tx.value,
        tx.data,
        tx.operation,
        tx.safe_tx_gas,
        tx.base_gas,
        tx.gas_price,
        tx.gas_token,
        tx.refund_receiver,
    ]


def onchain_tx_hash(node: Node, tx: SafeTx) -> bytes:
    """The Safe's own ``getTransactionHash`` of ``tx`` (``eth_call`` at the head)."""
    payload = function_selector(GET_TRANSACTION_HASH) + encode_values(
        [*_TX_TYPES, _UINT256],
        [*_tx_values(tx), tx.nonce],
    )
    reply = node.call(tx.safe, payload)
    if len(reply) != 32:
        raise MalformedReplyError("eth_call", GET_TRANSACTION_HASH, f"{len(reply)} bytes, not 32")
    return reply


def checked_tx_hash(node: Node, tx: SafeTx, version: SafeVersion) -> bytes:
    """coldsign's SafeTx hash, after the Safe itself confirmed it; SafeHashMismatchError if not."""
    ours = safe_tx_hash(tx, version)
    theirs = onchain_tx_hash(node, tx)
    if ours != theirs:
        raise SafeHashMismatchError(ours, theirs)
    return ours


def exec_transaction_data(tx: SafeTx, signatures: bytes) -> bytes:
    """Call data of ``execTransaction(...)`` carrying the packed owner ``signatures``."""
    return function_selector(EXEC_TRANSACTION) + encode_values(
        [*_TX_TYPES, parse_type("bytes")],
        [*_tx_values(tx), signatures],
    )
