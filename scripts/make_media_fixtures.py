"""Write the recorded Windows and macOS machines of tests/data/media/ (the record format
of docs/media-record.md), in the exact form each system's tools produce.

Where each form comes from (read, not guessed):
- psutil rows: psutil's C source, psutil/arch/windows/disk.c (``disk_partitions``,
  all=False as stager asks: no network, RAM-disk or unmounted drive, no A: floppy;
  opts is "ro"/"rw", ",compressed", ",readonly", then the drive type "fixed",
  "removable", "cdrom", "remote", "unmounted", "ramdisk"; a drive whose
  GetVolumeInformationW fails has only the drive type and an empty fstype) and
  psutil/arch/osx/disk.c (statfs flags in the order "rw", ",nosuid", ",local",
  ",rootfs", ",dovolfs", ",dontbrowse", ",ignore-ownership", ",journaled", ...).
  The rows are those of psutil >= 5.8 (the same code in 5.8.0 to 7.2).
- IOCTL answers as bytes: the layouts of winioctl.h (STORAGE_DEVICE_DESCRIPTOR, 40
  bytes with its strings after it, offsets from the start; VOLUME_DISK_EXTENTS, the
  first DISK_EXTENT at offset 8, 24 bytes each), packed here with ``struct`` at the
  SDK's offsets, independently of stager's ctypes structures. STORAGE_BUS_TYPE values
  of winioctl.h (USB 7, SD 12, MMC 13, SATA 11, NVMe 17, FileBackedVirtual 15).
- Win32 errors: winerror.h (ERROR_NOT_READY 21 for an empty slot, as psutil's comment
  says; ERROR_INVALID_FUNCTION 1; FVE_E_LOCKED_VOLUME 0x80310000 for a locked BitLocker
  volume, as balenaEtcher's drivelist handles it).
- diskutil: full ``diskutil info -plist`` documents with the keys macOS 12-14 writes
  for an APFS system volume, its Data volume, an HFS/FAT volume on USB (the key sets
  of the documents in public test suites: crystal's is_ssd tests, sys_line's Darwin
  tests), serialised by plistlib like Apple's (sorted keys, tabs, the same DOCTYPE).

The values (sizes, serials, names) are those of typical devices; these are composed in
the systems' exact forms, not captured on real machines (none was at hand).

Run: .venv/bin/python scripts/make_media_fixtures.py  (rewrites tests/data/media/{windows,macos}/)
"""

from __future__ import annotations

import json
import plistlib
import struct
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "media"
USB, SD, SATA, NVME, VHD = 7, 12, 11, 17, 15
NOT_READY, INVALID_FUNCTION, LOCKED = 21, 1, 0x80310000
FAT_FLAGS, NTFS_FLAGS, READ_ONLY = 0x00000006, 0x03E706FF, 0x00080000


def descriptor(bus: int, removable: bool, vendor: str, product: str, revision: str = "1.00", serial: str = "") -> dict:
    """STORAGE_DEVICE_DESCRIPTOR as IOCTL_STORAGE_QUERY_PROPERTY returns it."""
    strings, offsets, at = b"", [], 40
    for s in (vendor, product, revision, serial):
        if s:
            offsets.append(at + len(strings))
            strings += s.encode("ascii") + b"\0"
        else:
            offsets.append(0)
    size = 40 + len(strings)
    head = struct.pack("<IIBBBBIIIIiI", 40, size, 0, 0, int(removable), 0, *offsets, bus, 0)
    return {"hex": (head + b"\0" * 4 + strings).hex()}


def extents(*disks: tuple[int, int, int]) -> dict:
    """VOLUME_DISK_EXTENTS: (disk number, starting offset, length) each."""
    raw = struct.pack("<I4x", len(disks)) + b"".join(struct.pack("<I4xqq", *d) for d in disks)
    return {"hex": raw.hex()}


def err(code: int) -> dict:
    return {"error": code}


