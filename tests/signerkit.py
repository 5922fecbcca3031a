"""Shared builders for the signer core tests: a fast vault, a fake network probe, eth-account
payloads and ERC-4527 requests built from them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import rlp as pyrlp
from eth_account import Account
from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
from eth_account._utils.transaction_utils import transaction_rpc_to_rlp_structure
from eth_account.typed_transactions.typed_transaction import TypedTransaction

from shared.erc4527 import DataType, EthSignRequest, Keypath, PathComponent, RequestId
from signer.airgap import InterfaceKind, InterfaceState
from signer.audit import AuditLog
from signer.core import create_state
from signer.home import SignerHome
from signer.keys.bip32 import HARDENED, DerivationPath
from signer.keys.bip39 import SecretMnemonic
from signer.keys.kdf import MIN_PARAMS
from signer.keys.paths import Scheme, scheme_path
from signer.keys.vault import Vault

# anvil's and hardhat's published development mnemonic: its keys are public knowledge.
ANVIL = "test test test test test test test test test test test junk"
PASSPHRASE = "correct horse battery"
STANDARD = tuple(scheme_path(Scheme.STANDARD, index) for index in range(5))
# anvil account 9: a well-known, checksummed destination.
RECIPIENT = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"


def make_vault(path: Path, accounts: tuple[DerivationPath, ...] = STANDARD) -> Vault:
    """A vault of the anvil mnemonic with the cheapest scrypt the bounds allow."""
    vault = Vault(path)
    vault.import_mnemonic(PASSPHRASE, SecretMnemonic.from_phrase(ANVIL), accounts, kdf=MIN_PARAMS)
    return vault


def eth_key(path: DerivationPath) -> Any:
    """eth-account's LocalAccount for ANVIL at ``path``."""
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(ANVIL, account_path=str(path))


class FakeProbe:
    """A network probe that reports what it is told."""

    def __init__(
        self, interfaces: list[InterfaceState] | None = None, radios: list[str] | None = None
    ):
        self._interfaces = interfaces or [InterfaceState("lo", True, InterfaceKind.LOOPBACK)]
        self._radios = radios or []

    def interfaces(self) -> list[InterfaceState]:
        return list(self._interfaces)

    def radios(self) -> list[str]:
        return list(self._radios)


OFFLINE = FakeProbe()
ONLINE = FakeProbe(
    [
        InterfaceState("lo", True, InterfaceKind.LOOPBACK),
        InterfaceState("eth0", True, InterfaceKind.ETHERNET),
    ]
)


def unsigned_payload(tx: dict[str, Any]) -> bytes:
    """eth-account's unsigned signing payload for an eth-account transaction dict."""
    unsigned = serializable_unsigned_transaction_from_dict(dict(tx))
    if isinstance(unsigned, TypedTransaction):
        inner: Any = unsigned.transaction
        body = inner._unsigned_transaction_serializer.from_dict(
            transaction_rpc_to_rlp_structure(dict(inner.dictionary))
        )
        return bytes([inner.transaction_type]) + bytes(pyrlp.encode(body))
    return bytes(pyrlp.encode(unsigned))


def keypath(path: DerivationPath, fingerprint: int | None = None) -> Keypath:
    """``path`` as an ERC-4527 keypath, naming ``fingerprint`` as its source when given."""
    return Keypath(
        tuple(PathComponent(i & ~HARDENED, i >= HARDENED) for i in path.indices), fingerprint
    )


def request(
    sign_data: bytes,
    data_type: DataType,
    path: DerivationPath = STANDARD[0],
    *,
    chain_id: int | None = None,
    address: Any = None,
    fingerprint: int | None = None,
    request_id: bytes | None = None,
) -> EthSignRequest:
    """An eth-sign-request with a fresh version-4 request id unless one is given."""
    return EthSignRequest(
        sign_data,
        data_type,
        keypath(path, fingerprint),
        RequestId(request_id if request_id is not None else uuid.uuid4().bytes),
        chain_id,
        address,
        "tests",
    )


def eip1559(
    nonce: int = 0, *, chain_id: int = 1, value: int = 10**15, **changes: Any
) -> dict[str, Any]:
    """An EIP-1559 ETH transfer in eth-account's dict form."""
    tx: dict[str, Any] = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "maxFeePerGas": 30 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "gas": 21000,
        "to": RECIPIENT,
        "value": value,
        "data": b"",
        "accessList": [],
    }
    tx.update(changes)
    return tx


def tx_request(
    tx: dict[str, Any], path: DerivationPath = STANDARD[0], **kwargs: Any
) -> EthSignRequest:
    """The eth-sign-request for an eth-account transaction dict (data type 1 or 4)."""
    data_type = DataType.TYPED_TRANSACTION if "type" in tx else DataType.TRANSACTION
    return request(unsigned_payload(tx), data_type, path, chain_id=tx["chainId"], **kwargs)


# A policy for the tests: chain 1 and chain 137, account 0, the anvil-9 destination for the
# native coin, limits, and one personal_sign prefix.
POLICY = """\
[policy]
name = "tests"
version = 1

[[chain]]
id = 1
label = "Ethereum"
max_fee_per_gas_gwei = "150"
max_total_fee_native = "0.05"

[[chain]]
id = 137
label = "Polygon"
max_fee_per_gas_gwei = "500"
max_total_fee_native = "1"

[[account]]
path = "m/44'/60'/0'/0/0"
label = "cold"

[[destination]]
chain = 1
address = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
assets = ["native"]
label = "Hot wallet"

[[destination]]
chain = 137
address = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
assets = ["native"]
label = "Hot wallet"

[[limit]]
chain = 1
asset = "native"
per_tx = "10"
per_24h = "12"

[[limit]]
chain = 137
asset = "native"
per_tx = "1000"
per_24h = "5000"

[[personal_message]]
prefix = "Sign in to coldsign.example"
label = "test login"
"""


def make_home(
    root: Path, policy: str = POLICY, accounts: tuple[DerivationPath, ...] = STANDARD
) -> SignerHome:
    """A signer home at ``root`` with the anvil vault and ``policy``, set up as ``init`` does:
    the audit log, the ledger and the limits store first, then the vault."""
    home = SignerHome.resolve(root)
    home.create()
    AuditLog.open(home.audit_path).close()
    create_state(home)
    make_vault(home.vault_path, accounts)
    home.write_policy(policy.encode("utf-8"))
    return home
