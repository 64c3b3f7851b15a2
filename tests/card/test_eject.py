"""--eject on every system: the commands (Linux, macOS), the Configuration Manager
calls (Windows, replayed by a fake of the cfgmgr32 seam), and what the technician is told."""

from pathlib import Path, PureWindowsPath

from stager.card import _cfgmgr32 as cm
from stager.card.eject import _disk_of, eject, eject_commands
from stager.card.media.record import CallFailed
from stager.card.targets import CardTarget

CARD = CardTarget(
    path=Path("/media/tech/PULSECARD"), device="/dev/sdb1", label="PULSECARD", fstype="vfat", removable=True
)
WIN_CARD = CardTarget(path=PureWindowsPath("E:\\"), device="E:", label="PULSECARD", fstype="fat32", removable=True)  # type: ignore[arg-type]


def which_all(name):
    return f"/usr/bin/{name}"


def test_linux_prefers_udisksctl_then_umount():
    assert eject_commands(CARD, "linux", which_all) == [
        ["udisksctl", "unmount", "-b", "/dev/sdb1"],
        ["umount", "/media/tech/PULSECARD"],
    ]
    assert eject_commands(CARD, "linux", lambda n: None if n == "udisksctl" else which_all(n)) == [
        ["umount", "/media/tech/PULSECARD"]
    ]


def test_linux_unmounts_then_powers_the_disk_off():
    calls = []
    ok, msg = eject(CARD, "linux", run=lambda cmd: calls.append(cmd) or (True, ""), which=which_all)
    assert ok and "safe to pull" in msg and "powered off" in msg
    assert calls == [["udisksctl", "unmount", "-b", "/dev/sdb1"], ["udisksctl", "power-off", "-b", "/dev/sdb"]]


def test_linux_power_off_refused_is_said_and_the_unmount_stands():
    ok, msg = eject(CARD, "linux", run=lambda cmd: (cmd[1] == "unmount", "not authorized"), which=which_all)
    assert ok and "could not power it off: not authorized" in msg


def test_the_disk_of_a_partition():
    assert _disk_of("/dev/sdb1") == "/dev/sdb" and _disk_of("/dev/mmcblk0p1") == "/dev/mmcblk0"
    assert _disk_of("/dev/loop3") == "/dev/loop3"


def test_macos_uses_diskutil():
    assert eject_commands(CARD, "darwin", which_all) == [["diskutil", "eject", "/media/tech/PULSECARD"]]


def test_fallback_then_failure_says_what_to_do():
    ok, msg = eject(CARD, "linux", run=lambda cmd: (False, f"{cmd[0]} busy"), which=which_all)
    assert not ok and "udisksctl: udisksctl busy" in msg and "Safely remove" in msg and "staged and verified" in msg


def test_fixed_folders_are_not_ejected():
    fixed = CardTarget(path=Path("/tmp/x"))
    ok, msg = eject(fixed, "linux", run=lambda cmd: (True, ""), which=which_all)
    assert not ok and "not a removable medium" in msg


class FakeCfgMgr:
    r"""A USB stick E: (disk 2): disk devnode 20 (not removable) under the USB device 10."""

    def __init__(self, cr=cm.CR_SUCCESS, veto=0, name=""):
        self.answer, self.asked = (cr, veto, name), []

    def disk_number(self, root):
        assert root == "E:\\"
        return 2

    def disk_interfaces(self):
        return ["\\\\?\\scsi#disk&ven_nvme#1", "\\\\?\\usbstor#disk&ven_kingston#2"]

    def device_number(self, interface):
        return 0 if "nvme" in interface else 2

    def instance_id(self, interface):
        return "USBSTOR\\DISK&VEN_KINGSTON&PROD_DATATRAVELER_3.0\\60A44C3FAE2D&0"

    def locate(self, instance_id):
        assert instance_id.startswith("USBSTOR")
        return 20

    def capabilities(self, devinst):
        return {20: 0x0, 10: cm.CM_DEVCAP_REMOVABLE | 0x80}[devinst]

    def parent(self, devinst):
        if devinst != 20:
            raise CallFailed(0xD, "CM_Get_Parent")
        return 10

    def device_id(self, devinst):
        return {10: "USB\\VID_0951&PID_1666\\60A44C3FAE2D", 20: "USBSTOR\\DISK"}[devinst]

    def request_eject(self, devinst):
        self.asked.append(devinst)
        return self.answer


def test_windows_ejects_the_removable_device_above_the_disk():
    fake = FakeCfgMgr()
    ok, msg = eject(WIN_CARD, "win32", windows_calls=fake)
    assert ok and fake.asked == [10] and "USB\\VID_0951&PID_1666" in msg and "safe to pull" in msg


def test_windows_says_who_vetoes_the_eject():
    fake = FakeCfgMgr(cm.CR_REMOVE_VETOED, 5, "STORAGE\\Volume\\{6a1b}#0000000000100000")
    ok, msg = eject(WIN_CARD, "win32", windows_calls=fake)
    assert not ok
    assert "PNP_VetoOutstandingOpen" in msg and "a program still has a file on the card open" in msg
    assert "STORAGE\\Volume\\{6a1b}" in msg and "staged and verified" in msg and "Safely Remove Hardware" in msg


def test_windows_without_a_removable_device_says_so():
    class Fixed(FakeCfgMgr):
        def capabilities(self, devinst):
            return 0

    ok, msg = eject(WIN_CARD, "win32", windows_calls=Fixed())
    assert not ok and "could not find the device to eject" in msg


def test_windows_eject_off_windows_is_refused_with_a_reason():
    ok, msg = eject(WIN_CARD, "win32")
    assert not ok and "Windows only" in msg
