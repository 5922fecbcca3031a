"""Line numbers for a TOML document's tables and keys, found by scanning the text.

``tomllib`` returns values without positions, so errors about a well-formed file (unknown
key, wrong type, duplicate entry) find their line here: the ``n``-th ``[[name]]`` header is
entry ``n`` of that array of tables, and a ``key =`` line below a header belongs to it.
"""

from __future__ import annotations

import re

# TOML v1.0.0 §Table / §Array of Tables: ``[name]`` and ``[[name]]`` headers, possibly with
# whitespace inside the brackets and a comment after. Dotted names are kept whole.
_ARRAY_HEADER = re.compile(r"\s*\[\[\s*([A-Za-z0-9_.\-]+)\s*\]\]\s*(?:#.*)?")
_TABLE_HEADER = re.compile(r"\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(?:#.*)?")
# TOML v1.0.0 §Keys: a bare key or a basic-string quoted key before ``=``.
_KEY = re.compile(r'\s*(?:([A-Za-z0-9_\-]+)|"([^"\\]*)")\s*=')

# An entry of the document: (table name, index within its array, or None for a plain table).
Entry = tuple[str, int | None]
TOP_LEVEL: Entry = ("", None)


class LineIndex:
    """Where each table header and each key of a TOML text is written (1-based lines)."""

    __slots__ = ("_headers", "_keys", "_lines")

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._headers: dict[Entry, int] = {}
        self._keys: dict[tuple[Entry, str], int] = {}
        counts: dict[str, int] = {}
        current: Entry = TOP_LEVEL
        for number, line in enumerate(self._lines, start=1):
            array = _ARRAY_HEADER.fullmatch(line)
            if array is not None:
                name = array.group(1)
                index = counts.get(name, 0)
                counts[name] = index + 1
                current = (name, index)
                self._headers.setdefault(current, number)
                continue
            table = _TABLE_HEADER.fullmatch(line)
            if table is not None:
                current = (table.group(1), None)
                self._headers.setdefault(current, number)
                continue
            key = _KEY.match(line)
            if key is not None:
                name = key.group(1) if key.group(1) is not None else key.group(2)
                self._keys.setdefault((current, name), number)

    def header(self, entry: Entry) -> int:
        """The line of ``entry``'s header, or of a top-level ``name = ...`` that defines it."""
        line = self._headers.get(entry)
        if line is not None:
            return line
        # An array of tables written inline (``chain = [{...}]``) or a misplaced key.
        return self._keys.get((TOP_LEVEL, entry[0]), 1)

    def key(self, entry: Entry, key: str) -> int:
        """The line of ``key`` in ``entry``, falling back to the entry's header line."""
        line = self._keys.get((entry, key))
        return line if line is not None else self.header(entry)

    def element(self, entry: Entry, key: str, literal: str, occurrence: int = 1) -> int:
        """The line of an array element written as ``literal``, at or after its key's line.

        Multi-line arrays put each element on its own line; the ``occurrence``-th line from
        the key onwards that contains the element's text is the one to point at.
        """
        start = self.key(entry, key)
        seen = 0
        for number in range(start, len(self._lines) + 1):
            line = self._lines[number - 1]
            if number > start and (
                _ARRAY_HEADER.fullmatch(line) or _TABLE_HEADER.fullmatch(line) or _KEY.match(line)
            ):
                break
            if literal in line:
                seen += 1
                if seen == occurrence:
                    return number
        return start
