"""The help screen: what each screen is for and the keys it takes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

# (screen, what it is for, its keys)
SECTIONS = (
    (
        "Unlock",
        "Type the vault passphrase and press Enter. Failed attempts are counted; after "
        "three, each further attempt waits longer (the countdown is shown).",
        "Enter unlock · F1 help · Ctrl+Q quit",
    ),
    (
        "Home",
        "The enrolled accounts (whole addresses), the policy and its hash, the audit log "
        "(entries, head, verified or not), the air-gap status and the last signatures.",
        "s scan a request · e export account · a audit log · l lock · F1 help · Ctrl+Q quit",
    ),
    (
        "Scan",
        "Hold the request's animated QR code in front of the camera, or read a video or "
        "image file. The bar shows the fragments recovered; wrong or mixed codes are named.",
        "c next camera · f read a file · r restart · Esc back",
    ),
    (
        "Review",
        "Every destination, amount, fee and warning, with the policy's verdict and the "
        "rules that decided it. Nothing is signed until you approve.",
        "Enter item details · y approve and sign · n reject · Esc back",
    ),
    (
        "Confirm",
        "A warning that needs a person: type exactly the text the screen asks for "
        "(for example the last characters of the destination address).",
        "Enter confirm · Esc cancel",
    ),
    (
        "Signature",
        "The signed response as an animated QR code for the online machine to scan.",
        "[ ] slower / faster · - + fewer / more bytes per frame · w write to a file · Esc done",
    ),
    (
        "Export account",
        "The account key for pairing a watch-only wallet, and its master fingerprint.",
        "[ ] slower / faster · - + density · Esc back",
    ),
    (
        "Audit log",
        "Every decision and device event, newest first, and whether the hash chain verifies.",
        "v verify again · arrows select · Esc back",
    ),
)


def help_text() -> Text:
    """The help page."""
    text = Text()
    text.append("coldsign signer\n", style="bold underline")
    text.append(
        "An offline device that signs only what you see and what its policy allows. "
        "The keys never leave it; requests and signatures cross the gap as QR codes.\n\n"
    )
    for title, purpose, keys in SECTIONS:
        text.append(f"{title}\n", style="bold")
        text.append(f"  {purpose}\n")
        text.append(f"  Keys: {keys}\n\n", style="cyan")
    text.append(
        "The keys lock after every signed batch, and by themselves after a while without "
        "signing; unlock again to go on.",
        style="dim",
    )
    return text


class HelpScreen(ModalScreen[None]):
    """Help over whatever screen was showing; Esc (or F1) closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("f1", "app.pop_screen", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(), id="help-text")
        yield Footer()
