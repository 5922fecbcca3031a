"""Writes and checks the signer image's manifest: every package and every file, hashed.

The manifest lists, one line each and sorted, the Debian packages (``deb NAME VERSION ARCH``
from dpkg's status file), the Python distributions of the signer's venv (``pip NAME
VERSION``), the source the image was built from, and every filesystem entry under the root:

    dir  MODE UID GID PATH
    file SHA256 MODE UID GID PATH
    link UID GID PATH TARGET
    node KIND MAJOR:MINOR MODE UID GID PATH
    xattr NAME SHA256-OF-VALUE PATH      (after its entry; capabilities and ACLs)

Paths and link targets are percent-encoded (RFC 3986 unreserved characters and ``/`` kept),
so every line splits on single spaces. ``/proc``, ``/sys`` and ``/dev`` are recorded as
directories but not entered: at run time they are kernel filesystems. The manifest and the
build id do not list themselves. The SHA-256 of the manifest's bytes is the image's build
identity, written to ``usr/share/coldsign/build-id``.

Usage: ``manifest.py write ROOT [--source TEXT]`` (prints the build id),
``manifest.py verify ROOT`` (exit 1 and one line per difference).
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

MANIFEST = Path("usr/share/coldsign/manifest.txt")
BUILD_ID = Path("usr/share/coldsign/build-id")
HEADER = "# coldsign signer image manifest, format 1"
# Kernel filesystems at run time: their contents at build time say nothing about the image.
NOT_ENTERED = frozenset({b"proc", b"sys", b"dev"})
VENV_SITE = "opt/coldsign/lib"


class ManifestError(Exception):
    """The root cannot be described (an unreadable entry, an unexpected file type)."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the root differs from its manifest."""

    path: str
    what: str


def write(root: Path, source: str) -> str:
    """Write the manifest and the build id under ``root``; return the build id."""
    (root / MANIFEST).parent.mkdir(parents=True, exist_ok=True)
    text = describe(root, source)
    data = text.encode("utf-8")
    build_id = hashlib.sha256(data).hexdigest()
    (root / MANIFEST).write_bytes(data)
    (root / BUILD_ID).write_text(build_id + "\n", encoding="ascii")
    return build_id


def describe(root: Path, source: str) -> str:
    """The manifest text of ``root`` as it is now."""
    lines = [HEADER, f"source {_encode(source.encode('utf-8'))}"]
    lines += deb_packages(root)
    lines += pip_packages(root)
    lines += filesystem(root)
    return "\n".join(lines) + "\n"


def verify(root: Path) -> list[Difference]:
    """Every difference between ``root`` and its recorded manifest and build id."""
    manifest_path = root / MANIFEST
    recorded = manifest_path.read_bytes()
    differences: list[Difference] = []
    build_id = (root / BUILD_ID).read_text(encoding="ascii").strip()
    if build_id != hashlib.sha256(recorded).hexdigest():
        differences.append(Difference(str(BUILD_ID), "is not the SHA-256 of the manifest"))
    recorded_lines = recorded.decode("utf-8").splitlines()
    source_lines = [line for line in recorded_lines if line.startswith("source ")]
    source = unquote_to_bytes(source_lines[0][7:]).decode("utf-8") if source_lines else ""
    current_lines = describe(root, source).splitlines()
    before = _keyed(recorded_lines)
    after = _keyed(current_lines)
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            differences.append(Difference(key, "missing"))
        elif key not in before:
            differences.append(Difference(key, f"not in the manifest: {after[key]}"))
        elif before[key] != after[key]:
            differences.append(Difference(key, f"was {before[key]!r}, is {after[key]!r}"))
    return differences


def deb_packages(root: Path) -> list[str]:
    """``deb NAME VERSION ARCH`` for each installed package in dpkg's status file."""
    status = root / "var/lib/dpkg/status"
    if not status.exists():
        return []
    found: list[str] = []
    for stanza in status.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line and not line[0].isspace() and ":" in line:
                name, value = line.split(":", 1)
                fields[name] = value.strip()
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            found.append(f"deb {fields['Package']} {fields['Version']} {fields['Architecture']}")
    return sorted(found)


def pip_packages(root: Path) -> list[str]:
    """``pip NAME VERSION`` for each distribution installed in the signer's venv."""
    found: list[str] = []
    for metadata in sorted((root / VENV_SITE).glob("python3*/site-packages/*.dist-info/METADATA")):
        fields: dict[str, str] = {}
        for line in metadata.read_text(encoding="utf-8").splitlines():
            if not line:
                break  # the headers end at the first blank line (core metadata spec)
            name, _, value = line.partition(":")
            fields.setdefault(name.lower(), value.strip())
        found.append(f"pip {fields.get('name', '?')} {fields.get('version', '?')}")
    return sorted(found)


