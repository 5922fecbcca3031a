"""The demo: a withdrawal batch from file to chain, the two programs joined only by QR codes.

Run by ``bash scripts/demo.sh`` (the README's first command) with the venv's python, and by
``tests/e2e/test_demo.py`` through :func:`run_demo`, so the demo cannot rot unnoticed.

It drives the real command-line programs, each in its own process (``coldsign-signer``,
``coldsign-watcher``), on a local anvil chain on loopback: the signer home is made from
anvil's public test mnemonic with a hot-wallet refill policy; the test ERC-20 is deployed;
the watcher pairs from a QR image; a withdrawal file (ETH and the token, the last one to an
address outside the allowlist) is built into a sign request shown as an MP4 video; the
signer scans the video (opencv + pyzbar), prints its review, refuses the one withdrawal its
policy forbids and signs the rest; its answer is another MP4 the watcher scans, verifies and
broadcasts; the demo waits for confirmations and ends with a summary that it first checks
against the chain (any difference fails the demo). The code is a script beside
``scripts/demo.sh`` rather than a package: the project's packages ship the programs, and the
demo only uses them. The scenario (rows, policy, configuration) is in ``demo_plan.py``, the
summary and the chain check in ``demo_summary.py``, the local chain in ``demo_chain.py``.

Every run starts from a clean output folder (default ``demo-out/``): the folder is emptied
only when it is missing, empty, or marked as made by the demo (``.coldsign-demo``), and it is
locked for the run, so a second demo started meanwhile stops instead of emptying it.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from demo_chain import CHAIN_ID, MNEMONIC, ROOT, Anvil, AnvilError, deploy_token, running_anvil
from demo_plan import (
    CONFIRMATIONS,
    DESTINATIONS,
    ETH_LIMITS,
    MAX_FEE_PER_GAS_GWEI,
    MAX_ROWS,
    MAX_TOTAL_FEE_ETH,
    OUTSIDER,
    SYMBOL,
    TOKEN_LIMITS,
    demo_address,
    policy_text,
    registry_text,
    watcher_text,
    withdrawal_rows,
)
from demo_summary import (
    NATIVE,
    DemoError,
    DemoSummary,
    Leg,
    Paid,
    Payment,
    Refused,
    check_chain,
    render,
)

from channel.frames import open_source
from shared.address import address_from_bytes
from signer.audit import AuditLog
from signer.cli import ONLINE_WARNING
from watcher.state import Status, Store

BIN = Path(sys.executable).parent
DEFAULT_OUT = ROOT / "demo-out"
MARKER = ".coldsign-demo"
# Left by the interim demo (a coldsign-ur round trip) in earlier versions of this folder.
_INTERIM_FILES = frozenset({"request.json", "parts.txt", "received.txt", "decoded.json"})
# A public test passphrase for a public test mnemonic: this vault guards nothing.
PASSPHRASE = "coldsign demo passphrase (public: never use for real keys)"  # noqa: S105
TOKEN_SUPPLY = 1_000_000 * 10**18
BLOCK_TIME = 1
CONFIRM_TIMEOUT = 60.0
POLL_INTERVAL = 0.5
# anvil's dev account 9 deploys the token (anvil unlocks its dev accounts).
DEPLOYER_INDEX = 9

_SCANNED = re.compile(r"^scanned \S+: (\d+) frames, (\d+) parts(?: of a (\d+)-fragment)?", re.M)
_AUDIT_HEAD = re.compile(r"^audit head: (\d+:[0-9a-f]{64})$", re.M)
_FINGERPRINT = re.compile(r"^master fingerprint:? ([0-9a-f]{8})$", re.M)


@dataclass(frozen=True, slots=True)
class Ran:
    """One program run: its exit status, output and wall time."""

    status: int
    out: str
    err: str
    seconds: float


class Programs:
    """Runs the real coldsign programs, shows each command and its output, keeps a transcript."""

    def __init__(self, transcript: TextIO, say: Callable[[str], None]) -> None:
        self._transcript = transcript
        self._say = say

    def _shown(self, arg: str) -> str:
        path = Path(arg)
        if path.is_absolute():
            try:
                return os.path.relpath(path)
            except ValueError:
                return arg
        return arg

    def run(
        self,
        program: str,
        *args: str | Path,
        ok: Sequence[int] = (0,),
        show: Callable[[str], list[str]] = str.splitlines,
    ) -> Ran:
        """Run ``program`` with ``args``; show the lines ``show`` picks from its output (the
        transcript keeps all of it); raise :class:`DemoError` on an unexpected status."""
        argv = [str(BIN / program), *(str(arg) for arg in args)]
        command = " ".join([program, *(self._shown(a) for a in argv[1:])])
        self._say(f"$ {command}")
        started = time.perf_counter()
        # The venv's own coldsign programs, with arguments built here.
        done = subprocess.run(  # noqa: S603
            argv, capture_output=True, text=True, timeout=600, check=False
        )
        seconds = time.perf_counter() - started
        self._transcript.write(
            f"$ {command}\n{done.stdout}{done.stderr}[exit {done.returncode}]\n\n"
        )
        for line in show(done.stdout):
            self._say(f"  {line}")
        for line in done.stderr.splitlines():
            # Shown once at the start rather than after every signer command.
            if line != ONLINE_WARNING:
                self._say(f"  {line}")
        if done.returncode not in ok:
            raise DemoError(f"{program} {args[0]} exited with status {done.returncode}")
        return Ran(done.returncode, done.stdout, done.stderr, seconds)


@contextmanager
def claimed_folder(out: Path) -> Iterator[None]:
    """``out`` emptied for this run and locked against a second demo run into it.

    Refuses a folder the demo did not make (no marker, and files other than the interim
    demo's). The lock is an exclusive ``flock`` on the marker, held until the run ends.
    """
    if out.exists() and not out.is_dir():
        raise DemoError(f"{out} is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    entries = {entry.name for entry in out.iterdir()}
    if entries and MARKER not in entries and not entries <= _INTERIM_FILES:
        raise DemoError(
            f"{out} holds files the demo did not make: choose another --out or empty it"
        )
    with (out / MARKER).open("a") as marker:
        try:
            fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoError(
                f"another demo is running into {out}: let it finish or use --out"
            ) from None
        for entry in out.iterdir():
            if entry.name == MARKER:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        marker.truncate(0)
        marker.write("made by scripts/demo.py: emptied on its next run\n")
        marker.flush()
        yield


def _scanned(output: str, what: str) -> tuple[int, int, int | None]:
    match = _SCANNED.search(output)
    if match is None:
        raise DemoError(f"{what}: the program did not say what it scanned")
    fragments = None if match.group(3) is None else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), fragments


def condensed_review(output: str) -> list[str]:
    """The signer's output without the per-item field-by-field reviews (kept in the file):
    the scan, the batch's totals, destinations, fee caps and warnings, every verdict."""
    lines = output.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("--- requests[")), None)
    verdicts = next((i for i, line in enumerate(lines) if line.startswith("POLICY ")), None)
    if first is None or verdicts is None:
        return lines
    items = sum(1 for line in lines if line.startswith("--- requests["))
    note = (
        f"[... then each of the {items} items field by field ({verdicts - first} lines):"
        " see signer-review.txt ...]"
    )
    return [*lines[:first], note, "", *lines[verdicts:]]


