"""A SafeTx as the EIP-712 typed-data JSON owners sign, and the ERC-4527 request carrying it.

The document is what Safe{Wallet} sends to ``eth_signTypedData_v4``: types ``EIP712Domain``
and ``SafeTx`` (safe-global/safe-smart-account v1.4.1 contracts/Safe.sol, ``SAFE_TX_TYPEHASH``),
primary type ``SafeTx``, the domain ``{chainId, verifyingContract}`` for Safe >= 1.3.0 or
``{verifyingContract}`` before. uint256 values are decimal strings (JSON numbers above 2^53
lose precision in JavaScript signers), ``operation`` a number, bytes ``0x`` hex, addresses
EIP-55. The bytes are deterministic: one SafeTx gives one request payload.
"""

from __future__ import annotations

import json
import uuid

from shared.address import Address
from shared.erc4527 import DataType, EthSignRequest, Keypath, RequestId
from shared.messages import SafeTx, SafeVersion

ORIGIN = "coldsign-watcher safe"
_SAFE_TX_MEMBERS = (
    ("to", "address"),
    ("value", "uint256"),
    ("data", "bytes"),
    ("operation", "uint8"),
    ("safeTxGas", "uint256"),
    ("baseGas", "uint256"),
    ("gasPrice", "uint256"),
    ("gasToken", "address"),
    ("refundReceiver", "address"),
    ("nonce", "uint256"),
)


def safe_tx_document(tx: SafeTx, version: SafeVersion) -> dict[str, object]:
    """The EIP-712 document of ``tx`` for a Safe at ``version``."""
    domain_types = [{"name": "verifyingContract", "type": "address"}]
    domain: dict[str, object] = {"verifyingContract": tx.safe.checksummed()}
    if version.domain_has_chain_id:
        if tx.chain_id is None:
            raise ValueError(f"a Safe {version} domain needs the chain id")
        domain_types.insert(0, {"name": "chainId", "type": "uint256"})
        domain = {"chainId": str(tx.chain_id), **domain}
    return {
        "types": {
            "EIP712Domain": domain_types,
            "SafeTx": [{"name": name, "type": kind} for name, kind in _SAFE_TX_MEMBERS],
        },
        "primaryType": "SafeTx",
        "domain": domain,
        "message": {
            "to": tx.to.checksummed(),
            "value": str(tx.value),
            "data": "0x" + tx.data.hex(),
            "operation": tx.operation,
            "safeTxGas": str(tx.safe_tx_gas),
            "baseGas": str(tx.base_gas),
            "gasPrice": str(tx.gas_price),
            "gasToken": tx.gas_token.checksummed(),
            "refundReceiver": tx.refund_receiver.checksummed(),
            "nonce": str(tx.nonce),
        },
    }


def safe_tx_json(tx: SafeTx, version: SafeVersion) -> bytes:
    """The UTF-8 JSON bytes of :func:`safe_tx_document` (compact, keys in document order)."""
    return json.dumps(safe_tx_document(tx, version), separators=(",", ":")).encode("utf-8")


def owner_request(
    tx: SafeTx,
    version: SafeVersion,
    *,
    owner: Address,
    path: str,
    master_fingerprint: str,
    request_id: str,
) -> EthSignRequest:
    """The ``eth-sign-request`` (data type 2, EIP-712 typed data) asking one owner to sign."""
    return EthSignRequest(
        sign_data=safe_tx_json(tx, version),
        data_type=DataType.TYPED_DATA,
        derivation_path=Keypath.parse(path, source_fingerprint=int(master_fingerprint, 16)),
        request_id=RequestId(uuid.UUID(request_id).bytes),
        chain_id=tx.chain_id,
        address=owner,
        origin=ORIGIN,
    )
