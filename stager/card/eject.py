"""Unmount and eject a card after staging, where the system allows (one small place
for the platform differences): udisksctl or umount on Linux, diskutil on macOS. On
Windows, and for plain folders, say what to do instead."""

from __future__ import annotations

import shutil
import subprocess
import sys


def _run(cmd) -> tuple[bool, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()


def eject_commands(target, platform: str | None = None, which=shutil.which) -> list[list[str]]:
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


def eject(target, platform: str | None = None, run=_run, which=shutil.which) -> tuple[bool, str]:
    """(done, message for the technician)."""
    if not target.removable:
        return False, f"{target.path} is not a removable medium: nothing to eject."
    errors = []
    for cmd in eject_commands(target, platform, which):
        ok, text = run(cmd)
        if ok:
            return True, f"{target.describe()} is unmounted: it is now safe to pull the card out."
        errors.append(f"{cmd[0]}: {text or 'failed'}")
    how = "; ".join(errors) if errors else "this system offers no eject command to stager"
    return False, (
        f"Could not eject {target.describe()} ({how}). Eject it from your system "
        f"(e.g. 'Safely remove'), then pull the card out."
    )
