#!/usr/bin/env bash
# Builds the coldsign signer appliance's root filesystem: a minimal Debian bookworm with the
# signer installed from hash-pinned wheels, no network packages, network/radio drivers left
# out and blacklisted, no swap, no core dumps, and a manifest whose hash is the build id.
#
# Usage (as root): images/signer/build-rootfs.sh [options] OUTDIR
#   --mirror URI           Debian mirror (default: $COLDSIGN_DEBIAN_MIRROR, else the URI that
#                          serves bookworm in this machine's apt sources). A dated snapshot
#                          URI pins every package (docs/appliance.md, "Reproducibility").
#   --security-mirror URI  bookworm-security (default: $COLDSIGN_DEBIAN_SECURITY_MIRROR, else
#                          apt's; none found: built without security updates, and says so)
#   --no-kernel            leave out the kernel, initramfs and live-boot (a chroot-only root,
#                          not bootable: for tests and inspection)
#   --worktree             install coldsign from the source tree as it is on disk, uncommitted
#                          changes included (default: the committed HEAD, via git archive)
#   --source DIR           coldsign's source tree (default: this repository)
#   --expect-packages FILE fail unless the installed Debian packages are exactly FILE's
#                          "name=version" lines (use with a snapshot mirror)
# Environment: SOURCE_DATE_EPOCH (default: the source commit's time), PYTHON (host python3).
# Needs: debootstrap (installed with apt-get when missing), python3 >= 3.11 with pip.
set -euo pipefail
started=$(date +%s)
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
suite=bookworm
arch=amd64
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
venv=/opt/coldsign
coldsign_uid=900

log() { printf 'build-rootfs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

mirror=${COLDSIGN_DEBIAN_MIRROR:-}
security_mirror=${COLDSIGN_DEBIAN_SECURITY_MIRROR:-}
with_kernel=1
worktree=0
source_dir=$(cd "$here/../.." && pwd)
expect_packages=
out=
while [ $# -gt 0 ]; do
  case $1 in
    --mirror) mirror=$2; shift 2 ;;
    --security-mirror) security_mirror=$2; shift 2 ;;
    --no-kernel) with_kernel=0; shift ;;
    --worktree) worktree=1; shift ;;
    --source) source_dir=$(cd "$2" && pwd); shift 2 ;;
    --expect-packages) expect_packages=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$out" ] || die "one OUTDIR only"; out=$1; shift ;;
  esac
