"""``coldsign-watcher safe ...``: Safe payout batches from intake to execution.

    coldsign-watcher safe intake FILE [--safe NAME]   withdrawals paid from the Safe
    coldsign-watcher safe propose [--safe NAME]       SafeTx + one typed-data request per owner
    coldsign-watcher safe import FILE                 owner or executor signatures (any order)
    coldsign-watcher safe execute [--safe NAME]       the executor's execTransaction request
    coldsign-watcher safe broadcast                   send signed executions
    coldsign-watcher safe status [--no-track]         proposals, which owners have signed, and
                                                      each signer's audit head

A deliberate reset of a signer's audit head is ``coldsign-watcher reset-head``, for Safe and
withdrawal work alike: the head lives in ``watcher.db`` once per signer.

Errors reach the watcher's one boundary (``watcher.cli.main``), which prints them and sets
the exit status.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Protocol, TextIO

from watcher.attestation import Attester
from watcher.config import ChainConfig, WatcherConfig
from watcher.errors import ConfigError
from watcher.heads import head_text, reset_text
from watcher.home import WatcherHome
from watcher.intake import read_rows
from watcher.parts import TextPartsWriter
from watcher.requestkit import RequestKit
from watcher.rpc import Node
from watcher.safe.collect import Collector
from watcher.safe.config import SafeConfig, find_safe, load_safes
from watcher.safe.execute import Executor
from watcher.safe.intake import SafeIntake
from watcher.safe.propose import Proposer
from watcher.safe.store import SafeStore
from watcher.state import Store


class Runtime(Protocol):
    """What the ``safe`` commands use of the watcher CLI's runtime."""

    home: WatcherHome
    config: WatcherConfig
    store: Store
    out: TextIO
    err: TextIO

    def node(self, chain: ChainConfig) -> Node:
        """The connected node of ``chain``."""
        ...

    def attester(self) -> Attester | None:
        """The operator attestation key, when ``[operator] key_file`` names one."""
        ...


def _kit(rt: Runtime, *, attest: bool = False) -> RequestKit:
    """What the Safe commands write requests with: UR text parts in the home's requests
    folder and, for ``propose`` and ``execute`` (``attest``), the operator key of
    ``[operator] key_file`` as ``build`` uses it. Commands that write no request never read
    the key file."""
    writer = TextPartsWriter(rt.home.requests_dir, rt.config.max_fragment_length)
    attester = rt.attester() if attest else None
    return RequestKit(rt.config, rt.store, rt.node, writer, attester=attester)


def add_safe_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``safe`` and its commands on the watcher's sub-command parser."""
    safe = commands.add_parser("safe", help="Safe multisig payout batches")
    actions = safe.add_subparsers(dest="safe_command", required=True)
    intake = actions.add_parser("intake", help="import withdrawals paid from a Safe")
    intake.add_argument("file")
    intake.add_argument("--safe", help="the Safe's name in safes.toml")
    propose = actions.add_parser("propose", help="build the SafeTx and the owners' requests")
    propose.add_argument("--safe")
    imp = actions.add_parser("import", help="verify and store owner or executor signatures")
    imp.add_argument("file", help="UR text parts, one per line")
    execute = actions.add_parser("execute", help="write the executor's execTransaction request")
    execute.add_argument("--safe")
    actions.add_parser("broadcast", help="send signed execTransaction transactions")
    status = actions.add_parser("status", help="proposals and owner signatures")
    status.add_argument("--no-track", action="store_true", help="do not look up receipts")


def run_safe(rt: Runtime, args: argparse.Namespace) -> None:
    """Run one ``safe`` command."""
    store = SafeStore.open(rt.home.root)
    try:
        safes = load_safes(rt.home.root, rt.config)
        command = args.safe_command
        if command == "intake":
            _intake(rt, store, find_safe(safes, args.safe), Path(args.file))
        elif command == "propose":
            _propose(rt, store, find_safe(safes, args.safe))
        elif command == "import":
            _import(rt, store, safes, Path(args.file))
        elif command == "execute":
            safe = find_safe(safes, args.safe)
            written = Executor(_kit(rt, attest=True), store, safe.chain_id).request(safe)
            print(
                f"proposal {written.proposal_id}: executor request (nonce {written.nonce}, gas "
                f"{written.gas_limit}) -> {written.path}",
                file=rt.out,
            )
        elif command == "broadcast":
            sent: list[int] = []
            kit = _kit(rt)
            for safe in _chains(safes):
                sent.extend(Executor(kit, store, safe.chain_id).broadcast())
            print(f"{len(sent)} Safe executions sent", file=rt.out)
        else:
            _status(rt, store, safes, track=not args.no_track)
    finally:
        store.close()


def _node(rt: Runtime, safe: SafeConfig) -> Node:
    return _chain_node(rt, safe.chain_id)


def _chain_node(rt: Runtime, chain_id: int) -> Node:
    return rt.node(rt.config.chain_by_id(chain_id))


