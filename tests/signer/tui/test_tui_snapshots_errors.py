"""SVG snapshots of every error state of the signer TUI, at 80x24 and at 120x40.

Update with ``--snapshot-update`` after checking the report; see signer_tui_scenes.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from signer_tui_kit import FakeProbe
from signer_tui_scenes import (
    LOGIN,
    REFUSING_BATCH,
    STRANGER_ONLY,
    build,
    frames_of,
    press,
    scenario,
    tamper,
    type_in,
    unlocked,
)
from textual.pilot import Pilot

from shared import cbor
from shared.ur import UR
from signer.airgap import InterfaceKind, InterfaceState
from signer.tui.app import SignerApp


def test_unlock_wrong_passphrase(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    steps = scenario(type_in("#passphrase", "not the passphrase"))
    assert snap_compare(build(tmp_path), terminal_size=size, run_before=steps)


def test_unlock_backoff(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    wrong = type_in("#passphrase", "not the passphrase")
    steps = scenario(wrong, wrong, wrong, type_in("#passphrase", "once more"))
    assert snap_compare(build(tmp_path), terminal_size=size, run_before=steps)


def test_not_air_gapped(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    probe = FakeProbe(
        interfaces=(
            InterfaceState("lo", True, InterfaceKind.LOOPBACK),
            InterfaceState("eth0", True, InterfaceKind.ETHERNET),
            InterfaceState("wlan0", False, InterfaceKind.WIRELESS),
        ),
        radios=("bluetooth hci0",),
    )
    app = build(tmp_path, probe=probe)
    assert snap_compare(app, terminal_size=size, run_before=scenario())


def test_online_override_home(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    probe = FakeProbe(radios=("wifi phy0",))
    app = build(tmp_path, probe=probe, allow_online=True)
    assert snap_compare(app, terminal_size=size, run_before=scenario(unlocked))


def test_audit_log_tampered_at_start(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = build(tmp_path, prepare=tamper)
    assert snap_compare(app, terminal_size=size, run_before=scenario())


def test_policy_does_not_validate(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, policy='[policy]\nname = "broken"\nversion = 1\nmystery = 3\n')
    assert snap_compare(app, terminal_size=size, run_before=scenario())


def test_scan_without_camera(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=None)
    steps = scenario(unlocked, press("s"))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_scan_refuses_what_is_not_a_request(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    bogus = UR("eth-sign-request", cbor.encode({99: 1}))
    app = build(tmp_path, frames=frames_of(bogus))
    steps = scenario(unlocked, press("s", rounds=5))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_review_with_refusals(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(REFUSING_BATCH))
    steps = scenario(unlocked, press("s", rounds=5), press("down"))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_review_nothing_signable(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(STRANGER_ONLY))
    steps = scenario(unlocked, press("s", rounds=5))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_confirm_wrong_text(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(LOGIN))
    steps = scenario(
        unlocked, press("s", rounds=5), press("y"), type_in("#confirm-input", "abcdef")
    )
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_signature_partly_refused(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(REFUSING_BATCH))
    steps = scenario(unlocked, press("s", rounds=5), press("y"))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_nothing_signed(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(STRANGER_ONLY))
    steps = scenario(unlocked, press("s", rounds=5), press("n"))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_audit_tampered_while_open(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = build(tmp_path)

    async def tamper_now(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app, SignerApp)
        tamper(pilot.app.wiring.home)

    steps = scenario(unlocked, press("a"), tamper_now, press("v"))
    assert snap_compare(app, terminal_size=size, run_before=steps)
