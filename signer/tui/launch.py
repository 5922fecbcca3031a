"""Starting the screen from ``coldsign-signer`` with no command: the real camera, sysfs, time."""

from __future__ import annotations

import time
from collections.abc import Callable

from signer.airgap import NetworkProbe
from signer.home import SignerHome
from signer.tui.app import make_app

# The exit status when the signer refused to start (as the headless commands use it).
EXIT_BLOCKED = 1


def run_screen(
    home: SignerHome,
    *,
    probe: NetworkProbe,
    allow_online: bool,
    clock: Callable[[], float] = time.time,
) -> int:
    """Run the TUI until the person quits; 0, or 1 when start-up was refused."""
    app = make_app(home, probe=probe, clock=clock, allow_online=allow_online)
    app.run()
    return EXIT_BLOCKED if app.blocked else (app.return_code or 0)