done
[ -n "$out" ] || die "usage: build-rootfs.sh [options] OUTDIR (--help)"
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot need it)"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then die "$out exists and is not empty"; fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# --- prerequisites on the build host -------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap on the build host"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
[ -r "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
"$python" - <<'PY' || die "the host's python3 must be >= 3.11"
import sys
sys.exit(sys.version_info < (3, 11))
PY

if [ -z "$mirror" ]; then
  mirror=$("$python" "$here/mirror.py" "$suite") || die "no Debian mirror: use --mirror"
fi
if [ -z "$security_mirror" ]; then
  security_mirror=$("$python" "$here/mirror.py" "$suite-security" 2>/dev/null) || true
fi
updates=0
if [ -z "${COLDSIGN_DEBIAN_MIRROR:-}" ] && "$python" "$here/mirror.py" "$suite-updates" >/dev/null 2>&1
then
  updates=1
fi

# --- the wheelhouse: coldsign built from its source, every dependency hash-checked -----------
work=$(mktemp -d)
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$worktree" -eq 0 ] && git -C "$source_dir" rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git -C "$source_dir" rev-parse HEAD)
  source_line="git $commit"
  mkdir "$work/src"
  git -C "$source_dir" archive --format=tar HEAD | tar -x -C "$work/src"
  build_src=$work/src
  : "${SOURCE_DATE_EPOCH:=$(git -C "$source_dir" log -1 --format=%ct HEAD)}"
else
  source_line="worktree $source_dir"
  build_src=$source_dir
  [ -n "${SOURCE_DATE_EPOCH:-}" ] || die "set SOURCE_DATE_EPOCH (no git commit to take it from)"
fi
export SOURCE_DATE_EPOCH
log "source: $source_line; SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"

# shellcheck source=pip-platform.sh
. "$here/pip-platform.sh"
wheelhouse=$work/wheelhouse
log "building the coldsign wheel and fetching the pinned wheels"
"$python" -m pip wheel -q --no-deps -w "$wheelhouse" "$build_src" 2>"$work/pip.log" \
  || { cat "$work/pip.log" >&2; die "pip wheel failed"; }
"$python" -m pip download -q --no-deps --require-hashes "${COLDSIGN_PIP_TARGET[@]}" \
  -d "$wheelhouse" -r "$here/requirements.lock" -r "$here/installer.lock" 2>"$work/pip.log" \
  || { cat "$work/pip.log" >&2; die "pip download of the pinned wheels failed"; }
{
  grep -v '^#' "$here/requirements.lock"
  "$python" "$here/wheelhouse.py" "$wheelhouse" --only coldsign --extras coldsign=signer
} > "$wheelhouse/requirements.txt"
installer=$(cd "$wheelhouse" && ls pip-*.whl)

# --- the Debian base --------------------------------------------------------------------------
log "debootstrap $suite ($arch, minbase) from the configured mirror"
debootstrap --variant=minbase --arch="$arch" --keyring="$keyring" --force-check-gpg \
  "$suite" "$out" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

bind() { mount "$@"; mounted+=("${*: -1}"); }
bind -t proc proc "$out/proc"
bind -t sysfs sysfs "$out/sys"
bind --bind /dev "$out/dev"
bind --bind /dev/pts "$out/dev/pts"

in_root() {
  chroot "$out" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" TMPDIR=/tmp \
    ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} "$@"
}

# Services never start inside the build (invoke-rc.d's policy hook, 101 = action forbidden).
printf '#!/bin/sh\nexit 101\n' > "$out/usr/sbin/policy-rc.d"
chmod 755 "$out/usr/sbin/policy-rc.d"

# The image's own configuration goes in before the packages, so dpkg's path-exclude rules
# (no network drivers, no docs) apply while they unpack.
# Modes are set here, not taken from the checkout (whose umask may differ between machines).
(cd "$here/rootfs" && find . -mindepth 1 -type d) | while read -r dir; do
  install -d -m 0755 "$out/$dir"
done
(cd "$here/rootfs" && find . -type f) | while read -r file; do
  install -m 0644 "$here/rootfs/$file" "$out/$file"
done
chmod 0755 "$out/usr/local/sbin/coldsign-open-home" "$out/usr/local/bin/coldsign-setup" \
  "$out/usr/local/bin/coldsign-restore" "$out/usr/local/bin/coldsign-policy-install" \
  "$out/usr/local/sbin/coldsign-open-policy-stick"
# Where coldsign-open-policy-stick mounts the policy stick (read-only) for "Install a policy".
install -d -m 0755 "$out/media/coldsign-policy"

{
  echo "deb $mirror $suite main"
  [ "$updates" -eq 0 ] || echo "deb $mirror $suite-updates main"
  [ -z "$security_mirror" ] || echo "deb $security_mirror $suite-security main"
} > "$out/etc/apt/sources.list"
[ -n "$security_mirror" ] || log "WARNING: no $suite-security source found: no security updates"
cp /etc/resolv.conf "$out/etc/resolv.conf" 2>/dev/null || true

packages=()
lists=("$here/packages.txt")
[ "$with_kernel" -eq 0 ] || lists+=("$here/packages-live.txt")
for list in "${lists[@]}"; do
  while read -r name _; do
    case $name in ''|'#'*) ;; *) packages+=("$name") ;; esac
  done < "$list"
done
log "installing ${#packages[@]} packages: ${packages[*]}"
apt_opts=(-q -y -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false)
in_root apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1 \
  || { tail -30 "$work/apt.log" >&2; die "apt-get update failed"; }
