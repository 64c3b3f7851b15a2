"""The ctypes structures and codes of the Windows storage stack against the Windows SDK.

Sizes and offsets are those of winioctl.h compiled with MSVC's default packing (these
types are declared without #pragma pack): ULONG/DWORD 4 bytes, BOOLEAN/UCHAR 1,
LARGE_INTEGER 8 bytes aligned on 8, enums 4. ctypes on Linux lays structures out by
the same natural-alignment rules, so the check runs here.
"""

import ctypes
import struct

import pytest

from stager.card import _cfgmgr32 as cm
from stager.card.media import _win32 as w

# (structure, sizeof, {field: offset}) from winioctl.h
SDK = [
    (w.STORAGE_PROPERTY_QUERY, 12, {"PropertyId": 0, "QueryType": 4, "AdditionalParameters": 8}),
    (
        w.STORAGE_DEVICE_DESCRIPTOR,
        40,
        {
            "Version": 0,
            "Size": 4,
            "DeviceType": 8,
            "DeviceTypeModifier": 9,
            "RemovableMedia": 10,
            "CommandQueueing": 11,
            "VendorIdOffset": 12,
            "ProductIdOffset": 16,
            "ProductRevisionOffset": 20,
            "SerialNumberOffset": 24,
            "BusType": 28,
            "RawPropertiesLength": 32,
            "RawDeviceProperties": 36,
        },
    ),
    (w.DISK_EXTENT, 24, {"DiskNumber": 0, "StartingOffset": 8, "ExtentLength": 16}),
    (w.VOLUME_DISK_EXTENTS, 32, {"NumberOfDiskExtents": 0, "Extents": 8}),
    (w.STORAGE_DEVICE_NUMBER, 12, {"DeviceType": 0, "DeviceNumber": 4, "PartitionNumber": 8}),
    (cm.GUID, 16, {"Data1": 0, "Data2": 4, "Data3": 6, "Data4": 8}),
    (cm.DEVPROPKEY, 20, {"fmtid": 0, "pid": 16}),
]


@pytest.mark.parametrize(("struct_type", "size", "offsets"), SDK, ids=[s[0].__name__ for s in SDK])
def test_structures_match_the_sdk(struct_type, size, offsets):
    assert ctypes.sizeof(struct_type) == size
    assert {name: getattr(struct_type, name).offset for name in offsets} == offsets
    assert [f[0] for f in struct_type._fields_] == list(offsets)


def test_control_codes_are_the_sdks():
    # the values winioctl.h's CTL_CODE macros give (and that drivers and tools hard-code)
    assert w.IOCTL_STORAGE_QUERY_PROPERTY == 0x002D1400
    assert w.IOCTL_STORAGE_CHECK_VERIFY2 == 0x002D0800
    assert w.IOCTL_STORAGE_GET_DEVICE_NUMBER == 0x002D1080
    assert w.IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS == 0x00560000


def test_enumerations_are_the_sdks():
    assert (w.BusTypeUsb, w.BusTypeSd, w.BusTypeMmc, w.BusTypeFileBackedVirtual) == (7, 12, 13, 15)
    assert w.BUS_TYPES[17] == "NVMe" and w.BUS_TYPES[11] == "SATA"
    assert (w.DRIVE_REMOVABLE, w.DRIVE_FIXED, w.DRIVE_REMOTE, w.DRIVE_CDROM) == (2, 3, 4, 5)
    assert cm.veto_name(5) == "PNP_VetoOutstandingOpen" and cm.veto_name(13) == "PNP_VetoAlreadyRemoved"
    assert (cm.CR_REMOVE_VETOED, cm.CM_DRP_CAPABILITIES, cm.CM_DEVCAP_REMOVABLE) == (0x17, 0x10, 0x4)
    assert bytes(cm.GUID_DEVINTERFACE_DISK) == bytes.fromhex("0763f553bfb6d011" + "94f200a0c91efb8b")


def test_a_descriptor_is_read_with_its_strings():
    strings = b"SanDisk\0Extreme\x000001\0AA01234\0"
    head = struct.pack("<IIBBBBIIIIiI", 40, 40 + len(strings), 0, 0, 0, 0, 40, 48, 56, 61, 7, 0)
    facts = w.parse_device_descriptor(head + b"\0" * 4 + strings)
    assert facts["bus"] == "USB" and not facts["removable_media"]
    assert (facts["vendor"], facts["product"], facts["revision"], facts["serial"]) == (
        "SanDisk",
        "Extreme",
        "0001",
        "AA01234",
    )


def test_a_short_descriptor_is_refused():
    with pytest.raises(ValueError):
        w.parse_device_descriptor(b"\0" * 20)


def test_disk_extents_give_each_disk_number():
    raw = struct.pack("<I4x", 2) + struct.pack("<I4xqq", 3, 1 << 20, 1 << 30) + struct.pack("<I4xqq", 5, 0, 1 << 30)
    assert w.parse_disk_extents(raw) == [3, 5]
    with pytest.raises(ValueError):
        w.parse_disk_extents(raw[:40])


def test_the_volume_device_of_a_drive():
    assert w.volume_path("E:\\") == "\\\\.\\E:"


def test_the_real_calls_are_refused_off_windows():
    if w.on_windows():
        pytest.skip("on Windows the real calls exist")
    with pytest.raises(OSError):
        w.Win32Calls()
