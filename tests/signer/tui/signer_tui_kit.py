"""Helpers for the signer TUI tests: a signer home with a vault and a policy, fakes for the
network probe and the clock, and readers of what is on the screen."""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from signer.airgap import InterfaceKind, InterfaceState
from signer.home import SignerHome
from signer.keys.bip32 import DerivationPath
from signer.keys.bip39 import SecretMnemonic
from signer.keys.kdf import MIN_PARAMS
from signer.keys.paths import Scheme, scheme_path
from signer.keys.vault import Vault

PASSPHRASE = "correct horse battery"
# The well-known anvil/hardhat test mnemonic: its first address is 0xf39F…2266.
ANVIL = "test test test test test test test test test test test junk"
ACCOUNTS: tuple[DerivationPath, ...] = (
    scheme_path(Scheme.STANDARD, 0),
    scheme_path(Scheme.STANDARD, 1),
)
START = 1_800_000_000.0


class FakeClock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProbe:
    """A machine with the given interfaces (loopback only by default) and radios."""

    def __init__(
        self,
        interfaces: tuple[InterfaceState, ...] = (
            InterfaceState("lo", True, InterfaceKind.LOOPBACK),
        ),
        radios: tuple[str, ...] = (),
    ) -> None:
        self._interfaces = interfaces
        self._radios = radios

    def interfaces(self) -> list[InterfaceState]:
        return list(self._interfaces)

    def radios(self) -> list[str]:
        return list(self._radios)


def make_home(root: Path, policy: str) -> SignerHome:
    """A signer home with the anvil mnemonic's vault (cheap scrypt) and ``policy``."""
    home = SignerHome(root)
    home.create()
    Vault(home.vault_path).import_mnemonic(
        PASSPHRASE, SecretMnemonic.from_phrase(ANVIL), ACCOUNTS, kdf=MIN_PARAMS
    )
    home.write_policy(policy.encode())
    return home


def screen_lines(app: App[object]) -> list[str]:
    """The text of every line of the screen as it is drawn now."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: App[object]) -> str:
    """The whole screen as text, lines joined with newlines."""
    return "\n".join(line.rstrip() for line in screen_lines(app))
