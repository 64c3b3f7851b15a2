"""stager.card.remount and the directory check, through their seams (no card needed):
which commands a remount runs where, and what a FUSE card's read-back does when its block
device's cache cannot be dropped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.kernel32 import Kernel32

from stager.card import readback, remount
from stager.card.pin import Mount
from stager.errors import MediaError

DEV = "/dev/sdb1"


class FakePin:
    def __init__(self, path: Path):
        self.path = path
        self.st_dev = os.stat(path).st_dev
        self.block_device = DEV
        self.fstype = "fuseblk"
        self.events: list[str] = []

    def close(self):
        self.events.append("close")

    def reopen(self):
        self.events.append("reopen")

    def files(self):
        return [("FW.bin", 3)]


class FakeHost(remount.Host):
    def __init__(self, mountpoint, *, euid=0, udisks=None, daemon=None, fail=None):
        self.mountpoint, self._euid, self.udisks, self.fail = str(mountpoint), euid, udisks, fail
        self.daemon = (
            daemon if daemon is not None else ["fusefat", "-o", "rw,blkdev,fsname=/dev/sdb1 ", DEV, self.mountpoint]
        )
        self.ran: list[list[str]] = []
        self.serving = True

    def euid(self):
        return self._euid

    def which(self, name):
        return self.udisks if name == "udisksctl" else None

    def commands(self):
        if self.serving:
            yield 4242, self.daemon

    def run(self, argv):
        self.ran.append(argv)
        if self.fail and argv[0].endswith(self.fail[0]) and self.fail[1] in argv:
            return 1, "target is busy"
        if "unmount" in argv or argv[0] == "umount":
            self.serving = False
        return 0, ""


def test_as_root_the_daemon_is_started_again_as_it_was(tmp_path):
    pin, host = FakePin(tmp_path), FakeHost(tmp_path)
    assert remount.remount(pin, host) is None
    # fusefat rewrote its "-o rw+" into "rw," in /proc: started again with rw+
    assert host.ran == [["umount", str(tmp_path)], ["fusefat", "-o", "rw+,blkdev,fsname=/dev/sdb1", DEV, str(tmp_path)]]
    assert pin.events == ["close", "reopen"]


def test_udisksctl_where_it_exists(tmp_path):
    pin, host = FakePin(tmp_path), FakeHost(tmp_path, euid=1000, udisks="/usr/bin/udisksctl")
    assert remount.remount(pin, host) is None
    assert host.ran == [["/usr/bin/udisksctl", "unmount", "-b", DEV], ["/usr/bin/udisksctl", "mount", "-b", DEV]]


def test_no_rights_no_udisksctl_says_why_and_touches_nothing(tmp_path):
    pin, host = FakePin(tmp_path), FakeHost(tmp_path, euid=1000)
    assert "neither udisksctl nor root rights" in remount.remount(pin, host)
    assert host.ran == [] and pin.events == []


def test_a_busy_card_stays_mounted_and_pinned(tmp_path):
    pin, host = FakePin(tmp_path), FakeHost(tmp_path, fail=("umount", str(tmp_path)))
    assert "could not be unmounted (target is busy)" in remount.remount(pin, host)
    assert pin.events == ["close", "reopen"]


def test_a_card_not_mounted_back_is_a_media_error(tmp_path):
    pin, host = FakePin(tmp_path), FakeHost(tmp_path, fail=("fusefat", DEV))
    with pytest.raises(MediaError) as e:
        remount.remount(pin, host)
    assert e.value.code == "card-gone" and "could not be mounted again" in e.value.message


def test_only_fusefat_reads_its_directory_from_the_device(tmp_path):
    pin = FakePin(tmp_path)
    assert remount.rereads_directory(pin, FakeHost(tmp_path))
    exfat = ["mount.exfat-fuse", "-o", "blkdev", DEV, str(tmp_path)]
    assert not remount.rereads_directory(pin, FakeHost(tmp_path, daemon=exfat))


class Seam(readback.System):
    def __init__(self, drop=None, remounted=None, rereads=True):
        self.drop, self.remounted, self.rereads = drop, remounted, rereads
        self.calls: list[str] = []

    def drop_cache(self, device):
        self.calls.append("drop")
        return self.drop

    def remount(self, pin):
        self.calls.append("remount")
        return self.remounted

    def rereads_directory(self, pin):
        return self.rereads


def test_the_directory_is_listed_from_the_medium_or_says_why_not(tmp_path):
    pin = FakePin(tmp_path)
    seam = Seam()
    assert readback.read_directory(pin, seam) == ({"FW.bin": 3}, "") and seam.calls == ["drop"]
    seam = Seam(drop="no rights on /dev/sdb1")  # then a remount
    assert readback.read_directory(pin, seam) == ({"FW.bin": 3}, "") and seam.calls == ["drop", "remount"]
    seam = Seam(drop="no rights on /dev/sdb1", remounted="no udisksctl")
    assert readback.read_directory(pin, seam)[1] == "no rights on /dev/sdb1; no udisksctl"
    seam = Seam(rereads=False)  # exfat-fuse keeps its directory in memory: always a remount
    assert readback.read_directory(pin, seam) == ({"FW.bin": 3}, "") and seam.calls == ["remount"]


def test_a_fuse_read_back_without_device_rights_remounts(tmp_path):
    seam = Seam(drop="no rights on /dev/sdb1")
    assert readback._fuse_medium(FakePin(tmp_path), seam) == ("remounted", "")
    seam = Seam(drop="no rights on /dev/sdb1", remounted="no udisksctl")
    assert readback._fuse_medium(FakePin(tmp_path), seam) == ("", "no rights on /dev/sdb1; no udisksctl")


# ------------------------------------------------------------------ Windows: a stop during the read-back
class Windows(readback.System):
    platform = "win32"

    def __init__(self, k32):
        self.k32 = k32

    def kernel32(self):
        return self.k32


class PathPin:
    def __init__(self, path: Path):
        self.path = path

    def where(self, name):
        return str(self.path / name)


def test_a_stop_between_chunks_ends_a_windows_read_back(tmp_path, monkeypatch):
    import threading

    from stager.fileio import Stopped

    monkeypatch.setattr(readback, "CHUNK", 64 * 1024)
    data = os.urandom(1024 * 1024)  # 16 chunks
    (tmp_path / "FW.bin").write_bytes(data)
    stop = threading.Event()
    k32 = Kernel32(data, on_read=lambda i: i == 2 and stop.set())  # Ctrl-C during the second chunk
    with pytest.raises(Stopped):
        readback.read_back(PathPin(tmp_path), "FW.bin", stop=stop, system=Windows(k32))
    assert k32.reads == 2 and k32.closed == [7]  # stopped at the next chunk, the handle closed


def test_a_stop_while_readfile_hangs_is_acted_on_and_frees_the_buffer_after(tmp_path):
    import threading
    import time

    from stager.fileio import Stopped

    data = os.urandom(4096)
    (tmp_path / "FW.bin").write_bytes(data)
    stop, card_answers = threading.Event(), threading.Event()
    k32 = Kernel32(data, on_read=lambda i: card_answers.wait(30))  # the card hangs
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        readback.read_back(PathPin(tmp_path), "FW.bin", stop=stop, system=Windows(k32))
    assert time.monotonic() - started < 1.5
    assert k32.closed == []  # ReadFile may still write into the buffer: nothing freed yet
    card_answers.set()
    deadline = time.monotonic() + 5
    while not k32.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert k32.closed == [7]


def test_a_windows_sidecar_read_back_keeps_its_content(tmp_path):
    text = b"ab" * 40 + b"  FW.bin\n"
    (tmp_path / "FW.bin.sha256").write_bytes(text)
    rb = readback.read_back(PathPin(tmp_path), "FW.bin.sha256", system=Windows(Kernel32(text)))
    assert rb.method == "direct" and rb.content == text


class KernelPin(FakePin):
    """A removable card on a kernel file system (ext4), mounted at its folder."""

    def __init__(self, path: Path):
        super().__init__(path)
        self.fstype = "ext4"
        self.mount = Mount(fstype="ext4", source=DEV, mountpoint=str(path))


class KernelHost(FakeHost):
    def __init__(self, mountpoint, mounts: str, **kw):
        super().__init__(mountpoint, **kw)
        self.proc = str(Path(mountpoint).parent / "proc")
        os.makedirs(f"{self.proc}/self", exist_ok=True)
        Path(f"{self.proc}/self/mounts").write_text(mounts)


def test_as_root_a_kernel_card_is_mounted_again_with_its_type_and_options(tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    mounts = f"/dev/sda2 / ext4 rw,relatime 0 0\n{DEV} {card} ext4 rw,nosuid,nodev,relatime,seclabel 0 0\n"
    pin, host = KernelPin(card), KernelHost(card, mounts)
    assert remount.remount_kernel(pin, host) is None
    mount = ["mount", "-t", "ext4", "-o", "rw,nosuid,nodev,relatime", DEV, str(card)]
    assert host.ran == [["umount", str(card)], mount]
    assert pin.events == ["close", "reopen"]


def test_a_kernel_card_without_root_uses_udisksctl_else_says_why(tmp_path, monkeypatch):
    card = tmp_path / "card"
    card.mkdir()
    mounts = f"{DEV} {card} ext4 rw 0 0\n"
    pin, host = KernelPin(card), KernelHost(card, mounts, euid=1000, udisks="/usr/bin/udisksctl")
    assert "was not mounted by udisks" in remount.remount_kernel(pin, host)  # it would come back elsewhere
    assert host.ran == [] and pin.events == []
    monkeypatch.setattr(remount, "UDISKS_PLACES", (str(tmp_path),))  # as if at /media/card
    assert remount.remount_kernel(pin, host) is None
    assert host.ran == [["/usr/bin/udisksctl", "unmount", "-b", DEV], ["/usr/bin/udisksctl", "mount", "-b", DEV]]
    pin, host = KernelPin(card), KernelHost(card, mounts, euid=1000)
    assert "neither udisksctl nor root rights" in remount.remount_kernel(pin, host)
    assert host.ran == [] and pin.events == []


def test_a_busy_kernel_card_stays_mounted_and_says_why(tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    pin, host = KernelPin(card), KernelHost(card, f"{DEV} {card} ext4 rw 0 0\n", fail=("umount", str(card)))
    assert "could not be unmounted (target is busy)" in remount.remount_kernel(pin, host)
    assert pin.events == ["close", "reopen"] and len(host.ran) == 1


def test_a_kernel_card_whose_options_cannot_be_read_is_not_unmounted(tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    pin, host = KernelPin(card), KernelHost(card, "/dev/sda2 / ext4 rw 0 0\n")
    assert "cannot be read" in remount.remount_kernel(pin, host)
    assert host.ran == [] and pin.events == []
