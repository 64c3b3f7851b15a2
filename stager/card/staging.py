"""Put files on cards safely, and prove they are there bit for bit (after
:mod:`stager.card.preflight` has checked each card).

Every card is pinned (:mod:`stager.card.pin`): each file operation goes through the open
handle of its root, so nothing is ever written to another file system. For each source
(read ONCE for all targets, hashed as it is read, a CRC-32 kept per block, through two
reused buffers so reading overlaps writing), every target gets a hidden temporary file;
then, per target and in parallel: flush to the medium (:mod:`stager.card.durable`), read
it back from the medium (:mod:`stager.card.readback`, which says which method took effect)
and compare with the catalog's index, naming the first differing byte on a difference;
only then rename it to the firmware name and flush the folder. Then the ``<name>.sha256``
sidecar, with the same care. A card no longer mounted where it was chosen fails (exit 5).

Any failure on a target removes what this run wrote there (no half file, nothing left
under a firmware name) and is that target's result; the others go on. Ctrl-C (or SIGTERM,
SIGHUP, Ctrl-Break: :mod:`stager.card.stop`) removes every temporary file, then raises
:class:`Interrupted` (exit 128+n) whose message says exactly what is left.

The file system is reached through one object (:class:`FileOps`) so tests inject
faults (ENOSPC, EIO, a vanished folder, a flipped byte) at the boundary.
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
import sys
import threading
from pathlib import Path
from typing import Any

from stager.card import durable, readback
from stager.card.readback import BlockDigests
from stager.card.stop import STATE, interrupted
from stager.card.tasks import Task, wait
from stager.catalog.index import format_index_line, parse_index
from stager.errors import CatalogError, MediaError, StagerError, VerifyError
from stager.fileio import CHUNK, Stopped, hash_chunks, os_reason
from stager.i18n import N_, _
from stager.i18n_format import format_int
from stager.value import field, value

TEMP_PREFIX = ".stager-"
TEMP_SUFFIX = ".part"
FAT_TYPES = {"vfat", "fat", "fat12", "fat16", "fat32", "msdos"}
CARD_TYPES = FAT_TYPES | {"exfat"}
FAT32_MAX = 4 * 1024**3 - 1
VANISHED = {errno.ENOENT, errno.EIO, errno.ENODEV, errno.ENXIO, errno.ESTALE, errno.ENOTCONN, errno.EROFS, errno.EBADF}
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


# --------------------------------------------------------------------------- values
@value
class Source:
    path: Path
    name: str
    sha256: str  # what the catalog's index says
    size: int
    role: str = "bundle"
    catalog_file: Any = field(default=None, compare=False, repr=False)


@value
class Target:
    path: Path
    device: str | None = None
    label: str | None = None
    preflight: Any = None  # stager.card.preflight.Preflight: what the card already holds
    pin: Any = field(default=None, compare=False, repr=False)  # stager.card.pin.CardPin
    removable: bool = False  # a removable card (not a folder given with --allow-fixed)


@value(frozen=False)
class TargetResult:
    path: Path
    staged: list = field(default_factory=list)
    verified: bool = False
    error: StagerError | None = None
    cleaned: list = field(default_factory=list)  # what was removed after a failure
    already: list = field(default_factory=list)
    removed: list = field(default_factory=list)  # old firmware removed by --clean before the copy
    sha256: dict = field(default_factory=dict)  # name -> hash read back from the medium
    read_back: dict = field(default_factory=dict)  # name -> method that took effect (readback.METHODS)
    read_back_why: dict = field(default_factory=dict)  # name -> how it was proved, or why only a cache
    left: list = field(default_factory=list)  # what this run wrote and could not remove
    unconfirmed: list = field(default_factory=list)  # of ``cleaned``: removed, but the card did not confirm it

    @property
    def ok(self) -> bool:
        return self.error is None and self.verified

    @property
    def card_failed(self) -> bool:
        """The card itself failed under the run (an I/O error, a card gone: MEDIUM_FAILED):
        nothing it answers afterwards (a flush, "no such file") proves a removal."""
        return isinstance(self.error, MediaError) and self.error.code in MEDIUM_FAILED

    @property
    def method(self) -> str | None:
        """The weakest read-back method over the card's files (None when nothing was read)."""
        methods = list(self.read_back.values())
        for m in reversed(readback.METHODS):
            if m in methods:
                return m
        return None

    @classmethod
    def failed(cls, path, error: StagerError) -> TargetResult:
        return cls(path=Path(path), error=error)

    def extra_json(self) -> dict:
        out = {
            "already_staged": list(self.already),
            "removed_by_clean": list(self.removed),
            "cleaned": list(self.cleaned),
            "sha256_read_back": dict(self.sha256),
            "read_back": self.method,
            "read_back_files": dict(self.read_back),
            "read_back_why": dict(self.read_back_why),
            "left_on_card": list(self.left),
            "removal_unconfirmed": list(self.unconfirmed),
        }
        if self.error is not None:
            out["error"] = self.error.to_json()
        return out


