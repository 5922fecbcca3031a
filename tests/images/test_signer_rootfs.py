"""Tests of the signer appliance recipe: its tools, its configuration, and a real build.

The slow tests build for real: a Debian root filesystem with debootstrap (checked from inside
with chroot), and a live image from a small stand-in root. They need root, as the recipe does.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import unquote

import pytest

from signer.airgap import InterfaceState
from signer.buildinfo import BUILD_ID_ENV, version_text
from signer.cli import Environment, main

ROOT = Path(__file__).resolve().parent.parent.parent
RECIPE = ROOT / "images" / "signer"
OVERLAY = RECIPE / "rootfs"
BUILD_ID = "usr/share/coldsign/build-id"
MANIFEST = "usr/share/coldsign/manifest.txt"
# The brief's deny list (issue 10), kept here too so that emptying the recipe's list fails.
DENIED = (
    "network-manager",
    "ifupdown",
    "isc-dhcp-client",
    "dhcpcd5",
    "openssh-client",
    "openssh-server",
    "curl",
    "wget",
    "wireless-tools",
    "wpasupplicant",
    "iw",
    "bluez",
    "avahi-daemon",
    "apt",
)
BLACKLISTED = (
    "iwlwifi",
    "ath9k",
    "ath10k_pci",
    "ath11k",
    "rtl8xxxu",
    "rtw88_core",
    "brcmfmac",
    "mt76",
    "mt7921e",
    "bluetooth",
    "btusb",
    "e1000e",
    "r8169",
    "igb",
    "cdc_ether",
    "r8152",
)


def run_tool(name: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RECIPE / name), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


# --- mirror.py: the Debian mirror comes from the build machine's apt configuration ---------


def write_apt(tmp_path: Path, files: dict[str, str]) -> Path:
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (apt / name).write_text(text)
    return apt


def test_mirror_from_deb822_sources(tmp_path: Path) -> None:
    apt = write_apt(
        tmp_path,
        {
            "sources.list.d/debian.sources": (
                "Types: deb\n# a comment inside the stanza\nURIs: http://mirror.example/debian/\n"
                "Suites: bookworm bookworm-updates\nComponents: main\n\n"
                "Types: deb\nURIs: http://security.example/debian-security\n"
                "Suites: bookworm-security\nComponents: main contrib\n"
            )
        },
    )
    assert run_tool("mirror.py", "bookworm", "--apt-dir", apt).stdout == (
        "http://mirror.example/debian\n"
    )
    assert run_tool("mirror.py", "bookworm-security", "--apt-dir", apt).stdout == (
        "http://security.example/debian-security\n"
    )


def test_mirror_skips_disabled_source_and_deb_src(tmp_path: Path) -> None:
    apt = write_apt(
        tmp_path,
        {
            "sources.list.d/a.sources": (
                "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\n"
                "Components: main\nEnabled: no\n\n"
                "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n"
                "Components: main\n"
            ),
            "sources.list.d/b.sources": (
                "Types: deb\nURIs: http://on.example/debian\nSuites: bookworm\nComponents: main\n"
            ),
        },
    )
    assert run_tool("mirror.py", "bookworm", "--apt-dir", apt).stdout == (
        "http://on.example/debian\n"
    )


def test_mirror_from_one_line_sources_list_with_options(tmp_path: Path) -> None:
    apt = write_apt(
        tmp_path,
        {
            "sources.list": (
                "# deb http://commented.example/debian bookworm main\n"
                "deb-src http://src.example/debian bookworm main\n"
                "deb [ arch=amd64 signed-by=/k.gpg ] http://one.example/debian bookworm main\n"
            )
        },
    )
    assert run_tool("mirror.py", "bookworm", "--apt-dir", apt).stdout == (
        "http://one.example/debian\n"
    )


def test_mirror_missing_suite_fails_with_the_way_out(tmp_path: Path) -> None:
    apt = write_apt(
        tmp_path,
        {"sources.list": "deb http://one.example/debian bookworm contrib\n"},
    )
    result = run_tool("mirror.py", "bookworm", "--apt-dir", apt)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "COLDSIGN_DEBIAN_MIRROR" in result.stderr


# --- wheelhouse.py: every wheel pinned by version and hash ----------------------------------


def test_wheelhouse_pins_every_wheel_by_hash(tmp_path: Path) -> None:
    (tmp_path / "Foo_Bar-1.2.0-py3-none-any.whl").write_bytes(b"foo")
    (tmp_path / "coldsign-0.1.0-py3-none-any.whl").write_bytes(b"self")
    (tmp_path / "zed-2.0-cp311-cp311-manylinux_2_17_x86_64.whl").write_bytes(b"z1")
    (tmp_path / "zed-2.0-cp311-abi3-manylinux_2_28_x86_64.whl").write_bytes(b"z2")
    result = run_tool("wheelhouse.py", tmp_path, "--extras", "coldsign=signer")
    assert result.returncode == 0, result.stderr

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    z1, z2 = sorted([sha(b"z1"), sha(b"z2")])
    assert result.stdout.splitlines() == [
        f"coldsign[signer]==0.1.0 --hash=sha256:{sha(b'self')}",
        f"foo-bar==1.2.0 --hash=sha256:{sha(b'foo')}",
        f"zed==2.0 --hash=sha256:{z1} --hash=sha256:{z2}",
    ]
    only = run_tool("wheelhouse.py", tmp_path, "--only", "Foo.Bar")
    assert only.stdout == f"foo-bar==1.2.0 --hash=sha256:{sha(b'foo')}\n"
    excluded = run_tool("wheelhouse.py", tmp_path, "--exclude", "zed", "--exclude", "coldsign")
    assert excluded.stdout == only.stdout


def test_wheelhouse_refuses_a_misnamed_wheel(tmp_path: Path) -> None:
    (tmp_path / "notawheel.whl").write_bytes(b"x")
    result = run_tool("wheelhouse.py", tmp_path)
    assert result.returncode == 1
    assert "notawheel.whl: not a PEP 427 wheel file name" in result.stderr


def test_wheelhouse_refuses_two_versions_of_one_project(tmp_path: Path) -> None:
    (tmp_path / "foo-1.0-py3-none-any.whl").write_bytes(b"1")
    (tmp_path / "foo-1.1-py3-none-any.whl").write_bytes(b"2")
    result = run_tool("wheelhouse.py", tmp_path)
    assert result.returncode == 1
    assert "more than one version of foo" in result.stderr


def test_committed_locks_pin_every_line_by_hash() -> None:
    for name in ("requirements.lock", "installer.lock"):
        lines = [
            line
            for line in (RECIPE / name).read_text().splitlines()
            if line and not line.startswith("#")
        ]
        assert lines, name
        for line in lines:
            assert re.fullmatch(r"[a-z0-9-]+==\S+( --hash=sha256:[0-9a-f]{64})+", line), line
    requirements = (RECIPE / "requirements.lock").read_text()
    assert "\ncoldsign" not in requirements  # built from the source tree, never fetched
    assert re.search(r"^pip==", (RECIPE / "installer.lock").read_text(), re.M)


def _lock_names(lock: Path) -> set[str]:
    return {
        line.split("==", 1)[0]
        for line in lock.read_text().splitlines()
        if line and not line.startswith("#")
    }


def _declared(requirements: list[str]) -> set[str]:
    # PEP 508 names, normalised as pip writes them in a lock (PEP 503: lower case, runs of
    # "-", "_", "." as one "-").
    return {
        re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", r)[0]).lower()  # type: ignore[index]
        for r in requirements
    }


@pytest.mark.parametrize(("image", "extra"), [("signer", "signer"), ("watcher", "watcher")])
def test_each_image_lock_pins_every_dependency_pyproject_declares(image: str, extra: str) -> None:
    # A dependency added to pyproject.toml but not to an image's lock would be missing on the
    # appliance (its install is --require-hashes, offline): rerun the image's lock script.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _declared(project["dependencies"] + project["optional-dependencies"][extra])
    missing = wanted - _lock_names(ROOT / "images" / image / "requirements.lock")
    assert not missing, f"images/{image}/requirements.lock lacks {sorted(missing)}"


# --- manifest.py: every package and file hashed; its hash is the build id --------------------


def make_fake_root(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("coldsign-signer\n")
    (root / "etc" / "with space").write_text("x")
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tool").write_bytes(b"#!/bin/sh\n")
    (root / "usr" / "bin" / "tool").chmod(0o755)
    (root / "usr" / "bin" / "alias").symlink_to("tool")
    (root / "proc" / "self").mkdir(parents=True)  # not entered: a kernel filesystem at run time
    (root / "proc" / "self" / "ignored").write_text("x")
    (root / "var" / "lib" / "dpkg").mkdir(parents=True)
    (root / "var" / "lib" / "dpkg" / "status").write_text(
        "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n"
        "Description: GNU C Library\n multi-line description\n\n"
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: all\n"
    )
    dist = root / "opt/coldsign/lib/python3.11/site-packages/coldsign-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.4\nName: coldsign\nVersion: 0.1.0\n\nbody")


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    make_fake_root(root)
    result = run_tool("manifest.py", "write", root, "--source", "git abc; SOURCE_DATE_EPOCH=1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (root / BUILD_ID).read_text()
    return root


def test_manifest_lists_packages_and_files_and_names_the_build(fake_root: Path) -> None:
    manifest = (fake_root / MANIFEST).read_bytes()
    assert (fake_root / BUILD_ID).read_text() == hashlib.sha256(manifest).hexdigest() + "\n"
    lines = manifest.decode().splitlines()
    tool = hashlib.sha256(b"#!/bin/sh\n").hexdigest()
    assert "deb libc6 2.36-9 amd64" in lines
    assert not any(line.startswith("deb gone") for line in lines)  # only installed packages
    assert "pip coldsign 0.1.0" in lines
    assert "source git%20abc%3B%20SOURCE_DATE_EPOCH%3D1" in lines
    assert f"file {tool} 0755 {os.getuid()} {os.getgid()} /usr/bin/tool" in lines
    assert f"link {os.getuid()} {os.getgid()} /usr/bin/alias tool" in lines
    assert any(line.endswith(" /etc/with%20space") for line in lines)
    assert any(line.startswith("dir ") and line.endswith(" /proc") for line in lines)
    assert not any("ignored" in line for line in lines)
    assert not any(line.endswith(("/build-id", "/manifest.txt")) for line in lines)
    paths = [line.rsplit(" ", 1)[1] for line in lines if line.startswith(("file", "dir"))]
    assert paths == sorted(paths)
    assert run_tool("manifest.py", "verify", fake_root).returncode == 0


def change_content(root: Path) -> None:
    (root / "etc/hostname").write_text("evil\n")


def add_file(root: Path) -> None:
    (root / "etc/new").write_text("")


def remove_file(root: Path) -> None:
    (root / "etc/hostname").unlink()


def make_setuid(root: Path) -> None:
    (root / "usr/bin/tool").chmod(0o4755)


def retarget_link(root: Path) -> None:
    (root / "usr/bin/alias").unlink()
    (root / "usr/bin/alias").symlink_to("/bin/sh")


def add_capability_like_attribute(root: Path) -> None:
    os.setxattr(root / "usr/bin/tool", "user.coldsign-test", b"cap_net_raw+ep")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (add_capability_like_attribute, "/usr/bin/tool (attribute user.coldsign-test)"),
        (change_content, "/etc/hostname"),
        (add_file, "/etc/new"),
        (remove_file, "/etc/hostname"),
        (make_setuid, "/usr/bin/tool"),
        (retarget_link, "/usr/bin/alias"),
    ],
)
def test_manifest_verify_names_each_change(
    fake_root: Path, change: Callable[[Path], None], path: str
) -> None:
    change(fake_root)
    result = run_tool("manifest.py", "verify", fake_root)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}: ")
    assert len(result.stdout.splitlines()) == 1


def test_manifest_verify_detects_an_edited_manifest(fake_root: Path) -> None:
    manifest = fake_root / MANIFEST
    manifest.write_text(manifest.read_text().replace("deb libc6 2.36-9", "deb libc6 2.36-8"))
    result = run_tool("manifest.py", "verify", fake_root)
    assert result.returncode == 1
    assert f"{BUILD_ID}: is not the SHA-256 of the manifest" in result.stdout
    assert "deb libc6: was" in result.stdout


def test_manifest_verify_detects_a_changed_package(fake_root: Path) -> None:
    status = fake_root / "var/lib/dpkg/status"
    status.write_text(status.read_text().replace("2.36-9", "2.36-10"))
    result = run_tool("manifest.py", "verify", fake_root)
    assert "deb libc6: was 'deb libc6 2.36-9 amd64', is 'deb libc6 2.36-10 amd64'" in (
        result.stdout
    )


# --- the image's configuration files ----------------------------------------------------------


def conf_lines(path: Path) -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def test_blacklist_names_the_radio_and_network_families() -> None:
    lines = conf_lines(OVERLAY / "etc/modprobe.d/coldsign-blacklist.conf")
    for module in BLACKLISTED:
        assert f"blacklist {module}" in lines, module
        assert f"install {module} /bin/false" in lines, module
    assert all(re.fullmatch(r"(blacklist \w+|install \w+ /bin/false)", line) for line in lines)


def test_dpkg_leaves_out_network_drivers() -> None:
    lines = conf_lines(OVERLAY / "etc/dpkg/dpkg.cfg.d/coldsign-exclude")
    for tree in ("drivers/net", "net", "drivers/bluetooth"):
        assert f"path-exclude=/lib/modules/*/kernel/{tree}/*" in lines
        assert f"path-exclude=/usr/lib/modules/*/kernel/{tree}/*" in lines


def test_deny_list_covers_the_brief() -> None:
    patterns = conf_lines(RECIPE / "deny-packages.txt")
    for name in DENIED:
        assert any(fnmatchcase(name, pattern) for pattern in patterns), name
    wanted = conf_lines(RECIPE / "packages.txt") + conf_lines(RECIPE / "packages-live.txt")
    assert not [n for n in wanted if any(fnmatchcase(n, p) for p in patterns)]


def test_no_core_dumps_configured() -> None:
    sysctl = conf_lines(OVERLAY / "etc/sysctl.d/50-coldsign.conf")
    assert "kernel.core_pattern=|/bin/false" in sysctl
    limits_file = OVERLAY / "etc/security/limits.d/coldsign-nocore.conf"
    limits = [line.split() for line in conf_lines(limits_file)]
    assert ["*", "hard", "core", "0"] in limits
    system = conf_lines(OVERLAY / "etc/systemd/system.conf.d/coldsign.conf")
    assert "DumpCore=no" in system
    assert "DefaultLimitCORE=0" in system


def test_no_swap_and_home_on_encrypted_removable_volume() -> None:
    fstab = [line.split() for line in conf_lines(OVERLAY / "etc/fstab")]
    assert not [entry for entry in fstab if "swap" in entry]
    home = next(entry for entry in fstab if entry[1] == "/var/lib/coldsign")
    assert home[0] == "/dev/mapper/coldsign-home"
    assert "noauto" in home[3].split(",")
    crypttab = [line.split() for line in conf_lines(OVERLAY / "etc/crypttab")]
    assert crypttab == [
        ["coldsign-home", "/dev/disk/by-partlabel/coldsign-home", "none", "luks,noauto"]
    ]


def test_signer_unit_owns_tty1_after_the_home_is_open() -> None:
    unit = conf_lines(OVERLAY / "etc/systemd/system/coldsign-signer.service")
    assert "ExecStart=/opt/coldsign/bin/coldsign-signer --home /var/lib/coldsign" in unit
    assert "TTYPath=/dev/tty1" in unit
    assert "Conflicts=getty@tty1.service" in unit
    assert "User=coldsign" in unit
    assert "LimitCORE=0" in unit
    assert "RestrictAddressFamilies=AF_UNIX" in unit
    assert "Requires=coldsign-home.service" in unit
    assert not [line for line in unit if line.startswith("ExecStartPre")]
    home = conf_lines(OVERLAY / "etc/systemd/system/coldsign-home.service")
    assert "ExecStart=/usr/local/sbin/coldsign-open-home" in home
    assert "TTYPath=/dev/tty1" in home
    assert "Before=coldsign-signer.service" in home
    # The home unit runs outside the signer's sandbox (a bind mount there would look mounted).
    assert not [line for line in home if line.startswith(("ProtectSystem", "ReadWritePaths"))]
    # The setup entry runs `init` in the signer's place, with the same user and sandbox.
    setup = conf_lines(OVERLAY / "etc/systemd/system/coldsign-setup.service")
    assert "ConditionKernelCommandLine=coldsign.setup" in setup
    assert "ConditionKernelCommandLine=!coldsign.setup" in unit
    sandbox = [
        line
        for line in unit
        if line.split("=")[0]
        in {
            "User",
            "RestrictAddressFamilies",
            "IPAddressDeny",
            "ProtectSystem",
            "ReadWritePaths",
            "LimitCORE",
            "NoNewPrivileges",
        }
    ]
    assert set(sandbox) <= set(setup)
    script = (OVERLAY / "usr/local/bin/coldsign-setup").read_text()
    assert "coldsign-signer --home /var/lib/coldsign init" in script


def test_restore_and_policy_entries_run_in_the_signers_place() -> None:
    units = OVERLAY / "etc/systemd/system"
    signer = conf_lines(units / "coldsign-signer.service")
    sandbox = {
        line
        for line in signer
        if line.split("=")[0]
        in {
            "User",
            "RestrictAddressFamilies",
            "IPAddressDeny",
            "ProtectSystem",
            "ReadWritePaths",
            "LimitCORE",
            "NoNewPrivileges",
            "ProtectHome",
            "PrivateTmp",
        }
    }
    # Each entry replaces the signer (every negated condition must hold for it to start)
    # and runs its command as the signer's user, in the signer's sandbox, on tty1.
    for unit, flag, script, command in (
        (
            "coldsign-restore.service",
            "coldsign.restore",
            "usr/local/bin/coldsign-restore",
            "coldsign-signer --home /var/lib/coldsign init --restore",
        ),
        (
            "coldsign-policy-install.service",
            "coldsign.policy",
            "usr/local/bin/coldsign-policy-install",
            "coldsign-signer --home /var/lib/coldsign policy install",
        ),
    ):
        lines = conf_lines(units / unit)
        assert f"ConditionKernelCommandLine={flag}" in lines
        assert f"ConditionKernelCommandLine=!{flag}" in signer
        assert f"ExecStart=/{script}" in lines
        assert "TTYPath=/dev/tty1" in lines
        assert any(line.startswith("Requires=coldsign-home.service") for line in lines)
        assert sandbox <= set(lines)
        text = (OVERLAY / script).read_text()
        assert command in text and "exec sleep infinity" in text
    assert (
        "file=/media/coldsign-policy/policy.toml"
        in (OVERLAY / "usr/local/bin/coldsign-policy-install").read_text().splitlines()
    )
    # The policy stick is mounted by root before the sandboxed unit starts, read-only.
    stick = conf_lines(units / "coldsign-policy-stick.service")
    assert "ConditionKernelCommandLine=coldsign.policy" in stick
    assert "ExecStart=/usr/local/sbin/coldsign-open-policy-stick" in stick
    assert "Before=coldsign-policy-install.service" in stick
    assert not [line for line in stick if line.startswith(("User", "ProtectSystem"))]
    install = conf_lines(units / "coldsign-policy-install.service")
    assert "Requires=coldsign-home.service coldsign-policy-stick.service" in install
    mount = (OVERLAY / "usr/local/sbin/coldsign-open-policy-stick").read_text()
    assert "label=COLDSIGN-POLICY" in mount
    # Only the two filesystems docs/appliance.md names: the stick comes from an online
    # machine, and letting mount probe any type would hand its bytes to any kernel driver.
    assert 'mount -t vfat,ext4 -o ro,nodev,nosuid,noexec "$device" "$mountpoint"' in mount
    assert "mountpoint=/media/coldsign-policy" in mount
    recipe = (RECIPE / "build-rootfs.sh").read_text()
    for name in ("coldsign-restore", "coldsign-policy-install", "coldsign-open-policy-stick"):
        assert f'/{name}"' in recipe, name
    for name in ("restore", "policy-stick", "policy-install"):
        assert f"coldsign-{name}.service" in recipe, name
    for script in (
        "usr/local/bin/coldsign-restore",
        "usr/local/bin/coldsign-policy-install",
        "usr/local/sbin/coldsign-open-policy-stick",
    ):
        subprocess.run(["sh", "-n", str(OVERLAY / script)], check=True)


def test_grub_offers_restore_and_policy_entries() -> None:
    recipe = (RECIPE / "build-image.sh").read_text()
    entries = re.findall(r'menuentry "([^"]+)" \{\n  linux /live/vmlinuz \$cmdline ?(\S*)', recipe)
    flags = {flag: title for title, flag in entries}
    assert flags["coldsign.restore"].startswith("Restore a signer home from its mnemonic")
    assert flags["coldsign.policy"].startswith(
        "Install a policy from a stick labelled COLDSIGN-POLICY"
    )
    # "Check this medium" stays the last entry (docs/appliance.md names it so).
    assert entries[-1][1] == "verify-checksums=sha256"


def test_scripts_parse() -> None:
    for script in (
        "build-rootfs.sh",
        "build-image.sh",
        "lock-requirements.sh",
        "rootfs/usr/local/sbin/coldsign-open-home",
        "rootfs/usr/local/bin/coldsign-setup",
    ):
        shell = "sh" if script.startswith("rootfs/") else "bash"
        subprocess.run([shell, "-n", str(RECIPE / script)], check=True)


def test_recipe_names_no_package_host() -> None:
    # The build reads mirrors from the build machine's configuration (common rules).
    hosts = re.compile(r"debian\.org|pypi\.org|pythonhosted|files\.pythonhosted|npmjs", re.I)
    checked = [p for p in (ROOT / "images").rglob("*") if p.is_file()]
    checked += [ROOT / "docs" / "appliance.md"]
    for path in checked:
        if path.exists():
            assert not hosts.search(path.read_text(errors="replace")), path


def containerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "images/watcher/Containerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def test_watcher_container_holds_no_keys_and_runs_unprivileged() -> None:
    assert os.readlink(ROOT / "images/watcher/Dockerfile") == "Containerfile"
    steps = containerfile_instructions()
    keywords = [keyword for keyword, _ in steps]
    copied = [rest.split()[0] for keyword, rest in steps if keyword == "COPY"]
    sources = {"pyproject.toml", "shared", "channel", "signer", "watcher"}
    assert set(copied) == sources | {"images/watcher/requirements.lock", "--from=build"}
    final = steps[max(i for i, k in enumerate(keywords) if k == "FROM") :]
    assert ("USER", "901:901") in final
    assert ("VOLUME", '["/home/watcher"]') in final
    assert ("ENTRYPOINT", '["coldsign-watcher"]') in final
    assert any(k == "ENV" and "COLDSIGN_WATCHER_HOME=/home/watcher" in r for k, r in final)
    install = next(r for k, r in steps if k == "RUN" and "--require-hashes" in r)
    assert "-r /tmp/requirements.lock" in install
    lock = (ROOT / "images/watcher/requirements.lock").read_text().splitlines()
    pins = [line for line in lock if line and not line.startswith("#")]
    assert any(line.startswith("httpx==") for line in pins)
    assert all(re.fullmatch(r"[a-z0-9-]+==\S+( --hash=sha256:[0-9a-f]{64})+", p) for p in pins)


# --- coldsign-signer --version ------------------------------------------------------------------


class NoNetwork:
    def interfaces(self) -> list[InterfaceState]:
        return []

    def radios(self) -> list[str]:
        return []


def run_version(monkeypatch: pytest.MonkeyPatch, build_id_file: Path) -> tuple[int, str]:
    monkeypatch.setenv(BUILD_ID_ENV, str(build_id_file))
    out = io.StringIO()
    env = Environment(out, io.StringIO(), NoNetwork(), lambda _prompt: "")
    return main(["--version"], environment=env), out.getvalue()


def test_version_shows_the_build_id(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_id = hashlib.sha256(b"manifest").hexdigest()
    (tmp_path / "build-id").write_text(build_id + "\n")
    status, text = run_version(monkeypatch, tmp_path / "build-id")
    assert status == 0
    assert re.fullmatch(rf"coldsign-signer \S+ \(build {build_id}\)\n", text)


def test_version_outside_an_image(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    status, text = run_version(monkeypatch, tmp_path / "absent")
    assert status == 0
    assert text.endswith("(no build id: not running from a coldsign image)\n")


@pytest.mark.parametrize("content", [b"abc\n", b"G" * 64, b"a" * 65, b"a" * 200, b"\xff" * 64])
def test_version_refuses_a_malformed_build_id(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "build-id").write_bytes(content)
    text = version_text({BUILD_ID_ENV: str(tmp_path / "build-id")})
    assert text.endswith(f"(build id malformed: {tmp_path / 'build-id'})")


def test_version_unreadable_build_id(tmp_path: Path) -> None:
    text = version_text({BUILD_ID_ENV: str(tmp_path)})  # a directory: reading fails
    assert "(build id unreadable: " in text


# --- the real build (slow; needs root) ------------------------------------------------------------


def needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("debootstrap, chroot and mount need root (the recipe runs as root)")


def mounts_under(path: Path) -> list[str]:
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    prefix = str(path) + "/"
    return [point for point in points if point.startswith(prefix)]


def remove_root(path: Path) -> None:
    """Delete a built root, never following a bind mount of the host's /dev into it."""
    for point in reversed(mounts_under(path)):
        subprocess.run(["umount", "-l", point], check=False)
    assert not mounts_under(path), f"still mounted under {path}: refusing to delete"
    shutil.rmtree(path)


