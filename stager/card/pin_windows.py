"""The card pinned on Windows: the volume's serial number and an open handle of its root.

Windows has no ``dir_fd``, so file operations go by path, and :meth:`WinPin.check` runs
before every write: the serial number of the volume that holds the path now
(``GetVolumePathNameW`` + ``GetVolumeInformationW``) and of the pinned root handle
(``GetFileInformationByHandle``, ``dwVolumeSerialNumber``) must both be the pinned one.
A card swapped for another under the same drive letter, or gone, is a MediaError.

Every Win32 call goes through ``kernel32`` (``ctypes.windll.kernel32`` on Windows; tests
pass an object that records the calls and answers as Windows does).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from stager.card.gone import card_gone
from stager.i18n import _

GENERIC_READ = 0x80000000
FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_SHARE_DELETE = 0x1, 0x2, 0x4
OPEN_EXISTING = 3
FILE_FLAG_BACKUP_SEMANTICS = 0x02000000  # needed to open a folder
INVALID_HANDLE_VALUE = -1
MAX_PATH = 260


DWORD = ctypes.c_uint32  # 32 bits on Windows (ctypes.wintypes.DWORD is a C long: 64 bits off Windows)


class FILETIME(ctypes.Structure):  # minwindef.h
    _fields_ = [("dwLowDateTime", DWORD), ("dwHighDateTime", DWORD)]


class BY_HANDLE_FILE_INFORMATION(ctypes.Structure):  # fileapi.h; 52 bytes
    _fields_ = [
        ("dwFileAttributes", DWORD),
        ("ftCreationTime", FILETIME),
        ("ftLastAccessTime", FILETIME),
        ("ftLastWriteTime", FILETIME),
        ("dwVolumeSerialNumber", DWORD),
        ("nFileSizeHigh", DWORD),
        ("nFileSizeLow", DWORD),
        ("nNumberOfLinks", DWORD),
        ("nFileIndexHigh", DWORD),
        ("nFileIndexLow", DWORD),
    ]


def _kernel32():
    return ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]


def volume_serial(k32, path: str) -> tuple[str, int] | None:
    """(volume root, serial number) of the volume holding ``path``; None when unreadable."""
    root = ctypes.create_unicode_buffer(MAX_PATH + 1)
    if not k32.GetVolumePathNameW(path, root, MAX_PATH + 1):
        return None
    serial = DWORD(0)
    if not k32.GetVolumeInformationW(root.value, None, 0, ctypes.byref(serial), None, None, None, 0):
        return None
    return root.value, serial.value


def open_root(k32, path: str):
    share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
    h = k32.CreateFileW(path, GENERIC_READ, share, None, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, None)
    return None if h in (None, INVALID_HANDLE_VALUE) else h


def handle_serial(k32, handle) -> int | None:
    info = BY_HANDLE_FILE_INFORMATION()
    if not k32.GetFileInformationByHandle(handle, ctypes.byref(info)):
        return None
    return info.dwVolumeSerialNumber


class WinPin:
    """A pinned card on Windows (same interface as :class:`stager.card.pin.CardPin`)."""

    fd = -1
    mount = None
    fstype = None
    block_device = None

    def __init__(self, path: Path, k32, handle, root: str, serial: int):
        self.path, self.k32, self.handle, self.root, self.serial = Path(path), k32, handle, root, serial

    def check(self) -> None:
        now = volume_serial(self.k32, str(self.path))
        if now is None:
            raise card_gone(self.path, _("its volume cannot be read"))
        if now[1] != self.serial:
            why = _("the volume at {root} is another one (serial {serial}, not {pinned})").format(
                root=now[0], serial=f"{now[1]:08X}", pinned=f"{self.serial:08X}"
            )
            raise card_gone(self.path, why)
        if handle_serial(self.k32, self.handle) != self.serial:
            raise card_gone(self.path, _("the pinned folder is no longer on the card's volume"))

    def _p(self, name: str) -> str:
        return str(self.path / name)

    def open(self, name: str, flags: int, mode: int = 0o644) -> int:
        return os.open(self._p(name), flags | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOINHERIT", 0), mode)

    def unlink(self, name: str) -> None:
        os.unlink(self._p(name))

    def replace(self, src: str, dst: str) -> None:
        os.replace(self._p(src), self._p(dst))

    def stat(self, name: str) -> os.stat_result:
        return os.stat(self._p(name), follow_symlinks=False)

    def exists(self, name: str) -> bool:
        return os.path.lexists(self._p(name))

    def files(self) -> list[tuple[str, int]]:
        with os.scandir(self.path) as it:
            return sorted((e.name, e.stat().st_size) for e in it if e.is_file(follow_symlinks=False))

    def fsync_dir(self) -> None:
        from stager.card.durable import flush_dir_windows

        flush_dir_windows(str(self.path), self.k32)

    def where(self, name: str) -> str:
        return self._p(name)

    def close(self) -> None:
        if self.handle is not None:
            self.k32.CloseHandle(self.handle)
            self.handle = None


def pin_windows(path: Path, kernel32=None) -> WinPin:
    k32 = kernel32 or _kernel32()
    found = volume_serial(k32, str(path))
    if found is None:
        raise card_gone(path, _("its volume cannot be read"))
    handle = open_root(k32, str(path))
    if handle is None:
        raise card_gone(path, _("its folder cannot be opened"))
    pin = WinPin(path, k32, handle, found[0], found[1])
    pin.check()
    return pin
