"""The watcher tests' lab: a watcher home on a real anvil, the CLI in-process, a test signer.

The test signer signs with eth-account from anvil's dev mnemonic, an implementation
independent of the watcher, over the payloads the watcher wrote into its request files.
``RealSigner`` is the real ``coldsign-signer`` on the same mnemonic, driven through its CLI.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import httpx
from anvil import CHAIN_ID, MNEMONIC, Anvil, deploy_token
from eth_account import Account
from safe_contracts import create_safe, deploy_safe_contracts, send

from shared.address import parse_address
from shared.erc4527 import (
    AuditHead,
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
CSV_HEADER = "id,chain,asset,destination,amount,memo\n"
RESPONSES = frozenset({"eth-signature", "eth-batch-signature"})
SIGNER = Path(sys.executable).parent / "coldsign-signer"
SIGNER_PASSPHRASE = "correct horse battery staple watcher"


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


def byte_hash(byte: int) -> bytes:
    """32 times ``byte``: a recognisable stand-in for an audit head's hash."""
    return bytes([byte]) * 32


def with_head(lines: list[str], head: AuditHead | None) -> list[str]:
    """The same signatures with ``head`` as the response's audit head."""
    ur = read_ur(lines, RESPONSES, source="response")
    if ur.type == "eth-signature":
        one = EthSignature.from_ur(ur)
        return ur_lines(EthSignature(one.r, one.s, one.v, one.request_id, None, head).to_ur())
    return ur_lines(EthBatchSignature(EthBatchSignature.from_ur(ur).signatures, head).to_ur())


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

    def build_request(self, name: str, rows: str) -> Path:
        """Intake ``rows`` (CSV lines under the header) from ``name``.csv and build them; the
        one request file that build wrote."""
        before = set(self.request_files())
        self.ok("intake", str(self.write(f"{name}.csv", CSV_HEADER + rows)))
        self.ok("build")
        [request] = sorted(set(self.request_files()) - before)
        return request

    def refused(
        self, *args: str, code: int, says: str, databases: tuple[str, ...] = ("watcher.db",)
    ) -> str:
        """The CLI refuses: exit ``code``, one line on stderr saying ``says``, ``databases``
        as they were. That line."""
        before = [self.dump(name) for name in databases]
        result = self.cli(*args)
        assert result.code == code, (result.code, result.out, result.err)
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], result.err
        assert [self.dump(name) for name in databases] == before
        return lines[0]

    def head_line(self, fingerprint: str) -> str:
        """The ``status --no-track`` line of the signer ``fingerprint``'s audit head."""
        out = self.ok("status", "--no-track").out
        [line] = [x for x in out.splitlines() if x.startswith(f"signer {fingerprint}:")]
        return line

    def sign(self, request: Path, name: str | None = None, **kwargs: Any) -> Path:
        lines = sign_parts(request.read_text().splitlines(), self.keys, **kwargs)
        return self.write(name or f"response-{request.stem}.txt", "\n".join(lines) + "\n")

    def dump(self, database: str = "watcher.db") -> str:
        db = sqlite3.connect(self.home / database)
        try:
            return "\n".join(db.iterdump())
        finally:
            db.close()

    def dumps(self) -> tuple[str, str]:
        """safe.db and watcher.db, dumped."""
        return self.dump("safe.db"), self.dump()

    def statuses(self) -> dict[str, str]:
        db = sqlite3.connect(self.home / "watcher.db")
        try:
            return dict(db.execute("SELECT id, status FROM withdrawals").fetchall())
        finally:
            db.close()

    def add_safe(self, owners: Sequence[str], executor: str | None = None) -> str:
        """A new 2-of-N Safe v1.4.1 holding 1 ETH, configured as ``treasury``; its address."""
        deploy_safe_contracts(self.node)
        safe = create_safe(self.node, list(owners), 2)
        send(self.node, safe, value=10**18)
        lines = ["[[safe]]", 'name = "treasury"', 'chain = "anvil"', f'address = "{safe}"']
        if executor is not None:
            lines.append(f'executor = "{executor}"')
        (self.home / "safes.toml").write_text("\n".join(lines) + "\n")
        return safe

    def deploy_token(self, owner: str, supply: int, symbol: str = "TKN") -> str:
        """The OpenZeppelin test ERC-20, deployed by dev account 9, ``supply`` held by owner."""
        address = deploy_token(self.node, self.keys.address(9), owner, supply, symbol=symbol)
        return parse_address(address, field="contractAddress").checksummed()

    def token_balance(self, token: str, owner: str) -> int:
        return self.node.token_balance(token, owner)


