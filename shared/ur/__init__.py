"""BC-UR (BCR-2020-005, BCR-2024-001): bytewords, single-part URs and fountain-coded parts."""

from __future__ import annotations

from shared.ur.bytewords import Style, bytewords_decode, bytewords_encode
from shared.ur.multipart import Progress, URDecoder, UREncoder
from shared.ur.ur import UR, for_qr, format_ur, parse_ur

__all__ = [
    "UR",
    "Progress",
    "Style",
    "URDecoder",
    "UREncoder",
    "bytewords_decode",
    "bytewords_encode",
    "for_qr",
    "format_ur",
    "parse_ur",
]
