"""Removable media: which mounted volumes are cards or sticks stager may write to.

One :func:`detect` dispatches on the platform (like packaging's ``platform_tags``);
the details live in ``_linux``, ``_windows`` and ``_macos``, each reading its system
through one *calls* seam (:mod:`stager.card.media.record`): the real system calls, a
recorder of them (``stager media --record``), or a record replayed on any system
(``--replay``). psutil is imported lazily.

Every volume gets a verdict (:data:`VERDICTS`, in :mod:`stager.card.media.model` with
:class:`Medium` and the helpers the probes share); only a ``card`` is ever a target by
detection, and a ``system`` volume never is.
"""

from __future__ import annotations

import os
import sys

from stager.card.media.model import ADVICE, FS_NAMES, VERDICTS, Medium, firmware_on, fs_name, usage, verdict_text
from stager.fileio import is_under
from stager.i18n import _
from stager.value import value

__all__ = [
    "ADVICE",
    "FS_NAMES",
    "VERDICTS",
    "Medium",
    "Replay",
    "all_volumes",
    "candidates",
    "current_system",
    "detect",
    "firmware_on",
    "fs_name",
    "medium_for_path",
    "probe_of",
    "real_calls",
    "record_to",
    "replay",
    "unmounted",
    "unmounted_line",
    "usage",
    "verdict_text",
]


def current_system() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "other"


def probe_of(system: str):
    import importlib

    modules = {"linux": "_linux", "macos": "_macos", "windows": "_windows"}
    return importlib.import_module(f"stager.card.media.{modules[system]}") if system in modules else None


def real_calls(system: str):
    """The real system calls of this machine's probe."""
    if system == "linux":
        from stager.card.media._linux import LinuxCalls

        return LinuxCalls()
    if system == "macos":
        from stager.card.media._macos import MacCalls

        return MacCalls()
    from stager.card.media._win32 import Win32Calls

    return Win32Calls()


def all_volumes(calls=None, system: str | None = None, dev: int | None = None) -> list[Medium]:
    """Every mounted volume this system shows (or a record replays), with its verdict.
    ``dev``: only the volumes of that device id (st_dev); the Linux probe skips the
    others before probing them (no blkid, free space or firmware listing of every card)."""
    system = system or current_system()
    probe = probe_of(system)
    if probe is None:
        return []
    calls = calls if calls is not None else real_calls(system)
    found = probe.volumes(calls, dev=dev) if system == "linux" else probe.volumes(calls)
    return found if dev is None else [m for m in found if m.dev == dev]


def candidates(volumes) -> list[Medium]:
    """The volumes detection may pick: cards, never a system volume."""
    return [m for m in volumes if m.verdict == "card" and m.removable and not m.is_system]


def detect() -> list[Medium]:
    """The removable media mounted now (never the system disk)."""
    return candidates(all_volumes())


def unmounted() -> list[dict]:
    """Removable volumes inserted but not mounted, with how to mount each (where the
    system's probe can tell; [] elsewhere)."""
    probe = probe_of(current_system())
    finder = getattr(probe, "unmounted", None)
    try:
        return list(finder()) if finder else []
    except OSError:
        return []


def short_size(n: int | None) -> str:
    """A card's size in one figure, as the reader writes it: '7.4 GiB' (en), '7,4 Gio' (fr)."""
    from stager.i18n_format import format_size
    from stager.i18n_format import short_size as one_figure

    if n is None:
        return _("size unknown")
    return format_size(n) if n < 1024 else one_figure(n)  # under 1 KiB, the bytes in words


def unmounted_line(v: dict) -> str:
    label = _("label '{label}'").format(label=v["label"]) if v.get("label") else _("no label")
    size = short_size(v.get("size_bytes"))
    # TRANSLATORS: a card inserted but not mounted: device (file system, label, size): the command.
    return _("{device} ({filesystem}, {label}, {size}): mount it with {how}").format(
        device=v["device"], filesystem=v["filesystem"], label=label, size=size, how=v["how"]
    )


def record_to(path) -> list[Medium]:
    """Detect on this machine while recording every probe's answer into ``path``."""
    from stager.card.media import record as rec

    system = current_system()
    recorder = rec.Recorder(real_calls(system))
    found = all_volumes(recorder, system)
    rec.write(path, system, recorder.calls)
    return found


