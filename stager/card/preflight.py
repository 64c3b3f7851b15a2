"""Pre-flight: every check on a card before a byte is written (stager prepare).

Writable, firmware already on the card root (``--clean`` removes exactly those and their
sidecars), the identical file already staged and verified (only re-verified), free space
with a margin (or the card's capacity when the file system does not say), FAT32's 4 GiB
file limit, a warning off FAT/exFAT. Any refusal is a MediaError (exit 5).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from stager.card.staging import (
    CARD_TYPES,
    FAT32_MAX,
    FAT_TYPES,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    FileOps,
    is_temp_name,
    media_error,
    read_sidecar,
)
from stager.errors import MediaError
from stager.fileio import os_reason
from stager.i18n import _
from stager.i18n_format import format_size
from stager.rules.names import is_firmware_name
from stager.value import field, value


@value(frozen=False)
class Preflight:
    path: Path
    warnings: list = field(default_factory=list)
    removed: list = field(default_factory=list)  # firmware removed by --clean (to remove, in a dry run)
    already: list = field(default_factory=list)  # names already staged and verified
    dry_run: bool = False
    read_back: dict = field(default_factory=dict)  # name -> method of the re-verify (readback.METHODS)
    read_back_why: dict = field(default_factory=dict)

    def messages(self) -> list[str]:
        out = [_("Warning ({card}): {warning}").format(card=self.path, warning=w) for w in self.warnings]
        if self.removed:
            if self.dry_run:
                done = _("{card}: would remove old firmware (--clean): {files}")
            else:
                done = _("{card}: removed old firmware (--clean): {files}")
            out.append(done.format(card=self.path, files=", ".join(self.removed)))
        for name in self.already:
            out.append(
                _("{card}: {name} is already on the card and verified against the catalog: nothing to copy.").format(
                    card=self.path, name=name
                )
            )
        return out


def _files(pin) -> list[tuple[str, int]]:
    try:
        return pin.files()
    except OSError as e:
        raise media_error(e, pin.path, _("listing the card")) from None


def _check_odd_entries(pin) -> None:
    """A folder, FIFO or link under a firmware name on the card root: refused (exit 5),
    never removed (not even by --clean): it is not a file stager wrote."""
    from stager.card.pin import firmware_like_entries

    try:
        odd = firmware_like_entries(pin)
    except OSError as e:
        raise media_error(e, pin.path, _("listing the card")) from None
    if odd:
        listing = ", ".join(_("{name} ({kind})").format(name=name, kind=kind) for name, kind in odd)
        raise MediaError(
            _(
                "{card} holds {entries} under a firmware name, not a firmware file: a charger may try it, "
                "and stager never removes it, not even with --clean. Remove it from the card by hand, "
                "or use another card."
            ).format(card=pin.path, entries=listing),
            code="firmware-not-a-file",
            details={"entries": [name for name, _kind in odd]},
        )


def preflight(
    sources,
    target_dir,
    *,
    fstype=None,
    free_bytes=None,
    size_bytes=None,
    clean=False,
    ops=None,
    dry_run=False,
    pin=None,
) -> Preflight:
    """Every check before a byte is written. MediaError (exit 5) on: not writable,
    firmware already on the card (unless ``clean``), too little space, a file over the
    FAT32 limit. When the free space is unknown (fusefat says 0), the card's capacity
    ``size_bytes`` still refuses files that could never fit. With ``clean``, exactly the
    firmware files on the root (and their sidecars) are removed, never the identical file
    already staged and verified; only once every other check has passed. With ``dry_run``
    nothing is written or removed: the same checks, and what --clean would remove.
    Everything goes through ``pin`` (the pinned card; pinned here when not given). A real
    run holds the card's ``lock`` (:mod:`stager.card.lock`): our temporary files found then
    are leftovers of a run that is over, never a live run's."""
    from stager.card.pin import pin_card

    own = pin is None
    pin = pin or pin_card(target_dir)
    try:
        return _preflight(sources, pin, fstype, free_bytes, size_bytes, clean, ops or FileOps(), dry_run)
    finally:
        if own:
            pin.close()


def _check_writable(pin, dry_run: bool) -> None:
    folder = pin.path
    try:
        if dry_run:
            if not os.access(folder, os.W_OK):
                raise OSError(errno.EROFS if _read_only_mount(folder) else errno.EACCES, _("not writable"))
        else:
            pin.check()
            _write_probe(pin)
    except OSError as e:
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise MediaError(
                _("{card} is read-only ({error}). Unlock the card (its lock switch) or remount it read-write.").format(
                    card=folder, error=os_reason(e)
                ),
                code="read-only",
            ) from None
        raise media_error(e, folder, _("checking the card is writable")) from None


def _already(pin, ops, sources, files: dict, pre: Preflight) -> None:
    """The identical file already staged and verified: re-verified from the medium."""
    from stager.fileio import Stopped

    wanted = {s.name: s for s in sources}
    for name, size in files.items():
        s = wanted.get(name)
        if s is None or not is_firmware_name(name) or size != s.size:
            continue
        side = read_sidecar(pin, f"{name}.sha256")
        if side is None or side[0] != s.sha256:
            continue
        try:
            rb = ops.read_back(pin, name)
        except (OSError, Stopped):
            continue
        if rb.sha256 == s.sha256 and rb.size == s.size:
            pre.already.append(name)
            pre.read_back[name] = rb.method
            pre.read_back_why[name] = rb.why


