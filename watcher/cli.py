"""The ``coldsign-watcher`` command: pair, intake, build, import, broadcast, status, bump,
fill-gap and reset-head.

    coldsign-watcher [--home DIR] [--rpc URL | --rpc NAME=URL] COMMAND ...

``main`` is the one boundary that turns errors into a one-line message on stderr and an exit
status: 0 done, 2 refused input (file, response, configuration), 3 node trouble (unreachable,
wrong chain, malformed reply), 4 anything else the watcher refused (balance, fees, state).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from channel.density import DEFAULT_PRESET, PRESET_ORDER
from channel.errors import ChannelError
from shared.errors import ColdsignError, DecodeError, IncompleteError
from watcher.attestation import Attester, load_attester
from watcher.broadcast import Broadcaster
from watcher.build import Builder, WrittenBatch
from watcher.bump import Bumper
from watcher.config import ChainConfig, WatcherConfig, load_config, override_rpc
from watcher.crashpoints import CrashPoints, crash_points_from
from watcher.errors import (
    ConfigError,
    IntakeError,
    PairingError,
    ResponseError,
    RPCError,
)
from watcher.gap import FillMode, GapFiller
from watcher.heads import head_text, parse_fingerprint, parse_note, reset_text
from watcher.home import WatcherHome, resolve_home
from watcher.intake import Intake, read_rows
from watcher.media import MEDIA_FORMATS, AnimatedRequestWriter, read_message
from watcher.pairing import PAIRING_TYPES, pair_from_ur
from watcher.parts import RequestWriter, TextPartsWriter
from watcher.requestkit import RequestKit
from watcher.rpc import HttpTransport, Node, Sleeper
from watcher.safe.cli import add_safe_parser, run_safe
from watcher.state import Purpose, Status, Store, TxRequest
from watcher.track import Tracker
from watcher.verify import RESPONSE_TYPES, Verifier

EXIT_OK = 0
EXIT_INPUT = 2
EXIT_NODE = 3
EXIT_REFUSED = 4
PROG = "coldsign-watcher"


@dataclass
class Runtime:
    """What the commands share: home, configuration, state, nodes and injected services."""

    home: WatcherHome
    config: WatcherConfig
    store: Store
    out: TextIO
    err: TextIO
    sleep: Sleeper
    crash: CrashPoints
    nodes_by_chain: dict[int, Node] = field(default_factory=dict)
    transports: list[HttpTransport] = field(default_factory=list)

    def node(self, chain: ChainConfig) -> Node:
        """The checked node of ``chain`` (connected at start-up)."""
        return self.nodes_by_chain[chain.chain_id]

    def connect(self) -> None:
        """Reach every configured chain's node and check its chain id, before any work."""
        for chain in self.config.chains:
            transport = HttpTransport(chain.rpc_url, sleep=self.sleep)
            self.transports.append(transport)
            node = Node(transport)
            node.check_chain(chain.chain_id)
            self.nodes_by_chain[chain.chain_id] = node

    def close(self) -> None:
        """Close the node connections and the database."""
        for transport in self.transports:
            transport.close()
        self.store.close()

    def writer(self) -> TextPartsWriter:
        """Where sign requests go: UR text parts in the home's requests folder."""
        return TextPartsWriter(self.home.requests_dir, self.config.max_fragment_length)

    def attester(self) -> Attester | None:
        """The operator attestation key, when ``[operator] key_file`` names one."""
        path = self.config.operator_key
        return None if path is None else load_attester(path)

    def request_writer(self, args: argparse.Namespace) -> RequestWriter:
        """The text parts writer, plus QR media when ``--qr`` asks for it."""
        if args.qr is None:
            return self.writer()
        return AnimatedRequestWriter(self.writer(), args.qr, args.density)

    def request_kit(self, args: argparse.Namespace) -> RequestKit:
        """What ``build``, ``bump`` and ``fill-gap`` write their sign requests with: this
        runtime's configuration, store and nodes, the ``--qr`` writer and the operator key."""
        return RequestKit(
            self.config, self.store, self.node, self.request_writer(args), attester=self.attester()
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="the watcher home (default $COLDSIGN_WATCHER_HOME)")
    parser.add_argument("--rpc", help="node URL for a one-chain setup, or NAME=URL")
    commands = parser.add_subparsers(dest="command", required=True)
    pair = commands.add_parser("pair", help="import a signer's crypto-hdkey / crypto-account")
    pair.add_argument("file", help="UR text parts, one per line ('-' for stdin)")
    pair.add_argument("--count", type=int, default=5, help="addresses to derive per key")
    intake = commands.add_parser("intake", help="import a withdrawal file (.csv or .jsonl)")
    intake.add_argument("file")
    build = commands.add_parser("build", help="build transactions and write sign requests")
    _media_options(build)
    imp = commands.add_parser("import", help="verify and store a signer's response")
    imp.add_argument("file", help="UR text parts, one per line ('-' for stdin)")
    commands.add_parser("broadcast", help="send verified transactions in nonce order")
    status = commands.add_parser("status", help="track receipts and show every withdrawal")
    status.add_argument("--no-track", action="store_true", help="only show the database")
    bump = commands.add_parser("bump", help="write fee-bump requests for stuck transactions")
    bump.add_argument("--request", action="append", help="only this request id (repeatable)")
    _media_options(bump)
    gap = commands.add_parser(
        "fill-gap", help="re-request the nonce of an item the signer refused or never signed"
    )
    gap.add_argument("withdrawal", help="the withdrawal whose request awaits a signature")
    mode = gap.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--pay",
        dest="mode",
        action="store_const",
        const=FillMode.PAY,
        help="the same payment again (after the signer's policy was fixed)",
    )
    mode.add_argument(
        "--cancel",
        dest="mode",
        action="store_const",
        const=FillMode.CANCEL,
        help="a zero-value transfer to the account itself: the withdrawal is cancelled",
    )
    _media_options(gap)
    reset = commands.add_parser(
        "reset-head", help="forget a signer's audit head after a deliberate rebuild"
    )
    reset.add_argument("fingerprint", help="the signer's master fingerprint (8 hex digits)")
    reset.add_argument("--by", required=True, help="who resets it (recorded)")
    reset.add_argument("--reason", required=True, help="why (recorded)")
    add_safe_parser(commands)
    return parser


