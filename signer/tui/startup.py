"""Start-up of the signer TUI: the core opened, the policy read, the vault header checked.

The first thing that fails becomes a :class:`Refusal` the app shows instead of the unlock
screen, in plain words with what to do about it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from signer.airgap import NetworkProbe
from signer.core import SignerCore, vault_header
from signer.errors import (
    AirGapError,
    AuditTamperedError,
    HomeError,
    PolicyFileError,
    SignerError,
    VaultError,
)
from signer.home import SignerHome
from signer.keys.vaultfile import VaultHeader
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


def start(
    home: SignerHome, *, probe: NetworkProbe, allow_online: bool, clock: Callable[[], float]
) -> Started | Refusal:
    """The start-up checks in order; the first failure becomes the screen shown instead."""
    try:
        core = SignerCore.open(home, probe=probe, allow_online=allow_online, clock=clock)
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
    except HomeError as exc:
        return Refusal(
            "Signer state missing",
            str(exc),
            "Restore the files from a backup, or see docs/runbook.md before re-creating them "
            "with 'coldsign-signer sign --reset-missing-state'.",
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
