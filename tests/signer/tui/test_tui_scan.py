"""The scan screen: progress, decoys, parts of another message, missing cameras, files, and
codes that arrive whole but are not requests. Nothing a camera shows crashes the screen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from signer_tui_kit import (
    HOT,
    FakeClock,
    FakeProbe,
    batch_ur,
    make_home,
    record_video,
    region_words,
    screen_words,
    settle,
    transfer,
    unlock,
)
from textual.pilot import Pilot
from textual.widgets import Input

from channel.errors import CameraError
from channel.frames import FrameSource, Image, MemorySource, open_source
from channel.render import QRStyle, render_part
from shared import cbor
from shared.ur import UR, UREncoder, for_qr
from signer.home import SignerHome
from signer.tui.app import SignerApp, make_app
from signer.tui.screens.review import ReviewScreen
from signer.tui.screens.scan import ScanScreen

STYLE = QRStyle(module_px=4)


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


def code(text: str) -> Image:
    return render_part(text, STYLE)


def parts(ur: UR, count: int, *, fragment: int = 60) -> list[str]:
    return [for_qr(part) for part in UREncoder(ur, fragment).parts(count)]


def cameras(frames: dict[str, Sequence[Image]]) -> Callable[[str], FrameSource]:
    """Cameras that show the given frames once each (any other index has no camera); files,
    folders and videos are opened for real."""

    def factory(spec: str) -> FrameSource:
        if not spec.startswith("camera:"):
            return open_source(spec)
        if spec not in frames:
            raise CameraError(spec, "no camera at this index")
        return MemorySource(frames[spec])

    return factory


def app_for(home: SignerHome, clock: FakeClock, factory: Callable[[str], FrameSource]) -> SignerApp:
    return make_app(
        home, probe=FakeProbe(), clock=clock, animate=False, frame_source_factory=factory
    )


async def open_scan(pilot: Pilot[None]) -> ScanScreen:
    await unlock(pilot)
    await pilot.press("s")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ScanScreen)
    return screen


async def test_decoys_and_other_messages_are_named_not_merged(
    home: SignerHome, clock: FakeClock
) -> None:
    ours = batch_ur(transfer(0, HOT, eth=1), transfer(1, HOT, eth=2))
    other = batch_ur(transfer(5, HOT, eth=3), transfer(6, HOT, eth=4), transfer(7, HOT, eth=5))
    pairing = UR("crypto-hdkey", cbor.encode({3: bytes(33)}))
    mine = parts(ours, 2)
    frames = [
        code("HELLO WORLD"),
        code(mine[0]),
        code(parts(other, 1)[0]),
        code(for_qr(f"ur:{pairing.type}/" + parts(pairing, 1, fragment=400)[0].split("/")[1])),
        code(mine[1]),
    ]
    app = app_for(home, clock, cameras({"camera:0": frames}))
    async with app.run_test(size=(100, 32)) as pilot:
        await open_scan(pilot)
        text = region_words(app, "#scan-side")
        assert "ignored a QR code that is not a UR: 'HELLO WORLD'" in text
        assert "ignored a part of another message (not merged)" in text
        assert "ignored a code of another type" in text
        assert "ended before the request was complete" in text
        assert "2 part(s) seen" in text


async def test_a_whole_request_opens_the_review(home: SignerHome, clock: FakeClock) -> None:
    request = batch_ur(transfer(0, HOT, eth=1), transfer(1, HOT, eth=2))
    frames = [code(part) for part in parts(request, UREncoder(request, 60).seq_len)]
    app = app_for(home, clock, cameras({"camera:0": frames}))
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, ReviewScreen)
        assert "Batch of 2 requests: 2 to sign" in screen_words(app)


async def test_missing_camera_then_the_next_one(home: SignerHome, clock: FakeClock) -> None:
    app = app_for(home, clock, cameras({"camera:1": [code("HELLO")]}))
    async with app.run_test(size=(100, 32)) as pilot:
        await open_scan(pilot)
        text = region_words(app, "#scan-side")
        assert "camera:0: no camera at this index" in text
        assert "Press r to read it again, c for another camera or f for a file." in text
        await pilot.press("c")
        await settle(pilot)
        text = region_words(app, "#scan-side")
        assert "Reading camera:1" in text
        assert "not a UR" in text


async def test_a_video_file_typed_in(home: SignerHome, clock: FakeClock, tmp_path: Path) -> None:
    video = record_video(batch_ur(transfer(0, HOT, eth=1)), tmp_path / "request.mp4")
    app = app_for(home, clock, cameras({}))
    async with app.run_test(size=(100, 32)) as pilot:
        await open_scan(pilot)
        await pilot.press("f")
        field = app.screen.query_one("#scan-path", Input)
        assert field.has_focus
        field.value = str(tmp_path / "missing.mp4")
        await pilot.press("enter")
        await settle(pilot)
        assert "no such video file" in region_words(app, "#scan-side")
        await pilot.press("f")
        app.screen.query_one("#scan-path", Input).value = str(video)
        await pilot.press("enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, ReviewScreen)


async def test_a_whole_code_that_is_not_a_request_is_refused(
    home: SignerHome, clock: FakeClock
) -> None:
    # A complete eth-sign-request UR whose CBOR is a map with an unknown key.
    bogus = UR("eth-sign-request", cbor.encode({99: 1}))
    frames = [code(part) for part in parts(bogus, 1, fragment=400)]
    app = app_for(home, clock, cameras({"camera:0": frames}))
    async with app.run_test(size=(100, 32)) as pilot:
        scan = await open_scan(pilot)
        await settle(pilot)
        assert app.screen is scan
        text = region_words(app, "#scan-side")
        assert "Refused what was received" in text
        assert "Nothing was signed" in text
        await pilot.press("escape")
        await settle(pilot)
        assert "Last decisions" in screen_words(app)
