"""The unlock screen: the vault passphrase, wrong-passphrase messages and the backoff countdown."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, LoadingIndicator, Static

from signer.errors import BackoffError, VaultError, WrongPassphraseError
from signer.keys.session import KeySession
from signer.tui.untrusted import untrusted

Unlocker = Callable[[str], KeySession]


class UnlockScreen(Screen[None]):
    """Asks for the vault passphrase; posts :class:`UnlockScreen.Unlocked` with the session.

    The key derivation runs in a thread worker. A wrong passphrase, a backoff (with a
    countdown computed from the injected ``clock``) and an unusable vault are each shown
    in plain words under the input.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "Help"),
    ]

    class Unlocked(Message):
        """The vault opened: ``session`` holds the keys until it locks."""

        def __init__(self, session: KeySession) -> None:
            super().__init__()
            self.session = session

    def __init__(
        self,
        unlocker: Unlocker,
        clock: Callable[[], float],
        *,
        vault_label: str,
        failed_attempts: int = 0,
        notice: str = "",
    ) -> None:
        super().__init__()
        self._unlocker = unlocker
        self._clock = clock
        self._vault_label = vault_label
        self._failed = failed_attempts
        self._notice = notice
        self._retry_at: float | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="unlock-box"):
            yield Static(Text("Unlock the signer", style="bold"), id="unlock-title")
            yield Static(Text(self._vault_label, style="dim"), id="unlock-vault")
            yield Input(
                placeholder="vault passphrase",
                password=True,
                id="passphrase",
            )
            yield LoadingIndicator(id="unlock-busy")
            yield Static("", id="unlock-message")
            yield Static(self._attempts_text(), id="unlock-attempts")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#unlock-busy").display = False
        passphrase = self.query_one("#passphrase", Input)
        passphrase.cursor_blink = False
        if self._notice:
            self._say(untrusted(self._notice, style="bold yellow"))
        self.set_interval(1.0, self.tick)

    def _attempts_text(self) -> Text:
        if not self._failed:
            return Text("")
        return Text(f"{self._failed} failed attempt(s) since the last unlock.", style="yellow")

    def _say(self, message: Text) -> None:
        self.query_one("#unlock-message", Static).update(message)

    @on(Input.Submitted, "#passphrase")
    def submitted(self, event: Input.Submitted) -> None:
        """Start the key derivation in a thread; the input is cleared at once."""
        passphrase = event.value
        event.input.value = ""
        if not passphrase or self._waiting():
            return
        event.input.disabled = True
        self.query_one("#unlock-busy").display = True
        self._say(Text("Deriving the vault key…", style="dim"))
        self._unlock(passphrase)

    @work(thread=True, exclusive=True, group="unlock")
    def _unlock(self, passphrase: str) -> None:
        try:
            session = self._unlocker(passphrase)
        except BackoffError as exc:
            self.app.call_from_thread(self._backed_off, exc.retry_after)
            return
        except WrongPassphraseError:
            self.app.call_from_thread(self._wrong)
            return
        except VaultError as exc:
            self.app.call_from_thread(self._failed_with, str(exc))
            return
        self.app.call_from_thread(self.post_message, self.Unlocked(session))

    def _ready(self) -> None:
        self.query_one("#unlock-busy").display = False
        passphrase = self.query_one("#passphrase", Input)
        passphrase.disabled = self._waiting()
        if not passphrase.disabled:
            passphrase.focus()

    def _wrong(self) -> None:
        self._failed += 1
        self.query_one("#unlock-attempts", Static).update(self._attempts_text())
        self._say(
            Text(
                "Wrong passphrase (or the vault file was altered). The attempt was counted.",
                style="bold red",
            )
        )
        self._ready()

    def _backed_off(self, retry_after: float) -> None:
        self._retry_at = self._clock() + retry_after
        self.tick()

    def _failed_with(self, message: str) -> None:
        self._say(untrusted(f"The vault cannot be opened: {message}", style="bold red"))
        self._ready()

    def _waiting(self) -> bool:
        return self._retry_at is not None and self._clock() < self._retry_at

    def tick(self) -> None:
        """Update the backoff countdown (called every second, and by tests after the clock)."""
        if self._retry_at is None:
            return
        left = self._retry_at - self._clock()
        if left > 0:
            self._say(
                Text(
                    f"Too many failed attempts. Try again in {math.ceil(left)} s.",
                    style="bold red",
                )
            )
        else:
            self._retry_at = None
            self._say(Text("You may try again now.", style="bold"))
        self._ready()
