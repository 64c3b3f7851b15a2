"""Read a file back from the card's medium, or say that only a cache could be read.

The ONE read-back of stager: staging (the firmware and its sidecar), the "already staged"
re-verify of the pre-flight and ``stager verify`` all call :func:`read_back`. It picks the
strongest method the system offers and returns which one took effect
(:attr:`ReadBack.method`):

- ``direct``: uncached reads. Linux ``O_DIRECT`` into a page-aligned buffer (``mmap``);
  Windows ``CreateFileW(FILE_FLAG_NO_BUFFERING)`` with a page-aligned buffer and reads in
  multiples of the volume's sector size; macOS ``F_NOCACHE`` after the pages already cached
  were invalidated (``msync(MS_INVALIDATE)`` on a mapping of the file).
- ``evicted``: Linux, where ``O_DIRECT`` is refused: the file's cached pages dropped
  (``posix_fadvise(DONTNEED)``) before reading.
- ``cached``: nothing better was possible, or the proof failed (below). The result says so;
  it never claims the card was read.

On Linux, a FUSE card (``fuseblk``: fusefat, exfat-fuse, ntfs-3g) is read by a daemon through
the block device's own page cache: that cache is dropped too (``fsync`` +
``posix_fadvise(DONTNEED)`` on the device, and the ``BLKFLSBUF`` ioctl where the rights
allow), else the method is ``cached``. Where the kernel counts the device's reads
(``/sys/dev/block/MAJ:MIN/stat``), the count must grow by at least the file's size during
the read-back; otherwise the bytes came from a cache and the method is ``cached``.

Given the source's block digests (``expect``: a CRC-32 of every :data:`BLOCK`, kept while
copying by :class:`BlockDigests`), the read-back compares block by block and keeps the
bytes of the first block that differs, so :func:`first_difference` names the first
differing byte. Staging asks for that only once the SHA-256 read back differs (a second
read of the medium): the proof itself costs one SHA-256 pass per card.

Every system call is reached through a :class:`System` object so tests inject them.
"""

from __future__ import annotations

import errno
import mmap
import os
import sys
import threading
import zlib

from stager.card.tasks import Task
from stager.fileio import CHUNK, Stopped, hash_chunks, os_reason
from stager.i18n import _
from stager.i18n_format import format_int
from stager.value import field, value

try:  # queue.SimpleQueue itself, which queue.py imports from here: without queue's heapq
    from _queue import SimpleQueue  # (2.4 million instructions of a 1 KiB staging's 278)
except ImportError:  # a Python without it
    from queue import SimpleQueue

BLOCK = 1024 * 1024
SMALL = 64 * 1024  # content kept whole (sidecars)
BLKFLSBUF = 0x1261  # _IO(0x12, 97), <linux/fs.h>
FUSE_TYPES = {"fuseblk"}
RAM_TYPES = {"tmpfs", "ramfs"}
METHODS = ("direct", "evicted", "remounted", "cached")


@value(frozen=False)
class ReadBack:
    sha256: str
    method: str  # one of METHODS
    size: int
    blocks: list = field(default_factory=list)  # CRC-32 of each BLOCK read back
    why: str = ""  # why the method is not "direct" (or how it was proved)
    bad_block: int | None = None  # first block differing from the expected ones
    kept: bytes | None = None  # the bytes of that block, as read back
    content: bytes | None = None  # the whole file when it is SMALL

    @property
    def from_medium(self) -> bool:
        return self.method != "cached"


class BlockDigests:
    """CRC-32 of every BLOCK of a stream fed in pieces; optionally compared on the fly
    with expected digests, keeping the bytes of the first block that differs."""

    def __init__(self, expect=None):
        self.crcs: list[int] = []
        self.expect = expect
        self.crc = 0
        self.fill = 0
        self.bad: int | None = None
        self.kept: bytes | None = None
        self._piece = bytearray()  # the current block's bytes, kept only while comparing

    def update(self, view) -> None:
        pos, n = 0, len(view)
        while pos < n:
            take = min(BLOCK - self.fill, n - pos)
            part = view[pos : pos + take]
            self.crc = zlib.crc32(part, self.crc)
            if self.expect is not None and self.bad is None:
                if self.fill == 0 and take == BLOCK:
                    self._piece = part  # a whole block in this view: no copy unless it differs
                else:
                    self._piece = bytearray(self._piece if self.fill else b"") + part
            self.fill += take
            pos += take
            if self.fill == BLOCK:
                self._close()

    def _close(self) -> None:
        i = len(self.crcs)
        self.crcs.append(self.crc)
        if self.expect is not None and self.bad is None and (i >= len(self.expect) or self.expect[i] != self.crc):
            self.bad, self.kept = i, bytes(self._piece)
        self.crc, self.fill, self._piece = 0, 0, bytearray()

    def finish(self) -> list[int]:
        if self.fill:
            self._close()
        if self.expect is not None and self.bad is None and len(self.crcs) < len(self.expect):
            self.bad, self.kept = len(self.crcs), b""  # the card's file is shorter
        return self.crcs


