"""`--clean` that never loses a card: the old firmware goes only once the new file is
verified on that card, or, where the card cannot hold both, only after the source was
proved against its index (before the question). A removal that fails after the new file
was verified takes the new file back off: the card is left as it was.
"""

from __future__ import annotations

from pathlib import Path

from stager.card.staging import VANISHED, FileOps, media_error
from stager.errors import MediaError
from stager.fileio import os_reason
from stager.i18n import _

MIB = 1024 * 1024


def space_needed(sources, already=()) -> int:
    """What staging needs on the card, margin included (as the pre-flight counts it)."""
    need = sum(s.size + 4096 for s in sources if s.name not in already)
    return need + MIB + need // 100 if need else 0


def free_space(folder: Path, known: int | None) -> int | None:
    """The card's free bytes: as detected, else asked of the file system (None: unknown)."""
    if known is not None:
        return known
    import shutil  # only when detection gave no free space

    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return None
    return usage.free if usage.total > 0 else None


def holds_both(folder: Path, known_free: int | None, sources, already=()) -> bool | None:
    """Whether the new files fit beside the old firmware (None: the card does not say)."""
    free = free_space(folder, known_free)
    if free is None:
        return None
    return free >= space_needed(sources, already)


def old_files(removes, sources) -> list[str]:
    """What --clean removes once the new files are in place: never a name just staged
    (an old file of the same name was already replaced by the rename)."""
    staged = {s.name for s in sources} | {f"{s.name}.sha256" for s in sources}
    return [n for n in removes if n not in staged]


def remove_files(pin, names, ops: FileOps | None = None) -> tuple[list[str], MediaError | None]:
    """Remove ``names`` from the pinned card's root; (removed, the error that stopped it or
    None). A name no longer there counts as removed."""
    import stat

    ops = ops or FileOps()
    folder = Path(pin.path)
    done: list[str] = []
    for name in names:
        try:
            if pin.exists(name) and stat.S_ISREG(pin.stat(name).st_mode):
                ops.remove(pin, name)
            done.append(name)
        except OSError as e:
            if e.errno in VANISHED or not folder.exists():
                doing = _("removing the old firmware {name} (--clean)").format(name=name)
                return done, media_error(e, folder, doing)
            return done, MediaError(
                _(
                    "{card}: the old firmware {name} cannot be removed for --clean ({error}): "
                    "it may be locked, read-only or in use."
                ).format(card=folder, name=name, error=os_reason(e)),
                code="clean-failed",
                details={"file": name, "removed": list(done)},
            )
    return done, None


def take_back(pin, sources, ops: FileOps | None = None) -> list[str]:
    """Remove the files this run staged (and their sidecars): the card as it was."""
    names = [n for s in sources for n in (s.name, f"{s.name}.sha256")]
    done, _err = remove_files(pin, names, ops)
    return done