def _status_line(output: str) -> list[str]:
    return output.splitlines()[:2]


def _frames_in(path: Path) -> int:
    with open_source(str(path)) as source:
        return sum(1 for _ in source)


def run_demo(
    out: Path = DEFAULT_OUT, *, rows: int = MAX_ROWS, say: Callable[[str], None] = print
) -> DemoSummary:
    """Run the whole demo into ``out``; return its summary (also saved there)."""
    out = out.resolve()
    with claimed_folder(out):
        with (out / "transcript.txt").open("w") as transcript:
            programs = Programs(transcript, say)
            summary = _run(out, rows, programs, say)
        (out / "summary.txt").write_text(render(summary))
        (out / "summary.json").write_text(summary.to_json())
    return summary


def _step(say: Callable[[str], None], text: str) -> None:
    say("")
    say(f"== {text}")


def _run(out: Path, rows: int, programs: Programs, say: Callable[[str], None]) -> DemoSummary:
    plan = withdrawal_rows(rows)
    signer_home, watcher_home = out / "signer", out / "watcher"
    secrets = out / "secrets"
    secrets.mkdir(mode=0o700)
    mnemonic_file, passphrase_file = secrets / "mnemonic.txt", secrets / "passphrase.txt"
    for path, text in ((mnemonic_file, MNEMONIC), (passphrase_file, PASSPHRASE)):
        path.write_text(text + "\n")
        path.chmod(0o600)
    addresses = {label: demo_address(label) for label in [*DESTINATIONS, OUTSIDER]}
    signer = ("--home", str(signer_home), "--allow-online")
    watcher = ("--home", str(watcher_home))
    legs: list[Leg] = []

    _step(say, f"1. A local chain: anvil on loopback, a block every {BLOCK_TIME} s")
    with running_anvil(block_time=BLOCK_TIME) as node:
        say(f"  {node.url} (chain id {CHAIN_ID})")

        _step(say, "2. The offline signer's home, from anvil's public test mnemonic")
        say("  (the demo runs both programs on one machine, so every signer command carries")
        say("  --allow-online: the signer warns and writes that to its audit log; on the real")
        say("  device it refuses to run while a network interface or radio is present)")
        made = programs.run(
            "coldsign-signer",
            "init",
            *signer,
            "--mnemonic-file",
            mnemonic_file,
            "--passphrase-file",
            passphrase_file,
            "--accounts",
            "1",
        )
        source = made.out.split("m/44'/60'/0'/0/0", 1)[1].split()[0]

        _step(say, f"3. The test ERC-20 ({SYMBOL}, OpenZeppelin's ERC20PresetFixedSupply)")
        deployer = node.rpc("eth_accounts")[DEPLOYER_INDEX]
        token = address_from_bytes(
            bytes.fromhex(deploy_token(node, deployer, source, TOKEN_SUPPLY)[2:]), field="token"
        ).checksummed()
        say(f"  deployed at {token}; all {TOKEN_SUPPLY // 10**18:,} {SYMBOL} minted to the")
        say(f"  signer's account {source}, which also holds anvil's 10,000 test ETH")

        _step(say, "4. The signer's policy: allowlisted hot wallets, limits, fee caps")
        (signer_home / "policy.toml").write_text(policy_text(addresses, token))
        (signer_home / "registry.toml").write_text(registry_text(addresses, token))
        for label, assets in DESTINATIONS.items():
            names = " and ".join("ETH" if a == NATIVE else SYMBOL for a in assets)
            say(f"  {label:<26} {addresses[label]}  may receive {names}")
        say(
            f"  limits: ETH {ETH_LIMITS[0]} a transaction, {ETH_LIMITS[1]} a day; {SYMBOL}"
            f" {TOKEN_LIMITS[0]} and {TOKEN_LIMITS[1]}; fees: at most {MAX_FEE_PER_GAS_GWEI}"
            f" gwei per gas and {MAX_TOTAL_FEE_ETH} ETH a transaction"
        )
        programs.run("coldsign-signer", "policy", "check", signer_home / "policy.toml")

        _step(
            say, "5. Pairing: the signer shows its account key as a QR image; the watcher reads it"
        )
        watcher_home.mkdir()
        (watcher_home / "watcher.toml").write_text(watcher_text(node, token))
        started = time.perf_counter()
        programs.run(
            "coldsign-signer",
            "export-account",
            *signer,
            "--out",
            out / "pairing.png",
            "--passphrase-file",
            passphrase_file,
        )
        paired = programs.run(
            "coldsign-watcher", *watcher, "pair", out / "pairing.png", "--count", "1"
        )
        pair_frames, _, _ = _scanned(paired.out, "pair")
        legs.append(Leg("pair: pairing.png", time.perf_counter() - started, pair_frames, 1, 1))
        fingerprints = _FINGERPRINT.findall(made.out + paired.out)
        if len(set(fingerprints)) != 1 or source not in paired.out:
            raise DemoError("the watcher did not pair with the signer's account")

        _step(
            say, f"6. {len(plan)} withdrawals; the last one goes to an address outside the policy"
        )
        csv = ["id,chain,asset,destination,amount,memo"]
        for wid, label, asset, amount, memo in plan:
            csv.append(f"{wid},anvil,{asset},{addresses[label]},{amount},{memo}")
        withdrawals = out / "withdrawals.csv"
        withdrawals.write_text("\n".join(csv) + "\n")
        for line in csv:
            say(f"  {line}")
        started = time.perf_counter()
        programs.run("coldsign-watcher", *watcher, "intake", withdrawals)

        _step(say, "7. The watcher builds the transactions and shows the request as a video")
        built = programs.run("coldsign-watcher", *watcher, "build", "--qr", "mp4")
        video = Path(built.out.split("-> ", 1)[1].split()[0]).with_suffix(".mp4")
        batch = out / "batch.mp4"
        shutil.copyfile(video, batch)
        legs.append(Leg("watcher: intake, build, batch.mp4", time.perf_counter() - started))
        say(f"  the request as {_frames_in(batch)} QR frames: {os.path.relpath(batch)}")

        _step(say, "8. The signer scans the video, reviews every item, applies its policy, signs")
        signed = programs.run(
            "coldsign-signer",
            "sign",
            *signer,
            "--in",
            batch,
            "--out",
            out / "signatures.mp4",
            "--passphrase-file",
            passphrase_file,
            ok=(3,),
            show=condensed_review,
        )
        (out / "signer-review.txt").write_text(signed.out)
        frames, _, fragments = _scanned(signed.out, "sign")
        legs.append(
            Leg(
                "signer: scan batch.mp4, review, sign, signatures.mp4",
                signed.seconds,
                frames,
                _frames_in(batch),
                fragments,
            )
        )
        head = _AUDIT_HEAD.search(signed.out)
        if head is None:
            raise DemoError("sign: no audit head in the signer's output")

        _step(say, "9. The watcher scans the signatures, verifies each, broadcasts")
        imported = programs.run("coldsign-watcher", *watcher, "import", out / "signatures.mp4")
        frames, _, fragments = _scanned(imported.out, "import")
        legs.append(
            Leg(
                "watcher: scan signatures.mp4, verify",
                imported.seconds,
                frames,
                _frames_in(out / "signatures.mp4"),
                fragments,
            )
        )
        before = _balances(node, source, token, addresses)
        started = time.perf_counter()
        programs.run("coldsign-watcher", *watcher, "broadcast")

        _step(say, f"10. Waiting for {CONFIRMATIONS} confirmations")
        final = _confirm(programs, watcher, len(plan) - 1)
        for line in final.out.splitlines()[2:]:
            say(f"  {line}")
        legs.append(Leg(f"broadcast, {CONFIRMATIONS} confirmations", time.perf_counter() - started))

        _step(say, "11. The signer's audit log still holds the head it sent with the signatures")
        programs.run("coldsign-signer", "audit", "verify", *signer, "--known-head", head.group(1))

        paid, refused, payments = _outcome(watcher_home, signer_home, plan, addresses, token)
        who = {address: label for label, address in addresses.items()} | {source: "source"}
        symbols = {NATIVE: "ETH", token: SYMBOL}
        balances = check_chain(node, source, who, symbols, before, payments)

    artefacts = (
        "pairing.png",
        "withdrawals.csv",
        "batch.mp4",
        "signatures.mp4",
        "signer-review.txt",
        "signer/audit.log",
        "signer/policy.toml",
        "watcher/watcher.db",
        "transcript.txt",
        "summary.txt",
        "summary.json",
    )
    summary = DemoSummary(
        out=str(out),
        paid=paid,
        refused=refused,
        legs=tuple(legs),
        balances=balances,
        confirmations=CONFIRMATIONS,
        audit_head=head.group(1),
        artefacts=artefacts,
    )
    _step(say, "Summary (checked against the chain)")
    for line in render(summary).splitlines():
        say(line)
    return summary


