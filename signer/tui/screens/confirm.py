"""The confirmation screen: a warning a person acknowledges by typing what the policy asks."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from signer.core import PreparedItem
from signer.policy.verdict import Confirmation
from signer.tui.untrusted import untrusted


def confirmation_text(item: PreparedItem, confirmation: Confirmation, count: int) -> Text:
    """The item, the warnings to acknowledge and what to type."""
    text = Text.assemble((f"Item {item.number} of {count} needs your confirmation\n", "bold"))
    if item.review is not None:
        text.append_text(untrusted(item.review.title))
        text.append("\n")
    text.append("\nYou are acknowledging:\n", style="bold yellow")
    for message in confirmation.messages:
        text.append("  • ", style="yellow")
        text.append_text(untrusted(message))
        text.append("\n")
    text.append("\n")
    text.append_text(untrusted(confirmation.prompt, style="bold"))
    return text


class ConfirmScreen(ModalScreen[str | None]):
    """Dismissed with the typed text once it matches, or None when the person declines.

    A declined item is not signed (and the core audits it as not acknowledged).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "decline", "Do not sign this item"),
    ]

    def __init__(self, item: PreparedItem, confirmation: Confirmation, count: int) -> None:
        super().__init__()
        self.item = item
        self.confirmation = confirmation
        self._count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(
                confirmation_text(self.item, self.confirmation, self._count), id="confirm-text"
            )
            yield Input(placeholder="type it here, then Enter", id="confirm-input")
            yield Static("", id="confirm-message")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#confirm-input", Input).cursor_blink = False

    @on(Input.Submitted, "#confirm-input")
    def submitted(self, event: Input.Submitted) -> None:
        """Accept the exact text (case and surrounding spaces aside), nothing else."""
        if self.confirmation.accepts(event.value):
            self.dismiss(event.value)
            return
        event.input.value = ""
        self.query_one("#confirm-message", Static).update(
            Text(
                "That is not what was asked. Type exactly the characters named above, "
                "or press Esc to leave this item unsigned.",
                style="bold red",
            )
        )

    def action_decline(self) -> None:
        self.dismiss(None)
