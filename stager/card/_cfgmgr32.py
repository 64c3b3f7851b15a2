r"""Windows eject through the Configuration Manager (cfgmgr32.dll), through ctypes.

The card's volume ``\\.\X:`` gives its disk number (IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS);
the present disk interfaces (``CM_Get_Device_Interface_ListW``, GUID_DEVINTERFACE_DISK)
give the one with that number (IOCTL_STORAGE_GET_DEVICE_NUMBER) and its device instance
(DEVPKEY_Device_InstanceId, ``CM_Locate_DevNodeW``); from the disk up (``CM_Get_Parent``)
the first device Windows calls removable (CM_DEVCAP_REMOVABLE: the USB stick, the card
reader, the SD card itself) is asked to eject (``CM_Request_Device_EjectW``), which
says who vetoes it (PNP_VETO_TYPE and a name) when something holds the card open.

:class:`CfgMgrCalls` is the seam; :func:`eject_volume` the logic the tests replay.
"""

from __future__ import annotations

import ctypes
from ctypes import c_uint32
from typing import Any

from stager.card.media import _win32 as w
from stager.card.media.record import CallFailed, error_code
from stager.fileio import os_reason
from stager.i18n import N_, _

CR_SUCCESS = 0
CR_REMOVE_VETOED = 0x17
CM_GET_DEVICE_INTERFACE_LIST_PRESENT = 0
CM_LOCATE_DEVNODE_NORMAL = 0
CM_DRP_CAPABILITIES = 0x10
CM_DEVCAP_REMOVABLE = 0x4
DEVPROP_TYPE_STRING = 0x12
MAX_PATH = 260

#: PNP_VETO_TYPE (cfg.h), by value
PNP_VETO_TYPES = (
    "PNP_VetoTypeUnknown",
    "PNP_VetoLegacyDevice",
    "PNP_VetoPendingClose",
    "PNP_VetoWindowsApp",
    "PNP_VetoWindowsService",
    "PNP_VetoOutstandingOpen",
    "PNP_VetoDevice",
    "PNP_VetoDriver",
    "PNP_VetoIllegalDeviceRequest",
    "PNP_VetoInsufficientPower",
    "PNP_VetoNonDisableable",
    "PNP_VetoLegacyDriver",
    "PNP_VetoInsufficientRights",
    "PNP_VetoAlreadyRemoved",
)
#: what each veto means for a technician
VETO_MEANING = {
    "PNP_VetoOutstandingOpen": N_("a program still has a file on the card open"),
    "PNP_VetoWindowsApp": N_("a program refused to let the card go"),
    "PNP_VetoWindowsService": N_("a Windows service refused to let the card go"),
    "PNP_VetoPendingClose": N_("files on the card are still being closed"),
    "PNP_VetoDevice": N_("another device refused"),
    "PNP_VetoDriver": N_("a driver refused"),
    "PNP_VetoNonDisableable": N_("Windows needs this device"),
    "PNP_VetoIllegalDeviceRequest": N_("the device cannot be ejected"),
    "PNP_VetoInsufficientRights": N_("this account may not eject it"),
    "PNP_VetoAlreadyRemoved": N_("it is already removed"),
}


def veto_name(veto_type: int) -> str:
    return PNP_VETO_TYPES[veto_type] if 0 <= veto_type < len(PNP_VETO_TYPES) else f"veto type {veto_type}"


class GUID(ctypes.Structure):
    _fields_ = [
        ("Data1", c_uint32),
        ("Data2", ctypes.c_uint16),
        ("Data3", ctypes.c_uint16),
        ("Data4", ctypes.c_ubyte * 8),
    ]


class DEVPROPKEY(ctypes.Structure):
    _fields_ = [("fmtid", GUID), ("pid", c_uint32)]


GUID_DEVINTERFACE_DISK = GUID(
    0x53F56307, 0xB6BF, 0x11D0, (ctypes.c_ubyte * 8)(0x94, 0xF2, 0x00, 0xA0, 0xC9, 0x1E, 0xFB, 0x8B)
)
DEVPKEY_Device_InstanceId = DEVPROPKEY(
    GUID(0x78C34FC8, 0x104A, 0x4ACA, (ctypes.c_ubyte * 8)(0x9E, 0xA4, 0x52, 0x4D, 0x52, 0x99, 0x6E, 0x57)), 256
)


