"""SVG snapshots of every screen of the signer TUI at 80x24 (the smallest terminal it serves)
and at 120x40 (the size it is comfortable at).

Update with ``--snapshot-update`` after checking the report; see signer_tui_scenes.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from signer_tui_scenes import (
    BATCH,
    LOGIN,
    build,
    frames_of,
    partial_scan,
    press,
    scenario,
    unlocked,
)


def test_unlock(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(build(tmp_path), terminal_size=size, run_before=scenario())


def test_home(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(build(tmp_path), terminal_size=size, run_before=scenario(unlocked))


def test_help(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=scenario(unlocked, press("f1")))


def test_scan_in_progress(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=partial_scan())
    assert snap_compare(app, terminal_size=size, run_before=scenario(unlocked, press("s")))


def test_review_batch(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(BATCH))
    steps = scenario(unlocked, press("s", rounds=5))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_review_single(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(LOGIN))
    steps = scenario(unlocked, press("s", rounds=5))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_item(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(BATCH))
    steps = scenario(unlocked, press("s", rounds=5), press("down", "enter"))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_confirm(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(LOGIN))
    steps = scenario(unlocked, press("s", rounds=5), press("y"))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_signature(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path, frames=frames_of(BATCH))
    steps = scenario(unlocked, press("s", rounds=5), press("y"))
    assert snap_compare(app, terminal_size=size, run_before=steps)


def test_export(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    app = build(tmp_path)
    assert snap_compare(app, terminal_size=size, run_before=scenario(unlocked, press("e")))


def test_audit(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    # After a signed batch, so the log holds unlock, decision and lock entries.
    app = build(tmp_path, frames=frames_of(BATCH))
    steps = scenario(
        unlocked,
        press("s", rounds=5),
        press("y"),
        press("escape"),
        unlocked,
        press("a"),
    )
    assert snap_compare(app, terminal_size=size, run_before=steps)
