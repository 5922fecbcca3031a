"""UR part strings to QR codes: module matrices and grayscale images, alphanumeric mode only."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import qrcode
import qrcode.constants
import qrcode.util

from channel.errors import RenderError

Image = npt.NDArray[np.uint8]
Modules = npt.NDArray[np.bool_]

# ISO/IEC 18004:2015 §7.4.4 table 5: the 45 characters of alphanumeric mode.
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
# ISO/IEC 18004:2015 §6.3.8: the quiet zone is at least 4 modules wide.
MIN_QUIET_ZONE = 4
MAX_VERSION = 40
# Mask 0 ((row + column) mod 2) measured best of the eight on degraded camera frames in
# benchmarks/qr_channel.py, and skipping the penalty evaluation makes rendering ~8x faster.
DEFAULT_MASK = 0


class ECLevel(enum.Enum):
    """QR error-correction level (ISO/IEC 18004 §7.5.1): share of codewords recoverable."""

    L = qrcode.constants.ERROR_CORRECT_L  # ~7%
    M = qrcode.constants.ERROR_CORRECT_M  # ~15%
    Q = qrcode.constants.ERROR_CORRECT_Q  # ~25%
    H = qrcode.constants.ERROR_CORRECT_H  # ~30%


@dataclass(frozen=True, slots=True)
class QRStyle:
    """How a part is drawn: EC level, pixels per module, quiet zone, mask (None: best of 8)."""

    ec: ECLevel = ECLevel.L
    module_px: int = 4
    quiet_zone: int = MIN_QUIET_ZONE
    mask_pattern: int | None = DEFAULT_MASK

    def __post_init__(self) -> None:
        if self.module_px < 1:
            raise ValueError("module_px must be at least 1")
        if self.quiet_zone < 0:
            raise ValueError("quiet_zone must not be negative")
        if self.mask_pattern is not None and not 0 <= self.mask_pattern <= 7:
            raise ValueError("mask_pattern must be 0..7 or None")


def check_alphanumeric(text: str) -> None:
    """Raise :class:`RenderError` unless every character is in the QR alphanumeric set."""
    if not text:
        raise RenderError("payload", "empty payload")
    bad = set(text) - ALPHANUMERIC
    if bad:
        shown = "".join(sorted(bad))[:8]
        raise RenderError(
            "payload", f"characters {shown!r} are not QR-alphanumeric (upper-case the UR part)"
        )


def alphanumeric_bits(length: int, version: int) -> int:
    """Bits of one alphanumeric segment of ``length`` characters at ``version``.

    ISO/IEC 18004 §7.4.4: 4-bit mode indicator, a character count of 9/11/13 bits
    (versions 1-9 / 10-26 / 27-40), 11 bits per pair and 6 for an odd last character.
    """
    count_bits = 9 if version <= 9 else 11 if version <= 26 else 13
    return 4 + count_bits + 11 * (length // 2) + 6 * (length % 2)


def version_for_length(length: int, ec: ECLevel) -> int:
    """The smallest QR version holding ``length`` alphanumeric characters at ``ec``."""
    limits = qrcode.util.BIT_LIMIT_TABLE[ec.value]
    for version in range(1, MAX_VERSION + 1):
        if alphanumeric_bits(length, version) <= limits[version]:
            return version
    raise RenderError(
        "payload", f"{length} characters do not fit a version-40 QR code at EC level {ec.name}"
    )


def qr_modules(
    text: str, *, ec: ECLevel, version: int | None = None, mask_pattern: int | None = DEFAULT_MASK
) -> Modules:
    """The module matrix (True = dark) of ``text``, without quiet zone.

    ``version`` None picks the smallest that fits; a given version must hold the text, so
    every part of one message can be drawn at the same size.
    """
    check_alphanumeric(text)
    needed = version_for_length(len(text), ec)
    if version is None:
        version = needed
    elif not needed <= version <= MAX_VERSION:
        raise RenderError(
            "version", f"version {version} cannot hold {len(text)} characters (needs {needed})"
        )
    code = qrcode.QRCode(
        version=version, error_correction=ec.value, border=0, mask_pattern=mask_pattern
    )
    # One explicit alphanumeric segment: qrcode's optimiser would otherwise split digit
    # runs into numeric segments, which changes the length per part and so the version.
    code.add_data(qrcode.util.QRData(text.encode("ascii"), mode=qrcode.util.MODE_ALPHA_NUM))
    code.make(fit=False)
    return np.array(code.get_matrix(), dtype=np.bool_)


def modules_to_image(modules: Modules, *, module_px: int, quiet_zone: int) -> Image:
    """Draw a module matrix: black (0) modules on white (255), with a white quiet zone."""
    padded = np.pad(modules, quiet_zone, constant_values=False)
    pixels = np.where(padded, np.uint8(0), np.uint8(255)).astype(np.uint8)
    return np.repeat(np.repeat(pixels, module_px, axis=0), module_px, axis=1)


def render_part(text: str, style: QRStyle = QRStyle(), *, version: int | None = None) -> Image:
    """One part string as a grayscale QR image (uint8, 0 black, 255 white)."""
    modules = qr_modules(text, ec=style.ec, version=version, mask_pattern=style.mask_pattern)
    return modules_to_image(modules, module_px=style.module_px, quiet_zone=style.quiet_zone)


def common_version(texts: Sequence[str], ec: ECLevel) -> int:
    """The one version that holds every text: the longest one's."""
    if not texts:
        raise RenderError("parts", "no parts to render")
    return version_for_length(max(len(text) for text in texts), ec)


def render_parts(
    texts: Sequence[str], style: QRStyle = QRStyle(), *, version: int | None = None
) -> list[Image]:
    """Render parts all at one version (so the code does not change size between frames)."""
    chosen = common_version(texts, style.ec) if version is None else version
    return [render_part(text, style, version=chosen) for text in texts]