# INITRD=No: the kernel's hooks skip the initramfs; it is built once, at the end.
in_root env INITRD=No apt-get "${apt_opts[@]}" install "${packages[@]}" >>"$work/apt.log" 2>&1 \
  || { tail -30 "$work/apt.log" >&2; die "apt-get install failed"; }

# --- the signer: a venv from the wheelhouse, every wheel checked against its hash --------------
log "installing coldsign[signer] into $venv from the hash-pinned wheelhouse"
in_root groupadd --system --gid "$coldsign_uid" coldsign
in_root useradd --system --uid "$coldsign_uid" --gid "$coldsign_uid" --groups video \
  --home-dir /var/lib/coldsign --no-create-home --shell /usr/sbin/nologin coldsign
mkdir -p "$out/var/lib/coldsign"
chmod 0755 "$out/var/lib/coldsign"
# live-boot's initramfs writes a loopback-only /etc/network/interfaces into the RAM overlay
# and complains on the console when the directory is missing; nothing reads the file.
install -d -m 0755 "$out/etc/network"
cp -a "$wheelhouse" "$out/tmp/wheelhouse"
in_root python3 -m venv --without-pip "$venv"
in_root "$venv/bin/python" "/tmp/wheelhouse/$installer/pip" install -q --no-index \
  --no-cache-dir --disable-pip-version-check --find-links /tmp/wheelhouse --require-hashes \
  -r /tmp/wheelhouse/requirements.txt >"$work/pip-install.log" 2>&1 \
  || { cat "$work/pip-install.log" >&2; die "pip install in the image failed"; }
rm -rf "$out/tmp/wheelhouse"

# --- boot-time configuration -------------------------------------------------------------------
units=$out/etc/systemd/system
mkdir -p "$units/multi-user.target.wants"
for unit in coldsign-signer.service coldsign-setup.service coldsign-restore.service \
  coldsign-policy-stick.service coldsign-policy-install.service; do
  ln -sf "/etc/systemd/system/$unit" "$units/multi-user.target.wants/$unit"
done
ln -sf /lib/systemd/system/multi-user.target "$units/default.target"
# Masked: the login prompt on the signer's console, systemd's own network daemons, and swap.
# getty-static starts logins on tty2-6 when logind is not running (it is not: no D-Bus).
for unit in getty@tty1.service getty-static.service systemd-networkd.service \
  systemd-networkd.socket systemd-networkd-wait-online.service systemd-resolved.service \
  systemd-timesyncd.service swap.target systemd-coredump.socket; do
  ln -sf /dev/null "$units/$unit"
done
rm -f "$units/getty.target.wants/getty@tty1.service"
# Housekeeping timers of a writable, long-lived system: nothing for them to do on a live image.
rm -f "$units"/timers.target.wants/{dpkg-db-backup,e2scrub_all,fstrim}.timer \
  "$units/multi-user.target.wants/e2scrub_reap.service"

if [ "$with_kernel" -eq 1 ]; then
  # Every module of the kernel's networking trees gets an "install /bin/false" line too, not
  # only the named families; their files are already left out by dpkg's path-exclude.
  blacklist=$out/etc/modprobe.d/coldsign-blacklist.conf
  {
    echo
    echo "# Generated from the installed kernel's modules.order: every module under"
    echo "# kernel/{drivers/net,net,drivers/bluetooth,drivers/nfc,drivers/infiniband,drivers/isdn,drivers/atm}."
    cat "$out"/lib/modules/*/modules.order \
      | grep -E '^kernel/(drivers/net|net|drivers/bluetooth|drivers/nfc|drivers/infiniband|drivers/isdn|drivers/atm)/' \
      | sed -E 's#.*/##; s#\.ko(\..*)?$##; s#-#_#g' | sort -u \
      | while read -r module; do
          grep -qx "install $module /bin/false" "$blacklist" \
            || printf 'blacklist %s\ninstall %s /bin/false\n' "$module" "$module"
        done
  } > "$work/blacklist.generated"
  cat "$work/blacklist.generated" >> "$blacklist"
  for version in $(ls "$out/lib/modules"); do
    in_root update-initramfs -c -k "$version" >"$work/initramfs.log" 2>&1 \
      || { cat "$work/initramfs.log" >&2; die "update-initramfs failed"; }
  done