class CfgMgrCalls:
    """The real calls (Windows only). Each returns plain data or raises CallFailed."""

    def __init__(self, volume_calls=None):
        if not w.on_windows():
            raise OSError(_("cfgmgr32 exists on Windows only"))
        self.cm: Any = getattr(ctypes, "WinDLL")("cfgmgr32")  # noqa: B009 (Windows only)
        self.vol: Any = volume_calls or w.Win32Calls()

    def _check(self, cr: int, what: str) -> None:
        if cr != CR_SUCCESS:
            raise CallFailed(cr, what)

    def disk_number(self, root: str) -> int:
        disks = w.parse_disk_extents(self.vol.disk_extents(root))
        if len(disks) != 1:
            raise CallFailed(w.ERROR_INVALID_FUNCTION, _("{root} spans {n} disks").format(root=root, n=len(disks)))
        return disks[0]

    def disk_interfaces(self) -> list[str]:
        size = c_uint32()
        guid = GUID_DEVINTERFACE_DISK
        self._check(
            self.cm.CM_Get_Device_Interface_List_SizeW(
                ctypes.byref(size), ctypes.byref(guid), None, CM_GET_DEVICE_INTERFACE_LIST_PRESENT
            ),
            "list size",
        )
        buf = ctypes.create_unicode_buffer(size.value + 1)
        self._check(
            self.cm.CM_Get_Device_Interface_ListW(
                ctypes.byref(guid), None, buf, size.value + 1, CM_GET_DEVICE_INTERFACE_LIST_PRESENT
            ),
            "interface list",
        )
        text = ctypes.wstring_at(ctypes.addressof(buf), size.value)
        return [p for p in text.split("\0") if p]

    def device_number(self, interface: str) -> int:
        k32 = self.vol.k32
        handle = k32.CreateFileW(interface, 0, w.FILE_SHARE_READ | w.FILE_SHARE_WRITE, None, w.OPEN_EXISTING, 0, None)
        if handle is None or handle == ctypes.c_void_p(-1).value:
            raise CallFailed(w.last_error(), "CreateFileW")
        try:
            out, got = w.STORAGE_DEVICE_NUMBER(), c_uint32()
            if not k32.DeviceIoControl(
                handle,
                w.IOCTL_STORAGE_GET_DEVICE_NUMBER,
                None,
                0,
                ctypes.byref(out),
                ctypes.sizeof(out),
                ctypes.byref(got),
                None,
            ):
                raise CallFailed(w.last_error(), "IOCTL_STORAGE_GET_DEVICE_NUMBER")
            return out.DeviceNumber
        finally:
            k32.CloseHandle(handle)

    def instance_id(self, interface: str) -> str:
        kind, size = c_uint32(), c_uint32(2 * 512)
        buf = ctypes.create_unicode_buffer(512)
        self._check(
            self.cm.CM_Get_Device_Interface_PropertyW(
                ctypes.c_wchar_p(interface),
                ctypes.byref(DEVPKEY_Device_InstanceId),
                ctypes.byref(kind),
                buf,
                ctypes.byref(size),
                0,
            ),
            "CM_Get_Device_Interface_PropertyW",
        )
        return buf.value

    def locate(self, instance_id: str) -> int:
        devinst = c_uint32()
        self._check(
            self.cm.CM_Locate_DevNodeW(ctypes.byref(devinst), ctypes.c_wchar_p(instance_id), CM_LOCATE_DEVNODE_NORMAL),
            "CM_Locate_DevNodeW",
        )
        return devinst.value

    def parent(self, devinst: int) -> int:
        out = c_uint32()
        self._check(self.cm.CM_Get_Parent(ctypes.byref(out), c_uint32(devinst), 0), "CM_Get_Parent")
        return out.value

    def capabilities(self, devinst: int) -> int:
        value, size = c_uint32(), c_uint32(4)
        self._check(
            self.cm.CM_Get_DevNode_Registry_PropertyW(
                c_uint32(devinst), CM_DRP_CAPABILITIES, None, ctypes.byref(value), ctypes.byref(size), 0
            ),
            "CM_Get_DevNode_Registry_PropertyW",
        )
        return value.value

    def device_id(self, devinst: int) -> str:
        buf = ctypes.create_unicode_buffer(512)
        self._check(self.cm.CM_Get_Device_IDW(c_uint32(devinst), buf, 512, 0), "CM_Get_Device_IDW")
        return buf.value

    def request_eject(self, devinst: int) -> tuple[int, int, str]:
        """(CONFIGRET, veto type, veto name) of CM_Request_Device_EjectW."""
        veto, name = ctypes.c_int(0), ctypes.create_unicode_buffer(MAX_PATH)
        cr = self.cm.CM_Request_Device_EjectW(c_uint32(devinst), ctypes.byref(veto), name, MAX_PATH, 0)
        return int(cr), veto.value, name.value


def _disk_devinst(calls, number: int) -> int:
    for interface in calls.disk_interfaces():
        try:
            if calls.device_number(interface) == number:
                return calls.locate(calls.instance_id(interface))
        except OSError:
            continue
    raise CallFailed(w.ERROR_INVALID_FUNCTION, _("no present disk has number {number}").format(number=number))


def _removable_ancestor(calls, devinst: int) -> int:
    """The disk itself or the nearest parent Windows calls removable (at most 8 up)."""
    node = devinst
    for _step in range(8):
        try:
            if calls.capabilities(node) & CM_DEVCAP_REMOVABLE:
                return node
            node = calls.parent(node)
        except OSError:
            break
    raise CallFailed(w.ERROR_INVALID_FUNCTION, _("no removable device above the disk"))


def eject_volume(root: str, calls) -> tuple[bool, str]:
    """(done, what happened) for the drive ``root`` (``E:\\``)."""
    try:
        node = _removable_ancestor(calls, _disk_devinst(calls, calls.disk_number(root)))
        device = calls.device_id(node)
        cr, veto, holder = calls.request_eject(node)
    except OSError as e:
        return False, _("Windows could not find the device to eject (error {code}: {error})").format(
            code=error_code(e), error=os_reason(e)
        )
    if cr == CR_SUCCESS and veto == 0:
        return True, device
    kind = veto_name(veto)
    meaning = _(VETO_MEANING[kind]) if kind in VETO_MEANING else _("Windows refused")
    # TRANSLATORS: {veto} is Windows' name of the veto (PNP_VetoOutstandingOpen), {holder} who holds the card.
    return False, _("{veto}: {meaning} ({holder}; device {device}; CONFIGRET {result})").format(
        veto=kind, meaning=meaning, holder=holder or _("no name given"), device=device, result=f"{cr:#x}"
    )
