"""Multi-part URs (BCR-2024-001): ``ur:type/seq-len/<bytewords>`` parts, encoder and decoder."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from shared.cbor import CborLimits, decode, encode
from shared.errors import (
    CborError,
    FountainError,
    MixedMessageError,
    URFormatError,
    URTypeError,
)
from shared.ur.bytewords import Style, bytewords_decode, bytewords_encode
from shared.ur.fountain import UINT32_MAX, FountainPart
from shared.ur.fountain_decoder import FountainDecoder
from shared.ur.fountain_encoder import FountainEncoder
from shared.ur.ur import UR, format_ur, split_ur

# Decimal sequence numbers: no sign, no leading zero, at most ten digits (uint32).
_SEQ_PATTERN = re.compile(r"([1-9][0-9]{0,9})-([1-9][0-9]{0,9})")
# CBOR bytes of the header other than the fragment itself: array head, four uints of at
# most 9 bytes each, and the byte-string head.
_HEADER_OVERHEAD = 1 + 4 * 9 + 9
_CRC_LENGTH = 4

DEFAULT_MAX_MESSAGE_LENGTH = 4 << 20
DEFAULT_MAX_SEQ_LEN = 10_000
DEFAULT_MAX_MIXED_PARTS = 4096


def encode_part_header(part: FountainPart) -> bytes:
    """The part's CBOR header: ``[seqNum, seqLen, messageLen, checksum, fragment]``."""
    return encode([part.seq_num, part.seq_len, part.message_len, part.checksum, part.fragment])


