"""Real cards without a card: FAT32/exFAT images on loop devices, mounted through FUSE
and flagged removable, inside a private mount namespace (shared/spec/testing-media.md).

The first card test moves this pytest process into its own mount namespace
(``unshare(CLONE_NEWNS)`` + ``mount --make-rprivate /``), so the flag bind-mounts and
FUSE mounts are seen by this process and the ``stager`` subprocesses it runs, and by
nothing else on the machine. Needs root, /dev/fuse, loop devices and the packages
dosfstools mtools fusefat exfatprogs exfat-fuse fdisk (.ci/run installs them). Where
they are missing the tests skip and say why; with CI=true they fail instead.

Fixture ``make_card(fs="fat32"|"exfat"|"ext4", size_mb=64, label="PULSECARD",
partitioned=False, read_only=False) -> Card``: ``card.mountpoint`` (a folder),
``card.device`` (/dev/loopN or /dev/loopNp1), ``card.image``; ``card.eject()``
unmounts and detaches; ``card.fsck()`` and ``card.read(name)`` check the image on its
own afterwards (fsck.vfat -n / fsck.exfat -n / e2fsck -fn; mtype, a fresh read-only
mount for exFAT, debugfs for ext4). Everything attached is detached at teardown, even
when a test fails.

Fixture ``make_faulty_card(fs, size_mb=64, apparent_mb=None, beyond="wrap", ...) ->
FaultyCard``: the same card on a faulty medium (tests/cards/faulty/, a FUSE server of
our own under the loop device) whose faults a test sets at any time; see README.md here.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faulty.medium import FaultyMedium, io_error, served_paths, stop_all

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
    "mkfs.ext4",
    "e2fsck",
    "debugfs",
    "blockdev",
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
            + " (apt-get install dosfstools mtools fusefat exfatprogs exfat-fuse fdisk e2fsprogs util-linux)"
        )
    return None


def _private_namespace() -> None:
    if _state["namespace"] is not None:
        return
    threads = len(os.listdir("/proc/self/task"))
    if threads > 1:
        # unshare() moves only the calling thread: threads already running (stager's
        # read-back daemons, readback._DAEMONS, once an in-process test has staged) would
        # stay in the old namespace, where a card's mount point is an empty folder.
        raise OSError(f"unshare(CLONE_NEWNS) with {threads} threads running: only this one would move")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare(CLONE_NEWNS) failed: {os.strerror(err)}")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    _state["namespace"] = os.readlink("/proc/self/ns/mnt")


def pytest_collection_finish(session) -> None:
    """Enter the private namespace once collection is done, before any test runs, while
    this process is still one thread (see _private_namespace): tests/card/ runs stager
    in-process before tests/cards/ and leaves daemon threads behind."""
    here = Path(__file__).resolve().parent
    if _missing() is None and any(here in Path(item.path).resolve().parents for item in session.items):
        _private_namespace()


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
        self._setup(root, fs, label, partitioned, read_only)
        sh("truncate", "-s", f"{size_mb}M", self.image)
        self._build(self.image)

    def _setup(self, root: Path, fs: str, label: str, partitioned: bool, read_only: bool) -> None:
        self.root, self.fs, self.label, self.partitioned, self.read_only = root, fs, label, partitioned, read_only
        root.mkdir(parents=True)
        self.image = root / "sd.img"
        self.mountpoint = root / "mnt"
        self.mountpoint.mkdir()
        self.loop = None
        self.device = None
        self.flag_target = None
        self.mounted = False

    def _build(self, backing: Path) -> None:
        """Partition table or file system on `backing`, a loop device on it, flagged removable, mounted."""
        if self.partitioned:
            sh("sfdisk", "--quiet", backing, input="label: dos\nstart=2048, type=c\n")
        else:
            self._mkfs(backing)
        args = ["losetup", "-f", "--show", "--direct-io=off"] + (["--read-only"] if self.read_only else [])
        self.loop = sh(*args, backing).stdout.strip()
        self.device = self.loop
        if self.partitioned:
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
            # No journal and no backup superblocks: everything at the start of the card,
            # so a counterfeit (wrapping) card is still formatted like a real one.
            opts = "nodiscard,lazy_itable_init=0,num_backup_sb=0"
            features = "^has_journal,sparse_super2"
            sh("mkfs.ext4", "-q", "-F", "-b", "4096", "-O", features, "-E", opts, "-L", self.label, target)
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
            sh("mount", "-t", "ext4", "-o", "ro" if self.read_only else "rw", dev, self.mountpoint)
        elif self.fs == "ntfs":
            sh("ntfs-3g", "-o", "blkdev", dev, self.mountpoint)
        else:
            opts = f"blkdev,fsname={dev}" + (",ro" if self.read_only else "")
            sh("mount.exfat-fuse", "-o", opts, dev, self.mountpoint)
        self.mounted = True

    def unmount(self) -> None:
        if not self.mounted or not os.path.ismount(self.mountpoint):  # stager may have ejected it
            self.mounted = False
            self._wait_daemon_gone()
            return
        unmount = ["umount"] if self.fs == "ext4" else ["fusermount", "-u"]
        for _ in range(50):
            if sh(*unmount, self.mountpoint, check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            sh("umount", "-l", self.mountpoint, check=False)
        self.mounted = False
        self._wait_daemon_gone()

    def _wait_daemon_gone(self, timeout: float = 20.0) -> None:
        """fusermount -u returns before the FUSE daemon has written its last blocks and closed
        the device: wait for the process whose arguments name this mount point to end."""
        want = str(self.mountpoint).encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = False
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        argv = f.read().split(b"\0")
                    busy = want in argv and any(d in argv[0] for d in (b"fusefat", b"exfat"))
                except OSError:
                    continue
                if busy:
                    break
            if not busy:
                return
            time.sleep(0.05)

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
        elif self.fs == "ext4":
            out = sh("e2fsck", "-f", "-n", self._partition_image() if self.partitioned else self.image).stdout
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
        if self.fs == "ext4":
            return sorted(self._ext4_ls())
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
        if self.fs == "ext4":
            assert name in self._ext4_ls(), f"{name} is not on the card"
            img = self._partition_image() if self.partitioned else self.image
            return subprocess.run(["debugfs", "-R", f"cat /{name}", str(img)], capture_output=True, check=True).stdout
        return self._exfat_read_all()[name]

    def _ext4_ls(self) -> list[str]:
        """The root's regular files, from the image (debugfs, no mount)."""
        img = self._partition_image() if self.partitioned else self.image
        out = sh("debugfs", "-R", "ls -p /", img).stdout
        names = []
        for line in out.splitlines():  # /inode/mode/uid/gid/name/size/
            parts = line.strip().strip("/").split("/")
            if len(parts) >= 5 and parts[1].startswith("10"):
                names.append(parts[4])
        return names

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


