"""Removable media detection on recorded machines (Linux sysfs trees, Windows psutil
lists, macOS diskutil plists), replayed through each probe's seam on any system."""

from __future__ import annotations

import json
import os
from collections import namedtuple
from pathlib import Path

import pytest

from stager.card.media import Medium, _linux, _macos, _windows, medium_for_path

DATA = Path(__file__).parent / "data" / "media"
Part = namedtuple("sdiskpart", "device mountpoint fstype opts")
LINUX = json.loads((DATA / "linux_machines.json").read_text())
WINDOWS = json.loads((DATA / "windows_machines.json").read_text())


def build_sysfs(root: Path, disks: dict) -> Path:
    """Materialise a recorded sysfs block tree: devices/.../block/<disk>[/<part>] with
    their attributes, and class/block/<name> links like the kernel's."""
    (root / "class" / "block").mkdir(parents=True)
    for name, d in disks.items():
        node = root / d["path"]
        node.mkdir(parents=True)
        for rel, value in d.get("attrs", {}).items():
            (node / rel).parent.mkdir(parents=True, exist_ok=True)
            (node / rel).write_text(value + "\n")
        os.symlink(os.path.relpath(node, root / "class" / "block"), root / "class" / "block" / name)
        for i, part in enumerate(d.get("parts", []), 1):
            pnode = node / part
            pnode.mkdir()
            (pnode / "partition").write_text(f"{i}\n")
            (pnode / "ro").write_text("0\n")
            os.symlink(os.path.relpath(pnode, root / "class" / "block"), root / "class" / "block" / part)
    return root


def linux_volumes(tmp_path, case: str):
    m = LINUX[case]
    sysfs = build_sysfs(tmp_path / "sys", m["disks"])
    sizes = m.get("usage", {})
    return _linux.volumes(
        partitions=[Part(*p) for p in m["partitions"]],
        sysfs_root=str(sysfs),
        swaps_text=m["swaps"],
        blkid=lambda dev: m["blkid"].get(dev, {}),
        disk_usage=lambda mp: (None, None) if sizes.get(mp, [1, 1])[0] == 0 else (32_000_000_000, 31_000_000_000),
        list_firmware=lambda mp: (),
    )


@pytest.mark.parametrize("case", [c for c in LINUX if not c.startswith("_")])
def test_linux_recorded_machines(tmp_path, case):
    vols = linux_volumes(tmp_path, case)
    removable = {v.mountpoint: v for v in vols if v.removable}
    expect = LINUX[case]["expect"]
    assert set(removable) == set(expect)
    for mp, facts in expect.items():
        for key, value in facts.items():
            assert getattr(removable[mp], key) == value, (mp, key)
    for v in vols:
        if v.mountpoint in ("/", "/boot", "/boot/efi", "/home"):
            assert v.is_system and not v.removable


def test_linux_system_disk_is_never_removable_even_on_usb(tmp_path):
    vols = linux_volumes(tmp_path, "usb_stick_holding_root")
    assert vols and all(v.is_system and not v.removable for v in vols)


def test_linux_swap_disk_is_system(tmp_path):
    m = dict(LINUX["laptop_nvme_and_usb_stick"])
    m["partitions"] = [["/dev/sdb1", "/media/x", "vfat", "rw"]]
    m["swaps"] = "Filename Type Size Used Priority\n/dev/sdb1 partition 1 0 -2\n"
    sysfs = build_sysfs(tmp_path / "sys", m["disks"])
    (v,) = _linux.volumes(
        partitions=[Part(*p) for p in m["partitions"]],
        sysfs_root=str(sysfs),
        swaps_text=m["swaps"],
        blkid=lambda d: {},
        disk_usage=lambda mp: (1, 1),
        list_firmware=lambda mp: (),
    )
    assert v.is_system and not v.removable


def test_linux_names_do_not_decide(tmp_path):
    """An 'mmcblk' or 'sd' name means nothing: a disk named like a card but on SATA with
    removable=0 is fixed, and a loop device flagged removable is removable."""
    disks = {
        "mmcblk9": {
            "path": "devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/mmcblk9",
            "attrs": {"removable": "0"},
            "parts": ["mmcblk9p1"],
        },
        "loop7": {"path": "devices/virtual/block/loop7", "attrs": {"removable": "1"}, "parts": []},
    }
    sysfs = build_sysfs(tmp_path / "sys", disks)
    vols = _linux.volumes(
        partitions=[Part("/dev/mmcblk9p1", "/data", "ext4", "rw"), Part("/dev/loop7", "/mnt/card", "vfat", "rw")],
        sysfs_root=str(sysfs),
        swaps_text="",
        blkid=lambda d: {"TYPE": "vfat"},
        disk_usage=lambda mp: (1, 1),
        list_firmware=lambda mp: (),
    )
    assert {v.mountpoint: v.removable for v in vols} == {"/data": False, "/mnt/card": True}


def test_windows_recorded_machine():
    m = WINDOWS["laptop_with_sd_card"]
    vols = _windows.volumes(
        partitions=[Part(*p) for p in m["partitions"]],
        system_drive=m["system_drive"],
        disk_usage=lambda mp: (32_000_000_000, 1_000_000),
        list_firmware=lambda mp: (),
    )
    removable = {v.mountpoint: v for v in vols if v.removable}
    assert set(removable) == set(m["expect"])
    for mp, facts in m["expect"].items():
        for key, value in facts.items():
            assert getattr(removable[mp], key) == value
    c = next(v for v in vols if v.mountpoint == "C:\\")
    assert c.is_system and not c.removable


def test_windows_removable_system_drive_is_never_a_target():
    vols = _windows.volumes(
        partitions=[Part("C:\\", "C:\\", "NTFS", "rw,removable")],
        system_drive="C:",
        disk_usage=lambda mp: (1, 1),
        list_firmware=lambda mp: (),
    )
    assert not vols[0].removable


def macos_volumes(*names):
    plists = {f"/Volumes/{n}": (DATA / f"{n}.plist").read_bytes() for n in names}
    return _macos.volumes(mountpoints=list(plists), diskutil=plists.get, list_firmware=lambda mp: ())


def test_macos_sd_card_and_usb_disk():
    vols = macos_volumes("macos_root", "macos_data", "macos_sdcard", "macos_usb_disk")
    removable = {v.mountpoint: v for v in vols if v.removable}
    assert set(removable) == {"/Volumes/PULSECARD", "/Volumes/BACKUP"}
    sd = removable["/Volumes/PULSECARD"]
    assert sd.fstype == "msdos" and sd.label == "PULSECARD" and sd.why == "removable media"
    assert sd.device == "/dev/disk4s1" and sd.size_bytes == 31902400512
    assert removable["/Volumes/BACKUP"].why == "external disk"
    root = next(v for v in vols if v.mountpoint == "/")
    assert root.is_system and not root.removable


def test_macos_damaged_plist_is_skipped():
    vols = _macos.volumes(
        mountpoints=["/Volumes/X"], diskutil=lambda mp: b"<plist><dict><key>", list_firmware=lambda mp: ()
    )
    assert vols == []


def test_medium_for_path_takes_the_longest_mount_point():
    vols = [Medium("/", "/dev/vda", is_system=True), Medium("/media/tech/CARD", "/dev/sdb1", removable=True)]
    assert medium_for_path("/media/tech/CARD/sub", vols).device == "/dev/sdb1"
    assert medium_for_path("/media/tech/CARDX", vols).device == "/dev/vda"
    assert medium_for_path("/media/tech/CARD", vols).device == "/dev/sdb1"