def _media_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--qr",
        choices=MEDIA_FORMATS,
        help="also write each request as an animated QR (gif, mp4, or a folder of png frames)",
    )
    parser.add_argument(
        "--density", choices=PRESET_ORDER, default=DEFAULT_PRESET, help="QR density preset"
    )


def _cmd_pair(rt: Runtime, args: argparse.Namespace) -> None:
    pairing = pair_from_ur(read_message(args.file, PAIRING_TYPES, report=rt.out), count=args.count)
    added = rt.store.add_accounts(pairing.accounts)
    print(f"master fingerprint {pairing.master_fingerprint}", file=rt.out)
    for account in pairing.accounts:
        print(f"  {account.path:<22} {account.address.checksummed()}", file=rt.out)
    print(f"{added} new watch-only accounts", file=rt.out)


def _cmd_intake(rt: Runtime, args: argparse.Namespace) -> None:
    rows = read_rows(Path(args.file))
    result = Intake(rt.config, rt.store, rt.node).run(rows, f"intake {args.file}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=rt.err)
    print(
        f"{len(result.added)} withdrawals added, {len(result.skipped)} already stored",
        file=rt.out,
    )


def _print_batches(rt: Runtime, batches: Sequence[WrittenBatch]) -> None:
    for batch in batches:
        chain = rt.config.chain_by_id(batch.chain_id)
        print(
            f"batch {batch.batch_id}: {batch.requests} requests for {batch.source} on "
            f"{chain.name} -> {batch.path}",
            file=rt.out,
        )
    if not batches:
        print("nothing to build", file=rt.out)


def _cmd_build(rt: Runtime, args: argparse.Namespace) -> None:
    _print_batches(rt, Builder(rt.request_kit(args), crash=rt.crash).build())


def _cmd_import(rt: Runtime, args: argparse.Namespace) -> None:
    ur = read_message(args.file, RESPONSE_TYPES, report=rt.out)
    result = Verifier(rt.store).import_ur(ur, source=str(args.file))
    rt.crash.reached("import.committed")
    print(f"{len(result.signatures)} signatures verified and stored", file=rt.out)


def _cmd_broadcast(rt: Runtime, args: argparse.Namespace) -> None:
    report = Broadcaster(rt.config, rt.store, rt.node, sleep=rt.sleep, crash=rt.crash).run()
    for line in report.waiting:
        print(f"waiting: {line}", file=rt.err)
    print(f"{len(report.sent)} transactions sent", file=rt.out)


def _cmd_status(rt: Runtime, args: argparse.Namespace) -> None:
    if not args.no_track:
        report = Tracker(rt.config, rt.store, rt.node).run()
        print(
            f"tracked: {len(report.confirmed)} newly confirmed, {len(report.pending)} pending, "
            f"{len(report.resent)} sent again, {len(report.reorged)} reorged, "
            f"{len(report.failed)} failed",
            file=rt.out,
        )
    withdrawals = rt.store.withdrawals()
    counts = {status: 0 for status in Status}
    for withdrawal in withdrawals:
        counts[withdrawal.status] += 1
    print(
        ", ".join(f"{status}: {n}" for status, n in counts.items() if n) or "no withdrawals",
        file=rt.out,
    )
    for withdrawal in withdrawals:
        tx = ""
        for request in rt.store.requests_for(withdrawal.id):
            signature = rt.store.signature(request.request_id)
            if signature is not None and request.status is withdrawal.status:
                tx = f" 0x{signature.tx_hash.hex()}"
        print(
            f"  {withdrawal.id:<24} {withdrawal.status:<19}{tx}{_filled(rt, withdrawal.id)}",
            file=rt.out,
        )
    _print_gaps(rt)
    _print_heads(rt)


def _filled(rt: Runtime, withdrawal_id: str) -> str:
    """How a cancelled withdrawal's nonce was filled, if ``fill-gap --cancel`` did it, or
    which ``fill-gap`` request a late signature of the one it replaced superseded."""
    for request in rt.store.requests_for(withdrawal_id):
        if request.status is Status.SUPERSEDED:
            return (
                f" (fill-gap request {request.request_id} superseded: the late signature of "
                f"the request it replaced was imported; never sign or send it)"
            )
        if request.purpose is Purpose.CANCEL and request.status is not Status.CANCELLED:
            signature = rt.store.signature(request.request_id)
            tx = "" if signature is None else f" 0x{signature.tx_hash.hex()}"
            return f" (nonce {request.nonce} filled by a self-transfer: {request.status}{tx})"
    return ""


def _print_gaps(rt: Runtime) -> None:
    """Unsigned requests that hold back later nonces of their account."""
    moving = rt.store.requests_in(Status.SIGNED, Status.BROADCAST)
    for request in rt.store.requests_in(Status.AWAITING_SIGNATURE):
        if _holds_back(request, moving):
            print(
                f"gap: {request.withdrawal_id} holds nonce {request.nonce} of "
                f"{request.source.checksummed()} unsigned; later nonces cannot be mined until "
                f"it is signed, or filled with fill-gap {request.withdrawal_id} --pay/--cancel "
                "(no signature imported yet; import any pending response first)",
                file=rt.out,
            )


def _holds_back(request: TxRequest, moving: Sequence[TxRequest]) -> bool:
    return any(
        m.chain_id == request.chain_id and m.source == request.source and m.nonce > request.nonce
        for m in moving
    )


def _print_heads(rt: Runtime) -> None:
    """The audit head stored for every paired signer, and its last deliberate reset."""
    heads = {head.master_fingerprint: head for head in rt.store.signer_heads()}
    fingerprints = sorted({a.master_fingerprint for a in rt.store.accounts()} | heads.keys())
    # The same lines as `safe status` (watcher.heads), so both read alike.
    for fingerprint in fingerprints:
        print(head_text(fingerprint, heads.get(fingerprint)), file=rt.out)
        resets = rt.store.head_resets(fingerprint)
        if resets:
            print(f"  {reset_text(resets[-1])}", file=rt.out)


def _cmd_bump(rt: Runtime, args: argparse.Namespace) -> None:
    _print_batches(rt, Bumper(rt.request_kit(args)).run(request_ids=args.request))


def _cmd_fill_gap(rt: Runtime, args: argparse.Namespace) -> None:
    filler = GapFiller(rt.request_kit(args))
    finished = filler.finish_pending()
    if finished:
        # A run killed after its commit: its file is written now; nothing new is built.
        _print_batches(rt, finished)
        print(
            "an interrupted request file was written; run status before filling again", file=rt.out
        )
        return
    filled = filler.fill(args.withdrawal, args.mode)
    what = "the same payment" if filled.mode is FillMode.PAY else "a zero-value self-transfer"
    print(
        f"withdrawal {filled.withdrawal_id}: nonce {filled.nonce} re-requested as {what} "
        f"(request {filled.request_id} replaces {filled.replaced})",
        file=rt.out,
    )
    _print_batches(rt, filled.written)


def _cmd_reset_head(rt: Runtime, args: argparse.Namespace) -> None:
    fingerprint = parse_fingerprint(args.fingerprint)
    if fingerprint not in {a.master_fingerprint for a in rt.store.accounts()}:
        raise ConfigError("FINGERPRINT", f"no paired signer has master fingerprint {fingerprint}")
    reset = rt.store.reset_signer_head(
        fingerprint, parse_note(args.by, "--by"), parse_note(args.reason, "--reason")
    )
    print(
        f"signer {fingerprint}: audit head {reset.seq}:{reset.head_hash.hex()} dropped by "
        f"{reset.reset_by} ({reset.reason}); the next response imported sets it again",
        file=rt.out,
    )


_COMMANDS: dict[str, tuple[Callable[[Runtime, argparse.Namespace], None], bool]] = {
    # command: (handler, needs the node)
    "pair": (_cmd_pair, False),
    "intake": (_cmd_intake, True),
    "build": (_cmd_build, True),
    "import": (_cmd_import, False),
    "broadcast": (_cmd_broadcast, True),
    "status": (_cmd_status, True),
    "bump": (_cmd_bump, True),
    "fill-gap": (_cmd_fill_gap, True),
    "reset-head": (_cmd_reset_head, False),
    "safe": (run_safe, True),
}


def _exit_status(error: ColdsignError) -> int:
    if isinstance(error, RPCError):
        return EXIT_NODE
    if isinstance(
        error,
        ConfigError
        | IntakeError
        | PairingError
        | ResponseError
        | DecodeError
        | IncompleteError
        | ChannelError,
    ):
        return EXIT_INPUT
    return EXIT_REFUSED


def main(
    argv: Sequence[str] | None = None,
    *,
    sleep: Sleeper = time.sleep,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one command; every refusal becomes one line on stderr and a non-zero status."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    args = _parser().parse_args(argv)
    handler, needs_node = _COMMANDS[args.command]
    store: Store | None = None
    runtime: Runtime | None = None
    try:
        home = resolve_home(args.home)
        home.check()
        config = load_config(home.config_path)
        if args.rpc is not None:
            config = override_rpc(config, args.rpc)
        store = Store.open(home.state_path)
        runtime = Runtime(home, config, store, out, err, sleep, crash_points_from())
        no_track = args.command == "status" and args.no_track
        if needs_node and not no_track:
            runtime.connect()
        handler(runtime, args)
    except ColdsignError as exc:
        print(f"{PROG}: {args.command}: {exc}", file=err)
        return _exit_status(exc)
    finally:
        if runtime is not None:
            runtime.close()
        elif store is not None:
            store.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
