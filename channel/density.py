"""Density presets (fragment length and EC level) and the one QR version a message is drawn at."""

from __future__ import annotations

from dataclasses import dataclass

from channel.errors import SettingError
from channel.render import ECLevel, version_for_length
from shared.cbor import encode
from shared.ur import UINT32_MAX, find_nominal_fragment_length

# BCR-2024-001 / reference encoders: fragments are never made shorter than this.
MIN_FRAGMENT_LENGTH = 10
# Minimal bytewords: two letters per byte plus the 4-byte CRC32 (BCR-2020-012).
_CRC_LENGTH = 4


@dataclass(frozen=True, slots=True)
class DensityPreset:
    """How much each frame carries: fragment bytes per part and the QR EC level."""

    name: str
    max_fragment_length: int
    ec: ECLevel


# Measured in benchmarks/qr_channel.py on degraded 640x480 / 1280x720 frames: low (v12)
# decodes from poor, blurred cameras; normal (v17) from an ordinary 640x480 webcam;
# high (v22) needs a sharp view (73-87% of degraded frames) but needs 40% fewer frames.
PRESETS: dict[str, DensityPreset] = {
    "low": DensityPreset("low", 150, ECLevel.M),
    "normal": DensityPreset("normal", 400, ECLevel.L),
    "high": DensityPreset("high", 700, ECLevel.L),
}
PRESET_ORDER = ("low", "normal", "high")
DEFAULT_PRESET = "normal"


def preset(name: str) -> DensityPreset:
    """The preset called ``name`` (``low``, ``normal``, ``high``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise SettingError(
            "density", f"unknown preset {name!r}; choose one of {', '.join(PRESET_ORDER)}"
        ) from None


def denser(current: DensityPreset) -> DensityPreset:
    """The next denser preset (the densest stays): for a live "more per frame" key."""
    index = PRESET_ORDER.index(current.name)
    return PRESETS[PRESET_ORDER[min(index + 1, len(PRESET_ORDER) - 1)]]


def sparser(current: DensityPreset) -> DensityPreset:
    """The next sparser preset (the sparsest stays): for a live "easier to scan" key."""
    index = PRESET_ORDER.index(current.name)
    return PRESETS[PRESET_ORDER[max(index - 1, 0)]]


def part_length_bound(ur_type: str, message_len: int, max_fragment_length: int) -> int:
    """The longest part string any sequence number can give for this message.

    Part = ``ur:TYPE/SEQNUM-SEQLEN/`` + minimal bytewords of CBOR
    ``[seqNum, seqLen, messageLen, checksum, fragment]`` + CRC32 (BCR-2024-001). Taking
    seqNum and checksum at their uint32 maximum bounds every part, so the whole stream,
    however long it runs, fits one QR version.
    """
    fragment_length = find_nominal_fragment_length(
        message_len, MIN_FRAGMENT_LENGTH, max_fragment_length
    )
    seq_len = -(-message_len // fragment_length)
    if seq_len == 1:
        # A single-part UR is the bare CBOR message in bytewords, with no header.
        return len(f"ur:{ur_type}/") + 2 * (message_len + _CRC_LENGTH)
    header = encode([UINT32_MAX, seq_len, message_len, UINT32_MAX, bytes(fragment_length)])
    path = f"ur:{ur_type}/{UINT32_MAX}-{seq_len}/"
    return len(path) + 2 * (len(header) + _CRC_LENGTH)


def stable_version(ur_type: str, message_len: int, density: DensityPreset) -> int:
    """The QR version every part of this message is drawn at under ``density``."""
    return version_for_length(
        part_length_bound(ur_type, message_len, density.max_fragment_length), density.ec
    )
