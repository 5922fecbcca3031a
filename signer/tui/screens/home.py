"""The home screen: accounts, policy and its hash, audit log, air-gap status, last decisions."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from signer.airgap import AirGapStatus
from signer.buildinfo import BuildInfo
from signer.policy.model import Policy
from signer.tui.screens.audit import decision_summary, utc
from signer.tui.status import AuditStatus, HomeStatus
from signer.tui.untrusted import untrusted
from signer.tui.widgets.address import address_text


def accounts_text(status: HomeStatus) -> Text:
    """Each enrolled account: its path, the policy's label for it, and the whole address."""
    text = Text.assemble(("Accounts", "bold"))
    text.append(f"  (master fingerprint {status.master_fingerprint.hex()})\n", style="dim")
    for account in status.accounts:
        rule = status.policy.account(account.path)
        text.append(f"  {account.path}  ", style="dim")
        if rule is None:
            text.append("not allowed to sign by the policy\n", style="yellow")
        else:
            text.append("\n")
        text.append("  ")
        text.append_text(address_text(account.address, rule.label if rule else None, one_line=True))
        text.append("\n")
    return text


def policy_text(policy: Policy) -> Text:
    """The policy's name, version and whole SHA-256."""
    text = Text.assemble(("Policy  ", "bold"))
    text.append_text(untrusted(policy.name, style="bold cyan"))
    text.append(f"  version {policy.version}\n")
    text.append("  sha256 ", style="dim")
    text.append(policy.hash_hex)
    return text


def audit_text(audit: AuditStatus) -> Text:
    """``Audit log  verified · 42 entries · head #41 3f9a…`` or the problem, loudly."""
    text = Text.assemble(("Audit log  ", "bold"))
    if not audit.verified:
        text.append(" NOT VERIFIED ", style="bold white on red")
        text.append(" ")
        text.append_text(untrusted(audit.problem, style="red"))
        return text
    text.append("verified ✓", style="bold green")
    head = audit.head_hash.hex()[:16] if audit.head_hash else "-"
    text.append(f" · {audit.entries} entries · head #{audit.head_seq} {head}…")
    return text


def airgap_text(airgap: AirGapStatus) -> Text:
    """Offline (calm), or the online override with everything it let through (loud)."""
    text = Text.assemble(("Air gap  ", "bold"))
    if airgap.online_override:
        text.append(" ONLINE OVERRIDE (--allow-online): NOT AIR-GAPPED ", style="bold white on red")
        found = "; ".join(airgap.findings) or "nothing found, but the check is off"
        text.append("\n  ")
        text.append_text(untrusted(found, style="bold red"))
        return text
    text.append("offline ✓", style="bold green")
    text.append(" no network interface up, no radio found", style="dim")
    return text


def build_text(build: BuildInfo) -> Text:
    """The image this device booted: compare its build id with the published one."""
    text = Text.assemble(("Image  ", "bold"))
    if build.build_id is None:
        text.append(build.note, style="yellow")
    else:
        text.append(f"build {build.build_id}")
    text.append(f"\n  coldsign {build.version}", style="dim")
    return text


def recent_text(audit: AuditStatus) -> Text:
    """The last decisions written to the audit log, newest first."""
    text = Text.assemble(("Last decisions", "bold"))
    if not audit.recent:
        text.append("\n  none yet", style="dim")
    for entry in audit.recent:
        text.append(f"\n  #{entry.seq} {utc(entry.time)}  ", style="dim")
        text.append_text(decision_summary(entry))
    return text


class HomeScreen(Screen[None]):
    """The device at a glance; posts a message for each thing a person can start from here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "scan", "Scan request"),
        Binding("e", "export", "Export account"),
        Binding("a", "audit", "Audit log"),
        Binding("l", "lock", "Lock"),
        Binding("f1", "app.help", "Help"),
    ]

    class ScanRequested(Message):
        """Scan a signing request."""

    class ExportRequested(Message):
        """Show the account key for pairing."""

    class AuditRequested(Message):
        """Open the audit log viewer."""

    class LockRequested(Message):
        """Lock the keys now."""

    def __init__(self, status: HomeStatus) -> None:
        super().__init__()
        self.status = status

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="home-body"):
            yield Static(airgap_text(self.status.airgap), id="home-airgap")
            yield Static(accounts_text(self.status), id="home-accounts")
            yield Static(policy_text(self.status.policy), id="home-policy")
            yield Static(audit_text(self.status.audit), id="home-audit")
            yield Static(build_text(self.status.build), id="home-build")
            yield Static(recent_text(self.status.audit), id="home-recent")
        yield Footer()

    def on_mount(self) -> None:
        if self.status.airgap.online_override:
            self.query_one("#home-airgap").add_class("loud")
        if not self.status.audit.verified:
            self.query_one("#home-audit").add_class("loud")

    def action_scan(self) -> None:
        self.post_message(self.ScanRequested())

    def action_export(self) -> None:
        self.post_message(self.ExportRequested())

    def action_audit(self) -> None:
        self.post_message(self.AuditRequested())

    def action_lock(self) -> None:
        self.post_message(self.LockRequested())
