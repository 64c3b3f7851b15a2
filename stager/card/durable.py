"""Durable on every system: the bytes and the directory entry on the medium, not in a cache.

- :func:`fsync_fd`: ``fsync`` on Linux; on macOS ``fcntl(F_FULLFSYNC)`` (``fsync`` there
  only hands the data to the drive, which may keep it in its own cache), falling back to
  ``fsync`` where the file system refuses it; on Windows ``os.fsync`` is ``_commit``
  (``FlushFileBuffers``).
- :func:`flush_dir_windows`: the directory entry after a rename, flushed with
  ``FlushFileBuffers`` on a handle of the folder opened with ``FILE_FLAG_BACKUP_SEMANTICS``.
- :func:`replace`: a rename refused on Windows because another program holds the file
  (an antivirus scanning it, Explorer's preview) is retried for about two seconds, then a
  clear media error.
- :func:`sync_device`: for FUSE cards (``fuseblk``), whose daemon writes through the block
  device's own cache and may not pass fsync down, the block device is flushed too.
- :func:`confirm`: the medium holds what was removed or renamed in the card's root: the
  folder flushed and, for a FUSE card, its block device (a card that hangs, or that
  acknowledges an unlink it never stores, does not confirm it).
"""

from __future__ import annotations

import errno
import os
import sys
import time

from stager.errors import MediaError
from stager.i18n import _

F_FULLFSYNC = 51  # <sys/fcntl.h> on macOS
GENERIC_WRITE = 0x40000000
FILE_SHARE_ALL = 0x1 | 0x2 | 0x4
OPEN_EXISTING = 3
FILE_FLAG_BACKUP_SEMANTICS = 0x02000000
INVALID_HANDLE_VALUE = -1
IN_USE_WINERRORS = {5, 32, 33}  # ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
RETRY_SECONDS = 2.0


def fsync_fd(fd: int, *, platform: str | None = None, fcntl_mod=None) -> str:
    """Flush ``fd`` to the medium; returns what did it ("F_FULLFSYNC" or "fsync")."""
    platform = platform or sys.platform
    if platform == "darwin":
        if fcntl_mod is None:
            import fcntl as fcntl_mod
        try:
            fcntl_mod.fcntl(fd, F_FULLFSYNC)
            return "F_FULLFSYNC"
        except OSError as e:  # e.g. a network or FUSE volume that does not support it
            if e.errno not in (errno.ENOTSUP, errno.EINVAL, errno.ENOTTY, getattr(errno, "EOPNOTSUPP", errno.ENOTSUP)):
                raise
    os.fsync(fd)
    return "fsync"


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Linux: ``posix_fadvise(DONTNEED)`` on dirty pages starts their writeback at once
    (without waiting for it), so the final fsync has little left to do. Elsewhere nothing."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None and sys.platform.startswith("linux"):
        try:
            advise(fd, offset, length, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass


def flush_dir_windows(folder: str, kernel32) -> bool:
    """FlushFileBuffers on the folder (its entries: the rename). False where the volume
    refuses it (FAT on some drivers answers ERROR_INVALID_FUNCTION): the files themselves
    were flushed, and a card's directory is written through by Windows' removal policy."""
    flags = FILE_FLAG_BACKUP_SEMANTICS  # a folder can only be opened with it
    h = kernel32.CreateFileW(folder, GENERIC_WRITE, FILE_SHARE_ALL, None, OPEN_EXISTING, flags, None)
    if h in (None, INVALID_HANDLE_VALUE):
        return False
    try:
        return bool(kernel32.FlushFileBuffers(h))
    finally:
        kernel32.CloseHandle(h)


def in_use(e: OSError) -> bool:
    return getattr(e, "winerror", None) in IN_USE_WINERRORS


def replace(pin, src: str, dst: str, *, sleep=time.sleep, clock=time.monotonic) -> None:
    """Rename on the pinned card; a file held by another program is retried briefly."""
    deadline = clock() + RETRY_SECONDS
    while True:
        try:
            pin.replace(src, dst)
            return
        except PermissionError as e:
            if not in_use(e) or clock() >= deadline:
                if in_use(e):
                    raise MediaError(
                        _(
                            "{file}: another program holds the file (an antivirus scan or Explorer's "
                            "preview, for example) and Windows refused to rename it for {seconds} seconds. "
                            "Close the programs that show the card, then run prepare again."
                        ).format(file=pin.where(dst), seconds=f"{RETRY_SECONDS:.0f}"),
                        code="file-in-use",
                    ) from None
                raise
            sleep(0.1)


def sync_device(device: str | None) -> bool:
    """fsync a block device (the card under a FUSE file system): True when done."""
    if not device:
        return False
    try:
        fd = os.open(device, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        os.fsync(fd)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


FUSE_TYPES = {"fuseblk"}


def confirm(pin) -> bool:
    """True once the card's root folder (and a FUSE card's block device) is flushed to the
    medium; False when that could not be done (the removals may not be on the card)."""
    try:
        pin.fsync_dir()
    except OSError:
        return False
    if getattr(pin, "fstype", None) in FUSE_TYPES:
        return sync_device(pin.block_device)
    return True
