"""Tests for the air-gap check: a fake probe, the sysfs reader on fake trees, and the real /sys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from signer.airgap import (
    AirGapStatus,
    InterfaceKind,
    InterfaceState,
    NetworkProbe,
    SysfsProbe,
    check,
)
from signer.errors import AirGapError

LO = InterfaceState("lo", True, InterfaceKind.LOOPBACK)


@dataclass
class FakeProbe:
    found_interfaces: list[InterfaceState] = field(default_factory=lambda: [LO])
    found_radios: list[str] = field(default_factory=list)

    def interfaces(self) -> list[InterfaceState]:
        return list(self.found_interfaces)

    def radios(self) -> list[str]:
        return list(self.found_radios)


class BrokenProbe:
    def interfaces(self) -> list[InterfaceState]:
        raise AirGapError("cannot check the air gap: /sys/class/net does not exist")

    def radios(self) -> list[str]:
        return []


# -- the check, with a fake probe --------------------------------------------------------------


def test_loopback_only_is_air_gapped() -> None:
    status = check(FakeProbe(), allow_online=False)
    assert status == AirGapStatus(
        offline=True, online_override=False, findings=(), interfaces=(LO,), radios=()
    )


def test_an_interface_that_is_up_is_refused_by_name() -> None:
    probe = FakeProbe([LO, InterfaceState("eth0", True, InterfaceKind.ETHERNET)])
    with pytest.raises(AirGapError, match=r"eth0 \(ethernet, up\)"):
        check(probe, allow_online=False)


def test_an_interface_that_is_down_is_allowed() -> None:
    probe = FakeProbe([LO, InterfaceState("eth0", False, InterfaceKind.ETHERNET)])
    assert check(probe, allow_online=False).offline


def test_a_wireless_interface_is_refused_even_when_down() -> None:
    probe = FakeProbe(
        [
            LO,
            InterfaceState("eth0", False, InterfaceKind.ETHERNET),
            InterfaceState("wlan0", False, InterfaceKind.WIRELESS),
        ]
    )
    with pytest.raises(AirGapError, match=r"wlan0 \(wireless, down\)") as info:
        check(probe, allow_online=False)
    assert "eth0" not in str(info.value)


def test_a_radio_is_refused_by_name() -> None:
    with pytest.raises(AirGapError, match="bluetooth hci0"):
        check(FakeProbe(found_radios=["bluetooth hci0"]), allow_online=False)


def test_every_finding_is_named() -> None:
    probe = FakeProbe(
        [LO, InterfaceState("usb0", True, InterfaceKind.OTHER)],
        ["bluetooth hci0", "rfkill rfkill1: wwan (unblocked)"],
    )
    with pytest.raises(AirGapError) as info:
        check(probe, allow_online=False)
    for name in ("usb0 (other, up)", "bluetooth hci0", "rfkill1: wwan"):
        assert name in str(info.value)
    assert "--allow-online" in str(info.value)


def test_allow_online_returns_a_loud_override() -> None:
    eth0 = InterfaceState("eth0", True, InterfaceKind.ETHERNET)
    status = check(FakeProbe([LO, eth0], ["bluetooth hci0"]), allow_online=True)
    assert status.online_override and not status.offline
    assert status.findings == ("eth0 (ethernet, up)", "bluetooth hci0")
    assert status.interfaces == (LO, eth0)


def test_allow_online_is_reported_even_with_nothing_found() -> None:
    status = check(FakeProbe(), allow_online=True)
    assert status.online_override and status.offline and status.findings == ()


def test_a_probe_that_cannot_read_refuses() -> None:
    with pytest.raises(AirGapError, match="does not exist"):
        check(BrokenProbe(), allow_online=False)


def test_the_probes_fit_the_protocol() -> None:
    probes: list[NetworkProbe] = [FakeProbe(), BrokenProbe(), SysfsProbe()]
    assert len(probes) == 3


# -- the sysfs reader on fake trees ------------------------------------------------------------


def add_interface(
    root: Path,
    name: str,
    *,
    flags: str | None,
    arp_type: str | None = "1",
    operstate: str | None = None,
    extra_dirs: tuple[str, ...] = (),
) -> Path:
    path = root / "class" / "net" / name
    path.mkdir(parents=True)
    for attribute, value in (("flags", flags), ("type", arp_type), ("operstate", operstate)):
        if value is not None:
            (path / attribute).write_text(value + "\n")
    for directory in extra_dirs:
        (path / directory).mkdir()
    return path


@pytest.fixture
def sysfs(tmp_path: Path) -> Path:
    """A fake /sys holding only the loopback interface."""
    add_interface(tmp_path, "lo", flags="0x9", arp_type="772", operstate="unknown")
    return tmp_path


def test_sysfs_loopback_only_is_air_gapped(sysfs: Path) -> None:
    probe = SysfsProbe(sysfs)
    assert probe.interfaces() == [LO]
    assert probe.radios() == []
    assert check(probe, allow_online=False).offline


def test_sysfs_eth0_up_is_refused(sysfs: Path) -> None:
    add_interface(sysfs, "eth0", flags="0x1003", operstate="up")
    with pytest.raises(AirGapError, match=r"eth0 \(ethernet, up\)"):
        check(SysfsProbe(sysfs), allow_online=False)


def test_sysfs_eth0_administratively_up_without_carrier_is_refused(sysfs: Path) -> None:
    # IFF_UP is set; only the cable is missing. Plugging it in would bring the link up.
    add_interface(sysfs, "eth0", flags="0x1003", operstate="down")
    with pytest.raises(AirGapError, match="eth0"):
        check(SysfsProbe(sysfs), allow_online=False)


def test_sysfs_eth0_down_is_allowed(sysfs: Path) -> None:
    add_interface(sysfs, "eth0", flags="0x1002", operstate="down")
    status = check(SysfsProbe(sysfs), allow_online=False)
    assert InterfaceState("eth0", False, InterfaceKind.ETHERNET) in status.interfaces


@pytest.mark.parametrize("marker", ["wireless", "phy80211"])
def test_sysfs_eth0_down_but_wireless_present_is_refused(sysfs: Path, marker: str) -> None:
    add_interface(sysfs, "eth0", flags="0x1002", operstate="down")
    wlan = add_interface(sysfs, "wlan0", flags="0x1002", operstate="down")
    if marker == "wireless":
        (wlan / "wireless").mkdir()
    else:
        (wlan / "phy80211").symlink_to(sysfs / "class" / "ieee80211" / "phy0")  # dangling
    with pytest.raises(AirGapError, match=r"wlan0 \(wireless, down\)") as info:
        check(SysfsProbe(sysfs), allow_online=False)
    assert "eth0" not in str(info.value)


def test_sysfs_bluetooth_is_refused(sysfs: Path) -> None:
    (sysfs / "class" / "bluetooth" / "hci0").mkdir(parents=True)
    assert SysfsProbe(sysfs).radios() == ["bluetooth hci0"]
    with pytest.raises(AirGapError, match="bluetooth hci0"):
        check(SysfsProbe(sysfs), allow_online=False)


def test_sysfs_wifi_phy_is_refused(sysfs: Path) -> None:
    (sysfs / "class" / "ieee80211" / "phy0").mkdir(parents=True)
    with pytest.raises(AirGapError, match="wifi phy0"):
        check(SysfsProbe(sysfs), allow_online=False)


@pytest.mark.parametrize(
    ("kind", "state", "described"),
    [
        ("wlan", "1", "rfkill0: wlan (unblocked)"),
        ("bluetooth", "0", "rfkill0: bluetooth (soft-blocked)"),
        ("wwan", "2", "rfkill0: wwan (hard-blocked)"),
        ("nfc\x1b[31m", "7", "rfkill0: nfc??31m (unknown state)"),
    ],
)
def test_sysfs_an_rfkill_switch_is_refused_whatever_its_state(
    sysfs: Path, kind: str, state: str, described: str
) -> None:
    switch = sysfs / "class" / "rfkill" / "rfkill0"
    switch.mkdir(parents=True)
    (switch / "type").write_text(kind + "\n")
    (switch / "state").write_text(state + "\n")
    assert SysfsProbe(sysfs).radios() == ["rfkill " + described]
    with pytest.raises(AirGapError, match="rfkill0"):
        check(SysfsProbe(sysfs), allow_online=False)


def test_sysfs_allow_online_returns_the_override(sysfs: Path) -> None:
    add_interface(sysfs, "eth0", flags="0x1003", operstate="up")
    (sysfs / "class" / "bluetooth" / "hci0").mkdir(parents=True)
    status = check(SysfsProbe(sysfs), allow_online=True)
    assert status.online_override and not status.offline
    assert status.findings == ("eth0 (ethernet, up)", "bluetooth hci0")


def test_sysfs_the_real_layout_of_symlinks_is_followed(tmp_path: Path) -> None:
    device = tmp_path / "devices" / "pci0000:00" / "net" / "eth0"
    device.mkdir(parents=True)
    (device / "flags").write_text("0x1003\n")
    (device / "type").write_text("1\n")
    net = tmp_path / "class" / "net"
    net.mkdir(parents=True)
    (net / "eth0").symlink_to(device)
    assert SysfsProbe(tmp_path).interfaces() == [
        InterfaceState("eth0", True, InterfaceKind.ETHERNET)
    ]


# -- odd and unreadable sysfs entries: no traceback, and unknown counts as unsafe ---------------


def test_garbage_flags_fall_back_to_operstate(sysfs: Path) -> None:
    add_interface(sysfs, "eth0", flags="garbage", operstate="down")
    add_interface(sysfs, "eth1", flags="0xZZ", operstate="up")
    states = {s.name: s for s in SysfsProbe(sysfs).interfaces()}
    assert not states["eth0"].up and states["eth1"].up


def test_unreadable_state_counts_as_up(sysfs: Path) -> None:
    add_interface(sysfs, "eth0", flags=None, operstate=None)
    with pytest.raises(AirGapError, match=r"eth0 \(ethernet, up\)"):
        check(SysfsProbe(sysfs), allow_online=False)


def test_an_attribute_that_is_a_directory_counts_as_unreadable(sysfs: Path) -> None:
    eth0 = add_interface(sysfs, "eth0", flags=None, arp_type=None, extra_dirs=("flags",))
    (eth0 / "operstate").mkdir()
    (eth0 / "type").mkdir()
    assert InterfaceState("eth0", True, InterfaceKind.OTHER) in SysfsProbe(sysfs).interfaces()


def test_non_ascii_and_oversized_attributes_count_as_unreadable(sysfs: Path) -> None:
    eth0 = add_interface(sysfs, "eth0", flags=None, arp_type=None)
    (eth0 / "flags").write_bytes(b"\xff\xfe")
    (eth0 / "operstate").write_bytes(b"down" + b" " * 1000)
    (eth0 / "type").write_bytes(b"1" * 50)
    assert InterfaceState("eth0", True, InterfaceKind.OTHER) in SysfsProbe(sysfs).interfaces()


def test_a_name_with_a_terminal_escape_is_made_safe(sysfs: Path) -> None:
    add_interface(sysfs, "ev\x1b[2Jil", flags="0x1003")
    with pytest.raises(AirGapError, match=r"ev\?\?2Jil") as info:
        check(SysfsProbe(sysfs), allow_online=False)
    assert "\x1b" not in str(info.value)


def test_loopback_is_recognised_by_type_when_flags_are_unreadable(tmp_path: Path) -> None:
    add_interface(tmp_path, "lo", flags=None, arp_type="772", operstate="unknown")
    assert SysfsProbe(tmp_path).interfaces() == [LO]


def test_a_name_alone_does_not_make_loopback(tmp_path: Path) -> None:
    add_interface(tmp_path, "lo", flags="0x1003", arp_type="1", operstate="up")
    with pytest.raises(AirGapError, match=r"lo \(ethernet, up\)"):
        check(SysfsProbe(tmp_path), allow_online=False)


def test_a_dangling_interface_link_counts_as_up(sysfs: Path) -> None:
    (sysfs / "class" / "net" / "eth9").symlink_to(sysfs / "nowhere")
    with pytest.raises(AirGapError, match=r"eth9 \(other, up\)"):
        check(SysfsProbe(sysfs), allow_online=False)


def test_the_bonding_masters_file_is_not_an_interface(sysfs: Path) -> None:
    (sysfs / "class" / "net" / "bonding_masters").write_text("\n")
    assert SysfsProbe(sysfs).interfaces() == [LO]


def test_a_missing_net_class_is_an_air_gap_error(tmp_path: Path) -> None:
    with pytest.raises(AirGapError, match="does not exist"):
        check(SysfsProbe(tmp_path), allow_online=False)
    with pytest.raises(AirGapError, match="does not exist"):
        check(SysfsProbe(tmp_path), allow_online=True)


def test_a_class_that_is_not_a_directory_is_an_air_gap_error(sysfs: Path) -> None:
    (sysfs / "class" / "bluetooth").write_text("odd\n")
    with pytest.raises(AirGapError, match="cannot be listed"):
        check(SysfsProbe(sysfs), allow_online=False)


def test_an_rfkill_switch_with_unreadable_attributes_is_still_a_radio(sysfs: Path) -> None:
    (sysfs / "class" / "rfkill" / "rfkill3").mkdir(parents=True)
    assert SysfsProbe(sysfs).radios() == ["rfkill rfkill3: unknown type (unknown state)"]


# -- the real /sys: only the shape of the answer -----------------------------------------------


def test_the_real_sysfs_gives_a_well_formed_answer() -> None:
    probe = SysfsProbe()
    interfaces = probe.interfaces()
    radios = probe.radios()
    assert interfaces, "a Linux machine has at least the loopback interface"
    for interface in interfaces:
        assert isinstance(interface.name, str) and interface.name
        assert isinstance(interface.up, bool)
        assert isinstance(interface.kind, InterfaceKind)
    assert all(isinstance(radio, str) and radio for radio in radios)
    status = check(probe, allow_online=True)
    assert status.online_override
    assert status.offline == (status.findings == ())
