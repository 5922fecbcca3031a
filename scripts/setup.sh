#!/usr/bin/env bash
# Installs everything coldsign needs on a fresh Debian machine; safe to run again.
#   - Debian: libzbar0 (pyzbar's QR decoder), nodejs/npm if absent
#   - Python: a virtual environment in .venv with coldsign[signer,watcher,dev]
#   - node:   the pinned packages of interop/package-lock.json (anvil, and the
#             reference BC-UR / ERC-4527 libraries used by cross-implementation tests)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
log() { printf 'setup: %s\n' "$*" >&2; }

apt_missing=()
ldconfig -p | grep -q 'libzbar\.so\.0' || apt_missing+=(libzbar0)
command -v npm >/dev/null || apt_missing+=(nodejs npm)
command -v python3 >/dev/null || apt_missing+=(python3 python3-venv)
if [ ${#apt_missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${apt_missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi

python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"setup: coldsign needs Python >= 3.11, found {sys.version.split()[0]}")
PY

# Reinstall the Python packages only when pyproject.toml changed.
stamp_py=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.coldsign-stamp 2>/dev/null)" != "$stamp_py" ]; then
  log "installing Python packages into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[signer,watcher,dev]'
  echo "$stamp_py" > .venv/.coldsign-stamp
fi

stamp_node=$(sha256sum interop/package-lock.json | cut -c1-16)
if [ "$(cat interop/node_modules/.coldsign-stamp 2>/dev/null)" != "$stamp_node" ]; then
  log "installing pinned node packages (interop/package-lock.json)"
  # `npm ci` refuses a lock made on one platform for packages with per-platform
  # optional binaries (anvil); `npm install` honours the exact pins and integrity hashes.
  (cd interop && npm install --no-audit --no-fund --loglevel=error)
  echo "$stamp_node" > interop/node_modules/.coldsign-stamp
fi
