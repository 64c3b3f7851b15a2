"""Pre-flight: every check on a card before a byte is written (stager prepare).

Writable, firmware already on the card root (``--clean`` removes exactly those and their
sidecars), the identical file already staged and verified (only re-verified), free space
with a margin (or the card's capacity when the file system does not say), FAT32's 4 GiB
file limit, a warning off FAT/exFAT. Any refusal is a MediaError (exit 5).
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from stager.card.staging import (
    CARD_TYPES,
    FAT32_MAX,
    FAT_TYPES,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    FileOps,
    hash_from_medium,
    is_temp_name,
    media_error,
    read_sidecar,
)
from stager.errors import MediaError
from stager.rules.names import is_firmware_name


@dataclass
class Preflight:
    path: Path
    warnings: list = field(default_factory=list)
    removed: list = field(default_factory=list)  # firmware removed by --clean (to remove, in a dry run)
    already: list = field(default_factory=list)  # names already staged and verified
    dry_run: bool = False

    def messages(self) -> list[str]:
        out = [f"Warning ({self.path}): {w}" for w in self.warnings]
        if self.removed:
            done = "would remove" if self.dry_run else "removed"
            out.append(f"{self.path}: {done} old firmware (--clean): {', '.join(self.removed)}")
        for name in self.already:
            out.append(f"{self.path}: {name} is already on the card and verified against the catalog: nothing to copy.")
        return out


def _firmware_on_root(folder: Path) -> list[str]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as e:
        raise media_error(e, folder, "listing the card") from None
    return [e.name for e in entries if e.is_file(follow_symlinks=False) and is_firmware_name(e.name)]


def preflight(
    sources, target_dir, *, fstype=None, free_bytes=None, size_bytes=None, clean=False, ops=None, dry_run=False
) -> Preflight:
    """Every check before a byte is written. MediaError (exit 5) on: not writable,
    firmware already on the card (unless ``clean``), too little space, a file over the
    FAT32 limit. When the free space is unknown (fusefat says 0), the card's capacity
    ``size_bytes`` still refuses files that could never fit. With ``clean``, exactly the firmware files on the root
    (and their
    sidecars) are removed, never the identical file already staged and verified; only
    once every other check has passed. With ``dry_run`` nothing is written or removed:
    the same checks, and what --clean would remove."""
    ops = ops or FileOps()
    folder = Path(target_dir)
    pre = Preflight(path=folder, dry_run=dry_run)
    try:
        if dry_run:
            if not os.access(folder, os.W_OK):
                raise OSError(errno.EROFS if _read_only_mount(folder) else errno.EACCES, "not writable")
        else:
            _write_probe(folder)
    except OSError as e:
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise MediaError(
                f"{folder} is read-only ({e.strerror}). Unlock the card (its lock switch) or remount it read-write.",
                code="read-only",
            ) from None
        raise media_error(e, folder, "checking the card is writable") from None

    if free_bytes is None:  # measured before anything is removed: what is removed is added below
        usage = shutil.disk_usage(folder)
        free_bytes = usage.free if usage.total > 0 else None

    # Leftovers of an interrupted earlier run: our own temporary files only.
    leftovers = [e for e in os.scandir(folder) if e.is_file(follow_symlinks=False) and is_temp_name(e.name)]
    freed = sum(e.stat(follow_symlinks=False).st_size for e in leftovers)
    if not dry_run:
        for entry in leftovers:
            os.unlink(entry.path)

    wanted = {s.name: s for s in sources}
    present = _firmware_on_root(folder)
    for name in present:
        s = wanted.get(name)
        side = read_sidecar(folder / f"{name}.sha256")
        if s is None or side is None or side[0] != s.sha256 or os.path.getsize(folder / name) != s.bytes:
            continue
        try:
            if hash_from_medium(folder / name, ops) == s.sha256:
                pre.already.append(name)
        except OSError:
            pass
    others = [n for n in present if n not in pre.already]
    if others and not clean:
        listing = ", ".join(others)
        raise MediaError(
            f"{folder} already holds firmware: {listing}. A charger must find only the file "
            f"meant for it: add --clean to remove exactly these files (and their .sha256), "
            f"or use another card.",
            code="firmware-present",
            details={"files": others},
        )
    victims = [
        folder / v
        for name in others
        for v in (name, f"{name}.sha256")
        if (folder / v).is_file() and not (folder / v).is_symlink()
    ]
    freed += sum(v.stat().st_size for v in victims)

    todo = [s for s in sources if s.name not in pre.already]
    need = sum(s.bytes + 4096 for s in todo)  # + a cluster for each sidecar
    margin = 1024 * 1024 + need // 100
    if free_bytes is not None:
        free_bytes += freed  # what --clean and the leftovers give back
    if free_bytes is None and size_bytes and todo and need + margin > size_bytes:
        raise MediaError(
            f"{folder}: the card holds {size_bytes:,} bytes in all; the files need "
            f"{need + margin:,} (with a margin). Use a larger card.",
            code="media-full",
        )
    if free_bytes is None:
        pre.warnings.append(
            "the card's free space is unknown (its file system does not say): a full card will stop the copy cleanly."
        )
    elif todo and free_bytes < need + margin:
        raise MediaError(
            f"{folder} has {free_bytes:,} bytes free; the files need {need + margin:,} "
            f"(with a margin). Use a larger card or remove other files from it.",
            code="media-full",
        )
    kind = (fstype or "").lower()
    if kind in FAT_TYPES:
        for s in todo:
            if s.bytes > FAT32_MAX:
                raise MediaError(
                    f"{s.name} is {s.bytes:,} bytes: over FAT32's 4 GiB file limit. Format the card as exFAT.",
                    code="file-too-large",
                )
    elif kind and kind not in ("unknown", "fuseblk") and kind not in CARD_TYPES:
        pre.warnings.append(
            f"the card's file system is {fstype}: the chargers read FAT32 or exFAT "
            f"cards. Format it as FAT32 unless you know the charger reads it."
        )
    for victim in victims:  # --clean, once every check has passed
        if not dry_run:
            ops.remove(victim)
        pre.removed.append(victim.name)
    return pre


def _write_probe(folder: Path) -> None:
    probe = folder / f"{TEMP_PREFIX}probe.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        with open(probe, "xb") as f:
            f.write(b"stager write probe\n")
    finally:
        if os.path.lexists(probe):
            os.unlink(probe)


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
