"""The signer's Textual app: wires the screens to the signer core, the camera and the clock.

The app holds no signing logic: each screen posts a message when a person asks for
something, and the handlers here call the same :class:`~signer.core.SignerCore` the headless
CLI uses (in thread workers) and push the next screen with its data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import cv2
from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from channel.frames import FrameSource, open_source
from shared.errors import DecodeError
from shared.ur import UR
from signer.airgap import NetworkProbe, SysfsProbe
from signer.buildinfo import BuildInfo, read_build_info
from signer.core import PreparedRequest, SigningResult
from signer.errors import SignerError, VaultLockedError
from signer.home import SignerHome
from signer.intake import REQUEST_TYPES, decode_request
from signer.keys.session import KeySession
from signer.keys.vault import DEFAULT_IDLE_TIMEOUT, Vault
from signer.pairing import pairing_ur
from signer.tui.core_thread import CoreThread
from signer.tui.screens.audit import AuditScreen
from signer.tui.screens.blocked import BlockedScreen
from signer.tui.screens.export import ExportScreen
from signer.tui.screens.help import HelpScreen
from signer.tui.screens.home import HomeScreen
from signer.tui.screens.review import ReviewScreen
from signer.tui.screens.scan import ScanScreen
from signer.tui.screens.signature import SignatureScreen
from signer.tui.screens.unlock import UnlockScreen
from signer.tui.startup import Refusal, Started, start
from signer.tui.status import HomeStatus, audit_status

FrameSourceFactory = Callable[[str], FrameSource]
# What the audit log says about a request the operator rejected on the review screen.
REJECTED_ON_REVIEW = "the whole request, on the review screen"


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
    build: BuildInfo


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
        self.started: Started | None = None
        # True when start-up was refused (the screen says why): the program exits with 1.
        self.blocked = False
        self.core_thread = CoreThread()
        # True while the core signs: it locks the session itself when the batch is done.
        self._signing = False

    def on_mount(self) -> None:
        # opencv writes its warnings to stderr, which would draw over the screen.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        self.set_interval(1.0, self.check_lock)
        self._start_up()

    @work(thread=True, exclusive=True, group="start")
    def _start_up(self) -> None:
        wiring = self.wiring
        outcome = self.core_thread.call(
            lambda: start(
                wiring.home,
                probe=wiring.probe,
                allow_online=wiring.allow_online,
                clock=wiring.clock,
            )
        )
        self.call_from_thread(self._started, outcome)

    def _started(self, outcome: Started | Refusal) -> None:
        if isinstance(outcome, Refusal):
            self.blocked = True
            self.push_screen(BlockedScreen(outcome.title, outcome.reason, outcome.advice))
            return
        self.started = outcome
        if outcome.core.status.online_override:
            self.sub_title = "ONLINE OVERRIDE: NOT AIR-GAPPED"
        self.push_screen(self._unlock_screen())

    def _unlock_screen(self, notice: str = "") -> UnlockScreen:
        header = self.started.header if self.started is not None else None
        label = (
            f"Vault {header.master_fingerprint.hex()} · {len(header.accounts)} account(s)"
            if header is not None
            else ""
        )
        return UnlockScreen(
            self._unlock,
            self.wiring.clock,
            vault_label=label,
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
        session, started = self.session, self.started
        if session is None or started is None:
            return
        status = HomeStatus(
            accounts=session.accounts,
            master_fingerprint=session.master_fingerprint,
            policy=started.policy,
            audit=audit_status(started.core.audit),
            airgap=started.core.status,
            build=self.wiring.build,
        )
        self.call_from_thread(self._replace_stack, HomeScreen(status))

    def check_lock(self) -> None:
        """Return to the unlock screen once the key session has locked itself."""
        if self._signing:
            return
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
        if self.started is not None:
            self.push_screen(AuditScreen(self.started.core.audit))

    @on(HomeScreen.ScanRequested)
    def scan_requested(self) -> None:
        self.push_screen(ScanScreen(self.wiring.frame_source_factory, REQUEST_TYPES))

    @on(HomeScreen.ExportRequested)
    def export_requested(self) -> None:
        self._export()

    @work(thread=True, exclusive=True, group="export")
    def _export(self) -> None:
        session = self.session
        if session is None:
            return
        try:
            ur = pairing_ur(session)
        except SignerError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error")
            return
        screen = ExportScreen(
            ur, session.master_fingerprint, session.accounts, animate=self.wiring.animate
        )
        self.call_from_thread(self.push_screen, screen)

    @on(ScanScreen.Completed)
    def scanned(self, event: ScanScreen.Completed) -> None:
        self._prepare(event.scan, event.ur)

    @work(thread=True, exclusive=True, group="prepare")
    def _prepare(self, scan: ScanScreen, ur: UR) -> None:
        started = self.started
        if started is None:
            return
        try:
            decoded = decode_request(ur)
            registries = self.wiring.home.registries()
        except DecodeError as exc:
            self.call_from_thread(scan.refused, str(exc))
            return
        except SignerError as exc:
            self.call_from_thread(scan.refused, f"the signer's registry: {exc}")
            return
        try:
            prepared = self.core_thread.call(
                lambda: started.core.prepare(
                    decoded, policy=started.policy, registries=registries, header=started.header
                )
            )
        except SignerError as exc:
            self.call_from_thread(scan.refused, f"the signer could not check it: {exc}")
            return
        self.call_from_thread(self.switch_screen, ReviewScreen(prepared))

    @on(ReviewScreen.Approved)
    def approved(self, event: ReviewScreen.Approved) -> None:
        self._signing = True
        self._sign(event.prepared, event.acknowledgements)

    @on(ReviewScreen.Rejected)
    def rejected(self, event: ReviewScreen.Rejected) -> None:
        if any(item.signable for item in event.prepared.items):
            # The operator turned down what could have been signed: the core records that
            # decision for every item (it signs and unlocks nothing), then home.
            self._reject(event.prepared)
            return
        # Nothing could be signed: let the core record every refusal (it unlocks nothing).
        self._signing = True
        self._sign(event.prepared, {})

    @work(thread=True, exclusive=True, group="sign")
    def _reject(self, prepared: PreparedRequest) -> None:
        started = self.started
        if started is None:
            return
        try:
            self.core_thread.call(lambda: started.core.reject(prepared, REJECTED_ON_REVIEW))
        except SignerError as exc:
            self.call_from_thread(
                self.notify, f"The rejection could not be recorded: {exc}", severity="error"
            )
        self.call_from_thread(self.go_home)

    @work(thread=True, exclusive=True, group="sign")
    def _sign(self, prepared: PreparedRequest, acknowledgements: dict[int, str]) -> None:
        started = self.started
        if started is None:
            return
        try:
            result = self.core_thread.call(
                lambda: started.core.sign(
                    prepared, unlock=self._session_for_signing, acknowledgements=acknowledgements
                )
            )
        except VaultLockedError:
            self.call_from_thread(
                self._sign_failed,
                "The keys locked before signing; nothing was signed. Unlock to go on.",
            )
            return
        except SignerError as exc:
            # The core locks the keys on its way out; what it decided is in the audit log.
            self.call_from_thread(
                self._sign_failed,
                f"Signing stopped: {exc}. Check the audit log before going on.",
            )
            return
        self.call_from_thread(self._signed, result)

    def _signed(self, result: SigningResult) -> None:
        self._signing = False
        if self.session is not None and self.session.is_locked():
            # The core locked the keys after the batch, as it always does.
            self.session = None
        self._replace_stack(SignatureScreen(result, animate=self.wiring.animate))

    def _sign_failed(self, notice: str) -> None:
        self._signing = False
        self.lock(notice)

    def _session_for_signing(self) -> KeySession:
        """The unlocked session, for the core (which locks it when the batch is done)."""
        session = self.session
        if session is None or session.is_locked():
            raise VaultLockedError("the key session is locked; unlock the vault again")
        return session

    @on(SignatureScreen.Done)
    def signature_done(self) -> None:
        if self.session is not None and not self.session.is_locked():
            self.go_home()
            return
        self.lock("Signed. The keys were locked after the batch; unlock for the next request.")

    def action_help(self) -> None:
        """Show the help screen (F1 on every screen)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def on_unmount(self) -> None:
        self.vault.lock()
        started = self.started
        if started is not None:
            self.core_thread.call(started.core.close)
        self.core_thread.shutdown()


def make_app(
    home: SignerHome,
    *,
    frame_source_factory: FrameSourceFactory = open_source,
    probe: NetworkProbe | None = None,
    clock: Callable[[], float] = time.time,
    allow_online: bool = False,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    animate: bool = True,
    build: BuildInfo | None = None,
) -> SignerApp:
    """The signer app for ``home``; tests pass a fake camera, probe and clock.

    ``clock`` is wall-clock seconds: it drives the unlock backoff countdown, the key
    session's idle lock, and the times in the audit log. ``animate=False`` holds QR codes
    on their first frame. ``build`` is the appliance's identity shown on the home screen
    (read from the image's build-id file when not given).
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
            build=build if build is not None else read_build_info(),
        )
    )