# --------------------------------------------------------------------------- the I/O seam
class FileOps:
    """Every file operation of a staging, on a pinned card. Tests subclass it to inject faults."""

    def open_source(self, path: Path):
        return open(path, "rb", buffering=0)

    def open_temp(self, pin, name: str):
        fd = pin.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        return open(fd, "wb", buffering=0, closefd=True)

    def fsync(self, f) -> None:
        durable.fsync_fd(f.fileno())

    def start_writeback(self, f, offset: int, length: int) -> None:
        """Start writing the chunk just written to the medium now, not all at the final fsync."""
        durable.start_writeback(f.fileno(), offset, length)

    def sync_device(self, pin) -> None:
        """A FUSE card's daemon may keep its writes in the block device's cache: flush it."""
        if getattr(pin, "fstype", None) in readback.FUSE_TYPES:
            durable.sync_device(pin.block_device)

    def read_back(self, pin, name: str, *, expect=None, progress=None, stop=None) -> readback.ReadBack:
        return readback.read_back(pin, name, expect=expect, progress=progress, stop=stop)

    def locate(self, pin, name: str, blocks, stop=None) -> readback.ReadBack:
        """A second read of the medium, block by block against the source's digests."""
        return self.read_back(pin, name, expect=blocks, stop=stop)

    def read_directory(self, pin) -> tuple[dict, str]:
        """The card root's files as the medium holds them (FUSE cards; see readback.read_directory)."""
        return readback.read_directory(pin)

    def read_kernel_directory(self, pin) -> tuple[dict, str]:
        """The card root's files after a remount (kernel file systems; see readback.read_kernel_directory)."""
        return readback.read_kernel_directory(pin)

    def replace(self, pin, src: str, dst: str) -> None:
        durable.replace(pin, src, dst)

    def fsync_dir(self, pin) -> None:
        pin.fsync_dir()

    def remove(self, pin, name: str) -> None:
        pin.unlink(name)

    def confirm(self, pin) -> bool:
        """The removals and renames on the card are on its medium (see durable.confirm)."""
        return durable.confirm(pin)


#: Codes of a card that failed under the run (see media_error): nothing it says afterwards is a proof.
MEDIUM_FAILED = frozenset({"media-vanished", "io-error", "may-be-full", "card-gone"})


def media_error(e: OSError, target: Path, doing: str, *, reading: bool = False) -> MediaError:
    """The user-facing error for an OSError met while writing or reading a card. ``doing``
    is what was being done, translated: ``_("writing {name}").format(name=...)``;
    ``reading``: only reading (an answer that could mean "full" for a write cannot then)."""
    if isinstance(e, MediaError):
        return e
    what = os_reason(e)
    if reading and e.errno == errno.EPERM and _exists(target):  # fusefat's answer to a read error
        text = _(
            "{target}: the card refused to be read ({error}) while {doing}: its file system gives this answer "
            "when the card fails a read. Use another card."
        )
        return MediaError(text.format(target=target, error=what, doing=doing), code="io-error")
    # In the four messages below, {doing} is what was being done, one of the phrases
    # "writing {name}", "reading {name} back", "checking the card"... (translated themselves).
    if e.errno in FULL:
        # TRANSLATORS: {doing}: what was being done ("writing {name}"...); {error}: the system's words.
        text = _(
            "{target}: the card is full ({error}) while {doing}. Use a larger card, or remove other files from it."
        )
        return MediaError(text.format(target=target, error=what, doing=doing), code="media-full")
    if e.errno == errno.EPERM and _exists(target):  # fusefat's answer when a FAT card is full, and when it meets EIO
        text = _(
            "{target}: the card refused the write ({error}) while {doing}: the card may be full, or failing "
            "(its file system gives this answer for both, and does not say how much space is free). Free some "
            "space or use a larger card; if the card is not full, it is failing: use another card."
        )
        return MediaError(text.format(target=target, error=what, doing=doing), code="may-be-full")
    if e.errno in VANISHED or not _exists(target):
        text = _(
            "{target}: the card went away or failed while {doing} ({error}). Check the "
            "card is inserted, then run prepare again."
        )
        return MediaError(text.format(target=target, error=what, doing=doing), code="media-vanished")
    text = _("{target}: input/output error while {doing} ({error}).")
    return MediaError(text.format(target=target, error=what, doing=doing), code="io-error")