class Win:
    """One Windows machine being written: psutil's rows and each drive's answers."""

    def __init__(self):
        self.calls: dict = {"partitions": [], "system_drive": "C:", "windows_directory": "C:\\Windows"}

    def letters(self) -> None:
        """GetLogicalDrives: every letter psutil listed, and those it did not (network)."""
        roots = {r[1] for r in self.calls["partitions"]} | set(self.calls.get("drive_type", {}))
        self.calls["logical_drives"] = sorted(roots)

    def put(self, name: str, root: str, value) -> None:
        self.calls.setdefault(name, {})[root] = value

    def drive(self, root, fstype, opts, drive_type, *, info=None, desc=None, ext=None, verify=True, usage=None):
        self.calls["partitions"].append([root, root, fstype, opts])
        self.put("drive_type", root, drive_type)
        if drive_type in (4, 5):  # network, optical: stager asks nothing more
            return self
        self.put("disk_extents", root, ext if ext is not None else err(NOT_READY))
        self.put("check_verify", root, verify)
        self.put("volume_information", root, info if info is not None else err(NOT_READY))
        if desc is not None:
            self.put("device_descriptor", root, desc)
        if isinstance(info, dict) and "serial" in info:
            self.put("st_dev", root, info["serial"])
        if usage:
            self.put("disk_usage", root, list(usage))
            self.put("firmware_files", root, [])
        return self

    def system_c(self, bus=NVME, model="Samsung SSD 980 PRO 1TB"):
        info = {"label": "Windows", "fstype": "NTFS", "flags": NTFS_FLAGS, "serial": 0x5C2A1B3E}
        return self.drive(
            "C:\\",
            "NTFS",
            "rw,fixed",
            3,
            info=info,
            desc=descriptor(bus, False, "", model),
            ext=extents((0, 290_455_552, 999_653_638_144)),
        )


def fat(label: str, serial: int, fs="FAT32", flags=FAT_FLAGS) -> dict:
    return {"label": label, "fstype": fs, "flags": flags, "serial": serial}


def windows_sd_machines() -> dict:
    """SD cards in a laptop's built-in reader: a card, a locked card, an empty slot."""
    m = {}
    w = Win().system_c()
    w.drive("D:\\", "", "cdrom", 5)
    w.drive(
        "E:\\",
        "FAT32",
        "rw,removable",
        2,
        info=fat("PULSECARD", 0x3A1F0C2B),
        desc=descriptor(SD, True, "", "SD Card", "", "0x9c3f0012"),
        ext=extents((1, 4_194_304, 31_914_983_424)),
        usage=(31_902_400_512, 31_900_000_256),
    )
    m["sd_in_laptop_reader"] = ("an SD card in a laptop's built-in reader (Realtek PCIe, bus SD)", w)

    w = Win().system_c()
    w.drive(
        "E:\\",
        "FAT32",
        "ro,readonly,removable",
        2,
        info=fat("PULSECARD", 0x3A1F0C2B, flags=FAT_FLAGS | READ_ONLY),
        desc=descriptor(SD, True, "", "SD Card"),
        ext=extents((1, 4_194_304, 31_914_983_424)),
        usage=(31_902_400_512, 31_900_000_256),
    )
    m["sd_lock_switch_on"] = ("an SD card with its lock switch on, in the built-in reader", w)

    w = Win().system_c()
    w.drive("E:\\", "", "removable", 2, verify=err(NOT_READY), desc=descriptor(SD, True, "", "SD Card"))
    m["built_in_slot_empty"] = ("a laptop's built-in SD slot that keeps its drive letter, no card in it", w)
    return m


def windows_usb_machines() -> dict:
    """USB readers, sticks and disks."""
    m = {}
    w = Win().system_c(SATA, "CT500MX500SSD1")
    reader = descriptor(USB, True, "Generic-", "Multi-Card", "1.00")
    for root in ("E:\\", "G:\\", "H:\\"):
        w.drive(root, "", "removable", 2, verify=err(NOT_READY), desc=reader)
    w.drive(
        "F:\\",
        "exFAT",
        "rw,removable",
        2,
        info=fat("PULSECARD", 0x6E21A9F4, "exFAT"),
        desc=reader,
        ext=extents((2, 1_048_576, 63_864_569_856)),
        usage=(63_847_792_640, 63_847_530_496),
    )
    w.calls["partitions"].sort()
    m["usb_reader_4_slots_one_card"] = ("a 4-slot USB card reader with one SD card, in slot F:", w)

    w = Win().system_c()
    w.drive(
        "E:\\",
        "FAT32",
        "rw,fixed",
        3,
        info=fat("SANDISK", 0x1C0E5D77),
        desc=descriptor(USB, False, "SanDisk", "Extreme", "0001"),
        ext=extents((1, 1_048_576, 64_023_150_592)),
        usage=(64_005_849_088, 64_005_816_320),
    )
    m["usb_stick_reporting_fixed"] = ("a USB stick that reports itself as a fixed disk (SanDisk Extreme)", w)

    w = Win().system_c()
    w.drive(
        "E:\\",
        "exFAT",
        "rw,fixed",
        3,
        info=fat("T7", 0x20B3C1AA, "exFAT"),
        desc=descriptor(USB, False, "Samsung", "PSSD T7", "0"),
        ext=extents((1, 1_048_576, 1_000_202_043_392)),
        usage=(1_000_186_314_752, 998_051_000_320),
    )
    m["usb_ssd"] = ("a USB SSD (Samsung T7): counts as a card, the one policy for USB disks", w)
    return m