def decode_part_header(
    data: bytes,
    *,
    max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
    max_seq_len: int = DEFAULT_MAX_SEQ_LEN,
) -> FountainPart:
    """Decode and check a part header from untrusted bytes.

    Beyond the types (uint, uint, uint, uint32, non-empty bytes) it checks what a
    conforming encoder always produces: seqNum and checksum fit 32 bits, 0 < messageLen
    <= ``max_message_length``, the fragment is no longer than the message, and seqLen is
    exactly ``ceil(messageLen / len(fragment))`` (and at most ``max_seq_len``). Raises
    :class:`URFormatError` with field ``header`` or ``header.<name>``.
    """
    try:
        value = decode(data, limits=_header_limits(max_message_length))
    except CborError as exc:
        raise URFormatError("header", f"not a valid CBOR header: {exc}") from exc
    if not isinstance(value, list) or len(value) != 5:
        raise URFormatError("header", "expected a CBOR array of 5 items")
    names = ("seqNum", "seqLen", "messageLen", "checksum")
    numbers: list[int] = []
    for name, item in zip(names, value[:4], strict=True):
        # bool is an int in Python; CBOR true/false are not numbers.
        if not isinstance(item, int) or isinstance(item, bool) or item < 0:
            raise URFormatError(f"header.{name}", "expected an unsigned integer")
        numbers.append(item)
    seq_num, seq_len, message_len, checksum = numbers
    fragment = value[4]
    if not isinstance(fragment, bytes) or not fragment:
        raise URFormatError("header.fragment", "expected a non-empty byte string")
    if not 1 <= seq_num <= UINT32_MAX:
        raise URFormatError("header.seqNum", f"{seq_num} is not in 1..2**32-1")
    if checksum > UINT32_MAX:
        raise URFormatError("header.checksum", f"{checksum} does not fit 32 bits")
    if message_len == 0:
        raise URFormatError("header.messageLen", "zero-length message")
    if message_len > max_message_length:
        raise URFormatError(
            "header.messageLen", f"{message_len} bytes exceeds the limit {max_message_length}"
        )
    if len(fragment) > message_len:
        raise URFormatError(
            "header.fragment",
            f"fragment of {len(fragment)} bytes is longer than the {message_len}-byte message",
        )
    expected_seq_len = -(-message_len // len(fragment))
    if seq_len != expected_seq_len:
        raise URFormatError(
            "header.seqLen",
            f"{seq_len} fragments cannot carry {message_len} bytes in {len(fragment)}-byte "
            f"fragments (that takes {expected_seq_len})",
        )
    if seq_len > max_seq_len:
        raise URFormatError("header.seqLen", f"{seq_len} fragments exceeds the limit {max_seq_len}")
    return FountainPart(seq_num, seq_len, message_len, checksum, fragment)


@functools.lru_cache(maxsize=8)
def _header_limits(max_message_length: int) -> CborLimits:
    # One array of five items, the fragment at most a whole message long.
    return CborLimits(
        max_size=max_message_length + _HEADER_OVERHEAD,
        max_depth=2,
        max_items=6,
        max_length=max_message_length,
    )


def format_part(ur_type: str, part: FountainPart) -> str:
    """One multi-part string: ``ur:type/seqNum-seqLen/<minimal bytewords of header>``."""
    body = bytewords_encode(encode_part_header(part), Style.MINIMAL)
    return f"ur:{ur_type}/{part.seq_num}-{part.seq_len}/{body}"


class UREncoder:
    """Emits the parts of one UR, exactly as BC-UR's ``UREncoder`` does.

    A message that fits in one fragment always comes out as the single-part
    ``ur:type/...`` string. Otherwise parts ``1..seq_len`` carry the fragments in order
    and every part after that is fountain-coded, without end.
    """

    __slots__ = ("_fountain", "_single", "_ur")

    def __init__(
        self,
        ur: UR,
        max_fragment_length: int,
        *,
        first_seq_num: int = 0,
        min_fragment_length: int = 10,
    ) -> None:
        self._ur = ur
        self._fountain = FountainEncoder(
            ur.cbor,
            max_fragment_length,
            first_seq_num=first_seq_num,
            min_fragment_length=min_fragment_length,
        )
        self._single = format_ur(ur) if self._fountain.is_single_part else None

    @property
    def is_single_part(self) -> bool:
        """True when every part is the same single-part UR string."""
        return self._single is not None

    @property
    def seq_len(self) -> int:
        """Fragments in the message (1 for a single-part UR)."""
        return self._fountain.seq_len

    @property
    def fragment_length(self) -> int:
        """Bytes per fragment."""
        return self._fountain.fragment_length

    def next_part(self) -> str:
        """The next part string (lower case; see :func:`~shared.ur.ur.for_qr`)."""
        # The sequence number advances for single-part URs too, as in the reference.
        part = self._fountain.next_part()
        if self._single is not None:
            return self._single
        return format_part(self._ur.type, part)

    def parts(self, count: int) -> list[str]:
        """The next ``count`` part strings."""
        return [self.next_part() for _ in range(count)]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a :class:`URDecoder` has got, for a progress display.

    ``parts_received`` counts accepted parts (duplicates included); ``fraction`` is the
    share of the message's fragments already determined (a display ratio);
    ``estimated_remaining`` is the fewest further parts that could finish it.
    ``seq_len`` is 0 until the first part arrives.
    """

    parts_received: int
    seq_len: int
    fraction: float
    estimated_remaining: int
    complete: bool


class URDecoder:
    """Reassembles one UR from part strings received in any order.

    Every part is checked on its own (scheme, type, sequence path, bytewords, header)
    and against the first accepted part. A part of another message raises
    :class:`MixedMessageError` and leaves the decoder as it was, so a camera loop can
    report it and keep scanning. A rebuilt message whose CRC32 is wrong raises
    :class:`FountainError` and the decoder starts over empty.
    """

    __slots__ = (
        "_expected_types",
        "_fountain",
        "_max_message_length",
        "_max_seq_len",
        "_received",
        "_single",
        "_type",
    )

    def __init__(
        self,
        expected_types: frozenset[str] | None = None,
        *,
        max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
        max_mixed_parts: int = DEFAULT_MAX_MIXED_PARTS,
        max_seq_len: int = DEFAULT_MAX_SEQ_LEN,
    ) -> None:
        if max_message_length < 1 or max_seq_len < 1:
            raise ValueError("max_message_length and max_seq_len must be positive")
        self._expected_types = expected_types
        self._max_message_length = max_message_length
        self._max_seq_len = max_seq_len
        self._fountain = FountainDecoder(max_mixed_parts=max_mixed_parts)
        self._type: str | None = None
        self._single: UR | None = None
        self._received = 0

    @property
    def progress(self) -> Progress:
        """Progress so far."""
        if self._single is not None:
            return Progress(self._received, 1, 1.0, 0, True)
        seq_len = self._fountain.seq_len
        if seq_len == 0:
            return Progress(0, 0, 0.0, 0, False)
        solved = self._fountain.solved_count
        return Progress(
            self._received, seq_len, solved / seq_len, seq_len - solved, self.is_complete
        )

    @property
    def is_complete(self) -> bool:
        """True once :meth:`result` is available."""
        return self._single is not None or self._fountain.is_complete

    @property
    def ignored_parts(self) -> int:
        """Fountain parts ignored because the mixed-parts store was full."""
        return self._fountain.ignored_parts

    def result(self) -> UR:
        """The reassembled UR; :class:`~shared.errors.IncompleteError` until complete."""
        if self._single is not None:
            return self._single
        message = self._fountain.result()
        if self._type is None:
            raise RuntimeError("a complete fountain decoder always has a type")
        return UR(self._type, message)

    def receive(self, part: str) -> Progress:
        """Take one part string (any case, any order; duplicates are harmless)."""
        ur_type, components = split_ur(part)
        if self._expected_types is not None and ur_type not in self._expected_types:
            raise URTypeError("type", f"{ur_type!r} is not one of {sorted(self._expected_types)}")
        if len(components) == 1:
            return self._receive_single(ur_type, components[0])
        if len(components) != 2:
            raise URFormatError(
                "path", f"{len(components) + 1} path components; a part has type/seq/body"
            )
        seq_text, body = components
        match = _SEQ_PATTERN.fullmatch(seq_text)
        if match is None:
            raise URFormatError("seq", "expected seqNum-seqLen, two positive decimal numbers")
        seq_num, seq_len = int(match[1]), int(match[2])
        if self._single is not None:
            raise MixedMessageError(f"part {seq_num}", "a single-part UR was already decoded")
        if self._type is not None and ur_type != self._type:
            raise MixedMessageError(
                f"part {seq_num}", f"type {ur_type!r} differs from {self._type!r} of the message"
            )
        # Minimal bytewords: two letters per byte, plus the CRC32. Refuse before decoding.
        if len(body) // 2 - _CRC_LENGTH > self._max_message_length + _HEADER_OVERHEAD:
            raise URFormatError("header", f"part {seq_num} is longer than any allowed message")
        fountain_part = decode_part_header(
            bytewords_decode(body, Style.MINIMAL),
            max_message_length=self._max_message_length,
            max_seq_len=self._max_seq_len,
        )
        if fountain_part.seq_num != seq_num or fountain_part.seq_len != seq_len:
            raise URFormatError(
                "seq",
                f"path says {seq_num}-{seq_len}, header says "
                f"{fountain_part.seq_num}-{fountain_part.seq_len}",
            )
        try:
            self._fountain.receive(fountain_part)
        except MixedMessageError:
            raise
        except FountainError:
            # The fountain decoder has started over; so does the message type.
            self._type = None
            self._received = 0
            raise
        self._type = ur_type
        self._received += 1
        return self.progress

    def _receive_single(self, ur_type: str, body: str) -> Progress:
        if len(body) // 2 - _CRC_LENGTH > self._max_message_length:
            raise URFormatError(
                "body", f"single-part UR exceeds the limit {self._max_message_length}"
            )
        ur = UR(ur_type, bytewords_decode(body, Style.MINIMAL))
        if self._single is not None and ur != self._single:
            raise MixedMessageError("part", "a different single-part UR was already decoded")
        if self._single is None and self._fountain.seq_len:
            raise MixedMessageError("part", "a single-part UR while decoding a multi-part one")
        self._single = ur
        self._type = ur_type
        self._received += 1
        return self.progress
