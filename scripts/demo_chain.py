"""A local anvil chain for the demo and the tests: free loopback port, readiness poll, always
stopped; JSON-RPC controls; the OpenZeppelin test ERC-20.

It lives beside ``scripts/demo.py`` because the demo runs outside pytest; ``tests/anvil.py``
re-exports it for the tests and benchmarks, so there is one copy of the start/stop logic.
Nothing here is part of the shipped packages: the watcher talks to any JSON-RPC node.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
from eth_abi.abi import encode as abi_encode

ROOT = Path(__file__).resolve().parent.parent
# npm @foundry-rs/anvil 1.7.1, pinned in interop/package-lock.json and installed by
# scripts/setup.sh.
ANVIL = ROOT / "interop" / "node_modules" / ".bin" / "anvil"
# OpenZeppelin Contracts 4.9.6 (npm @openzeppelin/contracts, pinned in interop/package.json):
# build/contracts/ERC20PresetFixedSupply.json, constructor(name, symbol, initialSupply, owner),
# 18 decimals.
TOKEN_ARTIFACT = (
    ROOT
    / "interop/node_modules/@openzeppelin/contracts/build/contracts/ERC20PresetFixedSupply.json"
)
# anvil's default dev mnemonic; its accounts m/44'/60'/0'/0/i hold 10,000 ETH each.
MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337
# ERC-20 balanceOf(address): keccak256("balanceOf(address)")[:4].
BALANCE_OF = "70a08231"
_READY_POLLS = 400
_POLL_WAIT = 0.05
_LISTENING = re.compile(r"Listening on 127\.0\.0\.1:(\d+)")


class AnvilError(RuntimeError):
    """anvil did not start, or answered a control call with an error."""


class Anvil:
    """A running anvil and its JSON-RPC controls (snapshots, mining, mempool)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client = httpx.Client(timeout=30.0)

    def rpc(self, method: str, *params: Any) -> Any:
        """Call ``method``; raise AnvilError for a JSON-RPC error."""
        reply = self._client.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        ).json()
        if "error" in reply:
            raise AnvilError(f"{method}: {reply['error']}")
        return reply["result"]

    def snapshot(self) -> str:
        """``evm_snapshot``: an id to revert to."""
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot: str) -> None:
        """``evm_revert`` to ``snapshot``, dropping pending transactions and restoring automine."""
        self.rpc("anvil_setAutomine", True)
        self.rpc("anvil_dropAllTransactions")
        if self.rpc("evm_revert", snapshot) is not True:
            raise AnvilError(f"evm_revert {snapshot} failed")

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks now (``anvil_mine``)."""
        self.rpc("anvil_mine", hex(blocks))

    def automine(self, on: bool) -> None:
        """Mine each transaction as it arrives, or hold them in the pool."""
        self.rpc("anvil_setAutomine", on)

    def receipt(self, tx_hash: str, *, timeout: float = 30.0) -> dict[str, Any]:
        """The receipt of ``tx_hash``, waiting for it: anvil answers ``eth_sendTransaction``
        once the transaction is in its pool and mines it (automine) a moment later, so a
        receipt read at once may not exist yet on a loaded machine."""
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                found: dict[str, Any] = receipt
                return found
            if time.monotonic() > deadline:
                raise AnvilError(f"no receipt for {tx_hash} within {timeout:.0f} s")
            time.sleep(_POLL_WAIT)

    def block_number(self) -> int:
        """The head's number."""
        return int(self.rpc("eth_blockNumber"), 16)

    def balance(self, address: str) -> int:
        """Wei held by ``address``."""
        return int(self.rpc("eth_getBalance", address, "latest"), 16)

    def token_balance(self, token: str, owner: str) -> int:
        """``balanceOf(owner)`` of the ERC-20 at ``token``, in base units."""
        data = "0x" + BALANCE_OF + "00" * 12 + owner[2:].lower()
        return int(self.rpc("eth_call", {"to": token, "data": data}, "latest"), 16)

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for "nobody listens here" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_anvil(*, block_time: int | None = None) -> Iterator[Anvil]:
    """Start anvil on a loopback port of its own, wait until it answers, always stop it.

    anvil binds port 0 (the kernel picks a free port atomically) and says which one it got;
    picking a "free" port first and passing it in races with every other process starting a
    node, and the loser would silently talk to someone else's chain. Its output goes to a
    temporary file rather than a pipe, which its per-transaction log lines could fill.

    Without ``block_time`` every transaction is mined as it arrives (automine); with it, a
    block is mined every ``block_time`` seconds, as on a real chain.
    """
    if not ANVIL.exists():
        raise AnvilError(f"{ANVIL} is missing: run scripts/setup.sh")
    command = [str(ANVIL), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(CHAIN_ID)]
    if block_time is not None:
        command += ["--block-time", str(block_time)]
    with tempfile.TemporaryFile() as log:
        # The pinned anvil binary, with arguments built here.
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        node: Anvil | None = None
        try:
            node = Anvil(f"http://127.0.0.1:{_listening_port(process, log)}")
            _wait_ready(process, node, log)
            yield node
        finally:
            if node is not None:
                node.close()
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _output(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")


def _listening_port(process: subprocess.Popen[bytes], log: IO[bytes]) -> int:
    """The port anvil reports in its "Listening on 127.0.0.1:PORT" line."""
    for _ in range(_READY_POLLS):
        match = _LISTENING.search(_output(log))
        if match is not None:
            return int(match[1])
        _pace(process, log)
    raise AnvilError(f"anvil did not say which port it listens on within {_READY_POLLS} polls")


def _wait_ready(process: subprocess.Popen[bytes], node: Anvil, log: IO[bytes]) -> None:
    for _ in range(_READY_POLLS):
        try:
            if int(node.rpc("eth_chainId"), 16) == CHAIN_ID:
                return
        except httpx.TransportError:
            pass
        _pace(process, log)
    raise AnvilError(f"anvil did not answer eth_chainId within {_READY_POLLS} polls")


def _pace(process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """Wait one poll interval on the process itself, which also notices an early exit."""
    try:
        process.wait(timeout=_POLL_WAIT)
    except subprocess.TimeoutExpired:
        return
    raise AnvilError(f"anvil exited with status {process.returncode}: {_output(log)[-500:]}")


def deploy_token(
    node: Anvil,
    deployer: str,
    owner: str,
    supply: int,
    *,
    symbol: str = "TKN",
    name: str = "Test Token",
) -> str:
    """Deploy OpenZeppelin's ERC20PresetFixedSupply from an unlocked dev account; the whole
    ``supply`` (base units) goes to ``owner``. Returns the contract's lower-case address."""
    artifact = json.loads(TOKEN_ARTIFACT.read_text())
    args = abi_encode(["string", "string", "uint256", "address"], [name, symbol, supply, owner])
    tx_hash = node.rpc(
        "eth_sendTransaction",
        {"from": deployer, "data": artifact["bytecode"] + args.hex(), "gas": hex(3_000_000)},
    )
    if node.rpc("eth_getTransactionReceipt", tx_hash) is None:
        # Interval mining: the deployment would land in the next block; mine it now.
        node.mine()
    receipt = node.receipt(tx_hash)
    if int(receipt["status"], 16) != 1:
        raise AnvilError(f"the token deployment {tx_hash} did not succeed: {receipt}")
    return str(receipt["contractAddress"])