def _balances(
    node: Anvil, source: str, token: str, addresses: dict[str, str]
) -> dict[tuple[str, str], int]:
    """Every balance the demo will check, before the first broadcast."""
    balances: dict[tuple[str, str], int] = {}
    for who in [*addresses.values(), source]:
        balances[(who, NATIVE)] = node.balance(who)
        balances[(who, token)] = node.token_balance(token, who)
    return balances


def _confirm(programs: Programs, watcher: tuple[str, ...], expected: int) -> Ran:
    """Run ``status`` until ``expected`` withdrawals are confirmed (anvil mines every second);
    return the last run."""
    deadline = time.monotonic() + CONFIRM_TIMEOUT
    while True:
        ran = programs.run("coldsign-watcher", *watcher, "status", show=_status_line)
        if f"confirmed: {expected}" in ran.out:
            return ran
        if time.monotonic() > deadline:
            raise DemoError(f"not confirmed within {CONFIRM_TIMEOUT:.0f} s")
        time.sleep(POLL_INTERVAL)


def _refusals(signer_home: Path) -> dict[str, tuple[str, str]]:
    """Request id -> (reason codes, first reason) of every refusal in the signer's audit log."""
    refusals: dict[str, tuple[str, str]] = {}
    with AuditLog.open(signer_home / "audit.log") as log:
        for entry in log.entries():
            fields = entry.fields
            if entry.kind != "decision" or fields["decision"] != "refused":
                continue
            request, verdict, reasons = fields["request"], fields["verdict"], fields["reasons"]
            if not (
                isinstance(request, Mapping)
                and isinstance(verdict, Mapping)
                and isinstance(verdict["codes"], tuple)
                and isinstance(reasons, tuple)
                and reasons
            ):
                raise DemoError(f"audit entry {entry.seq}: not a decision as docs/signer.md says")
            codes = ", ".join(str(code) for code in verdict["codes"])
            refusals[str(request["id"])] = (codes, str(reasons[0]))
    return refusals


