"""Start-up of the signer TUI: from launching the program to the unlock screen on screen.

Run: ``.venv/bin/python benchmarks/tui_startup.py``. Each trial starts a fresh Python process
that builds the app for a prepared signer home (vault, policy, audit log) and runs it
headless until the unlock screen has been drawn, then exits. Reported, as medians:

- to unlock screen: from the parent starting the process to the child having the unlock
  screen on screen (interpreter start, imports, start-up checks, first paint); target < 2 s;
- imports: the child's time to import ``signer.tui.app`` (Textual, opencv, the core);
- app: the child's time from ``App.run`` to the unlock screen (start-up checks: air gap,
  audit log verification, policy, vault header; then the first screen).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from signer.core import create_state
from signer.home import SignerHome
from signer.keys.bip39 import SecretMnemonic
from signer.keys.kdf import MIN_PARAMS
from signer.keys.paths import Scheme, scheme_path
from signer.keys.vault import Vault
from signer.policy.template import policy_template

ROOT = Path(__file__).resolve().parent.parent
TRIALS = 7
TARGET_SECONDS = 2.0
MNEMONIC = "test test test test test test test test test test test junk"

# The child: import, build the app, run headless until the unlock screen is current and
# drawn, then print its timings (wall-clock seconds) as JSON and exit.
CHILD = r"""
import json, sys, time
started = time.time()
sys.path.insert(0, sys.argv[2])
from signer.airgap import InterfaceKind, InterfaceState
from signer.home import SignerHome
import signer.tui.app as tui
from signer.tui.screens.unlock import UnlockScreen
imported = time.time()

class Offline:
    def interfaces(self):
        return [InterfaceState("lo", True, InterfaceKind.LOOPBACK)]
    def radios(self):
        return []

from pathlib import Path
app = tui.make_app(SignerHome(Path(sys.argv[1])), probe=Offline())
marks = {}

async def pilot(p):
    while not isinstance(p.app.screen, UnlockScreen):
        await p.pause(0.005)
    await p.pause()
    marks["ready"] = time.time()
    p.app.exit()

running = time.time()
app.run(headless=True, auto_pilot=pilot, size=(100, 32))
print(json.dumps({"started": started, "imported": imported, "running": running,
                  "ready": marks["ready"]}))
"""


def make_home(root: Path) -> SignerHome:
    home = SignerHome(root)
    home.create()
    create_state(home)  # as `init` does: ledger and limits before the vault
    paths = (scheme_path(Scheme.STANDARD, 0), scheme_path(Scheme.STANDARD, 1))
    Vault(home.vault_path).import_mnemonic(
        "benchmark passphrase", SecretMnemonic.from_phrase(MNEMONIC), paths, kdf=MIN_PARAMS
    )
    home.write_policy(policy_template("benchmark").encode())
    return home


def trial(home: SignerHome) -> dict[str, float]:
    launched = time.time()
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(home.root), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    marks = json.loads(run.stdout.strip().splitlines()[-1])
    return {
        "total": marks["ready"] - launched,
        "imports": marks["imported"] - marks["started"],
        "app": marks["ready"] - marks["running"],
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        home = make_home(Path(directory) / "home")
        trial(home)  # warm the file-system cache and the .pyc files
        results = [trial(home) for _ in range(TRIALS)]
    total = statistics.median(r["total"] for r in results)
    imports = statistics.median(r["imports"] for r in results)
    app = statistics.median(r["app"] for r in results)
    print(f"signer TUI start-up, median of {TRIALS} fresh processes")
    print(f"  launch to unlock screen: {total:.3f} s (target < {TARGET_SECONDS:.0f} s)")
    print(f"  imports (Textual, opencv, core): {imports:.3f} s")
    print(f"  App.run to unlock screen: {app:.3f} s")
    print(f"  within target: {'yes' if total < TARGET_SECONDS else 'NO'}")


if __name__ == "__main__":
    main()
