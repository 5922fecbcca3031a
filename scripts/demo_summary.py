"""The demo's summary: what was paid and refused, the legs' timings and frames, and the check
of every reported payment and balance against the chain."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from demo_chain import Anvil

from shared.review.amounts import decimal_text

NATIVE = "native"
# ETH and the OpenZeppelin test token both have 18 decimals.
DECIMALS = 18


class DemoError(RuntimeError):
    """The demo could not finish: a program failed unexpectedly, or the chain disagrees with
    what the demo reports."""


@dataclass(frozen=True, slots=True)
class Paid:
    """A withdrawal paid and confirmed on chain."""

    id: str
    label: str
    destination: str
    amount: str
    asset: str
    tx_hash: str
    block: int


@dataclass(frozen=True, slots=True)
class Refused:
    """A withdrawal the signer refused, with the policy's reason code and words."""

    id: str
    label: str
    destination: str
    amount: str
    asset: str
    code: str
    reason: str
    nonce: int
    watcher_status: str


@dataclass(frozen=True, slots=True)
class Leg:
    """One step of the round trip: its wall time and, for a QR leg, what the camera read."""

    name: str
    seconds: float
    frames_read: int | None = None
    frames_shown: int | None = None
    fragments: int | None = None


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    """One balance on chain against what the summary says it must be."""

    who: str
    asset: str
    expected: int
    actual: int


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """Everything the demo reports; ``out`` is the folder holding its artefacts."""

    out: str
    paid: tuple[Paid, ...]
    refused: tuple[Refused, ...]
    legs: tuple[Leg, ...]
    balances: tuple[BalanceCheck, ...]
    confirmations: int
    audit_head: str
    artefacts: tuple[str, ...]

    def to_json(self) -> str:
        """The summary as JSON (amounts are the file's decimal strings; balances integers)."""
        return json.dumps(asdict(self), indent=2) + "\n"


@dataclass(frozen=True, slots=True)
class Payment:
    """What one confirmed transaction was meant to move, for the balance check."""

    destination: str
    asset: str  # NATIVE or the token address
    amount: int  # base units
    tx_hash: str
    block: int


def check_chain(
    node: Anvil,
    source: str,
    names: Mapping[str, str],
    assets: Mapping[str, str],
    before: Mapping[tuple[str, str], int],
    payments: Sequence[Payment],
) -> tuple[BalanceCheck, ...]:
    """Check the chain against the payments: each receipt succeeded in the block reported,
    each destination gained exactly what it was paid (nothing for the refused one), and the
    source lost exactly the payments plus the gas it paid. Raises :class:`DemoError` naming
    every difference. ``before`` holds the balances read before the first broadcast, keyed
    by (address, asset), in the order the checks are returned; ``names`` labels addresses
    and ``assets`` names assets."""
    expected = dict(before)
    problems: list[str] = []
    for payment in payments:
        receipt = node.rpc("eth_getTransactionReceipt", payment.tx_hash)
        if receipt is None:
            problems.append(f"{payment.tx_hash}: no receipt on chain")
            continue
        block = int(receipt["blockNumber"], 16)
        if int(receipt["status"], 16) != 1 or block != payment.block:
            problems.append(
                f"{payment.tx_hash}: status {receipt['status']} in block {block}, reported"
                f" as succeeded in block {payment.block}"
            )
        # EIP-1559: the sender pays gasUsed x effectiveGasPrice on top of the value.
        fee = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
        expected[(source, NATIVE)] -= fee
        expected[(source, payment.asset)] -= payment.amount
        expected[(payment.destination, payment.asset)] += payment.amount
    checks: list[BalanceCheck] = []
    for (who, asset), amount in expected.items():
        actual = node.balance(who) if asset == NATIVE else node.token_balance(asset, who)
        checks.append(BalanceCheck(names.get(who, who), assets[asset], amount, actual))
        if actual != amount:
            problems.append(
                f"{names.get(who, who)} holds {actual} {assets[asset]} base units on chain;"
                f" the summary says {amount}"
            )
    if problems:
        raise DemoError("the chain disagrees with the summary:\n  " + "\n  ".join(problems))
    return tuple(checks)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _frames(leg: Leg) -> str:
    if leg.frames_read is None:
        return ""
    shown = "" if leg.frames_shown is None else f" of the {leg.frames_shown} in the file"
    fragments = "" if leg.fragments is None else f" ({_count(leg.fragments, 'fragment')})"
    return f"{_count(leg.frames_read, 'frame')} read{shown}{fragments}"


def render(summary: DemoSummary) -> str:
    """The summary as the plain-text tables the demo prints and saves."""
    lines = [f"PAID: {len(summary.paid)} withdrawals, each {summary.confirmations} blocks deep"]
    lines += _table(
        ("id", "destination", "amount", "asset", "block", "transaction"),
        [(p.id, p.label, p.amount, p.asset, str(p.block), p.tx_hash) for p in summary.paid],
    )
    lines += ["", f"REFUSED BY THE SIGNER: {len(summary.refused)}"]
    lines += _table(
        ("id", "destination", "amount", "asset", "code", "reason"),
        [(r.id, r.label, r.amount, r.asset, r.code, r.reason) for r in summary.refused],
    )
    for refused in summary.refused:
        lines.append(
            f"  {refused.id} stays '{refused.watcher_status}' in the watcher; its nonce"
            f" {refused.nonce} is the account's next, so nothing paid waits behind it."
        )
    lines += ["", "LEGS"]
    lines += _table(
        ("leg", "seconds", "QR frames"),
        [(leg.name, f"{leg.seconds:.1f}", _frames(leg)) for leg in summary.legs],
    )
    lines += [
        "",
        f"ON CHAIN: all {len(summary.balances)} balances equal what this summary says:"
        " each destination gained exactly what it was paid, the refused one nothing, and the"
        " source lost the payments plus gas. Balances now:",
    ]
    assets = sorted({check.asset for check in summary.balances})
    holders: dict[str, dict[str, str]] = {}
    for check in summary.balances:
        holders.setdefault(check.who, {})[check.asset] = decimal_text(check.actual, DECIMALS)
    lines += _table(
        ("account", *assets),
        [(who, *(held.get(a, "") for a in assets)) for who, held in holders.items()],
    )
    lines += ["", f"SIGNER AUDIT LOG: verified, head {summary.audit_head}"]
    return "\n".join(lines) + "\n"