def _outcome(
    watcher_home: Path,
    signer_home: Path,
    plan: list[tuple[str, str, str, str, str]],
    addresses: dict[str, str],
    token: str,
) -> tuple[tuple[Paid, ...], tuple[Refused, ...], tuple[Payment, ...]]:
    """What the watcher's database and the signer's audit log say happened to each row."""
    labels = {wid: label for wid, label, _, _, _ in plan}
    refusals = _refusals(signer_home)
    paid: list[Paid] = []
    refused: list[Refused] = []
    payments: list[Payment] = []
    store = Store.open(watcher_home / "watcher.db")
    try:
        for withdrawal in store.withdrawals():
            asset = "ETH" if withdrawal.asset == NATIVE else SYMBOL
            destination = withdrawal.destination.checksummed()
            [request] = store.requests_for(withdrawal.id)
            if withdrawal.status is Status.CONFIRMED:
                signature = store.signature(request.request_id)
                receipt = None if signature is None else store.receipt(signature.tx_hash)
                if signature is None or receipt is None:
                    raise DemoError(f"{withdrawal.id}: confirmed without a receipt")
                tx_hash = "0x" + signature.tx_hash.hex()
                paid.append(
                    Paid(
                        withdrawal.id,
                        labels[withdrawal.id],
                        destination,
                        withdrawal.amount_text,
                        asset,
                        tx_hash,
                        receipt.block_number,
                    )
                )
                chain_asset = NATIVE if withdrawal.asset == NATIVE else token
                payments.append(
                    Payment(
                        destination, chain_asset, withdrawal.amount, tx_hash, receipt.block_number
                    )
                )
            elif request.request_id in refusals:
                code, reason = refusals[request.request_id]
                refused.append(
                    Refused(
                        withdrawal.id,
                        labels[withdrawal.id],
                        destination,
                        withdrawal.amount_text,
                        asset,
                        code,
                        reason,
                        request.nonce,
                        str(withdrawal.status),
                    )
                )
            else:
                raise DemoError(f"{withdrawal.id} is {withdrawal.status}: neither paid nor refused")
    finally:
        store.close()
    if addresses[OUTSIDER] not in {r.destination for r in refused}:
        raise DemoError("the withdrawal outside the policy was not refused")
    return tuple(paid), tuple(refused), tuple(payments)


def main(argv: Sequence[str] | None = None) -> int:
    """``python scripts/demo.py [--out DIR] [--rows N]``: 0 done, 1 the demo failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="artefacts folder")
    parser.add_argument(
        "--rows", type=int, default=MAX_ROWS, help=f"withdrawals, 2..{MAX_ROWS} (one refused)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        summary = run_demo(args.out, rows=args.rows)
    except (DemoError, AnvilError) as exc:
        print(f"\ndemo FAILED: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(f"\nDone in {seconds:.0f} s. Artefacts in {os.path.relpath(summary.out)}/:")
    for name in summary.artefacts:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
