"""Unlock, home, lock and help screens driven through Pilot with a real vault and audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from signer_tui_kit import (
    PASSPHRASE,
    FakeClock,
    FakeProbe,
    make_home,
    screen_text,
    screen_words,
    settle,
    unlock,
)
from textual.pilot import Pilot
from textual.widgets import Input

from signer.airgap import InterfaceKind, InterfaceState
from signer.buildinfo import BuildInfo
from signer.home import SignerHome
from signer.keys.vault import Vault
from signer.policy.template import policy_template
from signer.tui.app import SignerApp, make_app
from signer.tui.screens.blocked import BlockedScreen
from signer.tui.screens.help import HelpScreen
from signer.tui.screens.home import HomeScreen
from signer.tui.screens.unlock import UnlockScreen

ANVIL_0 = "0xf39F d6e5 1aad 88F6 F4ce 6aB8 8272 79cf fFb9 2266"


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home", policy_template("test policy"))


def app_for(home: SignerHome, clock: FakeClock, **kwargs: object) -> SignerApp:
    return make_app(home, probe=FakeProbe(), clock=clock, animate=False, **kwargs)  # type: ignore[arg-type]


async def type_passphrase(pilot: Pilot[None], text: str) -> None:
    await unlock(pilot, text)


async def test_unlock_shows_home_with_whole_addresses(home: SignerHome, clock: FakeClock) -> None:
    app = app_for(home, clock)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        await type_passphrase(pilot, PASSPHRASE)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        text = screen_text(app)
        assert ANVIL_0 in text
        assert "test policy" in text
        assert "offline ✓" in text
        assert "verified ✓" in text


async def test_wrong_passphrase_is_counted_and_said(home: SignerHome, clock: FakeClock) -> None:
    app = app_for(home, clock)
    async with app.run_test(size=(100, 32)) as pilot:
        await type_passphrase(pilot, "not the passphrase")
        assert isinstance(app.screen, UnlockScreen)
        text = screen_text(app)
        assert "Wrong passphrase" in text
        assert "1 failed attempt(s)" in text
    assert Vault(home.vault_path).failed_attempts() == 1


async def test_backoff_countdown_follows_the_clock(home: SignerHome, clock: FakeClock) -> None:
    app = app_for(home, clock)
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(3):
            await type_passphrase(pilot, "not the passphrase")
        await type_passphrase(pilot, PASSPHRASE)
        assert "Try again in 30 s" in screen_text(app)
        assert app.screen.query_one("#passphrase", Input).disabled
        clock.advance(12)
        app.screen.tick()  # type: ignore[attr-defined]
        await pilot.pause()
        assert "Try again in 18 s" in screen_text(app)
        clock.advance(18)
        app.screen.tick()  # type: ignore[attr-defined]
        await pilot.pause()
        assert "You may try again now" in screen_text(app)
        await type_passphrase(pilot, PASSPHRASE)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_idle_session_returns_to_unlock(home: SignerHome, clock: FakeClock) -> None:
    app = app_for(home, clock, idle_timeout=60.0)
    async with app.run_test(size=(100, 32)) as pilot:
        await type_passphrase(pilot, PASSPHRASE)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        clock.advance(61)
        app.check_lock()
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)
        assert "Locked after a while" in screen_text(app)
        assert app.session is None


async def test_lock_key_and_help(home: SignerHome, clock: FakeClock) -> None:
    app = app_for(home, clock)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        assert "Keys:" in screen_text(app)
        await pilot.press("escape")
        await type_passphrase(pilot, PASSPHRASE)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)


async def test_network_interface_blocks_start(home: SignerHome, clock: FakeClock) -> None:
    probe = FakeProbe(
        interfaces=(
            InterfaceState("lo", True, InterfaceKind.LOOPBACK),
            InterfaceState("eth0", True, InterfaceKind.ETHERNET),
        )
    )
    app = make_app(home, probe=probe, clock=clock, animate=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BlockedScreen)
        assert "eth0 (ethernet, up)" in screen_text(app)


async def test_allow_online_is_loud(home: SignerHome, clock: FakeClock) -> None:
    probe = FakeProbe(radios=("wifi phy0",))
    app = make_app(home, probe=probe, clock=clock, animate=False, allow_online=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        assert "ONLINE OVERRIDE" in screen_text(app)
        await type_passphrase(pilot, PASSPHRASE)
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "NOT AIR-GAPPED" in text
        assert "wifi phy0" in text


@pytest.mark.parametrize(
    ("build", "shown"),
    [
        (BuildInfo("0.1.0", "ab" * 32), "build " + "ab" * 32),
        (BuildInfo("0.1.0", None, "no build id: not running from a coldsign image"), "no build id"),
    ],
    ids=["appliance", "development"],
)
async def test_home_shows_the_image_build_id(
    tmp_path: Path, clock: FakeClock, build: BuildInfo, shown: str
) -> None:
    # Operators compare this with the published build id before first use (docs/appliance.md).
    app = make_app(make_home(tmp_path / "home"), probe=FakeProbe(), clock=clock, build=build)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        assert shown in screen_words(app)
