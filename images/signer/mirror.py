"""Finds the Debian mirror for a suite in the build machine's own apt configuration.

The recipe never names a package host itself: the operator's apt sources (deb822
``*.sources`` files and the one-line ``sources.list`` format) say where Debian comes from,
and ``--mirror`` / ``COLDSIGN_DEBIAN_MIRROR`` override them (a dated snapshot, for a
reproducible build).

Usage: ``python3 mirror.py SUITE [--apt-dir /etc/apt]``; prints the URI, exits 1 when no
enabled ``deb`` source serves SUITE with the ``main`` component.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class AptSource:
    """One ``deb`` source: where it is, which suites and components it serves."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def parse_deb822(text: str) -> list[AptSource]:
    """The enabled ``deb`` sources of a deb822 ``.sources`` file (sources.list(5))."""
    sources: list[AptSource] = []
    for stanza in _stanzas(text):
        if stanza.get("enabled", "yes").strip().lower() == "no":
            continue
        if "deb" not in stanza.get("types", "").split():
            continue
        suites = tuple(stanza.get("suites", "").split())
        components = tuple(stanza.get("components", "").split())
        sources.extend(AptSource(uri, suites, components) for uri in stanza["uris"].split())
    return [source for source in sources if source.suites]


def parse_one_line(text: str) -> list[AptSource]:
    """The ``deb`` lines of a one-line-style ``sources.list`` (options in brackets skipped)."""
    sources: list[AptSource] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        words = line.split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            # "[ arch=amd64 signed-by=... ]": skip up to the closing bracket.
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2:
            sources.append(AptSource(words[0], (words[1],), tuple(words[2:])))
    return sources


def apt_sources(apt_dir: Path) -> list[AptSource]:
    """Every ``deb`` source in apt's own order: sources.list, then sources.list.d sorted."""
    found: list[AptSource] = []
    main_list = apt_dir / "sources.list"
    if main_list.is_file():
        found += parse_one_line(main_list.read_text(encoding="utf-8", errors="replace"))
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".sources":
                found += parse_deb822(text)
            elif path.suffix == ".list":
                found += parse_one_line(text)
    return found


def mirror_for(suite: str, sources: list[AptSource]) -> str | None:
    """The first source serving ``suite`` with Debian's ``main`` component."""
    for source in sources:
        if suite in source.suites and "main" in source.components:
            return source.uri.rstrip("/")
    return None


def _stanzas(text: str) -> list[dict[str, str]]:
    """deb822 paragraphs as lower-cased field name -> value (continuation lines joined)."""
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for raw in [*text.splitlines(), ""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if current:
                stanzas.append(current)
            current, last = {}, None
        elif raw[0] in " \t" and last is not None:
            current[last] += " " + raw.strip()
        elif ":" in raw:
            name, value = raw.split(":", 1)
            last = name.strip().lower()
            current[last] = value.strip()
    return [stanza for stanza in stanzas if "uris" in stanza]


def main(argv: list[str] | None = None) -> int:
    """Print the mirror URI for a suite; exit 1 when apt knows none."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("--apt-dir", type=Path, default=Path("/etc/apt"))
    args = parser.parse_args(argv)
    uri = mirror_for(args.suite, apt_sources(args.apt_dir))
    if uri is None:
        print(
            f"mirror: no enabled 'deb' source in {args.apt_dir} serves {args.suite} main; "
            "give --mirror or set COLDSIGN_DEBIAN_MIRROR",
            file=sys.stderr,
        )
        return 1
    print(uri)
    return 0


if __name__ == "__main__":
    sys.exit(main())