def _exists(path) -> bool:
    try:
        return Path(path).exists()
    except OSError:
        return False


def temp_name(name: str) -> str:
    return f"{TEMP_PREFIX}{name}.{os.urandom(4).hex()}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def sidecar_text(sha256: str, name: str) -> bytes:
    """A ``<name>.sha256`` sidecar: one line in sha256sum's format."""
    return format_index_line(sha256, name)


def parse_sidecar(raw: bytes) -> tuple[str, str] | None:
    """(sha256, name) of a one-line sidecar, or None when malformed."""
    good, bad = parse_index(raw)
    if len(good) != 1 or bad:
        return None
    return good[0].sha256, good[0].relpath


def read_sidecar(pin, name: str) -> tuple[str, str] | None:
    """The sidecar ``name`` on the pinned card (None when missing, unreadable or malformed)."""
    try:
        fd = pin.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO there never blocks
    except OSError:
        return None
    try:
        if not stat_mod.S_ISREG(os.fstat(fd).st_mode):
            return None
        return parse_sidecar(os.read(fd, 4096))
    except OSError:
        return None
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- threads
_spawn = readback.spawn


def _wait(futures, stop=None) -> None:
    """Wait for every future, waking up often so a Ctrl-C is acted on at once (on Windows a
    console Ctrl-C cannot interrupt a bare wait before Python 3.14) and a stop asked through
    the event (``stop``) too: both raise KeyboardInterrupt here, in the main thread."""
    pending = set(futures)
    while pending:
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        _done, pending = wait(pending, timeout=0.25)
    for f in futures:
        f.result()


# --------------------------------------------------------------------------- one target
class _Slot:
    """One target's state during a staging."""

    def __init__(self, target: Target, ops: FileOps, pin):
        self.target = target
        self.folder = Path(target.path)
        self.ops = ops
        self.pin = pin
        self.result = TargetResult(path=self.folder)
        pre = target.preflight
        self.result.already = list(pre.already) if pre else []
        self.result.removed = list(pre.removed) if pre else []
        self.written: list[str] = []  # names of temp or final files this run created
        self.file: Any = None
        self.temp: str = ""
        self.offset = 0  # bytes written to the current temporary file
        self.bar: Any = None
        self.checked = False
        self.lock = threading.Lock()

    @property
    def alive(self) -> bool:
        return self.result.error is None

    def wrote(self, name: str, kind: str) -> None:
        self.written.append(name)
        STATE.wrote(self.pin.where(name), kind)

    def renamed(self, old: str, new: str, kind: str) -> None:
        self.written[self.written.index(old)] = new
        STATE.gone(self.pin.where(old))
        STATE.wrote(self.pin.where(new), kind)

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
        """Remove everything this run wrote on this target (temp, final, sidecars); a
        removal counts once the medium confirmed it (:data:`STATE` says which did not)."""
        with self.lock:
            asked: list[str] = []  # names the file system removed
            for name in reversed(self.written):
                where = self.pin.where(name)
                try:
                    self.ops.remove(self.pin, name)
                    self.result.cleaned.append(name)
                    STATE.unlinked(where)
                    asked.append(name)
                except FileNotFoundError:
                    if self.result.card_failed:  # a failing card's "no such file" proves nothing (fusefat says it)
                        self.result.unconfirmed.append(name)
                        STATE.unlinked(where)
                    else:
                        STATE.gone(where)
                except OSError as e:
                    why = os_reason(e)
                    self.result.left.append(_("{path} (could not be removed: {error})").format(path=where, error=why))
                    STATE.not_removed(where, why)
            self.written.clear()
            self.result.staged.clear()
            self.result.verified = False
            if asked and not self.result.card_failed and self._confirmed():
                STATE.confirmed([self.pin.where(name) for name in asked])
            else:  # the file system removed them; a card that failed or did not confirm may not hold that
                self.result.unconfirmed += asked

    def _confirmed(self) -> bool:
        try:
            return self.ops.confirm(self.pin)
        except OSError:
            return False


