"""BC-UR (BCR-2020-005, BCR-2024-001): bytewords, single-part URs and fountain-coded parts."""

from __future__ import annotations

from shared.ur.bytewords import Style, bytewords_decode, bytewords_encode
from shared.ur.fountain import (
    UINT32_MAX,
    FountainPart,
    choose_fragments,
    find_nominal_fragment_length,
    partition_message,
)
from shared.ur.multipart import Progress, URDecoder, UREncoder, format_part
from shared.ur.ur import UR, for_qr, format_ur, parse_ur

__all__ = [
    "UINT32_MAX",
    "UR",
    "FountainPart",
    "Progress",
    "Style",
    "URDecoder",
    "UREncoder",
    "bytewords_decode",
    "bytewords_encode",
    "choose_fragments",
    "find_nominal_fragment_length",
    "for_qr",
    "format_part",
    "format_ur",
    "parse_ur",
    "partition_message",
]
