"""The format command a refused card is given works as suggested: a label mkfs.vfat,
format and diskutil accept (ASCII upper case, 11 at most), or none."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from stager.card.targets import CardTarget, fat_label, format_command

LABELS = ["Clé été", "MàJ été", "PULSE CARD", "carte.1:2", "日本語", "pulsecard-workshop"]


@pytest.mark.parametrize(
    "label,expected",
    [
        ("Clé été", "CLE ETE"),
        ("MàJ été", "MAJ ETE"),
        ("carte.1:2", "CARTE12"),
        ("日本語", ""),
        ("abcdefghijklm", "ABCDEFGHIJK"),
    ],
)
def test_the_label_is_one_fat_accepts(label, expected):
    assert fat_label(label) == expected


def test_no_label_left_means_no_label_option():
    plan = CardTarget(path=Path("/media/t/X"), device="/dev/sdb1", label="日本語", removable=True)
    assert format_command(plan, "linux") == "sudo umount /media/t/X && sudo mkfs.vfat -F 32 /dev/sdb1"
    assert "/V:" not in format_command(CardTarget(path=Path("E:\\"), label="日本語"), "win32")
    assert "eraseVolume FAT32 PULSECARD" in format_command(plan, "darwin")


@pytest.mark.skipif(shutil.which("mkfs.vfat") is None, reason="needs mkfs.vfat (dosfstools)")
@pytest.mark.parametrize("label", LABELS)
def test_the_suggested_mkfs_command_is_accepted_by_mkfs_vfat(tmp_path, label):
    image = tmp_path / "card.img"
    with open(image, "wb") as f:
        f.truncate(40 * 1024 * 1024)
    plan = CardTarget(path=Path("/media/t/CARD"), device=str(image), label=label, removable=True)
    suggested = format_command(plan, "linux").split(" && sudo ", 1)[1]
    argv = shlex.split(suggested)
    assert argv[0] == "mkfs.vfat" and argv[-1] == str(image)
    r = subprocess.run([shutil.which("mkfs.vfat"), *argv[1:]], capture_output=True, text=True, env={"LANG": "C.UTF-8"})
    assert r.returncode == 0, (suggested, r.stderr)
