"""Text from a request never reaches the terminal raw: ANSI escapes, bidi overrides and
zero-width characters are shown escaped and flagged, and Rich markup is shown as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from signer_tui_kit import (
    LOGIN_PREFIX,
    FakeClock,
    FakeProbe,
    keypath,
    make_home,
    personal_message,
    request_id,
    screen_lines,
    screen_words,
    settle,
    unlock,
)
from textual.pilot import Pilot

from channel.frames import FrameSource, MemorySource
from channel.render import QRStyle, render_part
from shared.erc4527 import DataType, EthSignRequest
from shared.messages.text import classify
from shared.ur import UR, UREncoder, for_qr
from signer.home import SignerHome
from signer.tui.app import make_app
from signer.tui.screens.review import ReviewScreen
from signer.tui.untrusted import untrusted

ANSI = "\x1b[2J\x1b[32m"
BIDI = "\u202e"
ZERO_WIDTH = "\u200b"
MARKUP = "[bold green]APPROVED[/]"


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


def typed_data_request() -> EthSignRequest:
    document = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "Mail": [{"name": "contents", "type": "string"}],
        },
        "primaryType": "Mail",
        "domain": {"name": f"Ether Mail{ZERO_WIDTH}"},
        "message": {"contents": f"pay{ANSI}{BIDI}lla {MARKUP}"},
    }
    return EthSignRequest(
        json.dumps(document).encode(),
        DataType.TYPED_DATA,
        keypath(),
        request_id(7),
        None,
        None,
        f"dapp{ZERO_WIDTH} {MARKUP}",
    )


def showing(ur: UR) -> object:
    frames = [
        render_part(for_qr(part), QRStyle(module_px=4))
        for part in UREncoder(ur, 120).parts(UREncoder(ur, 120).seq_len)
    ]

    def factory(spec: str) -> FrameSource:
        return MemorySource(frames)

    return factory


async def review(pilot: Pilot[None]) -> None:
    await unlock(pilot)
    await pilot.press("s")
    await settle(pilot, rounds=5)
    assert isinstance(pilot.app.screen, ReviewScreen)


def assert_nothing_raw(lines: list[str]) -> None:
    for line in lines:
        flagged = [ch for ch in line if classify(ch) is not None]
        assert not flagged, f"raw {flagged!r} on screen in {line!r}"


@pytest.mark.parametrize(
    "request_",
    [
        personal_message(f"{LOGIN_PREFIX}{BIDI}exe.gnp{ANSI} {MARKUP}", origin=f"x{ZERO_WIDTH}"),
        typed_data_request(),
    ],
    ids=["personal-message", "typed-data"],
)
async def test_request_text_is_escaped_and_flagged(
    home: SignerHome, clock: FakeClock, request_: EthSignRequest
) -> None:
    app = make_app(
        home,
        probe=FakeProbe(),
        clock=clock,
        animate=False,
        frame_source_factory=showing(request_.to_ur()),  # type: ignore[arg-type]
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await review(pilot)
        # Scroll through the whole review so every field has been drawn once.
        seen: list[str] = []
        for _ in range(12):
            seen.extend(screen_lines(app))
            await pilot.press("pagedown")
            await pilot.pause()
        assert_nothing_raw(seen)
        text = " ".join(" ".join(seen).split())
        assert "\\x1b[2J\\x1b[32m" in text
        assert MARKUP in text
        assert "non-printable-text" in text
        if request_.data_type is DataType.PERSONAL_MESSAGE:
            assert "\\u202e" in text
            assert "escaped ansi escape, bidi characters" in text
        assert "\\u200b" in text
        assert "escaped zero width characters" in text
        assert "APPROVED" not in screen_words(app).replace(MARKUP, "")


def test_untrusted_shows_markup_as_written() -> None:
    assert untrusted(MARKUP).plain == MARKUP
    assert untrusted("[link=https://x]click[/link]").spans == []


@given(st.text())
def test_untrusted_never_passes_a_flagged_character(value: str) -> None:
    shown = untrusted(value).plain
    assert all(classify(ch) is None for ch in shown)
    assert untrusted(shown).plain == shown


@given(st.text())
def test_multiline_keeps_only_line_breaks_and_tabs(value: str) -> None:
    shown = untrusted(value, multiline=True).plain
    assert all(classify(ch) is None for ch in shown if ch not in "\n\t")
