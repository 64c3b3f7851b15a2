"""Linux: the mounted file systems are read from the mounts file as psutil reads them
(its rows, getmntent's escapes), and a volume's size and free space from statvfs as
psutil's disk_usage computes them, so a --target costs no psutil import."""

from __future__ import annotations

import os
import sys

import pytest

from stager.card.media._linux import read_mounts
from stager.card.media.model import usage


def test_the_mounts_file_is_decoded_as_getmntent_does(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "# a comment\n"
        "/dev/sdb1 /media/tech/PULSE\\040CARD vfat rw,nosuid,nodev,relatime,fmask=0022 0 0\n"
        "none /run/tab\\011and\\012newline\\134back tmpfs rw 0 0\n"
        "\n"
        "proc /proc proc rw,nosuid 0 0\n"
    )
    assert read_mounts(str(mounts)) == [
        ["/dev/sdb1", "/media/tech/PULSE CARD", "vfat", "rw,nosuid,nodev,relatime,fmask=0022"],
        ["", "/run/tab\tand\nnewline\\back", "tmpfs", "rw"],
        ["proc", "/proc", "proc", "rw,nosuid"],
    ]


def test_a_root_device_alias_or_no_file_is_left_to_psutil(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/root / ext4 rw 0 0\n")
    assert read_mounts(str(mounts)) is None
    assert read_mounts(str(tmp_path / "absent")) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="this machine's own mounts")
def test_the_rows_are_psutils_on_this_machine():
    psutil = pytest.importorskip("psutil")
    rows = read_mounts()
    if rows is None:
        pytest.skip("this machine mounts /dev/root: psutil is asked")
    assert rows == [[p.device, p.mountpoint, p.fstype, p.opts] for p in psutil.disk_partitions(all=True)]


@pytest.mark.skipif(not hasattr(os, "statvfs"), reason="statvfs is POSIX")
def test_size_and_free_space_are_psutils(tmp_path):
    psutil = pytest.importorskip("psutil")
    for folder in ("/", str(tmp_path)):
        before = psutil.disk_usage(folder)
        size, free = usage(folder)
        after = psutil.disk_usage(folder)
        assert size == before.total == after.total
        # the same figure, taken between psutil's two (other processes write to this disk)
        slack = 64 * 1024 * 1024
        assert free is not None and min(before.free, after.free) - slack <= free <= max(before.free, after.free) + slack
    assert usage(str(tmp_path / "absent")) == (None, None)
