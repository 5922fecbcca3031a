"""Safe v1.4.1 on anvil for tests: the official build artifacts at their canonical addresses.

Nothing here is hand-written bytecode. The contracts come from npm
``@safe-global/safe-contracts`` 1.4.1 (``build/artifacts/contracts/**.json``, field
``bytecode``) and are deployed through the Safe singleton factory, itself deployed from
the presigned transaction published in npm ``@safe-global/safe-singleton-factory`` 2.0.0
(``artifacts/31337/deployment.json``), both pinned in interop/package.json. With salt
zero, as Safe's own deployment scripts use, the CREATE2 addresses and the runtime code
hashes equal those published in safe-global/safe-deployments ``src/assets/v1.4.1`` (commit
000c5475ea5ec49a4e8e72a7c0bdb2616cf67efc): :func:`deploy_safe_contracts` checks both, so
a different build would fail loudly instead of landing elsewhere.

Calls are encoded with eth_abi and signatures made with eth-account, independently of the
code under test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from anvil import ROOT, Anvil, AnvilError
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

ARTIFACTS = ROOT / "interop/node_modules/@safe-global/safe-contracts/build/artifacts/contracts"
FACTORY_DEPLOYMENT = (
    ROOT
    / "interop/node_modules/@safe-global/safe-singleton-factory/artifacts/31337/deployment.json"
)
# Safe deploys its v1.4.1 contracts through the singleton factory with a zero salt.
SALT = bytes(32)
ZERO = "0x0000000000000000000000000000000000000000"
# anvil dev account 8 deploys and relays: the other dev accounts stay free for the tests.
DEPLOYER = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"


@dataclass(frozen=True)
class Artifact:
    """One contract: its artifact path, canonical address and published runtime code hash."""

    path: str
    address: str
    code_hash: str


# safe-global/safe-deployments src/assets/v1.4.1/<name>.json, "canonical" deployments.
SAFE = Artifact(
    "Safe.sol/Safe.json",
    "0x41675C099F32341bf84BFc5382aF534df5C7461a",
    "0x1fe2df852ba3299d6534ef416eefa406e56ced995bca886ab7a553e6d0c5e1c4",
)
SAFE_L2 = Artifact(
    "SafeL2.sol/SafeL2.json",
    "0x29fcB43b46531BcA003ddC8FCB67FFE91900C762",
    "0xb1f926978a0f44a2c0ec8fe822418ae969bd8c3f18d61e5103100339894f81ff",
)
PROXY_FACTORY = Artifact(
    "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
    "0x4e1DCf7AD4e460CfD30791CCC4F9c8a4f820ec67",
    "0x50c3cdc4074750a7a974204a716c999edd37482f907608d960b2b025ee0b3317",
)
FALLBACK_HANDLER = Artifact(
    "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
    "0xfd0732Dc9E303f09fCEf3a7388Ad10A83459Ec99",
    "0x7c6007a5d711cea8dfd5d91f5940ec29c7f200fe511eb1fc1397b367af3c42f9",
)
# The addresses below are also coldsign's shipped registry (shared/registry/defaults.py).
MULTISEND = Artifact(
    "libraries/MultiSend.sol/MultiSend.json", "0x38869bf66a61cF6bDB996A6aE40D5853Fd43B526", ""
)
MULTISEND_CALL_ONLY = Artifact(
    "libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
    "0x9641d764fc13c8B624c04430C7356C1C7C8102e2",
    "",
)
SIGN_MESSAGE_LIB = Artifact(
    "libraries/SignMessageLib.sol/SignMessageLib.json",
    "0xd53cd0aB83D845Ac265BE939c57F53AD838012c9",
    "",
)
ALL = (
    SAFE,
    SAFE_L2,
    PROXY_FACTORY,
    FALLBACK_HANDLER,
    MULTISEND,
    MULTISEND_CALL_ONLY,
    SIGN_MESSAGE_LIB,
)

EXEC_TYPES = [
    "address",
    "uint256",
    "bytes",
    "uint8",
    "uint256",
    "uint256",
    "uint256",
    "address",
    "address",
]


def selector(signature: str) -> bytes:
    """The 4-byte function selector: the first bytes of keccak256 of the signature."""
    return bytes(keccak(text=signature)[:4])


def calldata(signature: str, *args: Any) -> bytes:
    """``selector || abi.encode(args)`` for a function signature such as ``f(address,uint256)``."""
    inner = signature[signature.index("(") + 1 : -1]
    types = inner.split(",") if inner else []
    return selector(signature) + abi_encode(types, list(args))


def bytecode(artifact: Artifact) -> str:
    """The creation bytecode of ``artifact`` from the pinned npm package."""
    data = json.loads((ARTIFACTS / artifact.path).read_text())
    code: str = data["bytecode"]
    return code


def send(
    node: Anvil,
    to: str,
    data: bytes = b"",
    *,
    sender: str = DEPLOYER,
    value: int = 0,
    gas: int = 10_000_000,
    must_succeed: bool = True,
) -> dict[str, Any]:
    """Send from an unlocked dev account and return the receipt."""
    tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value), "gas": hex(gas)}
    receipt = node.receipt(node.rpc("eth_sendTransaction", tx))
    if must_succeed and receipt["status"] != "0x1":
        raise AnvilError(f"transaction to {to} reverted")
    return receipt


def call(node: Anvil, to: str, data: bytes) -> bytes:
    """``eth_call`` at the head."""
    result: str = node.rpc("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest")
    return bytes.fromhex(result[2:])


def code_hash(node: Anvil, address: str) -> str:
    """keccak256 of the runtime code at ``address`` (``0x`` hex)."""
    code: str = node.rpc("eth_getCode", address, "latest")
    return "0x" + keccak(bytes.fromhex(code[2:])).hex()


def deploy_singleton_factory(node: Anvil) -> str:
    """Put the Safe singleton factory in place with its published presigned transaction."""
    deployment = json.loads(FACTORY_DEPLOYMENT.read_text())
    address: str = deployment["address"]
    if node.rpc("eth_getCode", address, "latest") != "0x":
        return address
    # The presigned transaction pays gasPrice * gasLimit from its one-time signer.
    cost = deployment["gasPrice"] * deployment["gasLimit"]
    send(node, deployment["signerAddress"], value=cost, gas=21_000)
    receipt = node.receipt(node.rpc("eth_sendRawTransaction", deployment["transaction"]))
    if receipt["contractAddress"] is None or receipt["contractAddress"].lower() != address.lower():
        raise AnvilError(f"the singleton factory did not land at {address}")
    return address


def deploy_safe_contracts(node: Anvil) -> None:
    """Deploy every v1.4.1 contract (idempotent) and check each canonical address and code hash."""
    factory = deploy_singleton_factory(node)
    for artifact in ALL:
        if node.rpc("eth_getCode", artifact.address, "latest") == "0x":
            # safe-singleton-factory: calldata = salt (32 bytes) || creation code.
            init = SALT + bytes.fromhex(bytecode(artifact)[2:])
            landed = "0x" + call(node, factory, init).hex()
            if landed.lower() != artifact.address.lower():
                raise AnvilError(
                    f"{artifact.path} would land at {landed}, not at its canonical "
                    f"{artifact.address}: the artifact is not the released build"
                )
            send(node, factory, init, gas=12_000_000)
        if artifact.code_hash and code_hash(node, artifact.address) != artifact.code_hash:
            raise AnvilError(f"{artifact.path}: runtime code differs from the published hash")


def create_safe(
    node: Anvil,
    owners: list[str],
    threshold: int,
    *,
    salt_nonce: int = 0,
    singleton: str = SAFE.address,
) -> str:
    """A new Safe proxy with ``owners`` and ``threshold`` and the fallback handler set."""
    setup = calldata(
        "setup(address[],uint256,address,bytes,address,address,uint256,address)",
        owners,
        threshold,
        ZERO,
        b"",
        FALLBACK_HANDLER.address,
        ZERO,
        0,
        ZERO,
    )
    create = calldata("createProxyWithNonce(address,bytes,uint256)", singleton, setup, salt_nonce)
    (proxy,) = abi_decode(["address"], call(node, PROXY_FACTORY.address, create))
    send(node, PROXY_FACTORY.address, create)
    return str(to_checksum_address(proxy))


@dataclass(frozen=True)
class SafeTxFields:
    """The ten SafeTx members (the Safe's nonce included), as execTransaction takes them."""

    to: str
    value: int = 0
    data: bytes = b""
    operation: int = 0
    safe_tx_gas: int = 0
    base_gas: int = 0
    gas_price: int = 0
    gas_token: str = ZERO
    refund_receiver: str = ZERO
    nonce: int = 0

    def exec_args(self) -> list[Any]:
        """The first nine execTransaction arguments."""
        return [
            self.to,
            self.value,
            self.data,
            self.operation,
            self.safe_tx_gas,
            self.base_gas,
            self.gas_price,
            self.gas_token,
            self.refund_receiver,
        ]


def get_transaction_hash(node: Anvil, safe: str, fields: SafeTxFields) -> bytes:
    """The Safe's own ``getTransactionHash(...)`` for ``fields``."""
    data = selector(
        "getTransactionHash(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,"
        "uint256)"
    ) + abi_encode([*EXEC_TYPES, "uint256"], [*fields.exec_args(), fields.nonce])
    (digest,) = abi_decode(["bytes32"], call(node, safe, data))
    return bytes(digest)


def safe_state(node: Anvil, safe: str) -> tuple[list[str], int, int, str]:
    """(owners, threshold, nonce, VERSION()) read from the Safe."""
    (owners,) = abi_decode(["address[]"], call(node, safe, selector("getOwners()")))
    (threshold,) = abi_decode(["uint256"], call(node, safe, selector("getThreshold()")))
    (nonce,) = abi_decode(["uint256"], call(node, safe, selector("nonce()")))
    (version,) = abi_decode(["string"], call(node, safe, selector("VERSION()")))
    return [str(to_checksum_address(o)) for o in owners], threshold, nonce, version


def owner_signatures(digest: bytes, keys: list[bytes]) -> bytes:
    """Safe's packed ECDSA signatures (r || s || v, v 27/28) sorted by owner address."""
    signed = []
    for key in keys:
        signature = Account.unsafe_sign_hash(digest, key)
        owner = Account.from_key(key).address
        packed = signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big")
        signed.append((int(owner, 16), packed + bytes([signature.v])))
    return b"".join(packed for _, packed in sorted(signed))


def exec_transaction(
    node: Anvil, safe: str, fields: SafeTxFields, signatures: bytes, *, sender: str = DEPLOYER
) -> dict[str, Any]:
    """Execute ``fields`` on ``safe`` with packed ``signatures`` from an unlocked dev account."""
    exec_signature = (
        "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"
    )
    data = selector(exec_signature) + abi_encode(
        [*EXEC_TYPES, "bytes"], [*fields.exec_args(), signatures]
    )
    return send(node, safe, data, sender=sender)


def token_balance(node: Anvil, token: str, owner: str) -> int:
    """``balanceOf(owner)`` of an ERC-20 token."""
    (balance,) = abi_decode(["uint256"], call(node, token, calldata("balanceOf(address)", owner)))
    result: int = balance
    return result
