"""--eject: which command each system gets, and what the technician is told."""

from pathlib import Path

from stager.card.eject import eject, eject_commands
from stager.card.targets import TargetPlan

CARD = TargetPlan(
    path=Path("/media/tech/PULSECARD"), device="/dev/sdb1", label="PULSECARD", fstype="vfat", removable=True
)


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


def test_macos_uses_diskutil():
    assert eject_commands(CARD, "darwin", which_all) == [["diskutil", "eject", "/media/tech/PULSECARD"]]


def test_success_says_it_is_safe_to_pull():
    calls = []
    ok, msg = eject(CARD, "linux", run=lambda cmd: calls.append(cmd) or (True, ""), which=which_all)
    assert ok and "safe to pull" in msg and calls[0][0] == "udisksctl"


def test_fallback_then_failure_says_what_to_do():
    ok, msg = eject(CARD, "linux", run=lambda cmd: (False, f"{cmd[0]} busy"), which=which_all)
    assert not ok and "udisksctl: udisksctl busy" in msg and "Safely remove" in msg


def test_windows_and_fixed_folders_are_not_ejected():
    ok, msg = eject(CARD, "win32", run=lambda cmd: (True, ""), which=which_all)
    assert not ok and "Eject it from your system" in msg
    fixed = TargetPlan(path=Path("/tmp/x"))
    ok, msg = eject(fixed, "linux", run=lambda cmd: (True, ""), which=which_all)
    assert not ok and "not a removable medium" in msg