def _write_all(f, view) -> None:
    while view:
        n = f.write(view)
        view = view[n:]


# --------------------------------------------------------------------------- staging
def stage(sources, targets, *, progress_factory=None, ops: FileOps | None = None, stop=None) -> list[TargetResult]:
    """Stage every source onto every target; one result per target (see module doc)."""
    from stager.card.pin import pin_card

    ops = ops or FileOps()
    stop = stop or STATE.event
    own = [t for t in targets if t.pin is None]  # a folder given as is (tests, the demo): pinned here
    pins = {id(t): t.pin or pin_card(t.path) for t in targets}
    slots = [_Slot(t, ops, pins[id(t)]) for t in targets]
    STATE.busy = True
    STATE.moving = _io_counter(slots)
    try:
        for source in sources:
            todo = [s for s in slots if s.alive and source.name not in s.result.already]
            if todo:
                _copy(source, todo, progress_factory, stop)
                _wait([_spawn(_finish, source, s, progress_factory, stop) for s in todo if s.alive], stop)
            if stop.is_set():
                raise KeyboardInterrupt
        for s in slots:
            _settle(s, sources)
    except KeyboardInterrupt:
        raise _interrupted(slots, stop) from None
    finally:
        STATE.busy = False
        for s in slots:
            if s.bar is not None:
                s.bar.close()
        for t in own:
            pins[id(t)].close()
    return [s.result for s in slots]


def _settle(slot: _Slot, sources) -> None:
    """The card is still the one pinned, mounted where it was chosen: then it is staged."""
    if not slot.alive:
        return
    try:
        slot.pin.check()
    except MediaError as e:
        slot.fail(e)
        return
    slot.result.verified = True
    slot.result.staged = [src.name for src in sources]
    for name in slot.written:
        STATE.gone(slot.pin.where(name))


def _interrupted(slots, stop) -> StagerError:
    """Stop every card's thread, remove what was written (within the stop's cleanup time,
    :meth:`StopState.remaining`), and say what was removed, what is left and where."""
    from stager.card.stop import closing

    stop.set()
    STATE.busy = True
    STATE.started_cleanup()
    err = interrupted(_("interrupted"))
    workers = [_spawn(s.fail, err) for s in slots]
    STATE.wait_cleanup(workers)  # two seconds, more while a slow card is seen moving data
    return closing()


def _io_counter(slots):
    """What the cards' devices have moved so far (a FUSE card: its block device), for the
    cleanup after a stop (:meth:`StopState.wait_cleanup`)."""
    from stager.card.media import io_counter

    return io_counter([getattr(s.pin, "block_device", None) or s.target.device for s in slots])


def _open_temps(source: Source, slots, progress_factory) -> None:
    for s in slots:
        s.temp = temp_name(source.name)
        s.offset = 0
        try:
            if not s.checked:  # the card is still the one chosen, before its first write
                s.pin.check()
                s.checked = True
            s.wrote(s.temp, N_("temporary"))  # registered first: a stop right after the create still removes it
            s.file = s.ops.open_temp(s.pin, s.temp)
        except MediaError as e:
            s.fail(e)
            continue
        except OSError as e:
            s.fail(media_error(e, s.folder, _("creating {name}").format(name=source.name)))
            continue
        if progress_factory:
            # TRANSLATORS: a progress bar's label: copying onto the card {card}.
            s.bar = progress_factory(source.size, _("copy {card}").format(card=s.target.label or s.folder.name))


