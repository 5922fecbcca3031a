"""Receiving one UR from camera frames: decoded payloads into a URDecoder, with progress and notes.

The camera is untrusted: it may show codes that are not URs, URs of another type (a decoy),
parts of another message, or a stream that never completes. Each becomes a :class:`Note`,
given once (not every frame), and never a crash; a stream that never converges ends in
:class:`~channel.errors.ScanNotConvergingError`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from channel.errors import ScanNotConvergingError
from channel.frames import FrameSource, Image
from channel.scan import QRReader, ZbarReader
from shared.errors import FountainError, MixedMessageError, URError, URFormatError, URTypeError
from shared.ur import UR, Progress, URDecoder

# A flood: more new parts than this without completing (brief: max(100, 20 x seqLen)).
FLOOD_MINIMUM = 100
FLOOD_FACTOR = 20
# New parts of one other message, with none of ours in between, before following it: the
# sender switched density or started another message. An interleaved decoy never gets
# this many in a row, because the message in progress keeps arriving between them.
DEFAULT_SWITCH_AFTER = 24
# Payloads remembered to skip the repeats a camera sees while one code is on screen.
_SEEN_LIMIT = 16_384
_SHOWN_LIMIT = 48


class NoteKind(enum.StrEnum):
    """What the receiver noticed and ignored (or did) instead of decoding."""

    NOT_UR = "not-ur"
    OTHER_TYPE = "other-type"
    OTHER_MESSAGE = "other-message"
    BAD_PART = "bad-part"
    RESTARTED = "restarted"
    SWITCHED = "switched"


@dataclass(frozen=True, slots=True)
class Note:
    """One thing to show the operator, once: its kind and a one-line text."""

    kind: NoteKind
    text: str


def _shown(payload: str) -> str:
    text = payload if len(payload) <= _SHOWN_LIMIT else payload[:_SHOWN_LIMIT] + "..."
    return repr(text)


def _part_seq_len(payload: str) -> str:
    # ``ur:type/seqNum-seqLen/body``: the seqLen names a message well enough for a note.
    pieces = payload.lower().split("/")
    if len(pieces) == 3 and "-" in pieces[1]:
        return pieces[1].rsplit("-", 1)[1][:10]
    return "1"


class Receiver:
    """Feeds decoded QR payloads into one ``URDecoder`` and reports what it ignored.

    ``feed_frame`` reads a frame with the QR reader; ``feed`` takes payloads directly.
    ``progress``, ``notes`` (in order, each once) and ``result()`` are for the screen.
    """

    def __init__(
        self,
        expected_types: frozenset[str] | None = None,
        *,
        reader: QRReader | None = None,
        switch_after: int = DEFAULT_SWITCH_AFTER,
    ) -> None:
        if switch_after < 1:
            raise ValueError("switch_after must be at least 1")
        self.expected_types = expected_types
        self._reader = reader if reader is not None else ZbarReader()
        self._switch_after = switch_after
        self._notes: list[Note] = []
        self._noted: set[tuple[NoteKind, str]] = set()
        self._seen: set[str] = set()
        self._start()

    def _start(self) -> None:
        self._decoder = URDecoder(self.expected_types)
        self._seen.clear()
        self._new_parts = 0
        # The latest run of other-message parts, replayed if the receiver follows them.
        self._foreign: list[str] = []

    @property
    def progress(self) -> Progress:
        """How far the message in progress has got."""
        return self._decoder.progress

    @property
    def is_complete(self) -> bool:
        """True once :meth:`result` is available."""
        return self._decoder.is_complete

    @property
    def notes(self) -> tuple[Note, ...]:
        """Everything noted so far, oldest first, each at most once."""
        return tuple(self._notes)

    def result(self) -> UR:
        """The received UR; ``shared.errors.IncompleteError`` until complete."""
        return self._decoder.result()

    def reset(self) -> None:
        """Forget the message in progress (an operator's "start over")."""
        self._start()

    def feed_frame(self, frame: Image) -> list[Note]:
        """Decode every QR code in ``frame`` and take its payload; return new notes."""
        return self.feed(self._reader.read(frame))

    def feed(self, payloads: Iterable[str]) -> list[Note]:
        """Take decoded payloads; return the notes they caused that were not given before."""
        before = len(self._notes)
        for payload in payloads:
            if self._decoder.is_complete:
                break
            self._take(payload)
        return self._notes[before:]

    def _note(self, kind: NoteKind, subject: str, text: str) -> None:
        if (kind, subject) in self._noted:
            return
        self._noted.add((kind, subject))
        self._notes.append(Note(kind, text))

    def _take(self, payload: str) -> None:
        if payload in self._seen:
            return
        if len(self._seen) >= _SEEN_LIMIT:
            self._seen.clear()
        self._seen.add(payload)
        try:
            self._decoder.receive(payload)
        except URTypeError as exc:
            self._note(NoteKind.OTHER_TYPE, exc.reason, f"ignored a code of another type: {exc}")
        except MixedMessageError as exc:
            self._other_message(payload, exc)
        except FountainError as exc:
            # The parts held rebuilt a message with a wrong CRC32: the decoder started over.
            self._start()
            self._notes.append(Note(NoteKind.RESTARTED, f"started over: {exc}"))
        except URFormatError as exc:
            if exc.field == "scheme":
                self._note(
                    NoteKind.NOT_UR, "", f"ignored a QR code that is not a UR: {_shown(payload)}"
                )
            else:
                self._count_new()
                self._note(NoteKind.BAD_PART, exc.field, f"ignored a malformed part: {exc}")
        except URError as exc:
            self._count_new()
            self._note(NoteKind.BAD_PART, exc.field, f"ignored a malformed part: {exc}")
        else:
            self._foreign.clear()
            self._count_new()

    def _other_message(self, payload: str, exc: MixedMessageError) -> None:
        self._count_new()
        self._foreign.append(payload)
        if len(self._foreign) >= self._switch_after:
            # Only the other message has been arriving: follow it, keeping its parts.
            replay = self._foreign
            self._start()
            self._notes.append(
                Note(
                    NoteKind.SWITCHED,
                    f"started over on another message after {len(replay)} of its parts "
                    "and none of the one in progress",
                )
            )
            for earlier in replay:
                self._take(earlier)
            return
        self._note(
            NoteKind.OTHER_MESSAGE,
            _part_seq_len(payload),
            f"ignored a part of another message (not merged): {exc}",
        )

    def _count_new(self) -> None:
        self._new_parts += 1
        seq_len = self._decoder.progress.seq_len
        limit = max(FLOOD_MINIMUM, FLOOD_FACTOR * seq_len)
        if self._new_parts > limit and not self._decoder.is_complete:
            received = self._new_parts
            self._start()
            raise ScanNotConvergingError(
                "scan",
                f"{received} new parts without completing a {seq_len or '?'}-part message; "
                "started over (is more than one sender in view?)",
            )


def receive_from(
    source: FrameSource, receiver: Receiver, *, max_frames: int | None = None
) -> Progress:
    """Feed frames from ``source`` until the message completes, the source ends, or
    ``max_frames`` frames were read; return the progress reached."""
    for count, frame in enumerate(source, start=1):
        receiver.feed_frame(frame)
        if receiver.is_complete or (max_frames is not None and count >= max_frames):
            break
    return receiver.progress
