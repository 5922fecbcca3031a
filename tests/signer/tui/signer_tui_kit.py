"""Helpers for the signer TUI tests: a signer home with a vault and a policy, fakes for the
network probe and the clock, and readers of what is on the screen."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pyzbar.pyzbar import ZBarSymbol, decode
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input

from channel.output import write_mp4
from channel.render import QRStyle, render_parts
from shared.address import Address, parse_address
from shared.erc4527 import DataType, EthBatchSignRequest, EthSignRequest, Keypath, PathComponent
from shared.erc4527.request_id import RequestId
from shared.tx.dynamic_fee import DynamicFeeTransaction
from shared.ur import UR, UREncoder, for_qr
from signer.airgap import InterfaceKind, InterfaceState
from signer.audit import GENESIS_PREV, AuditKind
from signer.audit.record import head_line, make_entry
from signer.audit.verify import head_path
from signer.core import create_state
from signer.home import SignerHome
from signer.keys.bip32 import HARDENED, DerivationPath
from signer.keys.bip39 import SecretMnemonic
from signer.keys.kdf import MIN_PARAMS
from signer.keys.paths import Scheme, scheme_path
from signer.keys.vault import Vault

PASSPHRASE = "correct horse battery"
# The well-known anvil/hardhat test mnemonic: its first address is 0xf39F…2266.
ANVIL = "test test test test test test test test test test test junk"
ACCOUNTS: tuple[DerivationPath, ...] = (
    scheme_path(Scheme.STANDARD, 0),
    scheme_path(Scheme.STANDARD, 1),
)
START = 1_800_000_000.0
# BIP-32 fingerprint of the anvil mnemonic's master key.
MASTER_FINGERPRINT = 0x16A93ED0


class FakeClock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProbe:
    """A machine with the given interfaces (loopback only by default) and radios."""

    def __init__(
        self,
        interfaces: tuple[InterfaceState, ...] = (
            InterfaceState("lo", True, InterfaceKind.LOOPBACK),
        ),
        radios: tuple[str, ...] = (),
    ) -> None:
        self._interfaces = interfaces
        self._radios = radios

    def interfaces(self) -> list[InterfaceState]:
        return list(self._interfaces)

    def radios(self) -> list[str]:
        return list(self._radios)


def make_home(root: Path, policy: str = "") -> SignerHome:
    """A signer home with the anvil mnemonic's vault (cheap scrypt), ``policy`` (default:
    :data:`POLICY`) and an audit log whose first entry is always the same bytes."""
    home = SignerHome(root)
    home.create()
    # As `init` does: the ledger and limits store exist before the vault, so a home never has
    # a vault without them (the core refuses to start otherwise).
    create_state(home)
    Vault(home.vault_path).import_mnemonic(
        PASSPHRASE, SecretMnemonic.from_phrase(ANVIL), ACCOUNTS, kdf=MIN_PARAMS
    )
    home.write_policy((policy or POLICY).encode())
    write_fixed_audit_log(home.audit_path)
    return home


def write_fixed_audit_log(path: Path) -> None:
    """A new audit log (entry 0, ``log-created``) with a fixed log id and time.

    ``AuditLog.open`` would draw a random log id; fixing it makes every later hash, the
    audit head in responses and so the screenshots reproducible.
    """
    entry = make_entry(
        0, GENESIS_PREV, AuditKind.LOG_CREATED, int(START), {"format": 1, "log_id": "c0" * 16}
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(entry.line())
    descriptor = os.open(head_path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(head_line(entry.seq, entry.entry_hash))


# anvil's accounts 9 and 8: the hot wallet and the exchange deposit address of the policy.
HOT = parse_address("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720", field="hot")
EXCHANGE = parse_address("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f", field="exchange")
STRANGER = parse_address("0x1111111111111111111111111111111111111111", field="stranger")
USDC = parse_address("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", field="usdc")
LOGIN_PREFIX = "Sign in to coldsign.example"

POLICY = f"""\
[policy]
name = "tui tests"
version = 1

[[chain]]
id = 1
label = "Ethereum"
max_fee_per_gas_gwei = "150"
max_total_fee_native = "0.05"

[[account]]
path = "m/44'/60'/0'/0/0"
label = "cold"

[[destination]]
chain = 1
address = "{HOT.checksummed()}"
assets = ["native", "{USDC.checksummed()}"]
label = "Hot wallet"

[[destination]]
chain = 1
address = "{EXCHANGE.checksummed()}"
assets = ["{USDC.checksummed()}"]
label = "Exchange deposit"

[[limit]]
chain = 1
asset = "native"
per_tx = "10"
per_24h = "50"

[[limit]]
chain = 1
asset = "{USDC.checksummed()}"
decimals = 6
label = "USDC"
per_tx = "100000"
per_24h = "500000"

[[personal_message]]
prefix = "{LOGIN_PREFIX}"
label = "test login"
"""


def request_id(number: int) -> RequestId:
    """A fixed version-4 request id, different for each ``number``."""
    raw = bytearray(number.to_bytes(16, "big"))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return RequestId(bytes(raw))


def keypath(path: DerivationPath = ACCOUNTS[0]) -> Keypath:
    """``path`` as an ERC-4527 keypath with the anvil vault's master fingerprint."""
    return Keypath(
        tuple(PathComponent(i & ~HARDENED, i >= HARDENED) for i in path.indices),
        MASTER_FINGERPRINT,
    )


