"""The signer's Textual app: wires the screens to the vault, the core, the camera and the clock.

The app holds no logic of its own: each screen posts a message when a person asks for
something, and the handlers here call the same core the headless CLI uses (in thread
workers) and push the next screen with its data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from channel.frames import FrameSource, open_source
from signer.airgap import AirGapStatus, NetworkProbe, SysfsProbe, check
from signer.audit import AuditLog
from signer.errors import SignerError
from signer.home import SignerHome
from signer.keys.session import KeySession
from signer.keys.vault import DEFAULT_IDLE_TIMEOUT, Vault
from signer.policy.model import Policy
from signer.policy.parse import parse_policy_bytes
from signer.tui.screens.audit import AuditScreen
from signer.tui.screens.blocked import BlockedScreen
from signer.tui.screens.help import HelpScreen
from signer.tui.screens.home import HomeScreen
from signer.tui.screens.unlock import UnlockScreen
from signer.tui.status import HomeStatus, audit_status

FrameSourceFactory = Callable[[str], FrameSource]


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the app is built from; tests replace the camera, the probe and the clock."""

    home: SignerHome
    frame_source_factory: FrameSourceFactory
    probe: NetworkProbe
    clock: Callable[[], float]
    allow_online: bool
    idle_timeout: float
    animate: bool


class SignerApp(App[None]):
    """The signer's terminal interface. Build it with :func:`make_app`."""

    CSS_PATH = "signer.tcss"
    TITLE = "coldsign signer"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, wiring: Wiring) -> None:
        super().__init__()
        self.wiring = wiring
        self.vault = Vault(wiring.home.vault_path, clock=wiring.clock)
        self.session: KeySession | None = None
        self.policy: Policy | None = None
        self.audit: AuditLog | None = None
        self.airgap: AirGapStatus | None = None
        self._vault_label = ""

    def on_mount(self) -> None:
        self.set_interval(1.0, self.check_lock)
        blocked = self._start()
        self.push_screen(blocked if blocked is not None else self._unlock_screen())

    def _start(self) -> BlockedScreen | None:
        """The start-up checks, in order; the first failure is shown instead of the unlock."""
        try:
            self.airgap = check(self.wiring.probe, allow_online=self.wiring.allow_online)
        except SignerError as exc:
            return BlockedScreen(
                "Not air-gapped",
                str(exc),
                "Unplug the network cable and remove or disable the radios, then start again.",
            )
        if self.airgap.online_override:
            self.sub_title = "ONLINE OVERRIDE: NOT AIR-GAPPED"
        home = self.wiring.home
        try:
            home.check()
            self.policy = parse_policy_bytes(home.read_policy())
            if not self.vault.exists():
                return BlockedScreen(
                    "No vault",
                    f"There is no key vault at {home.vault_path}.",
                    "Create one with 'coldsign-signer init', then start again.",
                )
            header = self.vault.read_header()
            self._vault_label = (
                f"Vault {header.master_fingerprint.hex()} · {len(header.accounts)} account(s)"
            )
            self.audit = AuditLog.open(home.audit_path, clock=lambda: int(self.wiring.clock()))
        except SignerError as exc:
            return BlockedScreen("Cannot start", str(exc), "Fix the signer home, then start again.")
        return None

    def _unlock_screen(self, notice: str = "") -> UnlockScreen:
        return UnlockScreen(
            self._unlock,
            self.wiring.clock,
            vault_label=self._vault_label,
            failed_attempts=self.vault.failed_attempts(),
            notice=notice,
        )

    def _unlock(self, passphrase: str) -> KeySession:
        """Runs in the unlock screen's worker thread."""
        return self.vault.unlock(
            passphrase, idle_timeout=self.wiring.idle_timeout, session_clock=self.wiring.clock
        )

    def _replace_stack(self, screen: Screen[None]) -> None:
        """Make ``screen`` the only screen above Textual's default one."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(screen)

    @on(UnlockScreen.Unlocked)
    def unlocked(self, event: UnlockScreen.Unlocked) -> None:
        self.session = event.session
        self.go_home()

    def go_home(self) -> None:
        """Gather the home screen's status in a worker, then show it."""
        self._load_home()

    @work(thread=True, exclusive=True, group="home")
    def _load_home(self) -> None:
        session, policy, audit, airgap = self.session, self.policy, self.audit, self.airgap
        if session is None or policy is None or audit is None or airgap is None:
            return
        status = HomeStatus(
            accounts=session.accounts,
            master_fingerprint=session.master_fingerprint,
            policy=policy,
            audit=audit_status(audit),
            airgap=airgap,
        )
        self.call_from_thread(self._replace_stack, HomeScreen(status))

    def check_lock(self) -> None:
        """Return to the unlock screen once the key session has locked itself."""
        if self.session is not None and self.session.is_locked():
            self.lock("Locked after a while without signing. Unlock to go on.")

    def lock(self, notice: str) -> None:
        """Lock the keys and show the unlock screen (every screen above it is closed)."""
        self.vault.lock()
        self.session = None
        self._replace_stack(self._unlock_screen(notice))

    @on(HomeScreen.LockRequested)
    def lock_requested(self) -> None:
        self.lock("Locked.")

    @on(HomeScreen.AuditRequested)
    def audit_requested(self) -> None:
        if self.audit is not None:
            self.push_screen(AuditScreen(self.audit))

    def action_help(self) -> None:
        """Show the help screen (F1 on every screen)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_unmount(self) -> None:
        self.vault.lock()
        if self.audit is not None:
            self.audit.close()


def make_app(
    home: SignerHome,
    *,
    frame_source_factory: FrameSourceFactory = open_source,
    probe: NetworkProbe | None = None,
    clock: Callable[[], float] = time.time,
    allow_online: bool = False,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    animate: bool = True,
) -> SignerApp:
    """The signer app for ``home``; tests pass a fake camera, probe and clock.

    ``clock`` is wall-clock seconds: it drives the unlock backoff countdown and the key
    session's idle lock. ``animate=False`` holds QR codes on their first frame.
    """
    return SignerApp(
        Wiring(
            home=home,
            frame_source_factory=frame_source_factory,
            probe=probe if probe is not None else SysfsProbe(),
            clock=clock,
            allow_online=allow_online,
            idle_timeout=idle_timeout,
            animate=animate,
        )
    )