def windows_system_machines() -> dict:
    """No card: a network drive, a VHD, the system disk's partitions, Windows To Go."""
    m = {}
    w = Win().system_c()
    w.put("drive_type", "Z:\\", 4)  # psutil (all=False) does not list it: only GetLogicalDrives does
    w.drive(
        "V:\\",
        "NTFS",
        "rw,fixed",
        3,
        info={"label": "VHD", "fstype": "NTFS", "flags": NTFS_FLAGS, "serial": 7},
        desc=descriptor(VHD, False, "Msft", "Virtual Disk"),
        ext=extents((3, 65_536, 10_736_369_664)),
    )
    m["network_drive_and_vhd"] = ("a mapped network drive Z: and a mounted VHD V:, no card", w)

    w = Win().system_c()
    w.drive(
        "D:\\",
        "NTFS",
        "rw,fixed",
        3,
        info={"label": "DATA", "fstype": "NTFS", "flags": NTFS_FLAGS, "serial": 9},
        desc=descriptor(NVME, False, "", "Samsung SSD 980 PRO 1TB"),
        ext=extents((0, 500_000_000_000, 499_000_000_000)),
    )
    w.drive(
        "W:\\",
        "NTFS",
        "rw,removable",
        2,
        info={"label": "WINDOWS", "fstype": "NTFS", "flags": NTFS_FLAGS, "serial": 0x44},
        desc=descriptor(USB, True, "Kingston", "DataTraveler"),
        ext=extents((4, 1_048_576, 60_000_000_000)),
    )
    w.calls["windows_directory"] = "W:\\Windows"
    m["system_disk_partitions_and_windows_to_go"] = (
        "the system drive C:, a data partition D: on the same disk, and a Windows To Go stick W: "
        "holding the Windows folder",
        w,
    )
    return m


def windows_bitlocker_machines() -> dict:
    """BitLocker To Go, locked and unlocked; one card with two partitions."""
    m = {}
    w = Win().system_c()
    w.drive(
        "E:\\",
        "",
        "removable",
        2,
        info=err(LOCKED),
        desc=descriptor(USB, True, "Kingston", "DataTraveler 3.0"),
        ext=extents((1, 1_048_576, 31_004_295_168)),
    )
    m["bitlocker_stick_locked"] = ("a BitLocker To Go stick, locked", w)

    w = Win().system_c()
    w.drive(
        "E:\\",
        "FAT32",
        "rw,removable",
        2,
        info=fat("PULSECARD", 0x0B5A7F31),
        desc=descriptor(USB, True, "Kingston", "DataTraveler 3.0"),
        ext=extents((1, 1_048_576, 31_004_295_168)),
        usage=(30_986_174_464, 30_985_912_320),
    )
    m["bitlocker_stick_unlocked"] = ("the same BitLocker To Go stick, unlocked", w)

    w = Win().system_c()
    desc = descriptor(USB, True, "Generic", "STORAGE DEVICE", "0817")
    w.drive(
        "E:\\",
        "FAT32",
        "rw,removable",
        2,
        info=fat("PULSECARD", 0x11112222),
        desc=desc,
        ext=extents((1, 1_048_576, 8_000_000_000)),
        usage=(7_998_000_000, 7_990_000_000),
    )
    w.drive(
        "F:\\",
        "FAT32",
        "rw,removable",
        2,
        info=fat("SPARE", 0x33334444),
        desc=desc,
        ext=extents((1, 8_001_048_576, 7_900_000_000)),
        usage=(7_898_000_000, 7_898_000_000),
    )
    m["card_with_two_partitions"] = ("an SD card with two FAT32 partitions in a USB reader (E: and F:)", w)
    return m


