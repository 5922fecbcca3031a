"""The signer's identity: its package version and, on the appliance, the image's build id.

The image build (images/signer/build-rootfs.sh) writes the SHA-256 of the image manifest to
``/usr/share/coldsign/build-id``; ``COLDSIGN_BUILD_ID_FILE`` names another file (tests). Outside
an image there is none, and every place that shows the identity says so instead.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROGRAM = "coldsign-signer"
DEFAULT_BUILD_ID_FILE = "/usr/share/coldsign/build-id"
BUILD_ID_ENV = "COLDSIGN_BUILD_ID_FILE"
MAX_BUILD_ID_BYTES = 80
_BUILD_ID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """The package version, the image build id if there is a valid one, else why not."""

    version: str
    build_id: str | None
    note: str = ""

    def describe(self) -> str:
        """``build 7b63…`` (the whole id) or the reason there is none."""
        return f"build {self.build_id}" if self.build_id else self.note


def read_build_info(environ: Mapping[str, str] | None = None) -> BuildInfo:
    """Read the version and the build id file; a missing or bad file is said, not raised."""
    env = os.environ if environ is None else environ
    try:
        version = importlib.metadata.version("coldsign")
    except importlib.metadata.PackageNotFoundError:
        version = "(version unknown: not installed)"
    path = Path(env.get(BUILD_ID_ENV, DEFAULT_BUILD_ID_FILE))
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BUILD_ID_BYTES + 1)
    except FileNotFoundError:
        return BuildInfo(version, None, "no build id: not running from a coldsign image")
    except OSError as exc:
        return BuildInfo(version, None, f"build id unreadable: {path}: {exc.strerror}")
    text = raw.decode("ascii", "replace").strip()
    if len(raw) > MAX_BUILD_ID_BYTES or not _BUILD_ID.fullmatch(text):
        return BuildInfo(version, None, f"build id malformed: {path}")
    return BuildInfo(version, text)


def version_text(environ: Mapping[str, str] | None = None) -> str:
    """``coldsign-signer VERSION (build ID)``, or the reason in place of the build id."""
    info = read_build_info(environ)
    return f"{PROGRAM} {info.version} ({info.describe()})"