fi

# --- minimise: nothing stays that the signer and booting do not need -----------------------
# Every package not named in the lists (and not Essential) becomes "automatic"; apt then
# removes apt itself and whatever only it needed. The appliance is rebuilt, never updated.
keep=("${packages[@]}")
in_root apt-mark auto $(in_root dpkg-query -W -f '${Package}\n') >/dev/null
in_root apt-mark manual "${keep[@]}" >/dev/null
in_root apt-get "${apt_opts[@]}" --allow-remove-essential purge --autoremove apt \
  >>"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log" >&2; die "removing apt failed"; }

# What the minimised system must still do: import every module of the packages the signer
# ships (a wheel whose system library was removed, or a dependency missing from the lock,
# fails here, not on the operator's desk).
in_root env PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -c 'import importlib, pkgutil
import shared, signer, channel
for package in (shared, signer, channel):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)' \
  || die "the signer's Python packages do not import in the image"
if [ -e "$build_src/signer/cli.py" ]; then
  in_root env PYTHONDONTWRITEBYTECODE=1 "$venv/bin/coldsign-signer" --version >/dev/null \
    || die "coldsign-signer --version fails in the image"
fi

# --- cleanup: nothing of the build machine or the build's moment stays ------------------------
rm -f "$out/usr/sbin/policy-rc.d" "$out/etc/apt/sources.list"
rm -rf "$out/var/lib/apt" "$out/var/cache/apt" "$out/etc/apt"
rm -rf "$out"/tmp/* "$out"/var/tmp/* "$out"/root/.cache "$out/var/cache/ldconfig/aux-cache"
rm -f "$out"/var/cache/debconf/*-old "$out"/var/lib/dpkg/*-old "$out"/etc/*-
find "$out/var/log" -type f -delete
# Journals stay in RAM (/run/log/journal); the persistent directory also carries an ACL.
rm -rf "$out/var/log/journal"
: > "$out/etc/resolv.conf"
# An empty machine-id: systemd gives each boot of the read-only image a fresh one.
: > "$out/etc/machine-id"
rm -f "$out/var/lib/dbus/machine-id"
# root stays locked ("*" from debootstrap): there is no shell login on the appliance.
grep -q '^root:[*!]' "$out/etc/shadow" || die "root has a password in /etc/shadow"

# --- checks: the deny list, and the pinned package set when one is given -----------------------
installed=$(in_root dpkg-query -W -f '${db:Status-Status} ${Package}\n' | awk '$1 == "installed" { print $2 }')
denied=()
while read -r pattern _; do
  case $pattern in ''|'#'*) continue ;; esac
  for name in $installed; do
    # shellcheck disable=SC2254 # the pattern is a glob on purpose
    case $name in $pattern) denied+=("$name") ;; esac
  done
done < "$here/deny-packages.txt"
[ ${#denied[@]} -eq 0 ] || die "denied packages installed: ${denied[*]}"
if [ -n "$expect_packages" ]; then
  in_root dpkg-query -W -f '${Package}=${Version}\n' | LC_ALL=C sort > "$work/packages.now"
  grep -v "^#" "$expect_packages" | LC_ALL=C sort | diff -u - "$work/packages.now" >&2 \
    || die "installed packages differ from $expect_packages"
fi

for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}"; done
mounted=()

# --- the manifest and the build identity ---------------------------------------------------------
log "writing the manifest"
build_id=$("$python" "$here/manifest.py" write "$out" \
  --source "$source_line; SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH")
elapsed=$(( $(date +%s) - started ))
size=$(du -sx --block-size=1M "$out" | cut -f1)
log "done in ${elapsed}s; root filesystem ${size} MiB; $(grep -c '^deb ' "$out/usr/share/coldsign/manifest.txt") Debian packages"
echo "coldsign build id: $build_id"
