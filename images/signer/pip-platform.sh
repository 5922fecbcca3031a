# Sourced by build-rootfs.sh and lock-requirements.sh: the wheel tags of the signer image's
# Python (Debian bookworm amd64: CPython 3.11, glibc 2.36), for `pip download` on any host.
# pip takes a list of --platform tags; manylinux_2_17 ... manylinux_2_36 are all glibc <= 2.36.
COLDSIGN_PIP_TARGET=(--only-binary=:all: --implementation cp --python-version 3.11
  --abi cp311 --abi abi3 --abi none --platform any --platform manylinux2014_x86_64)
for glibc_minor in $(seq 17 36); do
  COLDSIGN_PIP_TARGET+=(--platform "manylinux_2_${glibc_minor}_x86_64")
done
unset glibc_minor
