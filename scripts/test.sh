#!/usr/bin/env bash
# Sets up a fresh machine (scripts/setup.sh), then runs the whole test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
exec .venv/bin/python -m pytest -n 2 "$@"
