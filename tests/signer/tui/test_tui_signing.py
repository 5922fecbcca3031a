"""The whole signing path through the TUI with the real core: scan a recorded video of a batch,
review it, approve, and read the signed response back off the screen; and every refusal and
confirmation path, asserting what the screen says."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from signer_tui_kit import (
    EXCHANGE,
    HOT,
    LOGIN_PREFIX,
    STRANGER,
    FakeClock,
    FakeProbe,
    batch_ur,
    decode_screen_qr,
    keypath,
    make_home,
    personal_message,
    record_video,
    region_words,
    request_id,
    screen_text,
    screen_words,
    settle,
    transfer,
    unlock,
)
from textual.pilot import Pilot
from textual.widgets import Input

from channel.errors import CameraError
from channel.frames import FrameSource, VideoFileSource
from shared.erc4527 import DataType, EthBatchSignature, EthSignature, EthSignRequest
from shared.tx import decode_transaction
from shared.ur import UR, URDecoder
from signer.audit import AuditKind, AuditLog
from signer.home import SignerHome
from signer.keys.paths import Scheme, scheme_path
from signer.tui.app import SignerApp, make_app
from signer.tui.screens.confirm import ConfirmScreen
from signer.tui.screens.review import ReviewScreen
from signer.tui.screens.signature import SignatureScreen
from signer.tui.screens.unlock import UnlockScreen
from signer.tui.widgets.qr import QRCode

# anvil account 0, the key at m/44'/60'/0'/0/0 of the test mnemonic.
SIGNER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


def camera_playing(video: Path) -> object:
    """A camera factory whose camera 0 films the recorded video (the only fake)."""

    def factory(spec: str) -> FrameSource:
        if spec != "camera:0":
            raise CameraError(spec, "no camera at this index")
        return VideoFileSource(video)

    return factory


def app_with_camera(home: SignerHome, clock: FakeClock, video: Path) -> SignerApp:
    return make_app(
        home,
        probe=FakeProbe(),
        clock=clock,
        animate=False,
        frame_source_factory=camera_playing(video),  # type: ignore[arg-type]
    )


async def scan_and_review(pilot: Pilot[None]) -> ReviewScreen:
    await unlock(pilot)
    await pilot.press("s")
    await settle(pilot, rounds=5)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen), screen_text(pilot.app)
    return screen


async def read_response(pilot: Pilot[None]) -> UR:
    """Read the animated QR code off the screen, frame by frame, until the UR is whole."""
    widget = pilot.app.screen.query_one(QRCode)
    decoder = URDecoder()
    for _ in range(200):
        part = decode_screen_qr(pilot.app, widget)
        decoder.receive(part)
        if decoder.is_complete:
            return decoder.result()
        widget.advance()
        await pilot.pause()
    raise AssertionError("the response never completed")


def signer_of(request: EthSignRequest, signature: EthSignature) -> str:
    """The address eth-account recovers from a typed transaction's signature."""
    digest = decode_transaction(request.sign_data, int(request.data_type)).signing_hash()
    r, s = int.from_bytes(signature.r, "big"), int.from_bytes(signature.s, "big")
    return str(Account._recover_hash(digest, vrs=(signature.v + 27, r, s)))


def decisions(home: SignerHome) -> list[str]:
    with AuditLog.open(home.audit_path) as log:
        return [
            str(entry.fields["decision"])
            for entry in log.entries()
            if entry.kind == AuditKind.DECISION
        ]


async def test_scan_review_sign_and_show_the_response(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    requests = (
        transfer(0, HOT, eth=10**18),
        transfer(1, HOT, usdc=2_500_500_000),
        transfer(2, EXCHANGE, usdc=99_000_000_000),
    )
    video = record_video(batch_ur(*requests), tmp_path / "batch.mp4")
    app = app_with_camera(home, clock, video)
    async with app.run_test(size=(100, 32)) as pilot:
        await scan_and_review(pilot)
        text = screen_words(app)
        assert "Batch of 3 requests: 3 to sign" in text
        assert "Hot wallet (policy)" in text
        assert "Exchange deposit (policy)" in text
        assert "0xa0Ee 7A14 2d26 7C1f 3671" in text
        assert "2,500.5 USDC" in text
        assert "Total 101,500.5 USDC in 2 payment(s)" in text
        assert "Fees at most" in text
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, SignatureScreen)
        assert "SIGNED 3 OF 3" in screen_words(app)
        response = await read_response(pilot)
        assert response == app.screen.result.response
        signatures = EthBatchSignature.from_ur(response).signatures
        assert [s.request_id for s in signatures] == [r.request_id for r in requests]
        for request, signature in zip(requests, signatures, strict=True):
            assert signer_of(request, signature) == SIGNER
        # The core locked the keys after the batch: leaving the response asks to unlock again.
        assert app.session is None
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert "locked after the batch" in screen_words(app)
    assert decisions(home) == ["signed", "signed", "signed"]


