"""QR codes as text: half-block characters, two module rows per line, for TUIs and terminals."""

from __future__ import annotations

import numpy as np

from channel.render import (
    DEFAULT_MASK,
    MIN_QUIET_ZONE,
    ECLevel,
    Modules,
    qr_modules,
)

# (upper module inked, lower module inked) -> character; a terminal cell is about twice as
# tall as it is wide, so two modules stacked in one cell come out square.
_BLOCKS = {(True, True): "█", (True, False): "▀", (False, True): "▄", (False, False): " "}


def modules_text(
    modules: Modules, *, quiet_zone: int = MIN_QUIET_ZONE, dark_ink: bool = True
) -> str:
    """A module matrix as lines of ``▀▄█`` and spaces, quiet zone included.

    ``dark_ink`` True: characters draw the dark modules, for dark text on a light
    background (how a TUI styles its QR widget). False: characters draw the light modules
    and the quiet zone, for light text on a dark terminal.
    """
    padded = np.pad(modules, quiet_zone, constant_values=False)
    if padded.shape[0] % 2:
        # A last half-row of quiet zone, so every line has an upper and a lower module.
        padded = np.pad(padded, ((0, 1), (0, 0)), constant_values=False)
    ink = padded if dark_ink else ~padded
    lines = []
    for row in range(0, ink.shape[0], 2):
        upper, lower = ink[row], ink[row + 1]
        lines.append(
            "".join(_BLOCKS[(bool(u), bool(v))] for u, v in zip(upper, lower, strict=True))
        )
    return "\n".join(lines)


def qr_text(
    part: str,
    *,
    ec: ECLevel = ECLevel.L,
    version: int | None = None,
    quiet_zone: int = MIN_QUIET_ZONE,
    dark_ink: bool = True,
) -> str:
    """One part string (upper case) as half-block text; see :func:`modules_text`."""
    modules = qr_modules(part, ec=ec, version=version, mask_pattern=DEFAULT_MASK)
    return modules_text(modules, quiet_zone=quiet_zone, dark_ink=dark_ink)
