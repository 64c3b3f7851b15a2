"""Several cards chosen (the picker's "all", or several --target) and more than one is
refused: each refused card is named in the one error, not only the first."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from stager.card.targets import resolve_targets
from stager.errors import MediaError


@dataclass
class Medium:
    mountpoint: str
    device: str
    fstype: str
    label: str | None = None
    size_bytes: int | None = 64_000_000
    free_bytes: int | None = 60_000_000
    removable: bool = True
    why: str = "removable flag"
    read_only: bool = False
    is_system: bool = False
    uuid: str | None = None
    fs_version: str | None = None


def test_every_refused_card_is_named(tmp_path):
    media = [
        Medium(str(tmp_path / "a"), "/dev/sdb1", "vfat", "GOOD", fs_version="FAT32"),
        Medium(str(tmp_path / "d"), "/dev/sdc1", "ext4", "EXTCARD"),
        Medium(str(tmp_path / "e"), "/dev/sdd1", "ntfs", "NTFSCARD"),
        Medium(str(tmp_path / "h"), "/dev/sde1", "vfat", "ROCARD", read_only=True, fs_version="FAT32"),
    ]
    for m in media:
        os.makedirs(m.mountpoint)
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=lambda: media, medium_for_path=lambda p: None, choose=lambda found: found)
    message = e.value.message
    assert "3 of the cards chosen cannot be written" in message, message
    for device in ("/dev/sdc1", "/dev/sdd1", "/dev/sde1"):
        assert device in message, message
    assert "/dev/sdb1" not in message
    assert [r["code"] for r in e.value.details["refused"]] == ["wrong-filesystem", "wrong-filesystem", "read-only"]


def test_one_refused_card_keeps_its_own_error(tmp_path):
    media = [
        Medium(str(tmp_path / "a"), "/dev/sdb1", "vfat", "GOOD", fs_version="FAT32"),
        Medium(str(tmp_path / "d"), "/dev/sdc1", "ext4", "EXTCARD"),
    ]
    for m in media:
        os.makedirs(m.mountpoint)
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=lambda: media, medium_for_path=lambda p: None, choose=lambda found: found)
    assert e.value.code == "wrong-filesystem" and "cannot be written:" not in e.value.message