async def test_refused_items_are_named_and_the_rest_signed(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    requests = (
        transfer(0, HOT, eth=10**18),
        transfer(1, STRANGER, eth=5),
        transfer(2, HOT, eth=11 * 10**18),
    )
    video = record_video(batch_ur(*requests), tmp_path / "batch.mp4")
    app = app_with_camera(home, clock, video)
    async with app.run_test(size=(100, 32)) as pilot:
        await scan_and_review(pilot)
        text = screen_words(app)
        assert "1 to sign, 2 refused" in text
        assert "REFUSED" in text
        assert "the 2 refused will not be signed" in text
        await pilot.press("down")
        await pilot.pause()
        assert "is not an allowed destination on chain 1" in screen_words(app)
        await pilot.press("down")
        await pilot.pause()
        assert "exceed the per-transaction limit" in screen_words(app)
        await pilot.press("y")
        await settle(pilot)
        text = screen_words(app)
        assert "SIGNED 1 OF 3" in text
        assert "not an allowed" in text
        response = await read_response(pilot)
        signatures = EthBatchSignature.from_ur(response).signatures
        assert [s.request_id for s in signatures] == [requests[0].request_id]
    assert decisions(home) == ["signed", "refused", "refused"]


async def test_nothing_signable_is_recorded_and_said(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    video = record_video(transfer(0, STRANGER, eth=5).to_ur(), tmp_path / "one.mp4")
    app = app_with_camera(home, clock, video)
    async with app.run_test(size=(100, 32)) as pilot:
        await scan_and_review(pilot)
        text = screen_words(app)
        assert "One request: 1 refused" in text
        assert "Nothing here can be signed" in text
        assert "Approve" not in text
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, SignatureScreen)
        text = screen_words(app)
        assert "NOTHING WAS SIGNED" in text
        assert "not an allowed destination" in text
        assert not app.screen.query(QRCode)
        assert app.session is not None
        await pilot.press("escape")
        await settle(pilot)
        assert "Last decisions" in screen_words(app)
        assert "refused" in screen_words(app)
    assert decisions(home) == ["refused"]


async def test_rejecting_a_signable_request_is_recorded_and_goes_home(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    requests = (transfer(0, HOT, eth=10**18), transfer(1, STRANGER, eth=5))
    video = record_video(batch_ur(*requests), tmp_path / "batch.mp4")
    app = app_with_camera(home, clock, video)
    async with app.run_test(size=(100, 32)) as pilot:
        await scan_and_review(pilot)
        assert "1 to sign, 1 refused" in screen_words(app)
        await pilot.press("n")
        await settle(pilot)
        assert "Last decisions" in screen_words(app)
        assert app.session is not None and not app.session.is_locked()
    with AuditLog.open(home.audit_path) as log:
        logged = list(log.entries())
    assert [entry.kind for entry in logged if entry.kind != AuditKind.UNLOCK] == [
        "log-created",
        "batch",
        "decision",
        "decision",
    ]
    audited = [entry.fields for entry in logged if entry.kind == AuditKind.DECISION]
    assert [entry["decision"] for entry in audited] == ["refused", "refused"]
    assert [entry["reasons"] for entry in audited] == [
        ("rejected by operator: the whole request, on the review screen",)
    ] * 2


def login_message() -> EthSignRequest:
    # A zero-width space in an allowed message: printed escaped and flagged (WARNING), so the
    # policy lets it be signed only after a person confirms.
    return personal_message(LOGIN_PREFIX + " at 10:42\u200b")


async def test_confirmation_must_be_typed_exactly(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    video = record_video(login_message().to_ur(), tmp_path / "message.mp4")
    app = app_with_camera(home, clock, video)
    async with app.run_test(size=(100, 32)) as pilot:
        review = await scan_and_review(pilot)
        text = screen_words(app)
        assert "1 to confirm" in text
        assert "non-printable-text" in text
        assert "\\u200b" in text
        confirmation = review.prepared.items[0].verdict.confirmation
        assert confirmation is not None
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = screen_words(app)
        assert "Type the last 6 characters of the signing hash" in text
        assert "0x" + review.prepared.items[0].computed.digest.hex() in text  # type: ignore[union-attr]
        field = app.screen.query_one("#confirm-input", Input)
        field.value = "wrong!"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "That is not what was asked" in screen_words(app)
        field.value = confirmation.expected
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SignatureScreen)
        assert "SIGNED 1 OF 1" in screen_words(app)
        response = await read_response(pilot)
        assert EthSignature.from_ur(response).request_id == login_message().request_id
    assert decisions(home) == ["signed"]


async def test_declined_confirmation_is_not_signed(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    video = record_video(login_message().to_ur(), tmp_path / "message.mp4")
    app = app_with_camera(home, clock, video)
    async with app.run_test(size=(100, 32)) as pilot:
        await scan_and_review(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SignatureScreen)
        text = screen_words(app)
        assert "NOTHING WAS SIGNED" in text
        assert "not acknowledged" in text
    assert decisions(home) == ["refused"]


async def test_keys_locked_while_reviewing_sign_nothing(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    video = record_video(transfer(0, HOT, eth=1).to_ur(), tmp_path / "one.mp4")
    app = make_app(
        home,
        probe=FakeProbe(),
        clock=clock,
        animate=False,
        idle_timeout=60.0,
        frame_source_factory=camera_playing(video),  # type: ignore[arg-type]
    )
    async with app.run_test(size=(100, 32)) as pilot:
        await scan_and_review(pilot)
        clock.advance(61)
        app.check_lock()
        await settle(pilot)
        assert isinstance(app.screen, UnlockScreen)
        assert "Locked after a while" in screen_words(app)
    assert decisions(home) == []


async def test_response_written_to_a_file_and_shown_at_80x24(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    requests = (transfer(0, HOT, eth=10**18), transfer(1, STRANGER, eth=5))
    video = record_video(batch_ur(*requests), tmp_path / "batch.mp4")
    app = app_with_camera(home, clock, video)
    target = tmp_path / "usb" / "response.txt"
    target.parent.mkdir()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan_and_review(pilot)
        text = screen_words(app)
        assert "Would sign 1 ETH in 1 payment(s)" in text
        assert "Requested 1.000000000000000005 ETH in 2 payment(s)" in text
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, SignatureScreen)
        response = await read_response(pilot)
        assert response == app.screen.result.response
        for attempt in ("Written to", "already exists"):
            await pilot.press("w")
            field = app.screen.query_one("#signature-path", Input)
            assert field.has_focus
            field.value = str(target)
            await pilot.press("enter")
            await settle(pilot)
            assert attempt in region_words(app, "#signature-saved")
    decoder = URDecoder()
    decoder.receive(target.read_text().strip())
    assert decoder.result() == response


async def test_undecodable_item_and_unenrolled_key_are_refused_by_name(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    garbage = EthSignRequest(
        b"\x02\xc1\x80", DataType.TYPED_TRANSACTION, keypath(), request_id(50), 1, None, "x"
    )
    requests = (
        transfer(0, HOT, eth=10**18),
        garbage,
        transfer(2, HOT, eth=10**18, path=scheme_path(Scheme.STANDARD, 7)),
    )
    video = record_video(batch_ur(*requests), tmp_path / "batch.mp4")
    app = app_with_camera(home, clock, video)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan_and_review(pilot)
        assert "1 to sign, 2 refused" in screen_words(app)
        assert "could not be decoded" in region_words(app, "#review-table")
        await pilot.press("down")
        await pilot.pause()
        verdict = region_words(app, "#review-verdict")
        assert "REFUSED" in verdict
        await pilot.press("enter")
        await pilot.pause()
        detail = screen_words(app)
        assert "Request 2 could not be decoded" in detail
        assert "What was wrong:" in detail
        await pilot.press("escape", "down")
        await pilot.pause()
        assert "m/44'/60'/0'/0/7" in region_words(app, "#review-verdict")
        await pilot.press("y")
        await settle(pilot)
        assert "SIGNED 1 OF 3" in screen_words(app)
    assert decisions(home) == ["signed", "refused", "refused"]


async def test_partial_batch_of_ether_and_a_token_totals_what_would_be_signed(
    home: SignerHome, clock: FakeClock, tmp_path: Path
) -> None:
    # Two signable assets and a refused item: the "Would sign" totals sort assets (native coin
    # first); assets have no order of their own, so the screen must sort them by a key.
    requests = (
        transfer(0, HOT, usdc=2_500_500_000),
        transfer(1, HOT, eth=10**18),
        transfer(2, STRANGER, eth=5),
    )
    video = record_video(batch_ur(*requests), tmp_path / "batch.mp4")
    app = app_with_camera(home, clock, video)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan_and_review(pilot)
        assert isinstance(app.screen, ReviewScreen)
        text = screen_words(app)
        ether = text.index("Would sign 1 ETH in 1 payment(s)")
        token = text.index("Would sign 2,500.5 USDC in 1 payment(s)")
        assert ether < token
