"""Windows storage stack through ctypes: the structures of winioctl.h and the calls.

The structures are declared with ctypes' default (natural) alignment, which is the
Windows SDK's packing for these types (winioctl.h declares them without #pragma pack):
their sizes and offsets are checked in tests/card/test_win32_layout.py against the SDK.

:class:`Win32Calls` is the real seam of :mod:`stager.card.media._windows`: every answer
is plain data (numbers, strings, the IOCTL output as bytes), so a record of it replays
on any system (:mod:`stager.card.media.record`). It is only built on Windows.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import c_int32, c_int64, c_ubyte, c_uint32
from typing import Any

from stager.card.media.record import CallFailed
from stager.i18n import _


def ctl_code(device_type: int, function: int, method: int, access: int) -> int:
    """CTL_CODE of devioctl.h."""
    return (device_type << 16) | (access << 14) | (function << 2) | method


FILE_DEVICE_MASS_STORAGE = 0x2D
IOCTL_STORAGE_BASE = FILE_DEVICE_MASS_STORAGE
IOCTL_VOLUME_BASE = ord("V")
METHOD_BUFFERED = 0
FILE_ANY_ACCESS = 0
IOCTL_STORAGE_QUERY_PROPERTY = ctl_code(IOCTL_STORAGE_BASE, 0x0500, METHOD_BUFFERED, FILE_ANY_ACCESS)
IOCTL_STORAGE_CHECK_VERIFY2 = ctl_code(IOCTL_STORAGE_BASE, 0x0200, METHOD_BUFFERED, FILE_ANY_ACCESS)
IOCTL_STORAGE_GET_DEVICE_NUMBER = ctl_code(IOCTL_STORAGE_BASE, 0x0420, METHOD_BUFFERED, FILE_ANY_ACCESS)
IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS = ctl_code(IOCTL_VOLUME_BASE, 0, METHOD_BUFFERED, FILE_ANY_ACCESS)

StorageDeviceProperty = 0  # STORAGE_PROPERTY_ID
PropertyStandardQuery = 0  # STORAGE_QUERY_TYPE

# STORAGE_BUS_TYPE (winioctl.h)
BUS_TYPES = {
    0: "Unknown",
    1: "SCSI",
    2: "ATAPI",
    3: "ATA",
    4: "1394",
    5: "SSA",
    6: "Fibre",
    7: "USB",
    8: "RAID",
    9: "iSCSI",
    10: "SAS",
    11: "SATA",
    12: "SD",
    13: "MMC",
    14: "Virtual",
    15: "FileBackedVirtual",
    16: "Spaces",
    17: "NVMe",
    18: "SCM",
    19: "UFS",
}
BusTypeUsb, BusTypeSd, BusTypeMmc, BusTypeFileBackedVirtual = 7, 12, 13, 15

# GetDriveTypeW (fileapi.h)
DRIVE_UNKNOWN, DRIVE_NO_ROOT_DIR, DRIVE_REMOVABLE, DRIVE_FIXED, DRIVE_REMOTE, DRIVE_CDROM, DRIVE_RAMDISK = range(7)

# GetVolumeInformationW flags (winnt.h)
FILE_READ_ONLY_VOLUME = 0x00080000

# Errors (winerror.h)
ERROR_INVALID_FUNCTION = 1
ERROR_ACCESS_DENIED = 5
ERROR_NOT_READY = 21
ERROR_MORE_DATA = 234
ERROR_UNRECOGNIZED_VOLUME = 1005
ERROR_NO_MEDIA_IN_DRIVE = 1112
FVE_E_LOCKED_VOLUME = 0x80310000  # BitLocker: "This drive is locked by BitLocker Drive Encryption."

SEM_FAILCRITICALERRORS = 0x0001
FILE_SHARE_READ, FILE_SHARE_WRITE = 0x1, 0x2
OPEN_EXISTING = 3


class STORAGE_PROPERTY_QUERY(ctypes.Structure):
    _fields_ = [("PropertyId", c_int32), ("QueryType", c_int32), ("AdditionalParameters", c_ubyte * 1)]


class STORAGE_DEVICE_DESCRIPTOR(ctypes.Structure):
    _fields_ = [
        ("Version", c_uint32),
        ("Size", c_uint32),
        ("DeviceType", c_ubyte),
        ("DeviceTypeModifier", c_ubyte),
        ("RemovableMedia", c_ubyte),  # BOOLEAN
        ("CommandQueueing", c_ubyte),
        ("VendorIdOffset", c_uint32),
        ("ProductIdOffset", c_uint32),
        ("ProductRevisionOffset", c_uint32),
        ("SerialNumberOffset", c_uint32),
        ("BusType", c_int32),  # STORAGE_BUS_TYPE
        ("RawPropertiesLength", c_uint32),
        ("RawDeviceProperties", c_ubyte * 1),
    ]


class DISK_EXTENT(ctypes.Structure):
    _fields_ = [("DiskNumber", c_uint32), ("StartingOffset", c_int64), ("ExtentLength", c_int64)]


class VOLUME_DISK_EXTENTS(ctypes.Structure):
    _fields_ = [("NumberOfDiskExtents", c_uint32), ("Extents", DISK_EXTENT * 1)]


class STORAGE_DEVICE_NUMBER(ctypes.Structure):
    _fields_ = [("DeviceType", c_uint32), ("DeviceNumber", c_uint32), ("PartitionNumber", c_uint32)]


def _string_at(raw: bytes, offset: int) -> str | None:
    if not offset or offset >= len(raw):
        return None
    end = raw.find(b"\0", offset)
    text = raw[offset : end if end >= 0 else len(raw)].decode("ascii", "replace").strip()
    return text or None


def parse_device_descriptor(raw: bytes) -> dict:
    """The facts of an IOCTL_STORAGE_QUERY_PROPERTY (StorageDeviceProperty) answer."""
    if len(raw) < ctypes.sizeof(STORAGE_DEVICE_DESCRIPTOR) - 1:
        raise ValueError(f"a STORAGE_DEVICE_DESCRIPTOR is at least 36 bytes, not {len(raw)}")
    d = STORAGE_DEVICE_DESCRIPTOR.from_buffer_copy(raw.ljust(ctypes.sizeof(STORAGE_DEVICE_DESCRIPTOR), b"\0"))
    return {
        "bus": BUS_TYPES.get(d.BusType, f"bus {d.BusType}"),
        "bus_type": d.BusType,
        "removable_media": bool(d.RemovableMedia),
        "vendor": _string_at(raw, d.VendorIdOffset),
        "product": _string_at(raw, d.ProductIdOffset),
        "revision": _string_at(raw, d.ProductRevisionOffset),
        "serial": _string_at(raw, d.SerialNumberOffset),
    }


def parse_disk_extents(raw: bytes) -> list[int]:
    """The disk numbers of an IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS answer."""
    head = VOLUME_DISK_EXTENTS.from_buffer_copy(raw[: ctypes.sizeof(VOLUME_DISK_EXTENTS)])
    first = VOLUME_DISK_EXTENTS.Extents.offset
    size = ctypes.sizeof(DISK_EXTENT)
    if len(raw) < first + head.NumberOfDiskExtents * size:
        raise ValueError(f"{head.NumberOfDiskExtents} extents do not fit in {len(raw)} bytes")
    return [
        DISK_EXTENT.from_buffer_copy(raw[first + i * size : first + (i + 1) * size]).DiskNumber
        for i in range(head.NumberOfDiskExtents)
    ]


def on_windows() -> bool:
    return sys.platform.startswith("win")


def last_error() -> int:
    """ctypes.get_last_error() (Windows only)."""
    # ctypes gives the DWORD as a C int: an HRESULT such as FVE_E_LOCKED_VOLUME comes back negative
    return int(getattr(ctypes, "get_last_error")()) & 0xFFFFFFFF  # noqa: B009 (Windows only)


def volume_path(root: str) -> str:
    r"""``E:\`` -> ``\\.\E:`` (the volume's device, opened with no access rights)."""
    return "\\\\.\\" + root.rstrip("\\/")


class Win32Calls:
    """The real system calls (Windows only): each returns plain data or raises CallFailed."""

    def __init__(self):
        if not on_windows():
            raise OSError(_("the Win32 calls exist on Windows only"))
        self.k32: Any = getattr(ctypes, "WinDLL")("kernel32", use_last_error=True)  # noqa: B009 (Windows only)
        self.k32.CreateFileW.restype = ctypes.c_void_p
        self.k32.CreateFileW.argtypes = [
            ctypes.c_wchar_p,
            c_uint32,
            c_uint32,
            ctypes.c_void_p,
            c_uint32,
            c_uint32,
            ctypes.c_void_p,
        ]
        self.k32.DeviceIoControl.argtypes = [
            ctypes.c_void_p,
            c_uint32,
            ctypes.c_void_p,
            c_uint32,
            ctypes.c_void_p,
            c_uint32,
            ctypes.POINTER(c_uint32),
            ctypes.c_void_p,
        ]
        self.k32.CloseHandle.argtypes = [ctypes.c_void_p]
        # No "insert a disk" dialog for an empty slot, for the whole run (psutil does the same).
        self.k32.SetErrorMode(self.k32.SetErrorMode(SEM_FAILCRITICALERRORS) | SEM_FAILCRITICALERRORS)

    def _fail(self, what: str):
        return CallFailed(last_error(), what)

    def partitions(self):
        import psutil

        # all=False: psutil skips network drives there, whose GetVolumeInformationW can
        # block for long on a stale mapping; they are found by logical_drives() instead.
        return [[p.device, p.mountpoint, p.fstype, p.opts] for p in psutil.disk_partitions(all=False)]

    def logical_drives(self) -> list[str]:
        """Every drive letter (GetLogicalDrives), ``["C:\\", "Z:\\"]``."""
        mask = int(self.k32.GetLogicalDrives())
        return [f"{chr(65 + i)}:\\" for i in range(26) if mask >> i & 1]

    def system_drive(self) -> str:
        return os.environ.get("SYSTEMDRIVE", "C:")

    def windows_directory(self) -> str:
        buf = ctypes.create_unicode_buffer(260)
        if not self.k32.GetWindowsDirectoryW(buf, 260):
            raise self._fail("GetWindowsDirectoryW")
        return buf.value

    def drive_type(self, root: str) -> int:
        return int(self.k32.GetDriveTypeW(ctypes.c_wchar_p(root)))

    def volume_information(self, root: str) -> dict:
        label, fs = ctypes.create_unicode_buffer(261), ctypes.create_unicode_buffer(261)
        serial, maxlen, flags = c_uint32(), c_uint32(), c_uint32()
        ok = self.k32.GetVolumeInformationW(
            ctypes.c_wchar_p(root), label, 261, ctypes.byref(serial), ctypes.byref(maxlen), ctypes.byref(flags), fs, 261
        )
        if not ok:
            raise self._fail("GetVolumeInformationW")
        return {"label": label.value, "fstype": fs.value, "flags": flags.value, "serial": serial.value}

    def _ioctl(self, root: str, code: int, inbuf, out_size: int, what: str) -> bytes:
        handle = self.k32.CreateFileW(
            volume_path(root), 0, FILE_SHARE_READ | FILE_SHARE_WRITE, None, OPEN_EXISTING, 0, None
        )
        if handle is None or handle == ctypes.c_void_p(-1).value:
            raise self._fail(f"CreateFileW {volume_path(root)}")
        try:
            out = ctypes.create_string_buffer(max(out_size, 1))
            got = c_uint32()
            ok = self.k32.DeviceIoControl(
                handle,
                code,
                ctypes.byref(inbuf) if inbuf is not None else None,
                ctypes.sizeof(inbuf) if inbuf is not None else 0,
                out if out_size else None,
                out_size,
                ctypes.byref(got),
                None,
            )
            if not ok:
                raise self._fail(what)
            return out.raw[: got.value]
        finally:
            self.k32.CloseHandle(handle)

    def device_descriptor(self, root: str) -> bytes:
        query = STORAGE_PROPERTY_QUERY(StorageDeviceProperty, PropertyStandardQuery)
        return self._ioctl(root, IOCTL_STORAGE_QUERY_PROPERTY, query, 1024, "IOCTL_STORAGE_QUERY_PROPERTY")

    def disk_extents(self, root: str) -> bytes:
        size = VOLUME_DISK_EXTENTS.Extents.offset + 32 * ctypes.sizeof(DISK_EXTENT)
        what = "IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS"
        return self._ioctl(root, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, None, size, what)

    def check_verify(self, root: str) -> bool:
        self._ioctl(root, IOCTL_STORAGE_CHECK_VERIFY2, None, 0, "IOCTL_STORAGE_CHECK_VERIFY2")
        return True

    def disk_usage(self, root: str):
        from stager.card.media.model import usage

        return list(usage(root))

    def st_dev(self, root: str) -> int:
        return os.stat(root).st_dev

    def firmware_files(self, root: str) -> list:
        from stager.card.media.model import firmware_on

        return list(firmware_on(root))