def windows_machines() -> dict:
    m = {**windows_sd_machines(), **windows_usb_machines(), **windows_system_machines()}
    m.update(windows_bitlocker_machines())
    for _about, machine in m.values():
        machine.letters()
    return m


def plist(**keys) -> str:
    return plistlib.dumps(keys, sort_keys=True).decode("utf-8")


def volume_keys(ident: str, whole: str, mount: str, name: str, **over) -> dict:
    """The keys of ``diskutil info -plist`` for a volume (macOS 12-14)."""
    keys = {
        "Bootable": False,
        "BusProtocol": "USB",
        "CanBeMadeBootable": False,
        "CanBeMadeBootableRequiresDestroy": False,
        "Content": "Windows_FAT_32",
        "DeviceBlockSize": 512,
        "DeviceIdentifier": ident,
        "DeviceNode": f"/dev/{ident}",
        "DeviceTreePath": "IODeviceTree:/arm-io@10F00000/usb-drd0@2280000",
        "DiskUUID": "5B2A3C4D-0000-0000-0000-0000000000A1",
        "Ejectable": True,
        "EjectableMediaAutomaticUnderSoftwareControl": False,
        "EjectableOnly": True,
        "FilesystemName": "MS-DOS (FAT32)",
        "FilesystemType": "msdos",
        "FilesystemUserVisibleName": "MS-DOS (FAT32)",
        "FreeSpace": 31_900_000_256,
        "GlobalPermissionsEnabled": False,
        "IOKitSize": 31_914_983_424,
        "IORegistryEntryName": "Untitled 1",
        "Internal": False,
        "MediaName": "",
        "MediaType": "Generic",
        "MountPoint": mount,
        "OSInternalMedia": False,
        "ParentWholeDisk": whole,
        "PartitionMapPartition": True,
        "PartitionMapPartitionOffset": 4_194_304,
        "RAIDMaster": False,
        "RAIDSlice": False,
        "Removable": True,
        "RemovableMedia": True,
        "RemovableMediaOrExternalDevice": True,
        "SMARTDeviceSpecificKeysMayVaryNotGuaranteed": {},
        "SMARTStatus": "Not Supported",
        "Size": 31_914_983_424,
        "SupportsGlobalPermissionsDisable": True,
        "SystemImage": False,
        "TotalSize": 31_914_983_424,
        "VolumeAllocationBlockSize": 32768,
        "VolumeName": name,
        "VolumeSize": 31_914_983_424,
        "VolumeUUID": "0E1D2C3B-4A59-3687-A5B4-C3D2E1F00A1B",
        "WholeDisk": False,
        "Writable": True,
        "WritableMedia": True,
        "WritableVolume": True,
    }
    keys.update(over)
    return keys


def whole_keys(ident: str, **over) -> dict:
    keys = {
        "Bootable": False,
        "BusProtocol": "USB",
        "CanBeMadeBootable": False,
        "CanBeMadeBootableRequiresDestroy": False,
        "Content": "FDisk_partition_scheme",
        "DeviceBlockSize": 512,
        "DeviceIdentifier": ident,
        "DeviceNode": f"/dev/{ident}",
        "DeviceTreePath": "IODeviceTree:/arm-io@10F00000/usb-drd0@2280000",
        "Ejectable": True,
        "EjectableMediaAutomaticUnderSoftwareControl": False,
        "EjectableOnly": True,
        "FreeSpace": 0,
        "GlobalPermissionsEnabled": False,
        "IOKitSize": 31_914_983_424,
        "IORegistryEntryName": "SanDisk Ultra Media",
        "Internal": False,
        "MediaName": "SanDisk Ultra",
        "MediaType": "Generic",
        "OSInternalMedia": False,
        "ParentWholeDisk": ident,
        "RAIDMaster": False,
        "RAIDSlice": False,
        "Removable": True,
        "RemovableMedia": True,
        "RemovableMediaOrExternalDevice": True,
        "SMARTDeviceSpecificKeysMayVaryNotGuaranteed": {},
        "SMARTStatus": "Not Supported",
        "Size": 31_914_983_424,
        "SupportsGlobalPermissionsDisable": False,
        "SystemImage": False,
        "TotalSize": 31_914_983_424,
        "VirtualOrPhysical": "Physical",
        "VolumeName": "",
        "VolumeSize": 0,
        "WholeDisk": True,
        "Writable": True,
        "WritableMedia": True,
        "WritableVolume": False,
    }
    keys.update(over)
    return keys