def _writer(source: Source):
    def write(slot, view):
        try:
            _write_all(slot.file, view)
            slot.ops.start_writeback(slot.file, slot.offset, len(view))
            slot.offset += len(view)
        except OSError as e:
            # TRANSLATORS: what was being done, shown after "while" in media errors: "...failed while writing X".
            slot.fail(media_error(e, slot.folder, _("writing {name}").format(name=source.name)))
            return
        if slot.bar is not None:
            slot.bar.update(len(view))

    return write


class _NoTargetLeft(Exception):
    """Every target of a copy failed: the source need not be read further."""


def _copy(source: Source, slots, progress_factory, stop) -> None:
    """Read the source once; write each chunk to every slot's temp file in parallel. Not
    hashed: each card's read-back is compared with the index, and only a difference reads
    the source again (:func:`_source_changed`, :func:`_source_blocks`)."""
    _open_temps(source, slots, progress_factory)
    ops = slots[0].ops if slots else FileOps()
    try:
        src = ops.open_source(source.path)
    except OSError as e:
        err = CatalogError(
            _("cannot read {name} in the catalog: {error}.").format(name=source.name, error=os_reason(e)),
            code="unreadable",
        )
        for s in slots:
            s.fail(err)
        return
    with src:
        read, send, pending = _copier(source, slots, stop, src)
        try:
            hash_chunks(read, (send,), digest=False)  # a stop is seen in send's waits
        except _NoTargetLeft:
            return
        _wait(pending, stop)


def _copier(source: Source, slots, stop, src):
    """(read, send, pending) of a copy through two reused buffers: the next chunk is read
    while the one before is written to every card, in threads."""
    write = _writer(source)
    size = max(1, min(CHUNK, source.size + 1))  # a small file needs no 8 MiB buffers
    bufs = (bytearray(size), bytearray(size))
    pending: list[Task] = []
    turn = [0]

    def read():
        buf = bufs[turn[0] % 2]
        return memoryview(buf)[: src.readinto(buf)]

    def send(view) -> None:
        _wait(pending, stop)  # the other buffer is free again once these are written
        live = [s for s in slots if s.alive]
        if not live:
            raise _NoTargetLeft
        pending[:] = [_spawn(write, s, view) for s in live]
        turn[0] += 1

    return read, send, pending


_SOURCE_NOW: dict[tuple, str] = {}  # (path, size, mtime) -> SHA-256 of the source as it is now
_SOURCE_LOCK = threading.Lock()


_SOURCE_BLOCKS: dict[tuple, list[int]] = {}  # (path, size, mtime) -> the source's block digests


def _source_key(source: Source) -> tuple:
    st = os.stat(source.path)
    return (str(source.path), st.st_size, st.st_mtime_ns)


def _source_blocks(source: Source) -> list[int]:
    """The source's CRC-32 per readback.BLOCK (once for every card), to compare a card's
    read-back with block by block and name the first differing byte. The source was just
    proved to match its index (:func:`_source_changed`)."""
    with _SOURCE_LOCK:
        key = _source_key(source)
        if key not in _SOURCE_BLOCKS:
            digests = BlockDigests()
            with open(source.path, "rb", buffering=0) as f:
                buf = bytearray(CHUNK)
                view = memoryview(buf)
                hash_chunks(lambda: view[: f.readinto(buf)], (digests.update,), digest=False)
            _SOURCE_BLOCKS[key] = digests.finish()
        return _SOURCE_BLOCKS[key]


def _source_changed(source: Source) -> StagerError | None:
    """After a read-back that differs from the index: the source hashed again (once for
    every card): the catalog's error when it no longer matches its index line (exit 4),
    None when it still does (the card is at fault)."""
    from stager.catalog.index import content_mismatch
    from stager.fileio import hash_file

    with _SOURCE_LOCK:
        try:
            key = _source_key(source)
            actual = _SOURCE_NOW.get(key) or hash_file(source.path)
        except OSError as e:
            return CatalogError(
                _("cannot read {name} in the catalog: {error}.").format(name=source.name, error=os_reason(e)),
                code="unreadable",
            )
        _SOURCE_NOW[key] = actual
    if actual == source.sha256:
        return None
    cf = source.catalog_file
    if cf is not None:
        return content_mismatch(cf, actual)
    return CatalogError(
        _("{name} does not match its index line: never staged.").format(name=source.name), code="damaged"
    )


