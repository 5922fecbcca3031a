"""Scenes for the TUI snapshot tests: apps in a reproducible state and the steps to reach each
screen. Everything on screen is reproducible: the clock is fake, the audit log starts from
fixed bytes, request ids are fixed and signatures are deterministic (RFC 6979).

The audit head is shown on the signature screen and carried in the response's QR code, so
a change to what the core writes in an audit entry changes those snapshots (and the audit
viewer's): check the report, then update with ``--snapshot-update``. The SVGs are also
specific to the Textual version they were made with (8.2.8)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from signer_tui_kit import (
    EXCHANGE,
    HOT,
    LOGIN_PREFIX,
    STRANGER,
    FakeClock,
    FakeProbe,
    batch_ur,
    make_home,
    personal_message,
    settle,
    transfer,
    unlock,
)
from textual.pilot import Pilot
from textual.widgets import Input

from channel.errors import CameraError
from channel.frames import FrameSource, Image, MemorySource
from channel.render import QRStyle, render_part
from shared.ur import UR, UREncoder, for_qr
from signer.buildinfo import BuildInfo
from signer.home import SignerHome
from signer.tui.app import SignerApp, make_app

ERROR_SIZE = (100, 32)
Steps = Callable[[Pilot[None]], Awaitable[None]]


def frames_of(ur: UR, *, count: int | None = None, fragment: int = 120) -> list[Image]:
    encoder = UREncoder(ur, fragment)
    parts = encoder.parts(count if count is not None else encoder.seq_len)
    return [render_part(for_qr(part), QRStyle(module_px=4)) for part in parts]


def partial_scan() -> list[Image]:
    """A decoy, then one part of :data:`BATCH` of four: a scan that stops a quarter done."""
    return [render_part("HELLO WORLD", QRStyle(module_px=4)), *frames_of(BATCH, count=1)]


def camera(frames: Sequence[Image] | None) -> Callable[[str], FrameSource]:
    """Camera 0 shows ``frames`` once (None: there is no camera)."""

    def factory(spec: str) -> FrameSource:
        if frames is None or spec != "camera:0":
            raise CameraError(spec, "no camera at this index, or it is in use")
        return MemorySource(frames)

    return factory


BATCH = batch_ur(
    transfer(0, HOT, eth=10**18),
    transfer(1, HOT, usdc=2_500_500_000),
    transfer(2, EXCHANGE, usdc=99_000_000_000),
)
REFUSING_BATCH = batch_ur(
    transfer(0, HOT, eth=10**18),
    transfer(1, STRANGER, eth=5),
    transfer(2, HOT, eth=11 * 10**18),
)
LOGIN = personal_message(LOGIN_PREFIX + " at 10:42\u200b").to_ur()
STRANGER_ONLY = transfer(0, STRANGER, eth=5).to_ur()


# A fixed image identity, so snapshots do not depend on the machine they run on.
SNAPSHOT_BUILD = BuildInfo("0.1.0", "7b6336ab" * 8)


def build(
    tmp_path: Path,
    *,
    frames: Sequence[Image] | None = None,
    probe: FakeProbe | None = None,
    allow_online: bool = False,
    policy: str = "",
    prepare: Callable[[SignerHome], None] | None = None,
) -> SignerApp:
    home = make_home(tmp_path / "home", policy)
    if prepare is not None:
        prepare(home)
    return make_app(
        home,
        probe=probe if probe is not None else FakeProbe(),
        clock=FakeClock(),
        allow_online=allow_online,
        animate=False,
        frame_source_factory=camera(frames),
        build=SNAPSHOT_BUILD,
    )


async def keys(pilot: Pilot[None], *pressed: str, rounds: int = 3) -> None:
    for key in pressed:
        await pilot.press(key)
        await settle(pilot, rounds)


def scenario(*steps: Steps) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for step in steps:
            await step(pilot)
        await settle(pilot)

    return run


async def unlocked(pilot: Pilot[None]) -> None:
    await unlock(pilot)


def press(*pressed: str, rounds: int = 3) -> Steps:
    async def step(pilot: Pilot[None]) -> None:
        await keys(pilot, *pressed, rounds=rounds)

    return step


def type_in(selector: str, text: str) -> Steps:
    async def step(pilot: Pilot[None]) -> None:
        pilot.app.screen.query_one(selector, Input).value = text
        await keys(pilot, "enter")

    return step


def tamper(home: SignerHome) -> None:
    data = home.audit_path.read_bytes()
    home.audit_path.write_bytes(data.replace(b'"format":1', b'"format":2', 1))