def _preflight(sources, pin, fstype, free_bytes, size_bytes, clean, ops, dry_run) -> Preflight:
    folder = pin.path
    pre = Preflight(path=folder, dry_run=dry_run)
    _check_writable(pin, dry_run)
    if free_bytes is None:  # measured before anything is removed: what is removed is added below
        import shutil  # only when detection gave no free space (shutil imports lzma and bz2)

        usage = shutil.disk_usage(folder)
        free_bytes = usage.free if usage.total > 0 else None

    files = dict(_files(pin))
    _check_odd_entries(pin)
    # Leftovers of an earlier run that is over (we hold the card's lock): our temporary files only.
    leftovers = [n for n in files if is_temp_name(n)]
    freed = sum(files[n] for n in leftovers)
    if not dry_run:
        for name in leftovers:
            pin.unlink(name)
    _already(pin, ops, sources, files, pre)
    others = [n for n in files if is_firmware_name(n) and n not in pre.already]
    if others and not clean:
        listing = ", ".join(others)
        raise MediaError(
            _(
                "{card} already holds firmware: {files}. A charger must find only the file "
                "meant for it: add --clean to remove exactly these files (and their .sha256), "
                "or use another card."
            ).format(card=folder, files=listing),
            code="firmware-present",
            details={"files": others},
        )
    victims = [v for name in others for v in (name, f"{name}.sha256") if v in files]
    freed += sum(files[v] for v in victims)
    todo = [s for s in sources if s.name not in pre.already]
    if free_bytes is not None:
        free_bytes += freed  # what --clean and the leftovers give back
    _check_space(folder, todo, free_bytes, size_bytes, pre)
    _check_fstype(fstype, todo, pre)
    for victim in victims:  # --clean, once every check has passed
        if not dry_run:
            _remove_old(ops, pin, victim, pre.removed)
        pre.removed.append(victim)
    return pre


def _check_space(folder, todo, free_bytes, size_bytes, pre: Preflight) -> None:
    need = sum(s.size + 4096 for s in todo)  # + a cluster for each sidecar
    margin = 1024 * 1024 + need // 100
    if free_bytes is None and size_bytes and todo and need + margin > size_bytes:
        raise MediaError(
            _("{card}: the card holds {size} in all; the files need {need} (with a margin). Use a larger card.").format(
                card=folder, size=format_size(size_bytes), need=format_size(need + margin)
            ),
            code="media-full",
        )
    if free_bytes is None:
        pre.warnings.append(
            _(
                "the card's free space is unknown (its file system does not say): a full card will stop the copy "
                "cleanly."
            )
        )
    elif todo and free_bytes < need + margin:
        raise MediaError(
            _(
                "{card} has {free} free; the files need {need} "
                "(with a margin). Use a larger card or remove other files from it."
            ).format(card=folder, free=format_size(free_bytes), need=format_size(need + margin)),
            code="media-full",
        )


def _check_fstype(fstype, todo, pre: Preflight) -> None:
    from stager.card.media import fs_name

    kind = (fstype or "").lower()
    if kind in FAT_TYPES:
        for s in todo:
            if s.size > FAT32_MAX:
                raise MediaError(
                    _("{name} is {size}: over FAT32's 4 GiB file limit. Format the card as exFAT.").format(
                        name=s.name, size=format_size(s.size)
                    ),
                    code="file-too-large",
                )
    elif kind and kind not in ("unknown", "fuseblk") and kind not in CARD_TYPES:
        pre.warnings.append(
            _(
                "the card's file system is {filesystem}: the chargers read FAT32 or exFAT "
                "cards. Format it as FAT32 unless you know the charger reads it."
            ).format(filesystem=fs_name(fstype, None))
        )


def check_writable(pin) -> None:
    """Prove the pinned card takes writes (a hidden probe file created and removed), before
    the question: MediaError read-only (exit 5) when it does not."""
    _check_writable(pin, dry_run=False)


def _remove_old(ops: FileOps, pin, victim: str, removed: list) -> None:
    """Remove one old firmware file for --clean; MediaError (exit 5) when the system
    refuses (a locked or read-only file, a file in use), naming what was removed."""
    try:
        ops.remove(pin, victim)
    except OSError as e:
        done = _("Already removed: {files}.").format(files=", ".join(removed)) if removed else _("Nothing was removed.")
        raise MediaError(
            _(
                "{card}: the old firmware {name} cannot be removed for --clean "
                "({error}): it may be locked, read-only or in use. {removed} Nothing new was written. "
                "Unlock or remove it by hand, or use another card."
            ).format(card=pin.path, name=victim, error=os_reason(e), removed=done),
            code="clean-failed",
            details={"file": victim, "removed": list(removed)},
        ) from None


def _write_probe(pin) -> None:
    probe = f"{TEMP_PREFIX}probe.{os.urandom(4).hex()}{TEMP_SUFFIX}"
    fd = pin.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        os.write(fd, b"stager write probe\n")
    finally:
        os.close(fd)
        try:
            pin.unlink(probe)
        except FileNotFoundError:
            pass


def _read_only_mount(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