# ---- the faulty medium: a card whose medium drops writes, flips bytes, fails or hangs


def _faulty_missing() -> str | None:
    proc = subprocess.run([sys.executable, "-c", "import mfusepy"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"the faulty medium needs mfusepy and libfuse (pip install '.[test]', apt-get install fuse3): {last}"
    return None


@pytest.fixture(scope="session")
def faulty_namespace(card_namespace):
    why = _faulty_missing()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"on CI the real-card suite must run: {why}")
        pytest.skip(why)
    yield card_namespace
    _sweep_faulty()


class ReadCount:
    """What a ``with`` block read: ``sectors``/``bytes`` from the loop device
    (/sys/block/loopN/stat), ``medium_bytes`` that reached the medium, and ``reread_bytes``
    of those from blocks written before (a read-back that reached the medium; a page
    cache's read-modify-write before a write does not count). Live inside the block,
    frozen after it."""

    def __init__(self, card: FaultyCard):
        self.card = card
        self.start, self.start_stats = card.sectors_read(), card.stats()
        self.end: int | None = None
        self.end_stats: dict | None = None

    def __enter__(self) -> ReadCount:
        return self

    def __exit__(self, *exc) -> None:
        self.end, self.end_stats = self.card.sectors_read(), self.card.stats()

    @property
    def sectors(self) -> int:
        return (self.end if self.end is not None else self.card.sectors_read()) - self.start

    @property
    def bytes(self) -> int:
        return self.sectors * 512

    def _medium(self, key: str) -> int:
        stats = self.end_stats if self.end_stats is not None else self.card.stats()
        return stats[key] - self.start_stats[key]

    @property
    def medium_bytes(self) -> int:
        return self._medium("read_bytes")

    @property
    def reread_bytes(self) -> int:
        return self._medium("reread_bytes")


class FaultyCard(Card):
    """A Card whose loop device sits on a file served by a FaultyMedium (tests/cards/faulty/):
    faults are set on ``card.medium`` (or through the shortcuts here) at any time."""

    def __init__(self, root: Path, fs: str, size_mb: int, apparent_mb, beyond, label, partitioned, read_only):
        self._setup(root, fs, label, partitioned, read_only)
        self.medium = FaultyMedium(root / "faulty", size_mb, apparent_mb, beyond)
        self.image = self.medium.image  # the bytes the medium really holds (fsck, read, files)
        _live_faulty.append(self)
        try:
            self._build(self.medium.served)
            self.flush_device()
            self.medium.reset_stats()  # count from the ready card: formatting is not a write to read back
        except BaseException:
            self.close()
            raise

    # shortcuts to the medium
    def set_faults(self, *faults: dict) -> None:
        self.medium.set_faults(*faults)

    def clear(self) -> None:
        self.medium.clear()

    def release(self) -> None:
        self.medium.release()

    def stats(self) -> dict:
        return self.medium.stats()

    # the loop device
    def sectors_read(self) -> int:
        """Sectors (512 bytes) read from the whole loop device so far: field 3 of its stat."""
        assert self.loop, "the card is ejected"
        with open(f"/sys/block/{os.path.basename(self.loop)}/stat") as f:
            return int(f.read().split()[2])

    def count_reads(self) -> ReadCount:
        """``with card.count_reads() as reads: ...`` then ``reads.bytes`` read from the device."""
        return ReadCount(self)

    def flush_device(self) -> None:
        """Write back and drop the block device's page cache (BLKFLSBUF)."""
        for dev in {self.device, self.loop}:
            sh("blockdev", "--flushbufs", dev)

    def remount(self) -> None:
        """Unmount, drop the device's cache, mount again: what is read next comes from the medium."""
        self.unmount()
        self.flush_device()
        self.mount()

    def pull(self) -> None:
        """The card is pulled: every request to the medium fails with EIO from now on, and the
        card's file system is lazily unmounted (open files stay open, the mount point is left
        as a plain folder). close() still detaches everything."""
        self.medium.set_faults(io_error(op="any"))
        unmount = ["umount", "-l"] if self.fs == "ext4" else ["fusermount", "-u", "-z"]
        sh(*unmount, self.mountpoint, check=False)
        self.mounted = False

    def read_device(self, offset: int, length: int) -> bytes:
        """Read the loop device with O_DIRECT (no page cache), from `offset` (a multiple of 4096)."""
        assert offset % 4096 == 0
        size = -(-length // 4096) * 4096
        buf = mmap.mmap(-1, size)  # page-aligned, as O_DIRECT wants
        fd = os.open(self.loop, os.O_RDONLY | os.O_DIRECT)
        try:
            n = os.preadv(fd, [buf], offset)
            return bytes(buf[: min(n, length)])
        finally:
            os.close(fd)
            buf.close()

    @staticmethod
    def aligned(data: bytes) -> mmap.mmap:
        """A page-aligned buffer holding data, padded with zeros to a multiple of 4096 (for O_DIRECT)."""
        buf = mmap.mmap(-1, max(4096, -(-len(data) // 4096) * 4096))
        buf[: len(data)] = data
        return buf

    def close(self) -> None:
        """Release and clear the faults, unmount, detach (partx -d, losetup -d), stop the server."""
        try:
            if self.medium.proc is not None:
                self.medium.clear()
        except OSError:
            pass
        try:
            self.eject()
        finally:
            self.medium.stop()
            if self in _live_faulty:
                _live_faulty.remove(self)


_live_faulty: list[FaultyCard] = []


def _sweep_faulty() -> None:
    """The session's last sweep: every faulty card closed, every server stopped, and no loop
    device left on a served file (losetup -d also on devices whose server already died)."""
    for card in list(_live_faulty):
        try:
            card.close()
        except Exception:
            pass
    stop_all()
    listing = sh("losetup", "-a", "-n", "-O", "NAME,BACK-FILE", check=False).stdout
    for line in listing.splitlines():  # only ours: other worktrees may run the suite meanwhile
        name, _, back = line.strip().partition(" ")
        if back.strip().removesuffix(" (deleted)") in served_paths:
            sh("partx", "-d", name, check=False)
            sh("losetup", "-d", name, check=False)


@pytest.fixture
def make_faulty_card(faulty_namespace, tmp_path):
    """make_faulty_card(fs="fat32"|"exfat"|"ext4", size_mb=64, apparent_mb=None, beyond="wrap",
    label="PULSECARD", partitioned=False, read_only=False) -> FaultyCard."""
    cards: list[FaultyCard] = []

    def make(
        fs="fat32", size_mb=64, apparent_mb=None, beyond="wrap", label="PULSECARD", partitioned=False, read_only=False
    ) -> FaultyCard:
        root = tmp_path / f"faulty-card{len(cards)}"
        card = FaultyCard(root, fs, size_mb, apparent_mb, beyond, label, partitioned, read_only)
        cards.append(card)
        return card

    yield make
    for card in cards:
        card.close()
