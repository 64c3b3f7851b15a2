"""The FUSE driver serving a real card of the card suite (to kill it: a dead mount)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def driver_pid(mountpoint: Path) -> int:
    """The pid of the fusefat process serving ``mountpoint`` (from /proc/*/cmdline)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == b"fusefat" and os.fsencode(str(mountpoint)) in argv:
            return int(entry)
    pytest.fail(f"no fusefat process serves {mountpoint}")
