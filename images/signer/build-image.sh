#!/usr/bin/env bash
# Turns a root filesystem made by build-rootfs.sh into a bootable live image for a USB stick:
# the root as a read-only squashfs that live-boot mounts, the kernel and initramfs beside it,
# GRUB for BIOS and UEFI (grub-mkrescue: an ISO 9660 hybrid that can be written to a stick
# as it is). The root is checked against its manifest first, so the image holds exactly what
# the build id names.
#
# Usage (as root): images/signer/build-image.sh [--compression xz|zstd|gzip] ROOTFS OUT.img
# Writes OUT.img and OUT.img.sha256; prints the build id and the image's SHA-256.
# Needs: squashfs-tools, xorriso, grub-common, grub-pc-bin, grub-efi-amd64-bin, mtools
# (installed with apt-get when missing).
# Not done: Secure Boot (GRUB here is unsigned: turn Secure Boot off, or see docs/appliance.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
compression=xz
log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

args=()
while [ $# -gt 0 ]; do
  case $1 in
    --compression) compression=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 2 ] || die "usage: build-image.sh [--compression xz|zstd|gzip] ROOTFS OUT.img"
rootfs=$(cd "${args[0]}" && pwd)
out=$(realpath "${args[1]}")
case $compression in xz|zstd|gzip) ;; *) die "--compression must be xz, zstd or gzip" ;; esac
[ "$(id -u)" -eq 0 ] || die "run as root (the root filesystem has files only root can read)"

need=()
command -v mksquashfs >/dev/null || need+=(squashfs-tools)
command -v xorriso >/dev/null || need+=(xorriso)
command -v grub-mkrescue >/dev/null || need+=(grub-common)
[ -d /usr/lib/grub/i386-pc ] || need+=(grub-pc-bin)
[ -d /usr/lib/grub/x86_64-efi ] || need+=(grub-efi-amd64-bin)
command -v mformat >/dev/null || need+=(mtools)
if [ ${#need[@]} -gt 0 ]; then
  log "installing on the build host: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
    >/dev/null
fi

# The root must be exactly what its manifest says: the build id then names this image.
"$python" "$here/manifest.py" verify "$rootfs" >&2 || die "$rootfs does not match its manifest"
build_id=$(cat "$rootfs/usr/share/coldsign/build-id")
manifest=$rootfs/usr/share/coldsign/manifest.txt
# The image's timestamps come from the root's SOURCE_DATE_EPOCH (recorded in the manifest).
epoch=$(sed -n 's/^source .*%3B%20SOURCE_DATE_EPOCH%3D\([0-9]*\)$/\1/p' "$manifest")
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-${epoch:?no SOURCE_DATE_EPOCH in the manifest}}

kernels=("$rootfs"/boot/vmlinuz-*)
[ ${#kernels[@]} -eq 1 ] && [ -f "${kernels[0]}" ] \
  || die "need exactly one kernel in $rootfs/boot (was it built with --no-kernel?)"
version=${kernels[0]##*/vmlinuz-}
[ -f "$rootfs/boot/initrd.img-$version" ] || die "no initrd.img-$version in $rootfs/boot"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
iso=$work/iso
mkdir -p "$iso/live" "$iso/boot/grub" "$iso/coldsign"
log "squashfs of the root ($compression)"
# squashfs-tools >= 4.4 sets the filesystem's time and every file's time to SOURCE_DATE_EPOCH.
mksquashfs "$rootfs" "$iso/live/filesystem.squashfs" -comp "$compression" -noappend \
  -no-progress -quiet -reproducible \
  -wildcards -e 'proc/*' 'sys/*' 'dev/*' 'run/*' 'tmp/*' >&2
cp "${kernels[0]}" "$iso/live/vmlinuz"
cp "$rootfs/boot/initrd.img-$version" "$iso/live/initrd.img"
cp "$rootfs/usr/share/coldsign/build-id" "$manifest" "$iso/coldsign/"

# Kernel command line: live-boot from /live, no persistence, no swap partitions found by
# systemd, kernel lockdown (no reading kernel memory, no hibernation image of the keys), freed
# memory zeroed. live-boot's verify-checksums checks the medium against sha256sum.txt and then
# reboots (it is a check, not a boot), so it has its own menu entry.
cmdline="boot=live live-media-path=/live nopersistence"
cmdline+=" systemd.gpt_auto=0 lockdown=confidentiality init_on_free=1 quiet"
cat > "$iso/boot/grub/grub.cfg" <<EOF
# coldsign signer appliance, build $build_id
set default=0
set timeout=5
menuentry "coldsign signer (build ${build_id:0:16})" {
  linux /live/vmlinuz $cmdline
  initrd /live/initrd.img
}
menuentry "coldsign signer, copied to RAM: the boot stick may be removed (build ${build_id:0:16})" {
  linux /live/vmlinuz $cmdline toram
  initrd /live/initrd.img
}
menuentry "Set up a new signer home: create the vault (new mnemonic) and a default-deny policy" {
  linux /live/vmlinuz $cmdline coldsign.setup
  initrd /live/initrd.img
}
menuentry "Restore a signer home from its mnemonic: type the words, check the addresses" {
  linux /live/vmlinuz $cmdline coldsign.restore
  initrd /live/initrd.img
}
menuentry "Install a policy from a stick labelled COLDSIGN-POLICY (policy.toml)" {
  linux /live/vmlinuz $cmdline coldsign.policy
  initrd /live/initrd.img
}
menuentry "Check this medium against its sha256sum.txt, then reboot" {
  linux /live/vmlinuz $cmdline verify-checksums=sha256
  initrd /live/initrd.img
}
EOF
# live-boot's verify-checksums reads <digest>sum.txt at the medium's root.
(cd "$iso" && find live coldsign boot -type f -print0 | LC_ALL=C sort -z \
  | xargs -0 sha256sum) > "$work/sha256sum.txt"
mv "$work/sha256sum.txt" "$iso/sha256sum.txt"

log "grub-mkrescue (BIOS and UEFI)"
grub-mkrescue -o "$out" "$iso" -- -volid COLDSIGN >"$work/mkrescue.log" 2>&1 \
  || { cat "$work/mkrescue.log" >&2; die "grub-mkrescue failed"; }
image_sha=$(sha256sum "$out" | cut -d' ' -f1)
echo "$image_sha  ${out##*/}" > "$out.sha256"
log "$(du -m "$out" | cut -f1) MiB: $out"
echo "coldsign build id: $build_id"
echo "image sha256: $image_sha"