def _flush(slot: _Slot, source: Source) -> bool:
    ops = slot.ops
    try:
        ops.fsync(slot.file)
        slot.file.close()
        slot.file = None
        ops.sync_device(slot.pin)
        return True
    except OSError as e:
        slot.fail(media_error(e, slot.folder, _("saving {name}").format(name=source.name)))
        return False


def _finish(source: Source, slot: _Slot, progress_factory, stop) -> None:
    """Flush, read back from the medium under the temporary name, then rename, sidecar."""
    if not slot.alive or not _flush(slot, source):
        return
    if slot.bar is not None:
        slot.bar.close()
        slot.bar = None
    folder = slot.folder
    # TRANSLATORS: a progress bar's label: reading the copy back from the card {card}.
    label = _("read back {card}").format(card=slot.target.label or folder.name)
    bar = progress_factory(source.size, label) if progress_factory else None
    try:
        rb = slot.ops.read_back(slot.pin, slot.temp, progress=bar.update if bar else None, stop=stop)
    except Stopped:
        return
    except OSError as e:
        slot.fail(media_error(e, folder, _("reading {name} back").format(name=source.name), reading=True))
        return
    finally:
        if bar is not None:
            bar.close()
    slot.result.sha256[source.name] = rb.sha256
    slot.result.read_back[source.name] = rb.method
    slot.result.read_back_why[source.name] = rb.why
    if rb.sha256 != source.sha256 or rb.size != source.size:
        slot.fail(_source_changed(source) or _mismatch(folder, source, rb, _locate(slot, source, stop)))
        return
    if _rename(slot, source, slot.temp, source.name, N_("firmware, verified"), flush=False) and _stored(
        slot, source, source.name, source.size
    ):
        _write_sidecar(slot, source, stop)


def _locate(slot: _Slot, source: Source, stop):
    """Where the copy differs: the medium read again, block by block (None if it cannot be)."""
    try:
        return slot.ops.locate(slot.pin, slot.temp, _source_blocks(source), stop=stop)
    except (OSError, Stopped):
        return None


def _mismatch(folder: Path, source: Source, rb, located) -> VerifyError:
    offset = readback.first_difference(source.path, located, source.size) if located is not None else None
    if offset is not None:
        where = _("first differing byte at offset {offset}").format(offset=format_int(offset))
    else:
        where = _("the differing byte not located")
    # TRANSLATORS: "read back from the card": the copy was read from the card's medium, not a cache.
    text = _(
        "{folder}: {name} read back from the card is not the catalog's file ({where}; read "
        "{read} bytes of {size}, SHA-256 {sha256}..., expected {expected}...). "
        "The copy was removed. The card may be failing or fake: try another card."
    )
    return VerifyError(
        text.format(
            folder=folder,
            name=source.name,
            where=where,
            read=format_int(rb.size),
            size=format_int(source.size),
            sha256=rb.sha256[:16],
            expected=source.sha256[:16],
        ),
        code="verification-failed",
        details={"first_difference": offset, "bytes_read": rb.size, "read_back": rb.method},
    )


def _rename(slot: _Slot, source: Source, temp: str, final: str, kind: str, flush: bool) -> bool:
    """Rename on the pinned card; ``flush``: make the folder durable now (once, after the
    sidecar's rename, for both entries: each flush of a folder is a journal commit)."""
    try:
        slot.pin.check()
        slot.ops.replace(slot.pin, temp, final)
        slot.renamed(temp, final, kind)
        if flush:
            slot.ops.fsync_dir(slot.pin)
            slot.ops.sync_device(slot.pin)
        return True
    except MediaError as e:
        slot.fail(e)
    except OSError as e:
        slot.fail(media_error(e, slot.folder, _("saving {name}").format(name=final)))
    return False