def apfs_keys(ident: str, container: str, store: str, mount: str, name: str, **over) -> dict:
    """An APFS volume of the internal SSD (Apple Silicon, macOS 14)."""
    keys = volume_keys(ident, container, mount, name)
    keys.update(
        {
            "AESHardware": True,
            "APFSContainerFree": 412_345_675_776,
            "APFSContainerReference": container,
            "APFSContainerSize": 994_662_584_320,
            "APFSPhysicalStores": [{"APFSPhysicalStore": store}],
            "APFSVolumeGroupID": "7A3E5C11-2B4D-4F6A-9C8E-1D2F3A4B5C6D",
            "Bootable": True,
            "BooterDeviceIdentifier": "disk1s2",
            "BusProtocol": "Apple Fabric",
            "Content": "41504653-0000-11AA-AA11-00306543ECAC",
            "DeviceBlockSize": 4096,
            "DeviceTreePath": "IODeviceTree:/arm-io@10F00000/ans@8F400000/iop-ans-nub/AppleANS3NVMeController",
            "Ejectable": False,
            "EjectableOnly": False,
            "Encryption": True,
            "EncryptionThisVolumeProper": False,
            "FileVault": True,
            "FilesystemName": "APFS",
            "FilesystemType": "apfs",
            "FilesystemUserVisibleName": "APFS",
            "FreeSpace": 0,
            "Fusion": False,
            "GlobalPermissionsEnabled": True,
            "IOKitSize": 994_662_584_320,
            "IORegistryEntryName": name,
            "Internal": True,
            "Locked": False,
            "PartitionMapPartition": False,
            "RecoveryDeviceIdentifier": "disk3s3",
            "Removable": False,
            "RemovableMedia": False,
            "RemovableMediaOrExternalDevice": False,
            "SMARTStatus": "Verified",
            "Size": 994_662_584_320,
            "SolidState": True,
            "TotalSize": 994_662_584_320,
            "VolumeAllocationBlockSize": 4096,
            "VolumeSize": 0,
        }
    )
    keys.update(over)
    return keys


ROOT_ROW = ["/dev/disk3s1s1", "/", "apfs", "ro,local,rootfs,dovolfs,journaled,multilabel"]
DATA_ROW = ["/dev/disk3s5", "/System/Volumes/Data", "apfs", "rw,local,dovolfs,dontbrowse,journaled,multilabel"]
VM_ROW = ["/dev/disk3s6", "/System/Volumes/VM", "apfs", "rw,local,dovolfs,dontbrowse,journaled,noexec,multilabel"]
CARD_OPTS = "rw,nosuid,local,ignore-ownership,noatime"


def mac_system() -> dict:
    root = apfs_keys(
        "disk3s1s1",
        "disk3",
        "disk0s2",
        "/",
        "Macintosh HD",
        Sealed="Yes",
        APFSSnapshot=True,
        Writable=False,
        WritableVolume=False,
        WritableMedia=False,
    )
    data = apfs_keys("disk3s5", "disk3", "disk0s2", "/System/Volumes/Data", "Data", FreeSpace=0)
    vm = apfs_keys("disk3s6", "disk3", "disk0s2", "/System/Volumes/VM", "VM", Bootable=False)
    container = whole_keys(
        "disk3",
        BusProtocol="Apple Fabric",
        Internal=True,
        Removable=False,
        RemovableMedia=False,
        RemovableMediaOrExternalDevice=False,
        VirtualOrPhysical="Virtual",
        Ejectable=False,
        EjectableOnly=False,
        MediaName="",
        Content="EF57347C-0000-11AA-AA11-00306543ECAC",
    )
    return {
        "partitions": [ROOT_ROW, DATA_ROW, VM_ROW],
        "diskutil": {
            "/": plist(**root),
            "/System/Volumes/Data": plist(**data),
            "/System/Volumes/VM": plist(**vm),
            "disk3": plist(**container),
        },
        "st_dev": {"/": 16777232, "/System/Volumes/Data": 16777234, "/System/Volumes/VM": 16777235},
    }


