"""The air-gap check: refuse to run while a network interface is up or a radio is present.

What is refused: any interface other than loopback that is up, any wireless interface (up or
down: the radio is there), and any radio device (Bluetooth, 802.11 PHY, rfkill switch of any
type and state: a blocked radio can be unblocked). ``--allow-online`` lets the signer run
anyway, and the returned status says so loudly (``online_override``) for the screen and the
audit log.

The hardware sits behind :class:`NetworkProbe`; :class:`SysfsProbe` is the Linux one, reading
sysfs under a root it is given (tests point it at a fake tree). It fails closed: an interface
whose state cannot be read counts as up, one whose type cannot be read is not loopback, and a
class directory that exists but cannot be listed is an ``AirGapError``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from signer.errors import AirGapError

# linux/if.h: IFF_UP (administratively up), IFF_LOOPBACK.
IFF_UP = 0x1
IFF_LOOPBACK = 0x8
# linux/if_arp.h: ARPHRD_ETHER, ARPHRD_LOOPBACK (the value of /sys/class/net/*/type).
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
# Documentation/ABI/testing/sysfs-class-net: operstate values that mean "not running".
DOWN_OPERSTATES = frozenset({"down", "notpresent", "lowerlayerdown"})
# Documentation/ABI/stable/sysfs-class-rfkill: state 0 soft-blocked, 1 unblocked, 2 hard-blocked.
RFKILL_STATES = {"0": "soft-blocked", "1": "unblocked", "2": "hard-blocked"}
MAX_ATTRIBUTE_BYTES = 256
# Regular files that live in /sys/class/net beside the interfaces (the bonding driver's).
NET_CLASS_FILES = frozenset({"bonding_masters"})

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._:@+-]")
_FLAGS = re.compile(r"0x([0-9a-f]{1,16})")
_DECIMAL = re.compile(r"[0-9]{1,10}")


class InterfaceKind(StrEnum):
    """What sort of network interface a sysfs entry is."""

    LOOPBACK = "loopback"
    ETHERNET = "ethernet"
    WIRELESS = "wireless"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class InterfaceState:
    """One network interface: its name, whether it is up, and its kind."""

    name: str
    up: bool
    kind: InterfaceKind


class NetworkProbe(Protocol):
    """Reports the machine's network interfaces and radio devices."""

    def interfaces(self) -> list[InterfaceState]:
        """Every network interface, loopback included."""
        ...

    def radios(self) -> list[str]:
        """A one-line description of every radio device found."""
        ...


@dataclass(frozen=True, slots=True)
class AirGapStatus:
    """The outcome of a check that let the signer run.

    ``offline`` is True when nothing was found; ``online_override`` is True whenever
    ``--allow-online`` is in use, and ``findings`` then lists what it let through.
    """

    offline: bool
    online_override: bool
    findings: tuple[str, ...]
    interfaces: tuple[InterfaceState, ...]
    radios: tuple[str, ...]


def findings(interfaces: tuple[InterfaceState, ...], radios: tuple[str, ...]) -> tuple[str, ...]:
    """What breaks the air gap, one line each: interfaces first, then radios."""
    found: list[str] = []
    for interface in interfaces:
        state = "up" if interface.up else "down"
        if interface.kind is InterfaceKind.WIRELESS:
            found.append(f"{interface.name} (wireless, {state})")
        elif interface.kind is not InterfaceKind.LOOPBACK and interface.up:
            found.append(f"{interface.name} ({interface.kind}, {state})")
    return (*found, *radios)


def check(probe: NetworkProbe, *, allow_online: bool) -> AirGapStatus:
    """Probe the machine; raise ``AirGapError`` naming what was found unless ``allow_online``."""
    interfaces = tuple(probe.interfaces())
    radios = tuple(probe.radios())
    found = findings(interfaces, radios)
    if found and not allow_online:
        raise AirGapError(
            "this machine is not air-gapped: "
            + "; ".join(found)
            + ". Remove or disable them, or start with --allow-online."
        )
    return AirGapStatus(
        offline=not found,
        online_override=allow_online,
        findings=found,
        interfaces=interfaces,
        radios=radios,
    )


