"""UR text parts in and out: read a complete UR from part lines, write requests through a writer.

Image and video output belong to ``channel/``; the watcher only needs something that takes
a UR and leaves it where the operator's QR display picks it up, so the writer is an
interface and :class:`TextPartsWriter` (one part per line) is the default.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from shared.errors import DecodeError, IncompleteError
from shared.ur import UR, URDecoder, UREncoder


class RequestWriter(Protocol):
    """Puts one sign request where the QR display will show it; returns where."""

    def write(self, name: str, ur: UR) -> Path:
        """Write ``ur`` under ``name`` (no extension); return the file written."""
        ...


class TextPartsWriter:
    """Writes ``NAME.txt`` with the UR's parts, one per line, atomically (temp, fsync, rename).

    A single-fragment message is one ``ur:type/...`` line; otherwise the ``seq_len`` pure
    fragments, which a text file carries without loss.
    """

    def __init__(self, directory: Path, max_fragment_length: int) -> None:
        self.directory = directory
        self.max_fragment_length = max_fragment_length

    def write(self, name: str, ur: UR) -> Path:
        """Write the parts file and return its path."""
        encoder = UREncoder(ur, self.max_fragment_length)
        lines = encoder.parts(encoder.seq_len)
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{name}.txt"
        write_atomically(target, "".join(line + "\n" for line in lines).encode("ascii"))
        return target


def write_atomically(target: Path, content: bytes) -> None:
    """Replace ``target`` with ``content`` so that a crash leaves the old or the new file."""
    temporary = target.with_name(target.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_ur(lines: Sequence[str], expected: frozenset[str], *, source: str) -> UR:
    """Reassemble one UR from part lines (blank lines ignored, any order, any case).

    A bad part raises its ``DecodeError`` with the line number prefixed to ``field``; too
    few parts raise :class:`IncompleteError`.
    """
    decoder = URDecoder(expected)
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            decoder.receive(line)
        except DecodeError as exc:
            raise type(exc)(
                f"{source} line {number}: {exc.field}", exc.reason, offset=exc.offset
            ) from exc
    if not decoder.is_complete:
        progress = decoder.progress
        raise IncompleteError(
            f"{source}: the parts do not make a complete message "
            f"({progress.parts_received} parts read, {progress.estimated_remaining} more needed)"
        )
    return decoder.result()