def mac_add(calls: dict, row, vol: dict, whole: dict | None, dev: int, usage=None) -> dict:
    calls["partitions"].append(row)
    calls["diskutil"][row[1]] = plist(**vol)
    if whole:
        calls["diskutil"][whole["DeviceIdentifier"]] = plist(**whole)
    calls["st_dev"][row[1]] = dev
    if usage:
        calls.setdefault("disk_usage", {})[row[1]] = list(usage)
        calls.setdefault("firmware_files", {})[row[1]] = []
    return calls


def mac_card_machines() -> dict:
    """An SD card in the built-in reader; a USB stick."""
    m = {}
    c = mac_system()
    sd = volume_keys(
        "disk4s1",
        "disk4",
        "/Volumes/PULSECARD",
        "PULSECARD",
        BusProtocol="Secure Digital",
        Internal=True,
        DeviceTreePath="IODeviceTree:/arm-io@10F00000/apcie@90000000/pci-bridge2@2/sdxc@0",
    )
    sd_whole = whole_keys(
        "disk4",
        BusProtocol="Secure Digital",
        Internal=True,
        MediaName="SDXC Reader",
        IORegistryEntryName="SDXC Reader Media",
    )
    mac_add(
        c,
        ["/dev/disk4s1", "/Volumes/PULSECARD", "msdos", CARD_OPTS],
        sd,
        sd_whole,
        822083588,
        (31_902_400_512, 31_900_000_256),
    )
    m["sd_in_builtin_reader"] = ("an SD card in a MacBook Pro's built-in SDXC reader", c)

    c = mac_system()
    stick = volume_keys("disk4s1", "disk4", "/Volumes/PULSECARD", "PULSECARD")
    mac_add(
        c,
        ["/dev/disk4s1", "/Volumes/PULSECARD", "msdos", CARD_OPTS],
        stick,
        whole_keys("disk4"),
        822083588,
        (31_902_400_512, 31_900_000_256),
    )
    m["usb_stick"] = ("a FAT32 USB stick (SanDisk Ultra)", c)
    return m


def mac_dmg_alone() -> dict:
    c = mac_system()
    dmg = volume_keys(
        "disk5s1",
        "disk5",
        "/Volumes/Installer",
        "Installer",
        BusProtocol="Disk Image",
        Content="Apple_HFS",
        FilesystemName="Journaled HFS+",
        FilesystemType="hfs",
        FilesystemUserVisibleName="Mac OS Extended (Journaled)",
        DeviceTreePath="",
        Writable=True,
        WritableMedia=True,
        WritableVolume=True,
    )
    dmg_whole = whole_keys(
        "disk5",
        BusProtocol="Disk Image",
        VirtualOrPhysical="Virtual",
        MediaName="Disk Image",
        Content="GUID_partition_scheme",
        DeviceTreePath="",
    )
    mac_add(
        c,
        ["/dev/disk5s1", "/Volumes/Installer", "hfs", "rw,nosuid,local,journaled,quarantine"],
        dmg,
        dmg_whole,
        822083590,
        (209_715_200, 104_857_600),
    )
    return c


def macos_machines() -> dict:
    m = mac_card_machines()
    m["mounted_dmg_alone"] = ("a writable installer .dmg mounted, no card", mac_dmg_alone())

    c = macos_machines_card_and_dmg()
    m["usb_stick_and_dmg"] = ("a USB stick and a leftover installer .dmg mounted together", c)

    c = mac_system()
    m["apfs_system_and_data"] = ("only the APFS system, Data and VM volumes of the internal SSD", c)

    m["booted_from_usb_ssd"] = (
        "a Mac booted from a USB SSD with a second HFS partition, and a USB stick",
        mac_usb_boot(),
    )
    return m


