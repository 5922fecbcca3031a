"""Turns a folder of wheels into a pip requirements file pinning each by version and SHA-256.

``pip install --require-hashes`` then refuses any wheel whose hash is not listed and any
dependency that is not pinned, so the requirements file is the complete list of what goes
into the signer's venv.

Usage: ``wheelhouse.py DIR [--exclude NAME ...] [--extras NAME=EXTRA,...]`` prints one
``name==version --hash=sha256:...`` line per wheel, sorted by name.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

# PEP 427: {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
WHEEL_NAME = re.compile(
    r"(?P<name>[A-Za-z0-9_.]+)-(?P<version>[A-Za-z0-9_.!+]+)"
    r"(-[0-9][A-Za-z0-9_.]*)?-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+\.whl"
)


class WheelNameError(Exception):
    """A file in the wheelhouse is not named as PEP 427 requires."""


@dataclass(frozen=True, slots=True)
class Wheel:
    """One wheel: its normalized project name, version and SHA-256."""

    name: str
    version: str
    sha256: str


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_wheel(path: Path) -> Wheel:
    """Name and version from the file name, SHA-256 from the bytes."""
    match = WHEEL_NAME.fullmatch(path.name)
    if match is None:
        raise WheelNameError(f"{path.name}: not a PEP 427 wheel file name")
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    return Wheel(normalize(match["name"]), match["version"], digest)


def requirements(wheels: list[Wheel], extras: dict[str, str]) -> str:
    """One pinned, hashed line per wheel, sorted by name; several wheels of one version merge."""
    hashes: dict[tuple[str, str], set[str]] = {}
    for wheel in wheels:
        hashes.setdefault((wheel.name, wheel.version), set()).add(wheel.sha256)
    names = [name for name, _ in hashes]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise WheelNameError(f"more than one version of {', '.join(duplicates)}")
    lines = []
    for (name, version), digests in sorted(hashes.items()):
        extra = f"[{extras[name]}]" if name in extras else ""
        pins = " ".join(f"--hash=sha256:{digest}" for digest in sorted(digests))
        lines.append(f"{name}{extra}=={version} {pins}")
    return "".join(line + "\n" for line in lines)


def main(argv: list[str] | None = None) -> int:
    """Print the requirements for a wheelhouse folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheelhouse", type=Path)
    parser.add_argument("--exclude", action="append", default=[], help="project to leave out")
    parser.add_argument("--only", action="append", default=[], help="list only this project")
    parser.add_argument("--extras", action="append", default=[], help="NAME=EXTRA[,EXTRA]")
    args = parser.parse_args(argv)
    excluded = {normalize(name) for name in args.exclude}
    only = {normalize(name) for name in args.only}
    extras = dict(item.split("=", 1) for item in args.extras)
    extras = {normalize(name): value for name, value in extras.items()}
    try:
        wheels = [read_wheel(path) for path in sorted(args.wheelhouse.glob("*.whl"))]
        wheels = [w for w in wheels if w.name not in excluded and (not only or w.name in only)]
        sys.stdout.write(requirements(wheels, extras))
    except (WheelNameError, OSError) as exc:
        print(f"wheelhouse: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