class SysfsProbe:
    """The Linux probe: reads ``<root>/class/{net,bluetooth,ieee80211,rfkill}``."""

    def __init__(self, root: Path = Path("/sys")) -> None:
        self._root = root

    def interfaces(self) -> list[InterfaceState]:
        """Every entry of ``class/net``; a missing ``class/net`` is an ``AirGapError``."""
        net = self._root / "class" / "net"
        states = []
        for name, path in self._list(net, required=True):
            if name in NET_CLASS_FILES and path.is_file() and not path.is_symlink():
                continue
            states.append(self._interface(name, path))
        return states

    def radios(self) -> list[str]:
        """Bluetooth controllers, 802.11 PHYs and rfkill switches."""
        classes = self._root / "class"
        found = [f"bluetooth {name}" for name, _ in self._list(classes / "bluetooth")]
        found += [f"wifi {name}" for name, _ in self._list(classes / "ieee80211")]
        for name, path in self._list(classes / "rfkill"):
            kind = _read(path / "type")
            state = RFKILL_STATES.get(_read(path / "state") or "", "unknown state")
            found.append(f"rfkill {name}: {_safe_name(kind) if kind else 'unknown type'} ({state})")
        return found

    def _interface(self, name: str, path: Path) -> InterfaceState:
        flags = _read_flags(path / "flags")
        arp_type = _read_decimal(path / "type")
        operstate = _read(path / "operstate")
        # A wireless netdev has a "wireless" directory or a "phy80211" link (possibly dangling).
        wireless = os.path.lexists(path / "wireless") or os.path.lexists(path / "phy80211")
        if flags is not None:
            up = bool(flags & IFF_UP)
            loopback = bool(flags & IFF_LOOPBACK)
        else:
            up = operstate not in DOWN_OPERSTATES if operstate is not None else True
            loopback = arp_type == ARPHRD_LOOPBACK
        if wireless:
            kind = InterfaceKind.WIRELESS
        elif loopback:
            kind = InterfaceKind.LOOPBACK
        elif arp_type == ARPHRD_ETHER:
            kind = InterfaceKind.ETHERNET
        else:
            kind = InterfaceKind.OTHER
        return InterfaceState(name=name, up=up, kind=kind)

    def _list(self, directory: Path, *, required: bool = False) -> list[tuple[str, Path]]:
        """The sorted entries of a sysfs class directory (names made safe to print)."""
        try:
            with os.scandir(directory) as entries:
                names = sorted(entry.name for entry in entries)
        except FileNotFoundError as exc:
            if not required:
                return []  # the driver class is not there at all: no such device
            raise AirGapError(f"cannot check the air gap: {directory} does not exist") from exc
        except OSError as exc:
            raise AirGapError(
                f"cannot check the air gap: {directory} cannot be listed ({exc.strerror})"
            ) from exc
        return [(_safe_name(name), directory / name) for name in names]


def _read(path: Path) -> str | None:
    """A small sysfs attribute as stripped ASCII text, or None when it cannot be read."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_ATTRIBUTE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_ATTRIBUTE_BYTES:
        return None
    try:
        return data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None


def _read_flags(path: Path) -> int | None:
    """``flags`` is written as ``0x`` and hex digits (net-sysfs.c prints it with %#x)."""
    text = _read(path)
    match = _FLAGS.fullmatch(text) if text is not None else None
    return int(match[1], 16) if match else None


def _read_decimal(path: Path) -> int | None:
    text = _read(path)
    return int(text) if text is not None and _DECIMAL.fullmatch(text) else None


def _safe_name(name: str) -> str:
    """A name fit for a message: printable, no terminal escapes, at most 64 characters."""
    return _UNSAFE_NAME_CHARS.sub("?", name)[:64]