class _NoDigests(BlockDigests):
    """No block digests: the read-back of a file whose SHA-256 is all that is asked."""

    def update(self, view) -> None:
        pass


def first_difference(source_path, rb: ReadBack, source_size: int) -> int | None:
    """The offset of the first byte where the card's file differs from the source."""
    if rb.bad_block is None:
        return None if rb.size == source_size else min(rb.size, source_size)
    start = rb.bad_block * BLOCK
    with open(source_path, "rb") as f:
        f.seek(start)
        want = f.read(BLOCK)
    got = rb.kept or b""
    for i, (a, b) in enumerate(zip(got, want, strict=False)):
        if a != b:
            return start + i
    return start + min(len(got), len(want))


# --------------------------------------------------------------------------- the seam
class System:
    """The system calls of a read-back (tests subclass it)."""

    platform = sys.platform
    sysfs = "/sys"

    def kernel32(self):
        from stager.card.pin_windows import _kernel32

        return _kernel32()

    def fcntl(self):
        import fcntl

        return fcntl

    def libc(self):
        import ctypes

        return ctypes.CDLL(None, use_errno=True)

    def drop_cache(self, device: str | None) -> str | None:
        """Drop a FUSE card's block device cache: None when done, else why not."""
        return drop_device_cache(device, self)

    def remount(self, pin) -> str | None:
        """Unmount the FUSE card and mount it again: None when done, else why not."""
        from stager.card.remount import remount

        return remount(pin)

    def remount_kernel(self, pin) -> str | None:
        """Unmount the card (a kernel file system) and mount it again: None when done, else why not."""
        from stager.card.remount import remount_kernel

        return remount_kernel(pin)

    def rereads_directory(self, pin) -> bool:
        """The card's FUSE daemon reads its directory from the device at each look-up."""
        from stager.card.remount import rereads_directory

        return rereads_directory(pin)

    def reads(self, st_dev: int) -> int | None:
        """Bytes the kernel has read from the device ``st_dev`` so far (None: not counted)."""
        try:
            with open(f"{self.sysfs}/dev/block/{os.major(st_dev)}:{os.minor(st_dev)}/stat") as f:
                return int(f.read().split()[2]) * 512
        except (OSError, ValueError, IndexError):
            return None


def _loop(read, size_hint: int, expect, progress, stop, digests: BlockDigests | None = None) -> tuple:
    """Hash what ``read()`` gives (a memoryview per call, empty at EOF) through the one
    hashing loop (:func:`stager.fileio.hash_chunks`). ``digests``: the block digests
    ``read()`` already keeps (in its own thread); else kept here."""
    feed = []
    if digests is None:
        digests = BlockDigests(expect) if expect is not None else _NoDigests()
        if expect is not None:
            feed.append(digests.update)
    small = bytearray() if size_hint <= SMALL else None
    if small is not None:
        kept = small

        def keep(view) -> None:
            if len(kept) <= SMALL:
                kept.extend(view)

        feed.append(keep)
    sha, total = hash_chunks(read, feed, progress, stop)
    digests.finish()
    return sha, total, digests, (bytes(small) if small is not None and total <= SMALL else None)


def _result(sha, total, digests, small, method, why) -> ReadBack:
    return ReadBack(sha, method, total, digests.crcs, why, digests.bad, digests.kept, small)


def read_back(pin, name: str, *, expect=None, progress=None, stop=None, system: System | None = None) -> ReadBack:
    """Read ``name`` on the pinned card back from its medium (see the module doc).
    ``expect``: the source's block digests; ``progress(n)``; ``stop``: a threading.Event."""
    system = system or System()
    if system.platform.startswith("win"):
        return _read_windows(pin.where(name), expect, progress, stop, system)
    if system.platform == "darwin":
        return _read_macos(pin, name, expect, progress, stop, system)
    return _read_linux(pin, name, expect, progress, stop, system)


def _close(buf: mmap.mmap) -> None:
    try:
        buf.close()
    except BufferError:  # a view of it lives on in an exception's traceback: freed with it
        pass