def _chains(safes: tuple[SafeConfig, ...]) -> tuple[SafeConfig, ...]:
    """One Safe per chain: each chain's executor broadcasts and tracks that chain's proposals."""
    seen: dict[int, SafeConfig] = {}
    for safe in safes:
        seen.setdefault(safe.chain_id, safe)
    return tuple(seen.values())


def _intake(rt: Runtime, store: SafeStore, safe: SafeConfig, path: Path) -> None:
    result = SafeIntake(rt.config, store, _node(rt, safe)).run(read_rows(path), safe)
    print(
        f"{len(result.added)} withdrawals added for safe {safe.name}, "
        f"{len(result.skipped)} already stored",
        file=rt.out,
    )


def _propose(rt: Runtime, store: SafeStore, safe: SafeConfig) -> None:
    proposed = Proposer(_kit(rt, attest=True), store).propose(safe)
    if proposed is None:
        print(f"safe {safe.name}: nothing to propose", file=rt.out)
        return
    info = proposed.info
    print(
        f"proposal {proposed.proposal_id}: {proposed.payouts} payouts from safe {safe.name} "
        f"{info.address.checksummed()} (Safe {info.version_text}, nonce {info.nonce}, "
        f"{info.threshold} of {len(info.owners)})",
        file=rt.out,
    )
    print(f"safeTxHash 0x{proposed.safe_tx_hash.hex()} (equal to getTransactionHash)", file=rt.out)
    for owner, path in proposed.requests:
        print(f"  owner {owner.checksummed()} -> {path}", file=rt.out)
    for owner in proposed.unpaired:
        print(f"  owner {owner.checksummed()}: not paired with this watcher", file=rt.out)


def _import(rt: Runtime, store: SafeStore, safes: tuple[SafeConfig, ...], path: Path) -> None:
    if not safes:
        raise ConfigError("safes.toml", "no Safe is configured")
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "UR parts are ASCII text") from exc
    # Each proposal's owners are read on its own chain's node.
    collector = Collector(store, lambda chain_id: _chain_node(rt, chain_id), rt.store)
    collected = collector.import_lines(lines, source=str(path))
    for proposal_id, owner in collected.owners:
        proposal = store.proposal(proposal_id)
        count = len(store.owner_signatures(proposal_id))
        print(
            f"proposal {proposal_id}: owner {owner.checksummed()} signed "
            f"({count} of {proposal.threshold})",
            file=rt.out,
        )
    for proposal_id in collected.executions:
        print(f"proposal {proposal_id}: executor transaction signed", file=rt.out)
    if collected.head is not None:
        head = collected.head
        print(
            f"signer {collected.signer}: audit head {head.seq}:{head.head_hash.hex()}", file=rt.out
        )


def _status(rt: Runtime, store: SafeStore, safes: tuple[SafeConfig, ...], *, track: bool) -> None:
    if track:
        kit = _kit(rt)
        for safe in _chains(safes):
            Executor(kit, store, safe.chain_id).track()
    names = {(s.chain_id, s.address): s.name for s in safes}
    proposals = store.proposals()
    if not proposals:
        print("no Safe proposals", file=rt.out)
    for proposal in proposals:
        tx = proposal.tx
        name = names.get((tx.chain_id or 0, tx.safe), tx.safe.checksummed())
        signatures = store.owner_signatures(proposal.id)
        print(
            f"proposal {proposal.id} safe {name} nonce {tx.nonce}: {proposal.status}, "
            f"{len(signatures)} of {proposal.threshold} signatures, "
            f"{len(store.in_proposal(proposal.id))} payouts, "
            f"safeTxHash 0x{proposal.safe_tx_hash.hex()}",
            file=rt.out,
        )
        for request in store.owner_requests(proposal.id):
            state = "signed" if request.owner in signatures else "waiting"
            print(f"  owner {request.owner.checksummed()}: {state}", file=rt.out)
        execution = store.execution_of(proposal.id)
        if execution is not None and execution.tx_hash is not None:
            print(f"  execTransaction 0x{execution.tx_hash.hex()}", file=rt.out)
    pending = [w for w in store.withdrawals() if w.proposal_id is None]
    print(f"{len(pending)} Safe withdrawals not yet proposed", file=rt.out)
    _heads(rt, store)


def _heads(rt: Runtime, store: SafeStore) -> None:
    """The audit head stored (in watcher.db) for every signer a Safe request went to."""
    accounts: dict[str, list[str]] = {}
    for fingerprint, role, address in store.signers():
        accounts.setdefault(fingerprint, []).append(f"{role} {address.checksummed()}")
    for fingerprint, held in accounts.items():
        print(head_text(fingerprint, rt.store.signer_head(fingerprint)), file=rt.out)
        print(f"  answers for {', '.join(held)}", file=rt.out)
        resets = rt.store.head_resets(fingerprint)
        if resets:
            print(f"  {reset_text(resets[-1])}", file=rt.out)
