"""Start-up of the signer TUI: the core opened, the policy read, the vault header checked.

The first thing that fails becomes a :class:`Refusal` the app shows instead of the unlock
screen, in plain words with what to do about it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from signer.airgap import NetworkProbe
from signer.audit import AuditLog
from signer.core import SignerCore, checked_air_gap, vault_header
from signer.errors import (
    AirGapError,
    AuditTamperedError,
    PolicyFileError,
    SignerError,
    VaultError,
)
from signer.home import SignerHome
from signer.keys.vaultfile import VaultHeader
from signer.ledger import Ledger
from signer.policy.limits import LimitStore
from signer.policy.model import Policy


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the signer will not start: a title, the reason, and what to do."""

    title: str
    reason: str
    advice: str


@dataclass(frozen=True, slots=True)
class Started:
    """What start-up opened: the core, the policy and the vault's public header."""

    core: SignerCore
    policy: Policy
    header: VaultHeader


def open_core(
    home: SignerHome, *, probe: NetworkProbe, allow_online: bool, clock: Callable[[], float]
) -> SignerCore:
    """:meth:`SignerCore.open`, with the audit log and ledger on the injected ``clock``.

    The same steps in the same order (home check, audit log opened and verified, air gap
    checked and audited, ledger, limits); only the clocks differ, so tests get reproducible
    audit entries.
    """
    home.check()
    audit = AuditLog.open(home.audit_path, clock=lambda: int(clock()))
    try:
        audit.verify()
        status = checked_air_gap(audit, probe, allow_online=allow_online)
        ledger = Ledger.open(home.ledger_path, clock=lambda: int(clock()))
        try:
            limits = LimitStore.open(home.limits_path)
        except BaseException:
            ledger.close()
            raise
    except BaseException:
        audit.close()
        raise
    return SignerCore(home, status, audit, ledger, limits, clock=clock)


def start(
    home: SignerHome, *, probe: NetworkProbe, allow_online: bool, clock: Callable[[], float]
) -> Started | Refusal:
    """The start-up checks in order; the first failure becomes the screen shown instead."""
    try:
        core = open_core(home, probe=probe, allow_online=allow_online, clock=clock)
    except AirGapError as exc:
        return Refusal(
            "Not air-gapped",
            str(exc),
            "Unplug the network cable and remove or disable the radios, then start again.",
        )
    except AuditTamperedError as exc:
        return Refusal(
            "Audit log tampered",
            str(exc),
            "Nothing can be signed until the log is investigated ('coldsign-signer audit "
            "verify' names the entry). Do not delete it.",
        )
    except SignerError as exc:
        return Refusal("Cannot start", str(exc), "Fix the signer home, then start again.")
    try:
        policy = core.load_policy()
        header = vault_header(home)
    except PolicyFileError as exc:
        core.close()
        return Refusal(
            "Policy does not validate",
            str(exc),
            "Check it with 'coldsign-signer policy check', fix it, then start again.",
        )
    except VaultError as exc:
        core.close()
        return Refusal("No usable vault", str(exc), "Create one with 'coldsign-signer init'.")
    except SignerError as exc:
        core.close()
        return Refusal("Cannot start", str(exc), "Fix the signer home, then start again.")
    return Started(core, policy, header)