# --------------------------------------------------------------------------- Linux
def drop_device_cache(device: str | None, system: System) -> str | None:
    """Flush and drop the page cache of a FUSE card's block device; None when done, else why not."""
    if not device:
        return _("the card's block device is not known")
    try:
        fd = os.open(device, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        return _("{device} cannot be opened to drop its cache ({error}): run stager with the rights to read it").format(
            device=device, error=os_reason(e)
        )
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        try:
            system.fcntl().ioctl(fd, BLKFLSBUF)
        except OSError:
            pass  # BLKFLSBUF needs CAP_SYS_ADMIN; the fadvise above dropped the clean pages
        return None
    except OSError as e:
        return _("the cache of {device} could not be dropped ({error})").format(device=device, error=os_reason(e))
    finally:
        os.close(fd)


def _open_linux(pin, name: str) -> tuple[int, str]:
    o_direct = getattr(os, "O_DIRECT", 0)
    if o_direct:
        try:
            return pin.open(name, os.O_RDONLY | o_direct), "direct"
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise
    fd = pin.open(name, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return fd, "evicted"
    except (OSError, AttributeError):
        return fd, "cached"


class _Daemons:
    """Daemon threads that wait for work (starting a thread costs more than a chunk's
    write on a busy machine); a new one is started only when none is idle, so a task that
    waits for another never waits for a free thread, and a card that hangs holds one
    thread, never the process (daemon threads do not keep it alive)."""

    def __init__(self):
        # one C call to put a task, so a stop (KeyboardInterrupt) cannot land between
        # storing it and counting it, which would leave the stop's own cleanup unrun
        self.tasks: SimpleQueue = SimpleQueue()
        self.idle = 0
        self.lock = threading.Lock()

    def submit(self, fn, *args) -> Task:
        fut = Task()
        with self.lock:
            start = self.idle == 0
            if not start:
                self.idle -= 1
        self.tasks.put((fut, fn, args))
        if start:
            threading.Thread(target=self._work, daemon=True, name="stager-card").start()
        return fut

    def _work(self) -> None:
        from stager.card.stop import block_stops

        block_stops()  # a stop goes to the stop watcher, never to a thread that may wait on a card
        while True:
            fut, fn, args = self.tasks.get()
            try:
                result = fn(*args)
            except BaseException as e:  # reported through the task
                fut.set_exception(e)
            else:
                fut.set_result(result)
                del result
            del fut, fn, args  # no reference to a buffer or a view is kept while idle
            with self.lock:
                self.idle += 1


_DAEMONS = _Daemons()


def spawn(fn, *args) -> Task:
    """Run ``fn`` in a daemon thread (see :class:`_Daemons`)."""
    return _DAEMONS.submit(fn, *args)


def _result_of(fut: Task, stop):
    """The future's result, waking up often so a stop is seen even when the card hangs."""
    while True:
        try:
            return fut.result(timeout=0.25)
        except TimeoutError:
            if stop is not None and stop.is_set():
                raise Stopped() from None


def _prefetching(fd: int, bufs, stop, digests: BlockDigests | None):
    """A ``read()`` giving the file chunk by chunk from two aligned buffers: the next chunk
    is read (the card works) and its block digests kept, in a thread, while the one given
    is hashed (the processor works)."""

    class State:
        off = 0
        i = 0
        next: Task | None = None

    state = State()

    def fetch(i: int, off: int) -> int:
        n = os.preadv(fd, [bufs[i]], off)
        if digests is not None:
            digests.update(memoryview(bufs[i])[:n])
        return n

    def read():
        n = _result_of(state.next or spawn(fetch, 0, 0), stop)
        i = state.i
        state.off += n
        state.next = spawn(fetch, 1 - i, state.off) if n else None
        state.i = 1 - i
        return memoryview(bufs[i])[:n]

    return read


def _fuse_medium(pin, system: System) -> tuple[str, str]:
    """Make the next reads of a FUSE card reach its medium: ("", "") when its block
    device's cache was dropped, ("remounted", "") when it had to be unmounted and mounted
    again instead, ("", why) when neither was possible."""
    why = system.drop_cache(pin.block_device)
    if not why:
        return "", ""
    not_remounted = system.remount(pin)
    if not_remounted is None:
        return "remounted", ""
    return "", f"{why}; {not_remounted}"


def buffer_length(size: int) -> int:
    """The read-back buffer for a file of ``size`` bytes: CHUNK, or for a smaller file the
    whole pages that hold it and one more byte (its first read is short: the end). An
    O_DIRECT read pins every page of its buffer: 8 MiB of fresh pages for a 2 KiB sidecar
    cost 7 ms here. A page multiple keeps every read aligned as O_DIRECT needs."""
    page = mmap.PAGESIZE
    return min(CHUNK, (size // page + 1) * page)


def _read_linux(pin, name, expect, progress, stop, system: System) -> ReadBack:
    why, remounted = "", ""
    fstype = getattr(pin, "fstype", None)
    if fstype in FUSE_TYPES:
        remounted, why = _fuse_medium(pin, system)
    before = system.reads(pin.st_dev)
    fd, method = _open_linux(pin, name)
    method = remounted or method
    try:
        size = os.fstat(fd).st_size
    except OSError:
        os.close(fd)
        raise
    length = buffer_length(size)
    bufs = (mmap.mmap(-1, length), mmap.mmap(-1, length))  # page-aligned, as O_DIRECT needs
    try:
        digests = BlockDigests(expect) if expect is not None else None
        read = _prefetching(fd, bufs, stop, digests)
        sha, total, digests, small = _loop(read, size, expect, progress, stop, digests)
    finally:
        for buf in bufs:
            _close(buf)
        os.close(fd)
    after = system.reads(pin.st_dev)
    method, why = _judge(method, why, fstype, before, after, total)
    return _result(sha, total, digests, small, method, why)


def _judge(method: str, why: str, fstype, before, after, total: int) -> tuple[str, str]:
    """The method that really took effect, from what the kernel counted."""
    if why:  # a FUSE card whose device cache stayed
        return "cached", why
    if fstype in RAM_TYPES:
        return "cached", _("the folder is on {filesystem}: memory, not a card").format(filesystem=fstype)
    if before is not None and after is not None:
        got = after - before
        if got < total:
            return "cached", _(
                "the card's device read {read} bytes while the file is {size}: the bytes came from a cache"
            ).format(read=format_int(got), size=format_int(total))
        return method, _("the card's device read {read} bytes for a file of {size}").format(
            read=format_int(got), size=format_int(total)
        )
    return method, why


def read_directory(pin, system: System | None = None) -> tuple[dict[str, int], str]:
    """The card root's files (name: size) as a FUSE card's medium holds them, after a
    rename was flushed: ({...}, "") when read from the medium (the block device's cache
    dropped for a daemon that reads its directory from the device, fusefat; the card
    unmounted and mounted again for one that keeps it in memory, exfat-fuse, ntfs-3g),
    ({...}, why) when only a cache could be listed."""
    system = system or System()
    if system.rereads_directory(pin):
        why = system.drop_cache(pin.block_device) or ""
        if why:
            not_remounted = system.remount(pin)
            why = "" if not_remounted is None else f"{why}; {not_remounted}"
    else:
        why = system.remount(pin) or ""
    return dict(pin.files()), why


def read_kernel_directory(pin, system: System | None = None) -> tuple[dict[str, int], str]:
    """The card root's files (name: size) as a removable card on a kernel file system holds
    them on its medium: the card unmounted (its writes flushed, the device's cache dropped)
    and mounted again, then listed: ({...}, ""); ({...}, why) when it could not be remounted
    and the listing is the system's memory."""
    why = (system or System()).remount_kernel(pin) or ""
    return dict(pin.files()), why


# --------------------------------------------------------------------------- Windows
GENERIC_READ = 0x80000000
FILE_SHARE_READ = 0x1
OPEN_EXISTING = 3
FILE_FLAG_NO_BUFFERING = 0x20000000
FILE_FLAG_SEQUENTIAL_SCAN = 0x08000000
INVALID_HANDLE_VALUE = -1


def sector_size(k32, path: str) -> int:
    import ctypes

    from stager.card.pin_windows import DWORD, MAX_PATH

    root = ctypes.create_unicode_buffer(MAX_PATH + 1)
    spc, bps, free, total = (DWORD(0) for _field in range(4))
    if k32.GetVolumePathNameW(path, root, MAX_PATH + 1) and k32.GetDiskFreeSpaceW(
        root.value, ctypes.byref(spc), ctypes.byref(bps), ctypes.byref(free), ctypes.byref(total)
    ):
        return bps.value or 512
    return 4096  # a multiple of every sector size in use


class _WinBuffer:
    """The aligned buffer and the file handle of a Windows read-back. A ``ReadFile`` still
    running when the read-back stops (a card that hangs) keeps them: they are freed when it
    returns, never while it may still write into the buffer."""

    def __init__(self, k32, handle, length: int):
        import ctypes

        self.k32, self.handle = k32, handle
        self.buf = mmap.mmap(-1, length)  # VirtualAlloc'd: page-aligned, so sector-aligned
        self.address = ctypes.addressof(ctypes.c_char.from_buffer(self.buf))  # the mapping never moves
        self.pending: Task | None = None

    def close(self) -> None:
        fut = self.pending
        if fut is not None and not fut.done():
            fut.add_done_callback(lambda _done: self._free())
        else:
            self._free()

    def _free(self) -> None:
        _close(self.buf)
        self.k32.CloseHandle(self.handle)


def _read_windows(path: str, expect, progress, stop, system: System) -> ReadBack:
    import ctypes

    from stager.card.pin_windows import DWORD

    k32 = system.kernel32()
    flags = FILE_FLAG_NO_BUFFERING | FILE_FLAG_SEQUENTIAL_SCAN
    h = k32.CreateFileW(path, GENERIC_READ, FILE_SHARE_READ, None, OPEN_EXISTING, flags, None)
    if h in (None, INVALID_HANDLE_VALUE):
        return _read_plain(path, expect, progress, stop, _("Windows refused unbuffered reads on this volume"))
    sector = sector_size(k32, path)
    length = max(sector, CHUNK - CHUNK % sector)
    win = _WinBuffer(k32, h, length)
    got = DWORD(0)

    def read_chunk() -> int:
        if not k32.ReadFile(h, ctypes.c_void_p(win.address), length, ctypes.byref(got), None):
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]
        return got.value

    def read():
        # in a thread: a Ctrl-C (the console handler sets ``stop``) is acted on between
        # chunks and within a quarter of a second even while ReadFile waits for the card
        win.pending = spawn(read_chunk)
        n = _result_of(win.pending, stop)
        return memoryview(win.buf)[:n]

    try:
        sha, total, digests, small = _loop(read, _size(path), expect, progress, stop)
    finally:
        win.close()
    how = _("unbuffered reads of {length} bytes (sector {sector})").format(length=format_int(length), sector=sector)
    return _result(sha, total, digests, small, "direct", how)


def _size(path: str) -> int:
    """The file's size as the folder says it (a sidecar's content is kept when it is small)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return SMALL + 1


def _read_plain(path: str, expect, progress, stop, why: str) -> ReadBack:
    with open(path, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        buf = bytearray(buffer_length(size))

        def read():
            n = f.readinto(buf)
            return memoryview(buf)[:n]

        sha, total, digests, small = _loop(read, size, expect, progress, stop)
    return _result(sha, total, digests, small, "cached", why)


# --------------------------------------------------------------------------- macOS
F_NOCACHE = 48  # <sys/fcntl.h>
MS_INVALIDATE = 0x0002  # <sys/mman.h> (macOS: MS_ASYNC 1, MS_INVALIDATE 2, MS_SYNC 0x10)
PROT_READ = 0x1
MAP_SHARED = 0x1
MAP_FAILED = 2**64 - 1  # (void *)-1 as ctypes.c_void_p gives it back


def _invalidate_macos(fd: int, size: int, system: System) -> str:
    """Drop the pages of the file already cached: map it shared, ``msync(MS_INVALIDATE)``,
    unmap. "" when done, else why not."""
    import ctypes

    if size == 0:
        return ""
    libc = system.libc()
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64]
    addr = libc.mmap(None, size, PROT_READ, MAP_SHARED, fd, 0)
    if addr in (None, -1, MAP_FAILED):
        return _("the file could not be mapped to drop its cached pages ({error})").format(
            error=os.strerror(ctypes.get_errno())
        )
    try:
        if libc.msync(ctypes.c_void_p(addr), ctypes.c_size_t(size), MS_INVALIDATE) != 0:
            return _("msync(MS_INVALIDATE) failed ({error})").format(error=os.strerror(ctypes.get_errno()))
        return ""
    finally:
        libc.munmap(ctypes.c_void_p(addr), ctypes.c_size_t(size))


def _read_macos(pin, name, expect, progress, stop, system: System) -> ReadBack:
    fcntl = system.fcntl()
    fd = pin.open(name, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        why = _invalidate_macos(fd, size, system)
        try:
            fcntl.fcntl(fd, F_NOCACHE, 1)
        except OSError as e:
            why = why or _("F_NOCACHE was refused ({error})").format(error=os_reason(e))
        buf = bytearray(buffer_length(size))

        def read():
            n = os.readv(fd, [buf])
            return memoryview(buf)[:n]

        sha, total, digests, small = _loop(read, size, expect, progress, stop)
    finally:
        os.close(fd)
    if why:
        return _result(sha, total, digests, small, "cached", why)
    return _result(sha, total, digests, small, "direct", _("F_NOCACHE after msync(MS_INVALIDATE)"))