def macos_machines_card_and_dmg() -> dict:
    c = mac_system()
    stick = volume_keys("disk4s1", "disk4", "/Volumes/PULSECARD", "PULSECARD")
    mac_add(
        c,
        ["/dev/disk4s1", "/Volumes/PULSECARD", "msdos", CARD_OPTS],
        stick,
        whole_keys("disk4"),
        822083588,
        (31_902_400_512, 31_900_000_256),
    )
    dmg = volume_keys(
        "disk5s1",
        "disk5",
        "/Volumes/Installer",
        "Installer",
        BusProtocol="Disk Image",
        FilesystemType="hfs",
        FilesystemName="Journaled HFS+",
        WritableVolume=False,
        Writable=False,
    )
    dmg_whole = whole_keys("disk5", BusProtocol="Disk Image", VirtualOrPhysical="Virtual", MediaName="Disk Image")
    mac_add(
        c,
        ["/dev/disk5s1", "/Volumes/Installer", "hfs", "ro,nosuid,local,journaled,quarantine"],
        dmg,
        dmg_whole,
        822083590,
    )
    return c


def mac_usb_boot_system() -> tuple[dict, dict]:
    """The APFS system and Data volumes of a USB SSD a Mac boots from."""
    root = apfs_keys(
        "disk5s1s1",
        "disk5",
        "disk4s2",
        "/",
        "Macintosh SSD",
        BusProtocol="USB",
        Internal=False,
        RemovableMediaOrExternalDevice=True,
        Ejectable=True,
        Writable=False,
        WritableVolume=False,
    )
    data = apfs_keys(
        "disk5s5",
        "disk5",
        "disk4s2",
        "/System/Volumes/Data",
        "Data",
        BusProtocol="USB",
        Internal=False,
        RemovableMediaOrExternalDevice=True,
        Ejectable=True,
    )
    return root, data


def mac_usb_boot() -> dict:
    root, data = mac_usb_boot_system()
    media = volume_keys(
        "disk4s3",
        "disk4",
        "/Volumes/Media",
        "Media",
        Content="Apple_HFS",
        FilesystemType="hfs",
        FilesystemName="Journaled HFS+",
        Removable=False,
        RemovableMedia=False,
    )
    c = {
        "partitions": [
            ["/dev/disk5s1s1", "/", "apfs", "ro,local,rootfs,dovolfs,journaled,multilabel"],
            ["/dev/disk5s5", "/System/Volumes/Data", "apfs", "rw,local,dovolfs,dontbrowse,journaled"],
        ],
        "diskutil": {"/": plist(**root), "/System/Volumes/Data": plist(**data)},
        "st_dev": {"/": 16777240, "/System/Volumes/Data": 16777241},
    }
    mac_add(
        c,
        ["/dev/disk4s3", "/Volumes/Media", "hfs", "rw,nosuid,local,journaled"],
        media,
        whole_keys("disk4", Content="GUID_partition_scheme", Removable=False, RemovableMedia=False),
        16777250,
    )
    stick = volume_keys("disk6s1", "disk6", "/Volumes/PULSECARD", "PULSECARD")
    mac_add(
        c,
        ["/dev/disk6s1", "/Volumes/PULSECARD", "msdos", CARD_OPTS],
        stick,
        whole_keys("disk6"),
        822083600,
        (31_902_400_512, 31_900_000_256),
    )
    return c


def write(system: str, name: str, about: str, calls: dict) -> None:
    doc = {
        "format": "stager-media-record",
        "version": 1,
        "system": system,
        "recorded_at": "2026-12-01T00:00:00Z",
        "stager_version": "0.1.0",
        "source": f"{about}. Composed by scripts/make_media_fixtures.py in the exact form of "
        + (
            "psutil's disk_partitions and the winioctl.h structures"
            if system == "windows"
            else "psutil's disk_partitions and diskutil info -plist"
        )
        + " (see that script for where each form comes from); not captured on a real machine.",
        "calls": calls,
    }
    (OUT / system).mkdir(parents=True, exist_ok=True)
    (OUT / system / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n", "utf-8")


def main() -> None:
    for name, (about, w) in windows_machines().items():
        write("windows", name, about, w.calls)
    for name, (about, calls) in macos_machines().items():
        write("macos", name, about, calls)


if __name__ == "__main__":
    main()
