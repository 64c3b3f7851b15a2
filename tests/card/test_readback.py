"""The one read-back, the pin, the lock and durability, on every system: Linux for real,
Windows and macOS through their system calls injected (flags, alignment, fallbacks)."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import mmap
import os
import platform
import zlib
from pathlib import Path

import pytest

from stager import fileio
from stager.card import durable, lock, pin_windows, readback
from stager.card.pin import card_gone, mount_of, pin_card
from stager.card.readback import BLOCK, BlockDigests, ReadBack, System, first_difference, read_back
from stager.errors import MediaError

SIZE = 3 * BLOCK + 1234


@pytest.fixture
def card(tmp_path):
    folder = tmp_path / "card"
    folder.mkdir()
    data = os.urandom(SIZE)
    (folder / "FW.BIN").write_bytes(data)
    pin = pin_card(folder)
    yield pin, data
    pin.close()


# ------------------------------------------------------------------ blocks and the first differing byte
def digests(data: bytes) -> list[int]:
    return [zlib.crc32(data[i : i + BLOCK]) for i in range(0, len(data), BLOCK)]


@pytest.mark.parametrize("piece", [7, BLOCK, 3 * BLOCK // 2, 8 * BLOCK])
def test_block_digests_whatever_the_pieces(piece):
    data = os.urandom(SIZE)
    d = BlockDigests()
    for i in range(0, len(data), piece):
        d.update(memoryview(data)[i : i + piece])
    assert d.finish() == digests(data)


@pytest.mark.parametrize("offset", [0, BLOCK - 1, BLOCK, 2 * BLOCK + 77, SIZE - 1])
def test_first_differing_byte(tmp_path, offset):
    data = os.urandom(SIZE)
    src = tmp_path / "src"
    src.write_bytes(data)
    bad = bytearray(data)
    bad[offset] ^= 0x40
    d = BlockDigests(expect=digests(data))
    for i in range(0, SIZE, 5 * BLOCK // 3):  # pieces that straddle blocks
        d.update(memoryview(bytes(bad))[i : i + 5 * BLOCK // 3])
    d.finish()
    rb = ReadBack("x", "direct", SIZE, d.crcs, "", d.bad, d.kept)
    assert first_difference(src, rb, SIZE) == offset


def test_a_shorter_copy_differs_where_it_ends(tmp_path):
    data = os.urandom(SIZE)
    src = tmp_path / "src"
    src.write_bytes(data)
    d = BlockDigests(expect=digests(data))
    d.update(memoryview(data)[: 2 * BLOCK + 10])
    d.finish()
    rb = ReadBack("x", "direct", 2 * BLOCK + 10, d.crcs, "", d.bad, d.kept)
    assert first_difference(src, rb, SIZE) == 2 * BLOCK + 10


# ------------------------------------------------------------------ Linux, for real
class Counter(System):
    platform = "linux"

    def __init__(self, grows_by=None):
        self.grows_by, self.calls = grows_by, 0

    def reads(self, st_dev):
        if self.grows_by is None:
            return None
        self.calls += 1
        return 0 if self.calls == 1 else self.grows_by


def test_linux_reads_with_o_direct_and_an_aligned_buffer(card):
    pin, data = card
    rb = read_back(pin, "FW.BIN", expect=digests(data), system=Counter(grows_by=SIZE + 4096))
    assert rb.sha256 == hashlib.sha256(data).hexdigest() and rb.size == SIZE
    assert rb.method == ("direct" if hasattr(os, "O_DIRECT") else "evicted")
    assert rb.bad_block is None and rb.blocks == digests(data)


def test_a_read_counter_that_does_not_move_means_the_cache(card):
    pin, data = card
    rb = read_back(pin, "FW.BIN", system=Counter(grows_by=512))
    assert rb.method == "cached" and "came from a cache" in rb.why
    assert rb.sha256 == hashlib.sha256(data).hexdigest()


def test_o_direct_refused_falls_back_to_eviction(card, monkeypatch):
    pin, _data = card
    real = pin.open

    def no_direct(name, flags, mode=0o644):
        if flags & getattr(os, "O_DIRECT", 0):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(name, flags, mode)

    monkeypatch.setattr(pin, "open", no_direct)
    advised = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, off, n, adv: advised.append(adv))
    rb = read_back(pin, "FW.BIN", system=Counter())
    assert rb.method == "evicted" and advised == [os.POSIX_FADV_DONTNEED]


def test_a_fuse_card_whose_device_cannot_be_dropped_is_cached(card, monkeypatch):
    pin, _data = card
    monkeypatch.setattr(type(pin), "fstype", property(lambda self: "fuseblk"))
    monkeypatch.setattr(type(pin), "block_device", property(lambda self: "/nonexistent/loop9"))
    rb = read_back(pin, "FW.BIN", system=Counter(grows_by=10 * SIZE))
    assert rb.method == "cached" and "/nonexistent/loop9" in rb.why


def test_memory_is_not_a_card(card, monkeypatch):
    pin, _data = card
    monkeypatch.setattr(type(pin), "fstype", property(lambda self: "tmpfs"))
    assert read_back(pin, "FW.BIN", system=Counter()).method == "cached"


@pytest.mark.parametrize(
    ("size", "length"),
    [(0, mmap.PAGESIZE), (89, mmap.PAGESIZE), (mmap.PAGESIZE, 2 * mmap.PAGESIZE), (SIZE, None), (1 << 30, None)],
)
def test_the_buffer_holds_a_small_file_and_is_never_over_a_chunk(size, length):
    got = readback.buffer_length(size)
    assert got % mmap.PAGESIZE == 0 and got <= readback.CHUNK
    assert got > size or got == readback.CHUNK  # a small file's first read is short: its end
    assert got == (length or min(readback.CHUNK, (size // mmap.PAGESIZE + 1) * mmap.PAGESIZE))


def test_a_small_file_is_read_back_into_a_small_buffer_in_two_reads(card, monkeypatch):
    pin, _data = card
    (pin.path / "FW.BIN.sha256").write_bytes(b"a" * 64 + b"  FW.BIN\n")
    asked = []
    real = os.preadv

    def preadv(fd, buffers, offset):
        asked.append((sum(len(b) for b in buffers), offset))
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "preadv", preadv)
    rb = read_back(pin, "FW.BIN.sha256", system=Counter())
    assert rb.content == b"a" * 64 + b"  FW.BIN\n"
    assert asked == [(mmap.PAGESIZE, 0), (mmap.PAGESIZE, 73)]


def test_a_small_file_comes_back_whole(card):
    pin, _data = card
    (pin.path / "FW.BIN.sha256").write_bytes(b"a" * 64 + b"  FW.BIN\n")
    rb = read_back(pin, "FW.BIN.sha256", system=Counter())
    assert rb.content == b"a" * 64 + b"  FW.BIN\n"


# ------------------------------------------------------------------ Windows, injected
class FakeKernel32:
    """Answers as kernel32 does; records what was asked."""

    def __init__(self, data: bytes, sector=4096, refuse=False, serial=0x1234ABCD):
        self.data, self.sector, self.refuse, self.serial = data, sector, refuse, serial
        self.pos, self.created, self.reads, self.closed, self.flushed = 0, [], [], [], []

    def GetVolumePathNameW(self, path, buf, n):
        buf.value = "E:\\"
        return 1

    def GetVolumeInformationW(self, root, name, nname, serial, maxlen, flags, fsname, nfsname):
        serial._obj.value = self.serial
        return 1

    def GetDiskFreeSpaceW(self, root, spc, bps, free, total):
        bps._obj.value = self.sector
        return 1

    def CreateFileW(self, path, access, share, sa, disposition, flags, template):
        self.created.append((path, access, share, disposition, flags))
        return -1 if self.refuse else 100 + len(self.created)

    def ReadFile(self, h, address, length, got, overlapped):
        self.reads.append((address.value, length))
        chunk = self.data[self.pos : self.pos + length]
        ctypes.memmove(address.value, chunk, len(chunk))
        self.pos += len(chunk)
        got._obj.value = len(chunk)
        return 1

    def GetFileInformationByHandle(self, h, info):
        info._obj.dwVolumeSerialNumber = self.serial
        return 1

    def FlushFileBuffers(self, h):
        self.flushed.append(h)
        return 1

    def CloseHandle(self, h):
        self.closed.append(h)
        return 1


class WinSystem(System):
    platform = "win32"

    def __init__(self, k32):
        self.k32 = k32

    def kernel32(self):
        return self.k32


def test_windows_reads_unbuffered_page_aligned_in_sector_multiples(card):
    pin, data = card
    k32 = FakeKernel32(data, sector=4096)
    rb = read_back(pin, "FW.BIN", expect=digests(data), system=WinSystem(k32))
    assert rb.method == "direct" and rb.sha256 == hashlib.sha256(data).hexdigest()
    ((path, access, share, disposition, flags),) = k32.created
    assert path.endswith("FW.BIN") and access == 0x80000000 and share == 0x1 and disposition == 3
    assert flags & 0x20000000 and flags & 0x08000000  # FILE_FLAG_NO_BUFFERING | FILE_FLAG_SEQUENTIAL_SCAN
    assert all(address % mmap.PAGESIZE == 0 and length % 4096 == 0 for address, length in k32.reads)
    assert k32.closed == [101]


def test_windows_sector_size_of_512_is_honoured(card):
    pin, data = card
    k32 = FakeKernel32(data, sector=512)
    read_back(pin, "FW.BIN", system=WinSystem(k32))
    assert all(length % 512 == 0 for _a, length in k32.reads)


def test_windows_refusing_unbuffered_reads_says_cached(card):
    pin, data = card
    rb = read_back(pin, "FW.BIN", system=WinSystem(FakeKernel32(data, refuse=True)))
    assert rb.method == "cached" and "unbuffered" in rb.why
    assert rb.sha256 == hashlib.sha256(data).hexdigest()


def test_by_handle_file_information_matches_the_sdk():
    info = pin_windows.BY_HANDLE_FILE_INFORMATION
    assert ctypes.sizeof(info) == 52
    assert info.dwVolumeSerialNumber.offset == 28 and info.nFileIndexLow.offset == 48


def test_windows_pin_checks_the_volume_serial(tmp_path):
    k32 = FakeKernel32(b"")
    pin = pin_windows.pin_windows(tmp_path, kernel32=k32)
    ((_path, _access, _share, _disp, flags),) = k32.created
    assert flags == 0x02000000  # FILE_FLAG_BACKUP_SEMANTICS: a folder handle
    pin.check()
    k32.serial = 0x0BADCAFE  # another card under the same letter
    with pytest.raises(MediaError) as e:
        pin.check()
    assert e.value.code == "card-gone" and "0BADCAFE" in e.value.message


def test_windows_folder_flush_after_the_rename(tmp_path):
    k32 = FakeKernel32(b"")
    assert durable.flush_dir_windows(str(tmp_path), k32) is True
    ((_path, access, _share, disposition, flags),) = k32.created
    assert access == 0x40000000 and flags == 0x02000000 and disposition == 3  # GENERIC_WRITE, BACKUP_SEMANTICS
    assert k32.flushed == [101] and k32.closed == [101]


class HeldPin:
    path = Path("E:/")

    def __init__(self, fails):
        self.fails, self.calls = fails, 0

    def replace(self, src, dst):
        self.calls += 1
        if self.calls <= self.fails:
            e = PermissionError(errno.EACCES, "The process cannot access the file")
            e.winerror = 32  # ERROR_SHARING_VIOLATION
            raise e

    def where(self, name):
        return f"E:\\{name}"


def test_a_rename_refused_by_another_program_is_retried():
    pin = HeldPin(fails=3)
    durable.replace(pin, "a.part", "FW.BIN", sleep=lambda s: None)
    assert pin.calls == 4


def test_a_file_held_for_good_is_a_clear_media_error():
    clock = iter(range(100)).__next__
    with pytest.raises(MediaError) as e:
        durable.replace(HeldPin(fails=1000), "a.part", "FW.BIN", sleep=lambda s: None, clock=clock)
    assert e.value.code == "file-in-use" and "antivirus" in e.value.message and e.value.exit_code == 5


# ------------------------------------------------------------------ macOS, injected
class FakeFcntl:
    def __init__(self, refuse=None):
        self.calls, self.refuse = [], refuse

    def fcntl(self, fd, cmd, arg=0):
        self.calls.append((cmd, arg))
        if self.refuse == cmd:
            raise OSError(errno.ENOTSUP, "Operation not supported")
        return 0


class FakeLibc:
    def __init__(self, msync_rc=0):
        self.msync_rc, self.calls = msync_rc, []
        # plain functions, as a CDLL's are: argtypes and restype can be set on them
        self.mmap = lambda *a: self._mmap(*a)
        self.msync = lambda *a: self._msync(*a)
        self.munmap = lambda *a: self._munmap(*a)

    def _mmap(self, addr, size, prot, flags, fd, off):
        self.calls.append(("mmap", size, prot, flags))
        return 0x7F0000000000

    def _msync(self, addr, size, flags):
        self.calls.append(("msync", addr.value, size.value, flags))
        return self.msync_rc

    def _munmap(self, addr, size):
        self.calls.append(("munmap", addr.value, size.value))
        return 0


class MacSystem(System):
    platform = "darwin"

    def __init__(self, fcntl_mod, libc):
        self.f, self.c = fcntl_mod, libc

    def fcntl(self):
        return self.f

    def libc(self):
        return self.c


def test_macos_invalidates_cached_pages_then_reads_with_f_nocache(card):
    pin, data = card
    f, libc = FakeFcntl(), FakeLibc()
    rb = read_back(pin, "FW.BIN", system=MacSystem(f, libc))
    assert rb.method == "direct" and rb.sha256 == hashlib.sha256(data).hexdigest()
    assert libc.calls[0] == ("mmap", SIZE, 0x1, 0x1)  # PROT_READ, MAP_SHARED
    assert libc.calls[1] == ("msync", 0x7F0000000000, SIZE, 0x2)  # MS_INVALIDATE
    assert libc.calls[2][0] == "munmap"
    assert f.calls == [(48, 1)]  # F_NOCACHE on


def test_macos_without_invalidation_says_cached(card):
    pin, _data = card
    rb = read_back(pin, "FW.BIN", system=MacSystem(FakeFcntl(), FakeLibc(msync_rc=-1)))
    assert rb.method == "cached" and "MS_INVALIDATE" in rb.why


def test_macos_durability_is_f_fullfsync_with_a_fallback(tmp_path):
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    try:
        f = FakeFcntl()
        assert durable.fsync_fd(fd, platform="darwin", fcntl_mod=f) == "F_FULLFSYNC"
        assert f.calls == [(51, 0)]
        assert durable.fsync_fd(fd, platform="darwin", fcntl_mod=FakeFcntl(refuse=51)) == "fsync"
    finally:
        os.close(fd)


# ------------------------------------------------------------------ the pin
def test_a_folder_now_on_another_file_system_is_refused(tmp_path):
    with pytest.raises(MediaError) as e:
        pin_card(tmp_path, expected_dev=os.stat(tmp_path).st_dev + 1)
    assert e.value.code == "card-gone" and e.value.exit_code == 5


def test_a_folder_replaced_under_its_path_is_seen(tmp_path):
    folder = tmp_path / "card"
    folder.mkdir()
    pin = pin_card(folder)
    try:
        pin.check()
        folder.rename(tmp_path / "elsewhere")
        folder.mkdir()  # the mount point left as a plain folder
        with pytest.raises(MediaError) as e:
            pin.check()
        assert e.value.code == "card-gone"
        fd = pin.open("x.part", os.O_WRONLY | os.O_CREAT | os.O_EXCL)  # still reaches the pinned folder only
        os.close(fd)
        assert os.listdir(folder) == [] and os.listdir(tmp_path / "elsewhere") == ["x.part"]
    finally:
        pin.close()


def test_mountinfo_is_read_with_its_escapes(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(
        "22 1 253:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "66 46 7:3 / /media/tech/PULSE\\040CARD rw,nosuid - fuseblk /dev/loop3 rw,user_id=0\n"
    )
    m = mount_of(os.makedev(7, 3), str(info))
    assert m.fstype == "fuseblk" and m.source == "/dev/loop3" and m.mountpoint == "/media/tech/PULSE CARD"
    assert mount_of(os.makedev(8, 1), str(info)) is None


def test_card_gone_message_says_what_to_do():
    e = card_gone("/media/x", "it was unmounted")
    assert "nothing was written anywhere else" in e.message and "run prepare again" in e.message


# ------------------------------------------------------------------ the lock
def test_one_run_per_card(tmp_path):
    pin = pin_card(tmp_path)
    try:
        held = lock.take(pin)
        with pytest.raises(MediaError) as e:
            lock.take(pin)
        assert e.value.code == "card-busy" and f"process {os.getpid()}" in e.value.message
        assert ".stager-lock" in e.value.message
        assert held.release() and not (tmp_path / lock.LOCK_NAME).exists()
    finally:
        pin.close()


def test_a_stale_lock_is_named_and_replaced(tmp_path):
    (tmp_path / lock.LOCK_NAME).write_text(
        f'{{"host": "{platform.node()}", "pid": 999999999, "started": "2026-01-01T00:00:00+00:00"}}'
    )
    pin = pin_card(tmp_path)
    try:
        held = lock.take(pin)
        assert "999999999" in held.message() and "that process is gone" in held.message()
        held.release()
    finally:
        pin.close()


def test_a_lock_from_another_computer_is_not_taken(tmp_path):
    (tmp_path / lock.LOCK_NAME).write_text('{"host": "workshop-pc-2", "pid": 1, "started": "2026-01-01T00:00:00"}')
    pin = pin_card(tmp_path)
    try:
        with pytest.raises(MediaError) as e:
            lock.take(pin)
        assert "workshop-pc-2" in e.value.message
    finally:
        pin.close()


def test_readback_methods_are_the_contract():
    assert readback.METHODS == ("direct", "evicted", "remounted", "cached")


@pytest.mark.parametrize("code", sorted(fileio.FSYNC_UNSUPPORTED))
def test_one_folder_flush_policy_on_a_card_and_in_the_catalog(tmp_path, monkeypatch, code):
    """A folder that cannot be flushed is no failure, on a card (the pin) and for the
    catalog's folder (fileio.fsync_dir) alike; any other error is raised by both."""

    def refuse(fd):
        raise OSError(code, os.strerror(code))

    pin = pin_card(tmp_path)
    try:
        monkeypatch.setattr(durable, "fsync_fd", refuse)
        monkeypatch.setattr(os, "fsync", refuse)
        pin.fsync_dir()
        fileio.fsync_dir(tmp_path)

        def broken(fd):
            raise OSError(errno.EIO, "Input/output error")

        monkeypatch.setattr(durable, "fsync_fd", broken)
        monkeypatch.setattr(os, "fsync", broken)
        with pytest.raises(OSError):
            pin.fsync_dir()
        with pytest.raises(OSError):
            fileio.fsync_dir(tmp_path)
    finally:
        pin.close()


def test_the_hold_on_this_computer_never_follows_a_planted_link(tmp_path, monkeypatch):
    """The hold's folder lives in the shared temporary folder: a link left there by another
    user is never followed (the file it points to is untouched), and no hold is taken."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    victim = tmp_path / "victim"
    victim.mkdir()
    card = tmp_path / "card"
    card.mkdir()
    folder = os.path.dirname(lock._here_path(card))
    os.symlink(victim, folder)
    held = lock.hold_here(card)
    assert held.fd is None and list(victim.iterdir()) == []
    os.unlink(folder)
    held = lock.hold_here(card)  # its own private folder: held
    try:
        assert held.fd is not None and os.stat(folder).st_mode & 0o777 == 0o700
    finally:
        held.release()
