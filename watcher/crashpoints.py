"""Named points where crash tests stop the watcher, so ``kill -9`` lands at a known step.

Production code calls ``crash.reached("build.committed")`` at each step boundary; the
default :class:`NoCrashPoints` does nothing. With ``COLDSIGN_WATCHER_CRASH_AT=NAME`` (or
``NAME#N`` for the N-th time), :class:`EnvCrashPoints` announces ``crash-point NAME`` on
stderr and waits for a signal, so the test can ``kill -9`` the process right there.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from typing import Protocol

CRASH_ENV = "COLDSIGN_WATCHER_CRASH_AT"


class CrashPoints(Protocol):
    """Told each time the watcher passes a named step."""

    def reached(self, name: str) -> None:
        """The watcher has just passed step ``name``."""
        ...


class NoCrashPoints:
    """The production default: steps are passed without a pause."""

    def reached(self, name: str) -> None:
        """Do nothing."""


class EnvCrashPoints:
    """Stops at the step named in ``COLDSIGN_WATCHER_CRASH_AT`` until a signal ends the process."""

    def __init__(self, spec: str) -> None:
        name, _, count = spec.partition("#")
        self._name = name
        self._remaining = int(count) if count.isdigit() and int(count) > 0 else 1

    def reached(self, name: str) -> None:
        """Announce and wait when ``name`` is the configured step (on its N-th pass)."""
        if name != self._name:
            return
        self._remaining -= 1
        if self._remaining:
            return
        sys.stderr.write(f"crash-point {name}\n")
        sys.stderr.flush()
        # Wait for the test's SIGKILL; any other signal's handler runs and the wait resumes.
        while True:
            signal.pause()


def crash_points_from(environ: Mapping[str, str] = os.environ) -> CrashPoints:
    """:class:`EnvCrashPoints` when the variable is set, else :class:`NoCrashPoints`."""
    spec = environ.get(CRASH_ENV)
    return EnvCrashPoints(spec) if spec else NoCrashPoints()