def transfer(
    nonce: int,
    to: Address,
    *,
    eth: int = 0,
    usdc: int = 0,
    origin: str = "tui tests",
    path: DerivationPath = ACCOUNTS[0],
) -> EthSignRequest:
    """An EIP-1559 request on chain 1: ``eth`` wei to ``to``, or ``usdc`` base units of USDC."""
    if usdc:
        # ERC-20 transfer(address,uint256): selector a9059cbb, then two ABI words.
        data = bytes.fromhex("a9059cbb") + bytes(12) + to.raw + usdc.to_bytes(32, "big")
        target, value, gas = USDC, 0, 65_000
    else:
        data, target, value, gas = b"", to, eth, 21_000
    tx = DynamicFeeTransaction(
        chain_id=1,
        nonce=nonce,
        max_priority_fee_per_gas=10**9,
        max_fee_per_gas=30 * 10**9,
        gas_limit=gas,
        to=target,
        value=value,
        data=data,
        access_list=(),
    )
    return EthSignRequest(
        tx.unsigned_payload(),
        DataType.TYPED_TRANSACTION,
        keypath(path),
        request_id(nonce + 1),
        1,
        None,
        origin,
    )


def personal_message(text: str, *, number: int = 100, origin: str = "tui tests") -> EthSignRequest:
    """A personal_sign request for ``text`` (UTF-8)."""
    return EthSignRequest(
        text.encode("utf-8"),
        DataType.PERSONAL_MESSAGE,
        keypath(),
        request_id(number),
        None,
        None,
        origin,
    )


def batch_ur(*requests: EthSignRequest) -> UR:
    """The ``eth-batch-sign-request`` UR of ``requests``."""
    return EthBatchSignRequest(tuple(requests)).to_ur()


def record_video(ur: UR, path: Path, *, fragment: int = 80, extra: int = 4) -> Path:
    """An MP4 of ``ur``'s parts as QR codes, as a phone would film them from a screen."""
    encoder = UREncoder(ur, fragment)
    parts = [for_qr(part) for part in encoder.parts(encoder.seq_len + extra)]
    frames = render_parts(parts, QRStyle(module_px=5))
    return write_mp4(frames, path, fps=8)


def screen_lines(app: App[Any]) -> list[str]:
    """The text of every line of the screen as it is drawn now."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app: App[Any]) -> str:
    """The whole screen as text, lines joined with newlines."""
    return "\n".join(line.rstrip() for line in screen_lines(app))


# A character cell's (upper, lower) half: True where the cell draws its foreground colour.
_HALVES = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}


def rasterise(app: App[Any], widget: Widget, *, scale: int = 4) -> npt.NDArray[np.uint8]:
    """The widget's region of the screen as drawn now, as a grayscale image.

    Every cell becomes two pixels stacked (its upper and lower half), each in the colour
    the cell's character and style put there: what a camera pointed at the terminal sees.
    """
    strips = app.screen._compositor.render_strips()
    region = widget.region
    rows: list[list[int]] = []
    for y in range(region.y, region.bottom):
        upper: list[int] = []
        lower: list[int] = []
        for segment in strips[y].crop(region.x, region.right):
            style = segment.style
            assert style is not None and style.color is not None and style.bgcolor is not None
            ink = _gray(style.color.get_truecolor())
            paper = _gray(style.bgcolor.get_truecolor())
            for character in segment.text:
                top, bottom = _HALVES[character]
                upper.append(ink if top else paper)
                lower.append(ink if bottom else paper)
        rows.extend((upper, lower))
    image = np.array(rows, dtype=np.uint8)
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def _gray(color: tuple[int, int, int]) -> int:
    red, green, blue = color
    return (299 * red + 587 * green + 114 * blue) // 1000


def decode_screen_qr(app: App[Any], widget: Widget) -> str:
    """The text of the one QR code drawn in ``widget``, read back with zbar."""
    image = rasterise(app, widget)
    height, width = image.shape
    found = decode((image.tobytes(), width, height), symbols=[ZBarSymbol.QRCODE])
    assert len(found) == 1, f"expected one QR code on screen, zbar found {len(found)}"
    return str(found[0].data.decode("ascii"))


async def settle(pilot: Pilot[None], rounds: int = 3) -> None:
    """Let every worker finish and every message they posted be handled."""
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def unlock(pilot: Pilot[None], passphrase: str = PASSPHRASE) -> None:
    """Type the passphrase on the unlock screen and wait for what follows."""
    await settle(pilot)
    pilot.app.screen.query_one("#passphrase", Input).value = passphrase
    await pilot.press("enter")
    await settle(pilot)


def screen_words(app: App[Any]) -> str:
    """The screen's text with every run of whitespace (line breaks too) made one space."""
    return " ".join(screen_text(app).split())


def region_words(app: App[Any], selector: str) -> str:
    """What the widget matching ``selector`` shows on screen, whitespace made single spaces."""
    region = app.screen.query_one(selector).region
    strips = app.screen._compositor.render_strips()
    lines = [strips[y].crop(region.x, region.right).text for y in range(region.y, region.bottom)]
    return " ".join(" ".join(lines).split())
