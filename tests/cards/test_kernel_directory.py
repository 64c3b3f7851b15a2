"""Issue 12 (acceptance FAIL 1): on a removable card served by the kernel's own file
system (ext4, vfat...), the folder entry is proved from the medium too: after each rename
the card is unmounted and mounted again, then its folder listed. A medium that drops the
writes of its metadata (the directory and the inode that make the file exist) fails the
run (exit 6) and leaves nothing under a firmware name; sound cards stay READY."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from faulty.medium import drop_writes
from helpers.proof import NAME, MiB, make_catalog, prepare
from helpers.staging import make_source

from stager.card import readback, remount, staging
from stager.rules.names import is_firmware_name

pytestmark = pytest.mark.cards


def metadata_end(card) -> int:
    """Where the card's first free run of blocks past its inode table starts (bytes): below
    it, the superblock, group descriptors, bitmaps, inode table and root folder of a fresh
    ext4 card (4 KiB blocks); a new file's data goes above."""
    out = subprocess.run(["dumpe2fs", str(card.image)], capture_output=True, text=True, check=True).stdout
    free = re.search(r"^Group 0:.*?\n\s+Free blocks: ([^\n]*)", out, re.S | re.M)
    assert free, out[-2000:]
    start = int(free.group(1).split(",")[-1].strip().split("-")[0])
    return start * 4096


def _firmware_left(card) -> list[str]:
    return [n for n in card.files() if is_firmware_name(n) or n.endswith(".sha256")]


def test_ext4_dropping_its_metadata_writes_fails_the_run(run_stager, make_faulty_card, tmp_path):
    catalog, _data = make_catalog(tmp_path / "cat", 2 * MiB)
    card = make_faulty_card("ext4")
    card.set_faults(drop_writes(start=0, end=metadata_end(card)))
    r = prepare(run_stager, catalog, "--target", card.mountpoint)
    hits = card.medium.faults()[0]["hits"]
    assert hits >= 1, f"the medium dropped nothing: the test proves nothing ({card.stats()})"
    assert r.code == 6, r
    error = r.json()["error"]
    assert error["code"] == "verification-failed", error
    assert "did not store the folder entry" in error["message"], error
    card.clear()
    card.eject()
    assert _firmware_left(card) == [], card.files()


def _ready(r) -> dict:
    assert r.code == 0, r
    cards = r.json()["targets"]
    assert len(cards) == 1, cards
    return cards[0]


def test_a_sound_ext4_card_stays_ready_and_its_entry_is_read_from_the_medium(run_stager, make_faulty_card, tmp_path):
    catalog, data = make_catalog(tmp_path / "cat", 2 * MiB)
    card = make_faulty_card("ext4")
    r = prepare(run_stager, catalog, "--target", card.mountpoint)
    one = _ready(r)
    assert one["read_back"] == "direct", one
    assert not any("memory" in why for why in one["read_back_why"].values()), one
    card.eject()
    assert _mount_count(card) == 3  # the suite's mount, then one after each rename (firmware, sidecar)
    assert card.read(NAME) == data
    assert sorted(_firmware_left(card)) == [NAME, f"{NAME}.sha256"]


def _mount_count(card) -> int:
    """How many times the ext4 file system was mounted since mkfs (its superblock says)."""
    out = subprocess.run(["dumpe2fs", "-h", str(card.image)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"^Mount count:\s+(\d+)", out, re.M)
    assert found, out
    return int(found.group(1))


def _kernel_has(fs: str) -> bool:
    try:
        with open("/proc/filesystems") as f:
            return any(line.split()[-1] == fs for line in f if line.strip())
    except OSError:
        return False


@pytest.mark.skipif(not _kernel_has("vfat"), reason="this kernel has no vfat driver")
def test_a_sound_kernel_vfat_card_stays_ready(run_stager, make_card, tmp_path):
    catalog, data = make_catalog(tmp_path / "cat", 2 * MiB)
    card = make_card("fat32")
    card.unmount()  # the suite serves FAT32 with fusefat: the kernel's driver here
    subprocess.run(["mount", "-t", "vfat", "-o", "rw,utf8", card.device, str(card.mountpoint)], check=True)
    try:
        one = _ready(prepare(run_stager, catalog, "--target", card.mountpoint))
        assert one["read_back"] == "direct", one
        assert not any("memory" in why for why in one["read_back_why"].values()), one
    finally:
        subprocess.run(["umount", str(card.mountpoint)], check=False)
    card.eject()
    assert card.read(NAME) == data


class NoRightsHost(remount.Host):
    """A user who is not root, on a system without udisksctl."""

    def euid(self):
        return 1000

    def which(self, name):
        return None


class NoRightsOps(staging.FileOps):
    def read_kernel_directory(self, pin):
        system = readback.System()
        system.remount_kernel = lambda p: remount.remount_kernel(p, NoRightsHost())  # type: ignore[method-assign]
        return readback.read_kernel_directory(pin, system)


def test_without_rights_to_remount_the_entry_is_said_read_from_memory(make_card, tmp_path):
    card = make_card("ext4")
    src = make_source(tmp_path / "cat")
    (r,) = staging.stage([src], [staging.Target(card.mountpoint, removable=True)], ops=NoRightsOps())
    assert r.ok, r.error
    assert r.read_back[src.name] == "direct"  # the method stays what the file's read-back proved
    why = r.read_back_why[src.name]
    assert "folder entry was read from the system's memory" in why and "neither udisksctl nor root" in why, why
    assert os.path.ismount(card.mountpoint)  # nothing was unmounted
    card.eject()
    assert src.name in card.files()


def test_a_folder_given_with_allow_fixed_is_never_remounted(make_card, tmp_path):
    src = make_source(tmp_path / "cat")

    class Watch(staging.FileOps):
        listed = 0

        def read_kernel_directory(self, pin):
            Watch.listed += 1
            return super().read_kernel_directory(pin)

    fixed, removable = make_card("ext4"), make_card("ext4")
    (r,) = staging.stage([src], [staging.Target(fixed.mountpoint, removable=False)], ops=Watch())
    assert r.ok and Watch.listed == 0
    (r,) = staging.stage([src], [staging.Target(removable.mountpoint, removable=True)], ops=Watch())
    assert r.ok and Watch.listed == 2  # after the firmware's rename and the sidecar's
