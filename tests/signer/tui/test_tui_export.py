"""The account export screen: its QR code, read back from the screen, is the exact pairing UR."""

from __future__ import annotations

from pathlib import Path

import pytest
from signer_tui_kit import (
    FakeClock,
    FakeProbe,
    decode_screen_qr,
    make_home,
    screen_text,
    unlock,
)
from textual.pilot import Pilot

from shared.ur import URDecoder
from signer.home import SignerHome
from signer.pairing import pairing_ur
from signer.policy.template import policy_template
from signer.tui.app import SignerApp, make_app
from signer.tui.screens.export import ExportScreen
from signer.tui.widgets.qr import QRCode


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home", policy_template("test policy"))


async def read_qr_until_complete(pilot: Pilot[None], widget: QRCode) -> URDecoder:
    decoder = URDecoder()
    for _ in range(60):
        part = decode_screen_qr(pilot.app, widget)
        assert part == widget.current_part
        decoder.receive(part)
        if decoder.is_complete:
            break
        widget.advance()
        await pilot.pause()
    return decoder


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_pairing_qr_reads_back_as_the_pairing_ur(
    home: SignerHome, clock: FakeClock, size: tuple[int, int]
) -> None:
    app: SignerApp = make_app(home, probe=FakeProbe(), clock=clock, animate=False)
    async with app.run_test(size=size) as pilot:
        await unlock(pilot)
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        assert app.session is not None
        expected = pairing_ur(app.session)
        assert "16a93ed0" in screen_text(app)
        decoder = await read_qr_until_complete(pilot, app.screen.query_one(QRCode))
        assert decoder.result() == expected


async def test_density_and_speed_keys(home: SignerHome, clock: FakeClock) -> None:
    app: SignerApp = make_app(home, probe=FakeProbe(), clock=clock, animate=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        qr = app.screen.query_one(QRCode)
        assert qr.density is not None
        before = qr.density
        await pilot.press("minus")
        assert qr.density is not None and qr.density.fragment_length < before.fragment_length
        await pilot.press("right_square_bracket")
        assert qr.speed > 4.0
        assert "6 fps" in screen_text(app)
        decoder = await read_qr_until_complete(pilot, qr)
        assert app.session is not None
        assert decoder.result() == pairing_ur(app.session)