@pytest.fixture
def built_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    needs_root()
    root = tmp_path / "rootfs"
    result = subprocess.run(
        ["bash", str(RECIPE / "build-rootfs.sh"), str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        assert result.returncode == 0, result.stderr[-4000:]
        yield root, result.stdout
    finally:
        if root.exists():
            remove_root(root)


def chroot(root: Path, *command: str) -> str:
    return subprocess.run(
        ["chroot", str(root), "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin", *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.slow
def test_build_signer_rootfs(built_root: tuple[Path, str]) -> None:
    root, output = built_root
    build_id = (root / BUILD_ID).read_text().strip()
    manifest = (root / MANIFEST).read_bytes()
    assert build_id == hashlib.sha256(manifest).hexdigest()
    assert f"coldsign build id: {build_id}" in output

    # The signer runs inside and names the build.
    version = chroot(root, "/opt/coldsign/bin/coldsign-signer", "--version")
    assert re.fullmatch(rf"coldsign-signer \S+ \(build {build_id}\)\n", version)

    # No denied package is installed (dpkg's own answer, from inside).
    installed = chroot(root, "dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}\n")
    names = [line.split()[1] for line in installed.splitlines() if line.startswith("installed ")]
    patterns = conf_lines(RECIPE / "deny-packages.txt")
    assert not [n for n in names if any(fnmatchcase(n, p) for p in (*patterns, *DENIED))]
    assert {"python3", "libzbar0", "linux-image-amd64", "live-boot"} <= set(names)

    # Network drivers: not on the disk, and modprobe's effective configuration refuses them.
    modules = root / "lib" / "modules"
    (kernel,) = os.listdir(modules)
    assert (root / "boot" / f"vmlinuz-{kernel}").is_file()
    for tree in ("drivers/net", "net", "drivers/bluetooth"):
        assert not list((modules / kernel / "kernel" / tree).rglob("*.ko*")), tree
    assert list((modules / kernel / "kernel/drivers/media/usb/uvc").glob("uvcvideo.ko*"))
    config = chroot(root, "modprobe", "--showconfig", "-S", kernel).splitlines()
    for module in BLACKLISTED:
        assert f"install {module} /bin/false" in config, module
        assert f"blacklist {module}" in config, module
    initramfs = chroot(root, "lsinitramfs", f"/boot/initrd.img-{kernel}").splitlines()
    assert "etc/modprobe.d/coldsign-blacklist.conf" in initramfs
    assert not [path for path in initramfs if "/kernel/drivers/net/" in path]

    # The manifest matches the files: all of them by the recipe's verifier, a sample here.
    verify = run_tool("manifest.py", "verify", root)
    assert verify.returncode == 0, verify.stdout[-2000:]
    lines = manifest.decode().splitlines()
    files = [line.split(" ") for line in lines if line.startswith("file ")]
    assert len(files) > 5000
    for fields in files[::101]:
        path = root / unquote(fields[-1].lstrip("/"))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == fields[1], fields[-1]
    debs = sorted(line.split(" ")[1] for line in lines if line.startswith("deb "))
    assert debs == sorted(names)
    assert "pip coldsign " + version.split()[1] in lines

    # No core dumps, no swap, the signer on tty1, nothing of the build machine left.
    etc = root / "etc"
    assert "kernel.core_pattern=|/bin/false" in conf_lines(etc / "sysctl.d/50-coldsign.conf")
    assert (etc / "security/limits.d/coldsign-nocore.conf").is_file()
    assert "DumpCore=no" in conf_lines(etc / "systemd/system.conf.d/coldsign.conf")
    assert not [line for line in conf_lines(etc / "fstab") if "swap" in line.split()]
    assert not (root / "swapfile").exists()
    units = etc / "systemd" / "system"
    for masked in ("swap.target", "getty@tty1.service", "systemd-networkd.service"):
        assert os.readlink(units / masked) == "/dev/null", masked
    for enabled in (
        "coldsign-signer.service",
        "coldsign-setup.service",
        "coldsign-restore.service",
        "coldsign-policy-stick.service",
        "coldsign-policy-install.service",
    ):
        # Absolute links, as systemctl makes them: resolve them inside the root, not here.
        target = os.readlink(units / "multi-user.target.wants" / enabled)
        assert target == f"/etc/systemd/system/{enabled}"
        assert (root / target.lstrip("/")).is_file()
    assert (root / "media" / "coldsign-policy").is_dir()
    for script in ("bin/coldsign-restore", "bin/coldsign-policy-install"):
        assert os.access(root / "usr/local" / script, os.X_OK), script
    assert os.access(root / "usr/local/sbin/coldsign-open-policy-stick", os.X_OK)
    assert not (etc / "apt").exists()
    assert (etc / "resolv.conf").read_text() == ""
    assert re.match(r"root:[*!]", (etc / "shadow").read_text())
    assert "coldsign:x:900:900:" in (etc / "passwd").read_text()


@pytest.mark.slow
def test_build_live_image_from_a_stand_in_root(tmp_path: Path) -> None:
    needs_root()
    root = tmp_path / "root"
    make_fake_root(root)
    (root / "boot").mkdir()
    (root / "boot" / "vmlinuz-6.1.0-test").write_bytes(b"kernel")
    (root / "boot" / "initrd.img-6.1.0-test").write_bytes(b"initrd")
    wrote = run_tool("manifest.py", "write", root, "--source", "test; SOURCE_DATE_EPOCH=1700000000")
    assert wrote.returncode == 0, wrote.stderr
    build_id = wrote.stdout.strip()
    image = tmp_path / "signer.img"
    result = subprocess.run(
        ["bash", str(RECIPE / "build-image.sh"), "--compression", "gzip", str(root), str(image)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"coldsign build id: {build_id}" in result.stdout
    data = image.read_bytes()
    assert data[510:512] == b"\x55\xaa"  # an MBR: the ISO can be written to a stick as it is
    sha = hashlib.sha256(data).hexdigest()
    assert (tmp_path / "signer.img.sha256").read_text() == f"{sha}  signer.img\n"

    extracted = tmp_path / "extracted"
    subprocess.run(
        ["osirrox", "-indev", str(image), "-extract", "/", str(extracted)],
        capture_output=True,
        check=True,
    )
    assert (extracted / "live" / "vmlinuz").read_bytes() == b"kernel"
    assert (extracted / "live" / "initrd.img").read_bytes() == b"initrd"
    assert (extracted / "coldsign" / "build-id").read_text() == build_id + "\n"
    grub = (extracted / "boot" / "grub" / "grub.cfg").read_text()
    assert "boot=live" in grub and "lockdown=confidentiality" in grub
    assert "coldsign.setup" in grub and "verify-checksums=sha256" in grub
    assert "coldsign.restore" in grub and "coldsign.policy" in grub
    assert build_id[:16] in grub
    sums = (extracted / "sha256sum.txt").read_text().splitlines()
    for line in sums:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((extracted / name).read_bytes()).hexdigest() == digest, name
    assert any(line.endswith("live/filesystem.squashfs") for line in sums)
    listing = subprocess.run(
        ["unsquashfs", "-lls", str(extracted / "live" / "filesystem.squashfs")],
        env={**os.environ, "TZ": "UTC"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "squashfs-root/usr/share/coldsign/build-id" in listing
    # Every timestamp is SOURCE_DATE_EPOCH (1700000000 = 2023-11-14 22:13:20 UTC).
    entries = [line.split() for line in listing.splitlines() if "squashfs-root" in line]
    dates = {" ".join(fields[3:5]) for fields in entries}
    assert dates == {"2023-11-14 22:13"}

    # The same root gives the same squashfs, byte for byte, and the same medium checksums (the
    # ISO wrapper around them is not reproducible yet: docs/appliance.md, "Reproducibility").
    again = tmp_path / "again.img"
    subprocess.run(
        ["bash", str(RECIPE / "build-image.sh"), "--compression", "gzip", str(root), str(again)],
        capture_output=True,
        check=True,
    )
    second = tmp_path / "second"
    subprocess.run(
        ["osirrox", "-indev", str(again), "-extract", "/", str(second)],
        capture_output=True,
        check=True,
    )
    for name in ("live/filesystem.squashfs", "sha256sum.txt", "boot/grub/grub.cfg"):
        assert (second / name).read_bytes() == (extracted / name).read_bytes(), name
    assert "squashfs-root/proc/self/ignored" not in listing
