"""Linux removable media detection on recorded sysfs trees (through the probe's calls
seam), device-id matching of --target, and record/replay of this machine. The Windows
and macOS machines are in test_media_recorded.py."""

from __future__ import annotations

import json
import os
from collections import namedtuple
from pathlib import Path

import pytest

from stager.card.media import Medium, _linux, _macos, medium_for_path
from stager.card.media.record import Replayer

DATA = Path(__file__).parents[1] / "data" / "media"
Part = namedtuple("sdiskpart", "device mountpoint fstype opts")
LINUX = json.loads((DATA / "linux_machines.json").read_text())


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
        _linux.LinuxCalls(
            partitions=[Part(*p) for p in m["partitions"]],
            sysfs_root=str(sysfs),
            swaps_text=m["swaps"],
            blkid=lambda dev: m["blkid"].get(dev, {}),
            disk_usage=lambda mp: (None, None) if sizes.get(mp, [1, 1])[0] == 0 else (32_000_000_000, 31_000_000_000),
            list_firmware=lambda mp: (),
        )
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
        _linux.LinuxCalls(
            partitions=[Part(*p) for p in m["partitions"]],
            sysfs_root=str(sysfs),
            swaps_text=m["swaps"],
            blkid=lambda d: {},
            disk_usage=lambda mp: (1, 1),
            list_firmware=lambda mp: (),
        )
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
        _linux.LinuxCalls(
            partitions=[Part("/dev/mmcblk9p1", "/data", "ext4", "rw"), Part("/dev/loop7", "/mnt/card", "vfat", "rw")],
            sysfs_root=str(sysfs),
            swaps_text="",
            blkid=lambda d: {"TYPE": "vfat"},
            disk_usage=lambda mp: (1, 1),
            list_firmware=lambda mp: (),
        )
    )
    assert {v.mountpoint: v.removable for v in vols} == {"/data": False, "/mnt/card": True}


def test_macos_damaged_plist_gives_no_volume():
    calls = Replayer(
        {
            "partitions": [["/dev/disk4s1", "/Volumes/X", "msdos", "rw"]],
            "diskutil": {"/Volumes/X": "<plist><dict><key>"},
        }
    )
    assert _macos.volumes(calls) == []


def stat_of(devs: dict):
    def stat(path):
        for prefix in sorted(devs, key=len, reverse=True):
            if str(path) == prefix or str(path).startswith(prefix.rstrip("/") + "/"):
                return os.stat_result((0, 0, devs[prefix], 0, 0, 0, 0, 0, 0, 0))
        raise FileNotFoundError(2, "no such file", path)

    return stat


def test_medium_for_path_matches_the_device_id_not_the_spelling():
    vols = [
        Medium("/", "/dev/vda", is_system=True, dev=1),
        Medium("/media/tech/CARD", "/dev/sdb1", removable=True, dev=7),
    ]
    stat = stat_of({"/": 1, "/media/tech/CARD": 7})
    assert medium_for_path("/media/tech/CARD/sub", vols, stat).device == "/dev/sdb1"
    assert medium_for_path("/media/tech/CARDX", vols, stat).device == "/dev/vda"
    assert medium_for_path("/media/tech/CARD", vols, stat).device == "/dev/sdb1"
    # a folder on a volume no probe listed (a tmpfs): unknown, never the system disk's or the card's
    assert medium_for_path("/tmp/x", vols, stat_of({"/tmp": 3})) is None
    assert medium_for_path("/nowhere", vols, stat_of({})) is None


def test_two_volumes_with_one_device_id_are_told_apart_by_mount_point():
    """Two SD cards cloned with dd carry one FAT serial number: one st_dev on Windows."""
    vols = [Medium("/mnt/a", "a", removable=True, dev=5), Medium("/mnt/b", "b", removable=True, dev=5)]
    assert medium_for_path("/mnt/b/fw", vols, stat_of({"/mnt": 5})).device == "b"


def test_record_then_replay_this_machine_gives_the_same_volumes(tmp_path):
    from stager.card import media

    if media.current_system() != "linux":
        pytest.skip("records this machine's Linux probes")
    found = media.record_to(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["format"] == "stager-media-record" and doc["system"] == "linux"
    assert {"partitions", "sysfs_exists"} <= set(doc["calls"])
    replayed = media.replay(tmp_path / "m.json")
    assert [v.to_json() for v in replayed.volumes] == [v.to_json() for v in found]
    assert [v.mountpoint for v in replayed.detect()] == [v.mountpoint for v in media.candidates(found)]


def test_a_recorded_linux_tree_replays_to_the_same_verdicts(tmp_path):
    """A sysfs tree read through the recorder, then replayed from the record alone."""
    from stager.card.media.record import Recorder

    m = LINUX["laptop_nvme_and_usb_stick"]
    real = _linux.LinuxCalls(
        partitions=[Part(*p) for p in m["partitions"]],
        sysfs_root=str(build_sysfs(tmp_path / "sys", m["disks"])),
        swaps_text=m["swaps"],
        blkid=lambda dev: m["blkid"].get(dev, {}),
        disk_usage=lambda mp: (32_000_000_000, 31_000_000_000),
        list_firmware=lambda mp: ("OCPP212_KIP241A_EN.bin",),
        stat=stat_of({"/": 1, "/boot/efi": 2, "/media/tech/PULSECARD": 9}),
    )
    recorder = Recorder(real)
    live = _linux.volumes(recorder)
    calls = json.loads(json.dumps(recorder.calls))  # what the file holds
    assert [v.to_json() for v in _linux.volumes(Replayer(calls))] == [v.to_json() for v in live]
    card = next(v for v in live if v.removable)
    assert card.dev == 9 and card.firmware_files == ("OCPP212_KIP241A_EN.bin",)


def test_a_device_id_probes_only_its_own_volume(tmp_path):
    """medium_for_path of one --target: the other volumes are not probed (no blkid, free
    space or firmware listing of every card), and the one found is the same."""
    from types import SimpleNamespace

    from stager.card.media import all_volumes

    m = LINUX["laptop_nvme_and_usb_stick"]
    devs = {p[1]: number for number, p in enumerate(m["partitions"], 100)}
    asked: list[str] = []
    calls = _linux.LinuxCalls(
        partitions=[Part(*p) for p in m["partitions"]],
        sysfs_root=str(build_sysfs(tmp_path / "sys", m["disks"])),
        swaps_text=m["swaps"],
        blkid=lambda dev: asked.append(dev) or m["blkid"].get(dev, {}),
        disk_usage=lambda mp: asked.append(mp) or (32_000_000_000, 31_000_000_000),
        list_firmware=lambda mp: (),
        stat=lambda mp: SimpleNamespace(st_dev=devs[mp]),
    )
    everything = _linux.volumes(calls)
    assert len(everything) > 1
    for volume in everything:
        asked.clear()
        assert all_volumes(calls, "linux", dev=volume.dev) == [volume]
        assert set(asked) <= {volume.device, volume.mountpoint}
    assert all_volumes(calls, "linux", dev=1) == []