@value
class Replay:
    """A recorded machine: its system and every volume its probes gave, replayed here."""

    system: str
    volumes: tuple

    def detect(self) -> list[Medium]:
        return candidates(self.volumes)

    def all_volumes(self) -> list[Medium]:
        return list(self.volumes)

    def medium_for_path(self, path) -> Medium | None:
        """The recorded volume holding a path, by the recorded system's path rules (no
        device to stat here: the longest mount point holding it, case-insensitive on
        Windows and macOS)."""
        import ntpath
        import posixpath

        mod = ntpath if self.system == "windows" else posixpath
        fold = (lambda p: p.lower()) if self.system in ("windows", "macos") else (lambda p: p)
        text = str(path)
        if self.system == "windows" and len(text) == 2 and text[1] == ":":
            text += "\\"  # E: is the drive's root, E:\\
        want = fold(mod.normpath(text))
        best = None
        for m in self.volumes:
            mp = fold(mod.normpath(m.mountpoint))
            inside = want == mp or want.startswith(mp.rstrip("\\/") + mod.sep)
            if inside and (best is None or len(mp) > len(best.mountpoint)):
                best = m
        return best


def replay(path) -> Replay:
    """The volumes of a record file (BadInput, exit 2, when it is not one)."""
    from stager.card.media import record as rec

    system, calls = rec.load(path)
    try:
        volumes = tuple(all_volumes(rec.Replayer(calls), system))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        # A record is a user's file: an answer of the wrong shape is bad input, not a bug.
        why = _("an answer has the wrong shape ({error})").format(error=f"{type(e).__name__}: {e}")
        raise _bad_record(path, why) from None
    for m in volumes:
        wrong = [name for name, value in _text_fields(m) if value is not None and not isinstance(value, str)]
        if not isinstance(m.mountpoint, str) or wrong:
            why = _("the volume {mountpoint} has fields that are not text: {fields}")
            raise _bad_record(path, why.format(mountpoint=repr(m.mountpoint), fields=", ".join(wrong)))
    return Replay(system, volumes)


def _text_fields(m: Medium):
    return (("device", m.device), ("disk", m.disk), ("label", m.label), ("fstype", m.fstype), ("uuid", m.uuid))


def _bad_record(path, why: str):
    from stager.errors import BadInput

    return BadInput(
        _("{path} is not a media record stager can replay: {why}. See docs/media-record.md for its format.").format(
            path=path, why=why
        ),
        code="bad-record",
    )


def medium_for_path(path, volumes=None, stat=os.stat) -> Medium | None:
    """The volume a folder is on, matched by device id (st_dev), never by the path's
    spelling; when several volumes share the device id (a bind mount, cloned cards with
    one serial number), the longest mount point holding the path. None when unknown."""
    try:
        dev = stat(str(path)).st_dev
    except OSError:
        return None
    same = [m for m in (volumes if volumes is not None else all_volumes(dev=dev)) if m.dev is not None and m.dev == dev]
    if len(same) <= 1:
        return same[0] if same else None
    real = os.path.normcase(os.path.realpath(str(path)))
    best = None
    for m in same:
        mp = os.path.normcase(os.path.realpath(m.mountpoint))
        if is_under(real, mp) and (best is None or len(mp) > len(best.mountpoint)):
            best = m
    return best


def io_counter(devices, system: str | None = None, sysfs: str = "/sys/class/block"):
    """A counter of what these cards' devices have read and written so far (a number that
    grows while they move data), for a cleanup that waits on a slow card: a function
    returning it, or None where the system does not say.

    Linux: the sectors read and written in ``/sys/class/block/<name>/stat`` (a partition
    has its own). macOS: the whole disk's bytes through psutil (``/dev/disk4s1`` is disk
    ``disk4``). Windows: None (a volume's physical disk is not known here)."""
    names = [os.path.basename(str(d)) for d in devices if d and str(d).startswith("/dev/")]
    system = system or current_system()
    if not names or system not in ("linux", "macos"):
        return lambda: None
    if system == "macos":
        import re

        disks = {re.sub(r"s\d+$", "", n) for n in names}
        return lambda: _psutil_moved(disks)

    def moved() -> int | None:
        total, seen = 0, False
        for n in names:
            try:
                with open(f"{sysfs}/{n}/stat", encoding="ascii") as f:
                    fields = f.read().split()
                total += int(fields[2]) + int(fields[6])
                seen = True
            except (OSError, ValueError, IndexError):
                continue
        return total if seen else None

    return moved


def _psutil_moved(disks) -> int | None:
    import psutil

    try:
        counters = psutil.disk_io_counters(perdisk=True) or {}
    except (OSError, RuntimeError):
        return None
    found = [c for name, c in counters.items() if name in disks]
    return sum(c.read_bytes + c.write_bytes for c in found) if found else None
