"""BCR-2024-001 fountain encoder: an endless stream of parts from which any receiver can rebuild."""

from __future__ import annotations

import zlib

from shared.ur.fountain import (
    UINT32_MAX,
    FountainPart,
    choose_fragments,
    find_nominal_fragment_length,
    partition_message,
)


class FountainEncoder:
    """Splits a message into equal fragments and emits parts 1, 2, 3, ... without end.

    Parts ``1..seq_len`` are the fragments themselves; every later part is an XOR of
    fragments chosen by :func:`choose_fragments`, so a receiver that missed some parts
    can still finish from later ones. Output is identical to BC-UR's reference encoder.
    """

    __slots__ = ("_checksum", "_fragment_length", "_fragments", "_message_len", "_seq_num")

    def __init__(
        self,
        message: bytes,
        max_fragment_length: int,
        *,
        first_seq_num: int = 0,
        min_fragment_length: int = 10,
    ) -> None:
        if not message:
            raise ValueError("cannot fountain-encode an empty message")
        if len(message) > UINT32_MAX:
            raise ValueError("a fountain-coded message is at most 2**32 - 1 bytes")
        if not 0 <= first_seq_num <= UINT32_MAX:
            raise ValueError("first_seq_num must be a uint32")
        self._message_len = len(message)
        self._checksum = zlib.crc32(message)
        self._fragment_length = find_nominal_fragment_length(
            len(message), min_fragment_length, max_fragment_length
        )
        # Held as integers: XOR of whole fragments is one big-int operation.
        self._fragments = tuple(
            int.from_bytes(f, "big") for f in partition_message(message, self._fragment_length)
        )
        self._seq_num = first_seq_num

    @property
    def seq_len(self) -> int:
        """How many fragments the message was split into."""
        return len(self._fragments)

    @property
    def fragment_length(self) -> int:
        """Bytes per fragment (the last fragment is zero-padded to this length)."""
        return self._fragment_length

    @property
    def message_len(self) -> int:
        """Length of the encoded message in bytes."""
        return self._message_len

    @property
    def checksum(self) -> int:
        """CRC32 of the whole message, carried in every part."""
        return self._checksum

    @property
    def is_single_part(self) -> bool:
        """True when the whole message fits in one fragment."""
        return len(self._fragments) == 1

    def next_part(self) -> FountainPart:
        """The next part, numbered one more than the last.

        After 2**32 - 1 the number goes back to 1: the references keep a uint32 that would
        wrap to 0, a number every decoder refuses and the references cannot even encode.
        """
        self._seq_num = self._seq_num % UINT32_MAX + 1
        seq_len = len(self._fragments)
        mixed = 0
        for index in choose_fragments(self._seq_num, seq_len, self._checksum):
            mixed ^= self._fragments[index]
        return FountainPart(
            seq_num=self._seq_num,
            seq_len=seq_len,
            message_len=self._message_len,
            checksum=self._checksum,
            fragment=mixed.to_bytes(self._fragment_length, "big"),
        )
