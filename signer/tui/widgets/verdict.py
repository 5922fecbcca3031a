"""The policy's verdict: a coloured badge, and the deciding rules in plain words."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

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
    return Text(f" {word} ", style=style)


def verdict_text(verdict: Verdict) -> Text:
    """What the policy decided and every rule that decided it, one per line."""
    text = Text("Policy: ", style="bold")
    text.append_text(verdict_badge(verdict.decision))
    if verdict.decision is Decision.REFUSE:
        text.append("  This request will not be signed. Refused because:\n", style="bold red")
        for hit in verdict.refusals:
            text.append("  ✗ ", style="bold red")
            text.append_text(untrusted(hit.reason))
            text.append(f"   [{_where(hit.rule, hit.line)}]\n", style="dim")
        return text
    text.append("  Allowed by:\n" if verdict.allowed_by else "\n")
    for hit in verdict.allowed_by:
        text.append("  ✓ ", style="bold green")
        text.append_text(untrusted(hit.reason))
        text.append(f"   [{_where(hit.rule, hit.line)}]\n", style="dim")
    if verdict.confirmation is not None:
        text.append("  Needs your confirmation: ", style="bold yellow")
        text.append_text(untrusted(verdict.confirmation.prompt))
        text.append("\n")
        for message in verdict.confirmation.messages:
            text.append("    • ", style="yellow")
            text.append_text(untrusted(message))
            text.append("\n")
    return text


def _where(rule: str, line: int | None) -> str:
    return f"policy {rule}" if line is None else f"policy {rule}, line {line}"


class VerdictView(Static):
    """One verdict with its deciding rules."""

    def __init__(self, verdict: Verdict, *, id: str | None = None) -> None:
        super().__init__(verdict_text(verdict), id=id, markup=False)