def _write_sidecar(slot: _Slot, source: Source, stop) -> None:
    ops, folder = slot.ops, slot.folder
    name = f"{source.name}.sha256"
    data = sidecar_text(source.sha256, source.name)
    temp = temp_name(name)
    try:
        slot.wrote(temp, N_("temporary"))
        with ops.open_temp(slot.pin, temp) as f:
            _write_all(f, memoryview(data))
            ops.fsync(f)
        ops.sync_device(slot.pin)
        back = ops.read_back(slot.pin, temp, stop=stop)
    except Stopped:
        return
    except OSError as e:
        slot.fail(media_error(e, folder, _("writing {name}").format(name=name)))
        return
    if back.content != data:
        slot.fail(
            VerifyError(
                _(
                    "{folder}: the sidecar {name} read back is not what was written. The copy was removed. "
                    "The card may be failing: try another card."
                ).format(folder=folder, name=name),
                code="verification-failed",
            )
        )
        return
    if back.method == "cached" and slot.result.read_back.get(source.name) != "cached":
        slot.result.read_back[name] = back.method
        slot.result.read_back_why[name] = back.why
    if _rename(slot, source, temp, name, N_("sidecar"), flush=True):
        _stored(slot, source, name, len(data))


def _stored(slot: _Slot, source: Source, name: str, size: int) -> bool:
    """After a rename on a card: the card's folder, as its medium holds it, shows ``name``
    with ``size`` bytes (a medium that drops the writes of its directory would otherwise
    keep the file under its temporary name, or nothing). FUSE cards: the device's cache
    dropped or the card remounted; only a cache could be listed: the card's read-back
    method says "cached". Removable cards on a kernel file system (Linux): unmounted and
    mounted again; where they cannot be, the listing is the system's memory and
    read_back_why says so. A folder given with --allow-fixed: not listed."""
    pin, folder = slot.pin, slot.folder
    fuse = getattr(pin, "fstype", None) in readback.FUSE_TYPES
    if not fuse and not _kernel_card(slot):
        return True
    try:
        slot.ops.fsync_dir(pin)
        slot.ops.sync_device(pin)
        found, why = slot.ops.read_directory(pin) if fuse else slot.ops.read_kernel_directory(pin)
    except MediaError as e:
        slot.fail(e)
        return False
    except OSError as e:
        slot.fail(media_error(e, folder, _("reading the card's folder back"), reading=True))
        return False
    if why and fuse:
        slot.result.read_back[source.name] = "cached"
        slot.result.read_back_why[source.name] = _(
            "the card's folder could only be listed from a cache, not from its medium, because {why}"
        ).format(why=why)
        return True
    if why:
        _note_memory_listing(slot, source.name, why)
    if found.get(name) == size:
        return True
    slot.fail(_entry_not_stored(folder, name, size, found.get(name)))
    return False


def _kernel_card(slot: _Slot) -> bool:
    """A removable card on a Linux kernel file system, whose folder can be remounted to be listed."""
    pin = slot.pin
    fstype = getattr(pin, "fstype", None) or ""
    return bool(
        slot.target.removable
        and sys.platform.startswith("linux")
        and fstype
        and not fstype.startswith("fuse")
        and getattr(pin, "block_device", None)
    )


def _note_memory_listing(slot: _Slot, name: str, why: str) -> None:
    """The folder entry of ``name`` was read from the system's memory: said in read_back_why
    (the method stays what the file's read-back proved)."""
    note = _("its folder entry was read from the system's memory, not from the card's medium, because {why}").format(
        why=why
    )
    before = slot.result.read_back_why.get(name, "")
    if note not in before:
        slot.result.read_back_why[name] = f"{before}; {note}" if before else note


def _entry_not_stored(folder: Path, name: str, size: int, got: int | None) -> VerifyError:
    if got is None:
        said = _(
            "{folder}: the card did not store the folder entry of {name}: after the rename, its folder as the "
            "medium holds it has no {name}."
        ).format(folder=folder, name=name)
    else:
        said = _(
            "{folder}: the card did not store the folder entry of {name}: after the rename, its folder as the "
            "medium holds it gives {name} {got} bytes instead of {size}."
        ).format(folder=folder, name=name, got=format_int(got), size=format_int(size))
    advice = _(
        "The file is not on the card under that name; what this run wrote was removed where the card allowed it. "
        "The card may be failing or fake: try another card."
    )
    return VerifyError(
        f"{said} {advice}", code="verification-failed", details={"file": name, "bytes_in_folder": got, "bytes": size}
    )
