"""The audit log on screen: the viewer verifies the chain, and a tampered log is said loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from signer_tui_kit import FakeClock, FakeProbe, make_home, screen_words, settle, unlock

from signer.home import SignerHome
from signer.tui.app import make_app
from signer.tui.screens.audit import AuditScreen
from signer.tui.screens.blocked import BlockedScreen
from signer.tui.screens.home import HomeScreen


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


def tamper(home: SignerHome) -> None:
    """Change one character of the log-created entry, keeping the file well formed."""
    data = home.audit_path.read_bytes()
    home.audit_path.write_bytes(data.replace(b'"format":1', b'"format":2', 1))


async def test_viewer_lists_and_verifies(home: SignerHome, clock: FakeClock) -> None:
    app = make_app(home, probe=FakeProbe(), clock=clock, animate=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "verified ✓ · 1 entries · head #0" in screen_words(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        text = screen_words(app)
        assert "Verified: 1 entries, head #0" in text
        assert "log-created" in text
        assert "log_id: " + "c0" * 16 in text
        tamper(home)
        await pilot.press("v")
        await settle(pilot)
        text = screen_words(app)
        assert "TAMPERED" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_tampered_log_blocks_start(home: SignerHome, clock: FakeClock) -> None:
    tamper(home)
    app = make_app(home, probe=FakeProbe(), clock=clock, animate=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BlockedScreen)
        text = screen_words(app)
        assert "Audit log tampered" in text
        assert "entry 0" in text


@pytest.mark.parametrize("lost", ["ledger_path", "limits_path"])
async def test_a_lost_state_file_blocks_start(
    home: SignerHome, clock: FakeClock, lost: str
) -> None:
    # Re-creating a lost ledger empty would let the same nonce be signed twice: the screen
    # refuses to start, as the headless CLI does, and changes nothing in the home.
    getattr(home, lost).unlink()
    app = make_app(home, probe=FakeProbe(), clock=clock, animate=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BlockedScreen)
        assert "Signer state missing" in screen_words(app)
    assert not getattr(home, lost).exists()
