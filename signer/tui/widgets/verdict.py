"""The policy's verdict: a coloured badge, and the deciding rules in plain words."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from signer.core import PreparedItem
from signer.policy.verdict import Decision, Verdict
from signer.tui.untrusted import untrusted

DECISION_STYLE: dict[Decision, tuple[str, str]] = {
    Decision.SIGN: ("SIGN", "bold black on green"),
    Decision.NEEDS_CONFIRMATION: ("CONFIRM", "bold black on yellow"),
    Decision.REFUSE: ("REFUSED", "bold white on red"),
}


def verdict_badge(decision: Decision) -> Text:
    """``SIGN`` / ``CONFIRM`` / ``REFUSED`` on green / yellow / red."""
    word, style = DECISION_STYLE[decision]
    return Text.assemble((f" {word} ", style))


def item_decision(item: PreparedItem) -> Decision:
    """What will happen to the item: the policy's decision, unless its key check failed."""
    return item.verdict.decision if item.signable else Decision.REFUSE


def item_verdict_text(item: PreparedItem) -> Text:
    """The item's verdict with its deciding rules, and a failed key check if there was one."""
    if item.key_refusal is not None and item.verdict.decision is not Decision.REFUSE:
        text = Text.assemble(("Policy: ", "bold"))
        text.append_text(verdict_badge(Decision.REFUSE))
        text.append("  This request will not be signed. Refused because:\n", style="bold red")
        text.append("  ✗ ", style="bold red")
        text.append_text(untrusted(f"key check: {item.key_refusal}"))
        return text
    return verdict_text(item.verdict)


def verdict_text(verdict: Verdict) -> Text:
    """What the policy decided and every rule that decided it, one per line."""
    text = Text.assemble(("Policy: ", "bold"))
    text.append_text(verdict_badge(verdict.decision))
    if verdict.decision is Decision.REFUSE:
        text.append("  This request will not be signed. Refused because:", style="bold red")
        for hit in verdict.refusals:
            text.append("\n  ✗ ", style="bold red")
            text.append_text(untrusted(hit.reason))
            text.append(f"   [{_where(hit.rule, hit.line)}]", style="dim")
        return text
    if verdict.allowed_by:
        text.append("  Allowed by:")
    for hit in verdict.allowed_by:
        text.append("\n  ✓ ", style="bold green")
        text.append_text(untrusted(hit.reason))
        text.append(f"   [{_where(hit.rule, hit.line)}]", style="dim")
    if verdict.confirmation is not None:
        text.append("\n  Needs your confirmation: ", style="bold yellow")
        text.append_text(untrusted(verdict.confirmation.prompt))
        for message in verdict.confirmation.messages:
            text.append("\n    • ", style="yellow")
            text.append_text(untrusted(message))
    return text


def _where(rule: str, line: int | None) -> str:
    return f"policy {rule}" if line is None else f"policy {rule}, line {line}"


class VerdictView(Static):
    """One verdict with its deciding rules."""

    def __init__(self, verdict: Verdict, *, id: str | None = None) -> None:
        super().__init__(verdict_text(verdict), id=id, markup=False)
