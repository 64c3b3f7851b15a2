"""Real cards without a card: FAT32/exFAT images on loop devices, mounted through FUSE
and flagged removable, inside a private mount namespace (shared/spec/testing-media.md).

The first card test moves this pytest process into its own mount namespace
(``unshare(CLONE_NEWNS)`` + ``mount --make-rprivate /``), so the flag bind-mounts and
FUSE mounts are seen by this process and the ``stager`` subprocesses it runs, and by
nothing else on the machine. Needs root, /dev/fuse, loop devices and the packages
dosfstools mtools fusefat exfatprogs exfat-fuse fdisk (.ci/run installs them). Where
they are missing the tests skip and say why; with CI=true they fail instead.

Fixture ``make_card(fs="fat32"|"exfat", size_mb=64, label="PULSECARD",
partitioned=False, read_only=False) -> Card``: ``card.mountpoint`` (a folder),
``card.device`` (/dev/loopN or /dev/loopNp1), ``card.image``; ``card.eject()``
unmounts and detaches; ``card.fsck()`` and ``card.read(name)`` check the image on its
own afterwards (fsck.vfat -n / fsck.exfat -n; mtype, or a fresh read-only mount for
exFAT). Everything attached is detached at teardown, even when a test fails.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

TOOLS = [
    "losetup",
    "mkfs.vfat",
    "mkfs.exfat",
    "fusefat",
    "mount.exfat-fuse",
    "fusermount",
    "mtype",
    "fsck.vfat",
    "fsck.exfat",
    "sfdisk",
    "partx",
    "mount",
    "umount",
    "blkid",
]
CLONE_NEWNS = 0x00020000
_state = {"namespace": None}


def _missing() -> str | None:
    if os.name != "posix" or not os.path.exists("/proc/self/mountinfo"):
        return "real-card tests need Linux"
    if os.geteuid() != 0:
        return "real-card tests need root (loop devices, mounts)"
    if not os.path.exists("/dev/fuse"):
        return "real-card tests need /dev/fuse"
    if not os.path.exists("/dev/loop-control"):
        return "real-card tests need loop devices (/dev/loop-control)"
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        return (
            "real-card tests need "
            + ", ".join(missing)
            + " (apt-get install dosfstools mtools fusefat exfatprogs exfat-fuse fdisk)"
        )
    return None


def _private_namespace() -> None:
    if _state["namespace"] is not None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNS) failed: {os.strerror(err)}")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    _state["namespace"] = os.readlink("/proc/self/ns/mnt")


@pytest.fixture(scope="session")
def card_namespace():
    why = _missing()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"on CI the real-card suite must run: {why}")
        pytest.skip(why)
    _private_namespace()
    return _state["namespace"]


def sh(*cmd, check=True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=check, capture_output=True, text=True, **kw)


class Card:
    def __init__(self, root: Path, fs: str, size_mb: int, label: str, partitioned: bool, read_only: bool):
        self.root, self.fs, self.label, self.partitioned, self.read_only = root, fs, label, partitioned, read_only
        root.mkdir(parents=True)
        self.image = root / "sd.img"
        self.mountpoint = root / "mnt"
        self.mountpoint.mkdir()
        self.loop = None
        self.device = None
        self.flag_target = None
        self.mounted = False
        try:
            self._attach(size_mb, partitioned, read_only)
        except BaseException:  # a half-made card is detached too (no leaked loop device)
            self.eject()
            raise

    def _attach(self, size_mb: int, partitioned: bool, read_only: bool) -> None:
        sh("truncate", "-s", f"{size_mb}M", self.image)
        if partitioned:
            sh("sfdisk", "--quiet", self.image, input="label: dos\nstart=2048, type=c\n")
        else:
            self._mkfs(self.image)
        args = ["losetup", "-f", "--show"] + (["--read-only"] if read_only else []) + [self.image]
        self.loop = sh(*args).stdout.strip()
        self.device = self.loop
        if partitioned:
            sh("partx", "-a", self.loop)
            self.device = self.loop + "p1"
            for _ in range(50):
                if os.path.exists(self.device):
                    break
                time.sleep(0.05)
            self._mkfs(self.device)
        # Removable for this namespace only: a file holding 1 over the read-only attribute.
        flag = self.root / "removable"
        flag.write_text("1\n")
        self.flag_target = f"/sys/block/{os.path.basename(self.loop)}/removable"
        sh("mount", "--bind", flag, self.flag_target)
        self.mount()

    def _mkfs(self, target) -> None:
        if self.fs == "fat32":
            sh("mkfs.vfat", "-F", "32", "-n", self.label, target)
        elif self.fs == "ext4":
            sh("mkfs.ext4", "-q", "-L", self.label, target)
        elif self.fs == "ntfs":
            sh("mkfs.ntfs", "-Q", "-F", "-q", "-L", self.label, target)
        else:
            sh("mkfs.exfat", "-L", self.label, target)

    def mount(self) -> None:
        dev = self.device
        if self.fs == "fat32":
            mode = "ro" if self.read_only else "rw+"
            sh("fusefat", "-o", f"{mode},blkdev,fsname={dev}", dev, self.mountpoint)
        elif self.fs == "ext4":  # the kernel's own driver
            sh("mount", "-t", "ext4", dev, self.mountpoint)
        elif self.fs == "ntfs":
            sh("ntfs-3g", "-o", "blkdev", dev, self.mountpoint)
        else:
            opts = f"blkdev,fsname={dev}" + (",ro" if self.read_only else "")
            sh("mount.exfat-fuse", "-o", opts, dev, self.mountpoint)
        self.mounted = True

    def unmount(self) -> None:
        if not self.mounted or not os.path.ismount(self.mountpoint):  # stager may have ejected it
            self.mounted = False
            return
        for _ in range(50):
            unmount = ["umount"] if self.fs == "ext4" else ["fusermount", "-u"]
            if sh(*unmount, self.mountpoint, check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            sh("umount", "-l", self.mountpoint, check=False)
        self.mounted = False

    def eject(self) -> None:
        """Unmount, drop the flag, detach the loop device: the image is then on its own."""
        self.unmount()
        if self.flag_target:
            sh("umount", self.flag_target, check=False)
            self.flag_target = None
        if self.loop:
            if self.partitioned:
                sh("partx", "-d", self.loop, check=False)
            sh("losetup", "-d", self.loop, check=False)
            self.loop = None

    # ---- independent checks of the image (after eject)
    def _offset(self) -> str:
        return "@@1M" if self.partitioned else ""

    def fsck(self) -> str:
        assert self.loop is None, "eject the card before checking its image"
        if self.fs == "fat32":
            target = f"{self.image}"
            if self.partitioned:
                out = sh("fsck.vfat", "-n", self._partition_image()).stdout
            else:
                out = sh("fsck.vfat", "-n", target).stdout
        else:
            out = sh("fsck.exfat", "-n", self._partition_image() if self.partitioned else self.image).stdout
        return out

    def _partition_image(self) -> Path:
        part = self.root / "part.img"
        if not part.exists():
            with open(self.image, "rb") as src, open(part, "wb") as dst:
                src.seek(1024 * 1024)
                shutil.copyfileobj(src, dst)
        return part

    def files(self) -> list[str]:
        assert self.loop is None
        if self.fs == "fat32":
            out = sh(
                "mdir",
                "-b",
                "-i",
                f"{self.image}{self._offset()}",
                "::/",
                env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
                check=False,
            ).stdout
            return sorted(line.strip().removeprefix("::/") for line in out.splitlines() if line.strip())
        return sorted(self._exfat_read_all().keys())

    def read(self, name: str) -> bytes:
        assert self.loop is None
        if self.fs == "fat32":
            proc = subprocess.run(
                ["mtype", "-i", f"{self.image}{self._offset()}", f"::/{name}"],
                capture_output=True,
                env={**os.environ, "MTOOLS_SKIP_CHECK": "1"},
                check=True,
            )
            return proc.stdout
        return self._exfat_read_all()[name]

    def _exfat_read_all(self) -> dict:
        """exFAT has no mtools: attach the image again read-only, read every root file."""
        img = self._partition_image() if self.partitioned else self.image
        loop = sh("losetup", "-f", "--show", "--read-only", img).stdout.strip()
        mnt = self.root / "check"
        mnt.mkdir(exist_ok=True)
        try:
            sh("mount.exfat-fuse", "-o", f"ro,blkdev,fsname={loop}", loop, mnt)
            try:
                return {p.name: p.read_bytes() for p in mnt.iterdir() if p.is_file()}
            finally:
                sh("fusermount", "-u", mnt, check=False)
        finally:
            sh("losetup", "-d", loop, check=False)


@pytest.fixture
def make_card(card_namespace, tmp_path):
    cards = []

    def make(fs="fat32", size_mb=64, label="PULSECARD", partitioned=False, read_only=False) -> Card:
        card = Card(tmp_path / f"card{len(cards)}", fs, size_mb, label, partitioned, read_only)
        cards.append(card)
        return card

    yield make
    for card in cards:
        card.eject()