def withdrawal_policy(
    name: str, destinations: Sequence[str], *, limit: str = "1000", token: str | None = None
) -> str:
    """A signer policy for account m/44'/60'/0'/0/0 on anvil: ETH (and ``token``, 18 decimals)
    to ``destinations`` only, up to ``limit`` per transaction and per 24 hours each."""
    assets = ["native"] if token is None else ["native", token]
    lines = [
        "[policy]",
        f'name = "{name}"',
        "version = 1",
        "",
        "[[chain]]",
        f"id = {CHAIN_ID}",
        'label = "anvil"',
        'max_fee_per_gas_gwei = "100"',
        'max_total_fee_native = "0.01"',
        "",
        "[[account]]",
        "path = \"m/44'/60'/0'/0/0\"",
        'label = "cold"',
        "",
    ]
    for index, address in enumerate(destinations):
        lines += [
            "[[destination]]",
            f"chain = {CHAIN_ID}",
            f'address = "{address}"',
            "assets = [" + ", ".join(f'"{asset}"' for asset in assets) + "]",
            f'label = "payee {index}"',
            "",
        ]
    limits: list[tuple[str, list[str]]] = [("native", [])]
    if token is not None:
        limits.append((token, ["decimals = 18", 'label = "TKN"']))
    for asset, extra in limits:
        lines += [
            "[[limit]]",
            f"chain = {CHAIN_ID}",
            f'asset = "{asset}"',
            *extra,
            f'per_tx = "{limit}"',
            f'per_24h = "{limit}"',
            "",
        ]
    return "\n".join(lines)


class RealSigner:
    """A real ``coldsign-signer`` home holding anvil's dev mnemonic, driven through its CLI.

    Its home is ``root/signer``, the mnemonic and passphrase files are in ``root/secrets``,
    its pairing export and its responses are written in ``root``.
    """

    def __init__(self, root: Path, *, accounts: int = 1) -> None:
        self.root = root
        self.home = root / "signer"
        secrets = root / "secrets"
        secrets.mkdir(parents=True)
        (secrets / "mnemonic").write_text(MNEMONIC + "\n")
        self.passphrase = secrets / "passphrase"
        self.passphrase.write_text(SIGNER_PASSPHRASE + "\n")
        made = self.run(
            "init",
            "--mnemonic-file",
            str(secrets / "mnemonic"),
            "--passphrase-file",
            str(self.passphrase),
            "--accounts",
            str(accounts),
        )
        assert made.returncode == 0, made.stderr
        self.responses = 0

    def run(
        self, command: str, *args: str, home: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        # --allow-online: the development override, this test machine has a network.
        return subprocess.run(
            [str(SIGNER), command, "--home", str(home or self.home), "--allow-online", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def write_policy(self, text: str) -> None:
        """Install a policy (the operator's reviewed change)."""
        (self.home / "policy.toml").write_text(text)

    def pair(self, lab: Lab, count: int = 1) -> None:
        """The signer exports its account key; the watcher derives ``count`` addresses."""
        pairing = self.root / "pairing.txt"
        exported = self.run(
            "export-account", "--out", str(pairing), "--passphrase-file", str(self.passphrase)
        )
        assert exported.returncode == 0, exported.stderr
        lab.ok("pair", str(pairing), "--count", str(count))

    def run_sign(
        self, request: Path, response: Path, *, home: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The headless ``sign`` of ``request`` into ``response``, whatever it answers."""
        return self.run(
            "sign",
            "--passphrase-file",
            str(self.passphrase),
            "--in",
            str(request),
            "--out",
            str(response),
            home=home,
        )

    def sign(self, request: Path, *, home: Path | None = None, refused: int = 0) -> Path:
        """Sign ``request``; ``refused`` items are expected to be refused by the policy. The
        response file."""
        self.responses += 1
        response = self.root / f"response-{self.responses}.txt"
        signed = self.run_sign(request, response, home=home)
        assert signed.returncode == (3 if refused else 0), signed.stdout[-2000:] + signed.stderr
        assert f"refused {refused}" in signed.stdout
        return response

    def copy(self, name: str) -> Path:
        """A byte-for-byte copy of the signer home (a backup, or a clone)."""
        target = self.root / name
        shutil.copytree(self.home, target, symlinks=True)
        return target


class JsonRpcProxy:
    """A loopback HTTP server in front of anvil: each POSTed JSON-RPC body is answered with
    what :meth:`answer` returns (by default, anvil's own reply). Use it with ``with``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                reply = proxy.answer(self.rfile.read(int(self.headers["Content-Length"])))
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

    def forward(self, body: bytes) -> bytes:
        """Anvil's reply to ``body``."""
        return httpx.post(
            self.upstream, content=body, headers={"Content-Type": "application/json"}, timeout=30
        ).content

    def answer(self, body: bytes) -> bytes:
        """The reply to one request body."""
        return self.forward(body)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class RewritingProxy(JsonRpcProxy):
    """A proxy to anvil that answers chosen methods with given raw bodies.

    ``overrides`` maps a method name to the exact bytes to answer with (``{id}`` is replaced
    by the request's id), so tests can serve malformed replies from a real HTTP server.
    """

    def __init__(self, upstream: str, overrides: dict[str, str]) -> None:
        super().__init__(upstream)
        self.overrides = overrides

    def answer(self, body: bytes) -> bytes:
        request = json.loads(body)
        template = self.overrides.get(request["method"])
        if template is None:
            return self.forward(body)
        return template.replace("{id}", json.dumps(request["id"])).encode()
