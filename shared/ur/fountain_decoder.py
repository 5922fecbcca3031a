"""BCR-2024-001 fountain decoder: rebuilds a message from parts in any order, memory bounded."""

from __future__ import annotations

import zlib

from shared.errors import FountainError, IncompleteError, MixedMessageError, URFormatError
from shared.ur.fountain import FountainPart, choose_fragments, indexes_mask


class FountainDecoder:
    """Collects fountain parts of one message and solves for its fragments.

    Each part is one equation over GF(2): the XOR of the fragments in its index set
    equals its data. Equations are kept in row-echelon form keyed by their lowest
    fragment index, so a part that adds nothing (a duplicate, or a combination of parts
    already held) costs no memory, at most ``seq_len`` rows are ever stored, and the
    message is solved as soon as the parts received determine it, never later than the
    reference's peeling decoder would.

    Rows that mix two or more fragments are capped at ``max_mixed_parts``; past the cap
    such parts are ignored (counted in :attr:`ignored_parts`), so a flood of parts that
    never converges cannot grow memory. Parts must come validated from the header
    parser; this class checks only that they belong to the same message as the first.
    """

    __slots__ = (
        "_accepted",
        "_checksum",
        "_fragment_length",
        "_ignored",
        "_max_mixed_parts",
        "_message_len",
        "_mixed_rows",
        "_result",
        "_rows",
        "_seq_len",
    )

    def __init__(self, *, max_mixed_parts: int) -> None:
        if max_mixed_parts < 0:
            raise ValueError("max_mixed_parts must not be negative")
        self._max_mixed_parts = max_mixed_parts
        self._reset()

    def _reset(self) -> None:
        self._seq_len = 0
        self._message_len = 0
        self._checksum = 0
        self._fragment_length = 0
        # lowest fragment index in the row -> (index bit mask, XOR of those fragments)
        self._rows: dict[int, tuple[int, int]] = {}
        self._mixed_rows = 0
        self._accepted = 0
        self._ignored = 0
        self._result: bytes | None = None

    @property
    def seq_len(self) -> int:
        """Fragments in the message, 0 before the first part."""
        return self._seq_len

    @property
    def solved_count(self) -> int:
        """Rank of the parts received so far: fragments' worth of information held."""
        return self._seq_len if self._result is not None else len(self._rows)

    @property
    def mixed_parts(self) -> int:
        """Stored rows that still mix two or more fragments (at most ``max_mixed_parts``)."""
        return self._mixed_rows

    @property
    def accepted_parts(self) -> int:
        """Parts accepted as belonging to this message, duplicates included."""
        return self._accepted

    @property
    def ignored_parts(self) -> int:
        """Mixed parts ignored because ``max_mixed_parts`` rows were already held."""
        return self._ignored

    @property
    def is_complete(self) -> bool:
        """True once the message is rebuilt and its CRC32 checked."""
        return self._result is not None

    def result(self) -> bytes:
        """The rebuilt message; :class:`IncompleteError` until :attr:`is_complete`."""
        if self._result is None:
            raise IncompleteError(
                f"message incomplete: {self.solved_count} of {self._seq_len} fragments known"
            )
        return self._result

    def check_part(self, part: FountainPart) -> None:
        """Raise if ``part`` is not of the message being decoded; change nothing."""
        if self._seq_len == 0:
            return
        if (
            part.seq_len == self._seq_len
            and part.message_len == self._message_len
            and part.checksum == self._checksum
            and len(part.fragment) == self._fragment_length
        ):
            return
        where = f"part {part.seq_num}"
        for name, got, expected in (
            ("seqLen", part.seq_len, self._seq_len),
            ("messageLen", part.message_len, self._message_len),
            ("checksum", part.checksum, self._checksum),
        ):
            if got != expected:
                raise MixedMessageError(
                    where, f"{name} {got} differs from {expected} of the message being decoded"
                )
        if len(part.fragment) != self._fragment_length:
            # Same message by every header field, so not a foreign part: a malformed one.
            raise URFormatError(
                "header.fragment",
                f"{where}: fragment of {len(part.fragment)} bytes where the first part's "
                f"had {self._fragment_length}",
            )

    def receive(self, part: FountainPart) -> None:
        """Take one part (any order, duplicates harmless).

        Raises :class:`MixedMessageError` / :class:`URFormatError` from
        :meth:`check_part` with the state unchanged, or :class:`FountainError` when the
        parts determine a message whose CRC32 is wrong; the decoder then starts over,
        since some part it holds is corrupt and nothing says which.
        """
        self.check_part(part)
        if self._seq_len == 0:
            self._seq_len = part.seq_len
            self._message_len = part.message_len
            self._checksum = part.checksum
            self._fragment_length = len(part.fragment)
        self._accepted += 1
        if self._result is not None:
            return
        if part.seq_num <= part.seq_len:
            # BCR-2024-001: parts 1..seqLen carry fragment seqNum - 1 alone.
            mask = 1 << (part.seq_num - 1)
        else:
            mask = indexes_mask(choose_fragments(part.seq_num, part.seq_len, part.checksum))
        self._insert(mask, int.from_bytes(part.fragment, "big"))
        if len(self._rows) == self._seq_len:
            self._solve()

    def _insert(self, mask: int, data: int) -> None:
        rows = self._rows
        # Eliminate every leading index that already starts a row; each step clears the
        # lowest bit and can only set higher ones, so this ends.
        while mask:
            low = (mask & -mask).bit_length() - 1
            row = rows.get(low)
            if row is None:
                break
            mask ^= row[0]
            data ^= row[1]
        if not mask:
            return
        if mask & (mask - 1):
            if self._mixed_rows >= self._max_mixed_parts:
                self._ignored += 1
                return
            self._mixed_rows += 1
        rows[(mask & -mask).bit_length() - 1] = (mask, data)

    def _solve(self) -> None:
        # Back-substitution from the highest index down: every other index in row i is
        # higher than i and already solved.
        solved = [0] * self._seq_len
        for index in range(self._seq_len - 1, -1, -1):
            mask, data = self._rows[index]
            rest = mask & ~(1 << index)
            while rest:
                low = rest & -rest
                data ^= solved[low.bit_length() - 1]
                rest ^= low
            solved[index] = data
        length = self._fragment_length
        message = b"".join(value.to_bytes(length, "big") for value in solved)[: self._message_len]
        checksum = zlib.crc32(message)
        if checksum != self._checksum:
            expected = self._checksum
            self._reset()
            raise FountainError(
                "message",
                f"reassembled message has CRC32 {checksum:08x}, the parts promised {expected:08x}",
            )
        self._result = message
        self._rows = {}
