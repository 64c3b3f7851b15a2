"""Unmount and eject a card after staging, on every system (one small place for the
platform differences):

- Windows: ``CM_Request_Device_EjectW`` through cfgmgr32 (:mod:`stager.card._cfgmgr32`),
  saying who vetoes it;
- macOS: ``diskutil eject`` (unmounts every volume of the card, then ejects it);
- Linux: ``udisksctl unmount`` then ``udisksctl power-off`` where udisksctl exists,
  else ``umount``.

:func:`eject` returns (done, message); it never raises: the card is staged and
verified whatever the eject says.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from stager.i18n import _


def _run(cmd) -> tuple[bool, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()


def _disk_of(device: str) -> str | None:
    """/dev/sdb1 -> /dev/sdb, /dev/mmcblk0p1 -> /dev/mmcblk0 (for udisksctl power-off)."""
    import re

    m = re.match(r"^(/dev/(?:mmcblk\d+|nvme\d+n\d+|loop\d+))p\d+$", device) or re.match(r"^(/dev/sd[a-z]+)\d+$", device)
    return m.group(1) if m else device


def eject_commands(target, platform: str | None = None, which=shutil.which) -> list[list[str]]:
    """The commands tried in turn (macOS, Linux); the first that succeeds unmounts."""
    platform = platform or sys.platform
    if platform == "darwin":
        return [["diskutil", "eject", str(target.path)]]
    if platform.startswith("linux"):
        cmds = []
        if target.device and which("udisksctl"):
            cmds.append(["udisksctl", "unmount", "-b", target.device])
        if which("umount"):
            cmds.append(["umount", str(target.path)])
        return cmds
    return []


def _linux_power_off(target, run, which) -> str:
    """After the unmount: power the card's disk off where udisksctl can (a sentence)."""
    if not (target.device and which("udisksctl")):
        return ""
    ok, text = run(["udisksctl", "power-off", "-b", _disk_of(target.device)])
    if ok:
        return " " + _("The reader is powered off.")
    why = text or _("failed")
    return " " + _("(udisksctl could not power it off: {why}; pulling it out is still safe.)").format(why=why)


def _windows(target, calls) -> tuple[bool, str]:
    from stager.card import _cfgmgr32

    try:
        calls = calls or _cfgmgr32.CfgMgrCalls()
    except OSError as e:
        return False, str(e)
    root = str(target.path)[:2] + "\\"
    return _cfgmgr32.eject_volume(root, calls)


def eject(target, platform: str | None = None, run=_run, which=shutil.which, windows_calls=None) -> tuple[bool, str]:
    """(done, message for the technician)."""
    platform = platform or sys.platform
    if not target.removable:
        return False, _("{path} is not a removable medium: nothing to eject.").format(path=target.path)
    card = target.describe()
    if platform.startswith("win"):
        ok, why = _windows(target, windows_calls)
        if ok:
            return True, _("{card} is ejected ({device}): it is now safe to pull the card out.").format(
                card=card, device=why
            )
        return False, _(
            "Could not eject {card}: {why}. The card is staged and verified; close what holds it, "
            "then eject it with 'Safely Remove Hardware' before pulling it out."
        ).format(card=card, why=why)
    errors = []
    for cmd in eject_commands(target, platform, which):
        ok, text = run(cmd)
        if ok:
            extra = _linux_power_off(target, run, which) if cmd[:2] == ["udisksctl", "unmount"] else ""
            return True, _("{card} is unmounted: it is now safe to pull the card out.").format(card=card) + extra
        # TRANSLATORS: an eject command that failed without saying why.
        errors.append("{command}: {error}".format(command=cmd[0], error=text or _("failed")))
    how = "; ".join(errors) if errors else _("this system offers no eject command to stager")
    return False, _(
        "Could not eject {card} ({how}). The card is staged and verified; eject it from your system "
        "(e.g. 'Safely remove' or 'Eject'), then pull the card out."
    ).format(card=card, how=how)