def filesystem(root: Path) -> list[str]:
    """One line per filesystem entry under ``root``, sorted by path bytes."""
    skip = {os.fsencode(MANIFEST), os.fsencode(BUILD_ID)}
    entries: list[tuple[bytes, str]] = []
    base = os.fsencode(root)
    stack: list[bytes] = [b""]
    while stack:
        relative = stack.pop()
        directory = os.path.join(base, relative) if relative else base
        try:
            with os.scandir(directory) as listing:
                names = sorted(entry.name for entry in listing)
        except OSError as exc:
            raise ManifestError(f"cannot list {directory!r}: {exc.strerror}") from exc
        for name in names:
            path = os.path.join(relative, name) if relative else name
            if path in skip:
                continue
            full = os.path.join(base, path)
            line = _entry(full, path)
            entries.append((path, line))
            entries.extend((path, xattr) for xattr in _xattrs(full, path))
            if line.startswith("dir ") and path not in NOT_ENTERED:
                stack.append(path)
    return [line for _, line in sorted(entries)]


def _entry(full: bytes, path: bytes) -> str:
    info = os.lstat(full)
    mode = f"{stat.S_IMODE(info.st_mode):04o}"
    owner = f"{info.st_uid} {info.st_gid}"
    shown = _encode(b"/" + path)
    if stat.S_ISLNK(info.st_mode):
        return f"link {owner} {shown} {_encode(os.readlink(full))}"
    if stat.S_ISDIR(info.st_mode):
        return f"dir {mode} {owner} {shown}"
    if stat.S_ISREG(info.st_mode):
        with open(full, "rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        return f"file {digest} {mode} {owner} {shown}"
    kinds = {stat.S_IFCHR: "c", stat.S_IFBLK: "b", stat.S_IFIFO: "p", stat.S_IFSOCK: "s"}
    kind = kinds.get(stat.S_IFMT(info.st_mode))
    if kind is None:
        raise ManifestError(f"{shown}: unknown file type {stat.S_IFMT(info.st_mode):o}")
    device = f"{os.major(info.st_rdev)}:{os.minor(info.st_rdev)}"
    return f"node {kind} {device} {mode} {owner} {shown}"


def _xattrs(full: bytes, path: bytes) -> list[str]:
    """Extended attributes (file capabilities, ACLs) can grant what the mode does not."""
    try:
        names = sorted(os.listxattr(full, follow_symlinks=False))
    except OSError as exc:
        if exc.errno in {errno.ENOTSUP, errno.EOPNOTSUPP}:
            return []
        raise ManifestError(f"cannot list the attributes of {path!r}: {exc.strerror}") from exc
    lines = []
    for name in names:
        value = os.getxattr(full, name, follow_symlinks=False)
        digest = hashlib.sha256(value).hexdigest()
        lines.append(f"xattr {_encode(name.encode())} {digest} {_encode(b'/' + path)}")
    return lines


def _encode(raw: bytes) -> str:
    return quote(raw, safe="/")


def _keyed(lines: list[str]) -> dict[str, str]:
    """Manifest lines by what they describe: a path, a package, or the source."""
    keyed: dict[str, str] = {}
    for line in lines:
        if line.startswith("#"):
            continue
        kind, _, rest = line.partition(" ")
        words = rest.split(" ")
        if kind in {"deb", "pip"}:
            key = f"{kind} {words[0]}"
        elif kind == "source":
            key = "source"
        elif kind == "link":
            key = unquote_to_bytes(words[2]).decode("utf-8", "backslashreplace")
        elif kind == "xattr":
            path = unquote_to_bytes(words[-1]).decode("utf-8", "backslashreplace")
            key = f"{path} (attribute {unquote_to_bytes(words[0]).decode('utf-8', 'replace')})"
        else:
            key = unquote_to_bytes(words[-1]).decode("utf-8", "backslashreplace")
        keyed[key] = line
    return keyed


def main(argv: list[str] | None = None) -> int:
    """``write`` prints the build id; ``verify`` lists differences and exits 1 on any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    write_cmd = sub.add_parser("write", help="write manifest.txt and build-id under ROOT")
    write_cmd.add_argument("root", type=Path)
    write_cmd.add_argument("--source", default="", help="what the image was built from")
    verify_cmd = sub.add_parser("verify", help="compare ROOT with its manifest")
    verify_cmd.add_argument("root", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "write":
            print(write(args.root, args.source))
            return 0
        differences = verify(args.root)
    except (ManifestError, OSError, UnicodeDecodeError) as exc:
        print(f"manifest: {exc}", file=sys.stderr)
        return 2
    for difference in differences:
        print(f"{difference.path}: {difference.what}")
    if differences:
        print(f"manifest: {len(differences)} difference(s)", file=sys.stderr)
        return 1
    print("manifest: root matches its manifest", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
