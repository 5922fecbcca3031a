#!/usr/bin/env bash
# The README's first command: sets up a fresh machine (scripts/setup.sh), then runs the demo
# (scripts/demo.py): a withdrawal batch from file to a local anvil chain, the watcher and the
# signer joined only by QR codes (a PNG to pair, an MP4 each way). Artefacts go to demo-out/
# (or --out DIR), emptied at the start of every run; see docs/demo.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
exec .venv/bin/python scripts/demo.py "$@"
