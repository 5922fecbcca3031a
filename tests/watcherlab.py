"""The watcher tests' lab: a watcher home on a real anvil, the CLI in-process, a test signer.

The test signer signs with eth-account from anvil's dev mnemonic, an implementation
independent of the watcher, over the payloads the watcher wrote into its request files.
"""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from anvil import CHAIN_ID, MNEMONIC, Anvil, deploy_token
from eth_account import Account

from shared.address import parse_address
from shared.erc4527 import (
    EthBatchSignature,
    EthBatchSignRequest,
    EthSignature,
    EthSignRequest,
    HDKey,
    Keypath,
)
from shared.tx import decode_transaction
from shared.ur import UR, UREncoder, format_ur
from signer.keys.bip32 import DerivationPath, ExtendedPrivateKey, key_fingerprint, master_key
from signer.keys.bip39 import SecretMnemonic
from watcher.cli import main
from watcher.parts import read_ur

ACCOUNT_PATH = "m/44'/60'/0'"


@dataclass(frozen=True)
class DevKeys:
    """anvil's dev mnemonic as BIP-32 keys: the account key to pair, address keys to sign."""

    master: ExtendedPrivateKey
    account: ExtendedPrivateKey

    @property
    def fingerprint(self) -> int:
        return int.from_bytes(key_fingerprint(self.master.public().public_key), "big")

    def hdkey(self) -> HDKey:
        public = self.account.public()
        return HDKey(
            key=public.public_key,
            chain_code=public.chain_code,
            origin=Keypath.parse(ACCOUNT_PATH, source_fingerprint=self.fingerprint),
            parent_fingerprint=int.from_bytes(public.parent_fingerprint, "big"),
        )

    def private_key(self, path: str) -> bytes:
        return bytes(self.master.derive(DerivationPath.parse(path)).private_key)

    def address(self, index: int) -> str:
        return str(Account.from_key(self.private_key(f"{ACCOUNT_PATH}/0/{index}")).address)


def dev_keys() -> DevKeys:
    """anvil's dev mnemonic as BIP-32 keys."""
    mnemonic = SecretMnemonic.from_phrase(MNEMONIC)
    master = master_key(mnemonic.seed())
    return DevKeys(master, master.derive(DerivationPath.parse(ACCOUNT_PATH)))


def sign_parts(
    lines: list[str], keys: DevKeys, *, key_path: str | None = None, fragment: int = 200
) -> list[str]:
    """Answer a request file as a signer would: eth-signature(s) as UR parts."""
    ur = read_ur(lines, frozenset({"eth-sign-request", "eth-batch-sign-request"}), source="req")
    if ur.type == "eth-sign-request":
        requests: tuple[EthSignRequest, ...] = (EthSignRequest.from_ur(ur),)
    else:
        requests = EthBatchSignRequest.from_ur(ur).requests
    signatures = []
    for request in requests:
        tx = decode_transaction(request.sign_data, int(request.data_type))
        path = key_path or str(request.derivation_path)
        signed = Account.unsafe_sign_hash(tx.signing_hash(), keys.private_key(path))
        signatures.append(
            EthSignature(
                signed.r.to_bytes(32, "big"),
                signed.s.to_bytes(32, "big"),
                signed.v - 27,
                request.request_id,
            )
        )
    if len(signatures) == 1:
        answer: UR = signatures[0].to_ur()
    else:
        answer = EthBatchSignature(tuple(signatures)).to_ur()
    return ur_lines(answer, fragment)


def ur_lines(ur: UR, fragment: int = 200) -> list[str]:
    """All pure fragments of ``ur`` (or its single-part string)."""
    encoder = UREncoder(ur, fragment)
    if encoder.is_single_part:
        return [format_ur(ur)]
    return encoder.parts(encoder.seq_len)


@dataclass
class Result:
    code: int
    out: str
    err: str


class Lab:
    """A watcher home wired to the session's anvil, with the CLI run in-process."""

    def __init__(self, home: Path, node: Anvil, keys: DevKeys) -> None:
        self.home = home
        self.node = node
        self.keys = keys
        self.sleeps: list[float] = []
        home.mkdir(parents=True, exist_ok=True)

    def configure(
        self,
        *,
        confirmations: int = 1,
        tokens: tuple[tuple[str, str], ...] = (),
        rpc: str | None = None,
        extra: str = "",
        max_batch: int = 100,
    ) -> None:
        lines = [
            "[chains.anvil]",
            f"chain_id = {CHAIN_ID}",
            f'rpc = "{rpc or self.node.url}"',
            f"confirmations = {confirmations}",
            "",
            "[requests]",
            f"max_batch = {max_batch}",
            "",
        ]
        for address, symbol in tokens:
            lines += [
                "[[tokens]]",
                'chain = "anvil"',
                f'address = "{address}"',
                f'symbol = "{symbol}"',
                "",
            ]
        (self.home / "watcher.toml").write_text("\n".join(lines) + extra)

    def cli(self, *args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--home", str(self.home), *args], sleep=self.sleeps.append, out=out, err=err)
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str) -> Result:
        result = self.cli(*args)
        assert result.code == 0, result.err
        return result

    def write(self, name: str, text: str) -> Path:
        path = self.home.parent / name
        path.write_text(text)
        return path

    def pair(self, count: int = 3) -> None:
        path = self.write("pair.txt", format_ur(self.keys.hdkey().to_ur()) + "\n")
        self.ok("pair", str(path), "--count", str(count))

    def request_files(self) -> list[Path]:
        return sorted((self.home / "requests").glob("batch-*.txt"))

    def sign(self, request: Path, name: str | None = None, **kwargs: Any) -> Path:
        lines = sign_parts(request.read_text().splitlines(), self.keys, **kwargs)
        return self.write(name or f"response-{request.stem}.txt", "\n".join(lines) + "\n")

    def dump(self) -> str:
        db = sqlite3.connect(self.home / "watcher.db")
        try:
            return "\n".join(db.iterdump())
        finally:
            db.close()

    def statuses(self) -> dict[str, str]:
        db = sqlite3.connect(self.home / "watcher.db")
        try:
            return dict(db.execute("SELECT id, status FROM withdrawals").fetchall())
        finally:
            db.close()

    def deploy_token(self, owner: str, supply: int, symbol: str = "TKN") -> str:
        """The OpenZeppelin test ERC-20, deployed by dev account 9, ``supply`` held by owner."""
        address = deploy_token(self.node, self.keys.address(9), owner, supply, symbol=symbol)
        return parse_address(address, field="contractAddress").checksummed()

    def token_balance(self, token: str, owner: str) -> int:
        return self.node.token_balance(token, owner)


class RewritingProxy:
    """A loopback JSON-RPC proxy to anvil that answers chosen methods with given raw bodies.

    ``overrides`` maps a method name to the exact bytes to answer with (``{id}`` is replaced
    by the request's id), so tests can serve malformed replies from a real HTTP server.
    """

    def __init__(self, upstream: str, overrides: dict[str, str]) -> None:
        self.upstream = upstream
        self.overrides = overrides
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(body)
                template = proxy.overrides.get(request["method"])
                if template is None:
                    reply = httpx.post(
                        proxy.upstream,
                        content=body,
                        headers={"Content-Type": "application/json"},
                        timeout=30,
                    ).content
                else:
                    reply = template.replace("{id}", json.dumps(request["id"])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RewritingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
