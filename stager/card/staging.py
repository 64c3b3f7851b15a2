"""Put files on cards safely, and prove they are there bit for bit (after
:mod:`stager.card.preflight` has checked each card).

For each source (read ONCE for all targets, hashed as it is read, through two reused
buffers so reading overlaps writing), every target gets a hidden temporary file; then,
per target and in parallel: flush, fsync, rename to the firmware name, fsync the folder,
evict the file from the page cache and read it back from the medium, hash and compare
with the catalog's index. Then the ``<name>.sha256`` sidecar, with the same care.

Any failure on a target removes what this run wrote there (no half file, nothing left
under a firmware name) and is that target's result; the others go on. Ctrl-C removes
every temporary and unverified file, then raises :class:`Interrupted` (exit 130).

The file system is reached through one object (:class:`FileOps`) so tests inject
faults (ENOSPC, EIO, a vanished folder, a flipped byte) at the boundary.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from stager.catalog.index import format_index_line, parse_index
from stager.errors import CatalogError, Interrupted, MediaError, StagerError, VerifyError
from stager.fileio import CHUNK, fsync_dir, hash_stream

TEMP_PREFIX = ".stager-"
TEMP_SUFFIX = ".part"
FAT_TYPES = {"vfat", "fat", "fat12", "fat16", "fat32", "msdos"}
CARD_TYPES = FAT_TYPES | {"exfat"}
FAT32_MAX = 4 * 1024**3 - 1
VANISHED = {errno.ENOENT, errno.EIO, errno.ENODEV, errno.ENXIO, errno.ESTALE, errno.ENOTCONN, errno.EROFS, errno.EBADF}
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Source:
    path: Path
    name: str
    sha256: str  # what the catalog's index says
    bytes: int
    role: str = "bundle"
    catalog_file: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Target:
    path: Path
    device: str | None = None
    label: str | None = None
    preflight: object = None  # stager.card.preflight.Preflight: what the card already holds


@dataclass
class TargetResult:
    path: Path
    staged: list = field(default_factory=list)
    verified: bool = False
    error: StagerError | None = None
    cleaned: list = field(default_factory=list)  # what was removed after a failure
    already: list = field(default_factory=list)
    removed: list = field(default_factory=list)  # old firmware removed by --clean before the copy
    sha256: dict = field(default_factory=dict)  # name -> hash read back from the medium

    @property
    def ok(self) -> bool:
        return self.error is None and self.verified

    @classmethod
    def failed(cls, path, error: StagerError) -> TargetResult:
        return cls(path=Path(path), error=error)

    def extra_json(self) -> dict:
        out = {
            "already_staged": list(self.already),
            "removed_by_clean": list(self.removed),
            "cleaned": list(self.cleaned),
            "sha256_read_back": dict(self.sha256),
        }
        if self.error is not None:
            out["error"] = self.error.to_json()
        return out


# --------------------------------------------------------------------------- the I/O seam
class FileOps:
    """Every file operation of a staging. Tests subclass it to inject faults."""

    def open_source(self, path: Path):
        return open(path, "rb", buffering=0)

    def open_temp(self, path: Path):
        return open(path, "xb", buffering=0)

    def open_readback(self, path: Path):
        return open(path, "rb", buffering=0)

    def fsync(self, f) -> None:
        os.fsync(f.fileno())

    def evict(self, f) -> None:
        """Drop the file's pages from the page cache so the next read comes from the medium."""
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def replace(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def fsync_dir(self, folder: Path) -> None:
        fsync_dir(folder)

    def remove(self, path: Path) -> None:
        os.unlink(path)


def media_error(e: OSError, target: Path, doing: str) -> MediaError:
    """The user-facing error for an OSError met while writing or reading a card."""
    what = e.strerror or str(e)
    if e.errno in FULL:
        return MediaError(
            f"{target}: the card is full ({what}) while {doing}. Use a larger card, or remove other files from it.",
            code="media-full",
        )
    if e.errno in VANISHED or not Path(target).exists():
        return MediaError(
            f"{target}: the card went away or failed while {doing} ({what}). Check the "
            f"card is inserted, then run prepare again.",
            code="media-vanished",
        )
    return MediaError(f"{target}: input/output error while {doing} ({what}).", code="io-error")


def temp_name(name: str) -> str:
    return f"{TEMP_PREFIX}{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def sidecar_text(sha256: str, name: str) -> bytes:
    """A ``<name>.sha256`` sidecar: one line in sha256sum's format."""
    return format_index_line(sha256, name)


# --------------------------------------------------------------------------- reading back
def hash_from_medium(path: Path, ops: FileOps | None = None, progress=None, buf=None) -> str:
    """SHA-256 of a file read back from the medium (its cached pages evicted first)."""
    ops = ops or FileOps()
    with ops.open_readback(path) as f:
        ops.evict(f)
        return hash_stream(f, buf or bytearray(CHUNK), progress.update if progress is not None else None)


def read_sidecar(path: Path) -> tuple[str, str] | None:
    """(sha256, name) of a one-line sidecar, or None when missing or malformed."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    good, bad = parse_index(data)
    if len(good) != 1 or bad:
        return None
    return good[0].sha256, good[0].relpath


# --------------------------------------------------------------------------- staging
class _Slot:
    """One target's state during a staging."""

    def __init__(self, target: Target, ops: FileOps):
        self.target = target
        self.folder = Path(target.path)
        self.ops = ops
        self.result = TargetResult(path=self.folder)
        pre = target.preflight
        self.result.already = list(pre.already) if pre else []
        self.result.removed = list(pre.removed) if pre else []
        self.written: list[Path] = []  # temp or final files this run created
        self.file = None
        self.temp: Path | None = None
        self.bar = None

    @property
    def alive(self) -> bool:
        return self.result.error is None

    def fail(self, error: StagerError) -> None:
        if self.result.error is None:
            self.result.error = error
        self.close_quietly()
        self.rollback()

    def close_quietly(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None

    def rollback(self) -> None:
        """Remove everything this run wrote on this target (temp, final, sidecars)."""
        for p in reversed(self.written):
            try:
                if os.path.lexists(p):
                    self.ops.remove(p)
                    self.result.cleaned.append(p.name)
            except OSError as e:
                self.result.cleaned.append(f"{p.name} (could not be removed: {e.strerror})")
        self.written.clear()
        self.result.staged.clear()
        self.result.verified = False


def _write_all(f, view) -> None:
    while view:
        n = f.write(view)
        view = view[n:]


def stage(sources, targets, *, progress_factory=None, ops: FileOps | None = None) -> list[TargetResult]:
    """Stage every source onto every target; one result per target (see module doc)."""
    ops = ops or FileOps()
    slots = [_Slot(t, ops) for t in targets]
    pool = ThreadPoolExecutor(max_workers=max(1, len(slots)), thread_name_prefix="stager-card")
    try:
        for source in sources:
            todo = [s for s in slots if s.alive and source.name not in s.result.already]
            if todo:
                _copy(source, todo, pool, progress_factory)
                live = [s for s in todo if s.alive]
                wait([pool.submit(_finish, source, s, progress_factory) for s in live])
        for s in slots:
            if s.alive:
                s.result.verified = True
                s.result.staged = [src.name for src in sources]
    except KeyboardInterrupt:
        pool.shutdown(wait=True, cancel_futures=True)
        for s in slots:
            s.fail(Interrupted("interrupted"))
        cleaned = sorted({c for s in slots for c in s.result.cleaned})
        raise Interrupted(
            "Interrupted: nothing half-written is left on the card"
            + (f" (removed {', '.join(cleaned)})." if cleaned else "."),
            details={"cleaned": cleaned},
        ) from None
    finally:
        pool.shutdown(wait=True)
        for s in slots:
            if s.bar is not None:
                s.bar.close()
    return [s.result for s in slots]


def _copy(source: Source, slots, pool, progress_factory) -> None:
    """Read the source once; write each chunk to every slot's temp file in parallel."""
    for s in slots:
        s.temp = s.folder / temp_name(source.name)
        try:
            s.file = s.ops.open_temp(s.temp)
            s.written.append(s.temp)
        except OSError as e:
            s.fail(media_error(e, s.folder, f"creating {source.name}"))
            continue
        if progress_factory:
            s.bar = progress_factory(source.bytes, f"copy {s.target.label or s.folder.name}")

    def write(slot, view):
        try:
            _write_all(slot.file, view)
        except OSError as e:
            slot.fail(media_error(e, slot.folder, f"writing {source.name}"))
            return
        if slot.bar is not None:
            slot.bar.update(len(view))

    size = max(1, min(CHUNK, source.bytes + 1))  # a small file needs no 8 MiB buffers
    bufs = (bytearray(size), bytearray(size))
    h = hashlib.sha256()
    pending = []
    i = 0
    ops = slots[0].ops if slots else FileOps()
    try:
        src = ops.open_source(source.path)
    except OSError as e:
        err = CatalogError(f"cannot read {source.name} in the catalog: {e.strerror or e}.", code="unreadable")
        for s in slots:
            s.fail(err)
        return
    with src:
        while True:
            buf = bufs[i % 2]
            n = src.readinto(buf)
            if not n:
                break
            view = memoryview(buf)[:n]
            h.update(view)
            wait(pending)  # the other buffer is free again once these are written
            live = [s for s in slots if s.alive]
            if not live:
                return
            pending = [pool.submit(write, s, view) for s in live]
            i += 1
        wait(pending)
    actual = h.hexdigest()
    if actual != source.sha256:
        from stager.catalog.index import content_mismatch

        cf = source.catalog_file
        err = (
            content_mismatch(cf, actual)
            if cf is not None
            else CatalogError(f"{source.name} does not match its index line: never staged.", code="damaged")
        )
        for s in slots:
            s.fail(err)


def _finish(source: Source, slot: _Slot, progress_factory) -> None:
    """fsync, rename, fsync the folder, read back from the medium, sidecar."""
    ops, folder = slot.ops, slot.folder
    final = folder / source.name
    try:
        ops.fsync(slot.file)
        slot.file.close()
        slot.file = None
        ops.replace(slot.temp, final)
        slot.written[slot.written.index(slot.temp)] = final
        ops.fsync_dir(folder)
    except OSError as e:
        slot.fail(media_error(e, folder, f"saving {source.name}"))
        return
    if slot.bar is not None:
        slot.bar.close()
        slot.bar = None
    bar = progress_factory(source.bytes, f"read back {slot.target.label or folder.name}") if progress_factory else None
    try:
        got = hash_from_medium(final, ops, bar)
    except OSError as e:
        slot.fail(media_error(e, folder, f"reading {source.name} back"))
        return
    finally:
        if bar is not None:
            bar.close()
    slot.result.sha256[source.name] = got
    if got != source.sha256:
        slot.fail(
            VerifyError(
                f"{folder}: {source.name} read back from the card is not the catalog's file (read "
                f"{got[:16]}..., expected {source.sha256[:16]}...). The copy was removed. The card may be "
                f"failing: try another card.",
                code="verification-failed",
            )
        )
        return
    _write_sidecar(slot, source)


def _write_sidecar(slot: _Slot, source: Source) -> None:
    ops, folder = slot.ops, slot.folder
    name = f"{source.name}.sha256"
    data = sidecar_text(source.sha256, source.name)
    temp = folder / temp_name(name)
    try:
        with ops.open_temp(temp) as f:
            slot.written.append(temp)
            _write_all(f, memoryview(data))
            ops.fsync(f)
        ops.replace(temp, folder / name)
        slot.written[slot.written.index(temp)] = folder / name
        ops.fsync_dir(folder)
        with ops.open_readback(folder / name) as f:
            ops.evict(f)
            back = f.read()
    except OSError as e:
        slot.fail(media_error(e, folder, f"writing {name}"))
        return
    if back != data:
        slot.fail(
            VerifyError(
                f"{folder}: the sidecar {name} read back is not what was written. The copy was removed.",
                code="verification-failed",
            )
        )
