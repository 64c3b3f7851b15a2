"""One run per card at a time: an exclusive lock file on the card's root.

:func:`take` creates ``.stager-lock`` with ``O_CREAT | O_EXCL`` through the pinned card
(so two runs, even from two computers sharing a card reader, cannot both get it), holding
the host name, the process id and the start time. It is taken before the pre-flight, so a
second run never takes the first run's live ``.part`` for a leftover, nor cleans the file
the first run is verifying.

A lock whose process is gone (same host, no such pid) is stale: it is named, replaced and
said so. So is a lock file with nothing readable in it (empty, or not the JSON it writes)
last written more than :data:`EMPTY_STALE_SECONDS` ago: a run writes its lock at once,
so only a run that could not (a full card, a crash) leaves one. A lock from another host,
or from a live process, or an empty one younger than that, refuses the run (exit 5),
names its holder and says how to remove it. A lock this run created is removed again
when its content cannot be written.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import platform
import stat
import time

from stager.errors import MediaError
from stager.fileio import os_reason, path_key, temp_folder
from stager.i18n import _

LOCK_NAME = ".stager-lock"
EMPTY_STALE_SECONDS = 60  # an empty lock older than this is no run's (a run writes its lock at once)


def _alive(pid: int) -> bool:
    try:
        import psutil

        return bool(psutil.pid_exists(pid))
    except ImportError:  # pragma: no cover - psutil is a dependency
        return True


def _holder(pin) -> dict:
    try:
        fd = pin.open(LOCK_NAME, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO there never blocks
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            started = _("(not a lock file: {name} is not a regular file)").format(name=LOCK_NAME)
            return {"host": "?", "pid": "?", "started": started}
        raw = os.read(fd, 4096)
        age = time.time() - os.fstat(fd).st_mtime
    finally:
        os.close(fd)
    return _parsed(raw) or {"empty": True, "age": age}


def _this_run() -> bytes:
    """Who holds a lock, as both locks record it (on the card, and here): host, process, start."""
    info = {
        "host": platform.node(),
        "pid": os.getpid(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return (json.dumps(info) + "\n").encode()


def _parsed(raw: bytes) -> dict:
    """A lock's record as :func:`_this_run` wrote it; {} when it is none."""
    try:
        found = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _write(pin, fd: int) -> None:
    """The lock's content; when it cannot be written (a full card), the lock just created
    is removed again, so that a failed run leaves the card as it was."""
    try:
        try:
            os.write(fd, _this_run())  # no fsync: a lock needs no durability
        finally:
            os.close(fd)
    except BaseException:
        try:
            pin.unlink(LOCK_NAME)
        except OSError:
            pass
        raise


def _is_stale(holder: dict) -> bool:
    """A lock whose run is over: empty and old, or of a process of this host that is gone."""
    if holder.get("empty"):
        return holder.get("age", 0) > EMPTY_STALE_SECONDS
    pid = holder.get("pid")
    mine = holder.get("host") == platform.node()
    return mine and isinstance(pid, int) and pid != os.getpid() and not _alive(pid)


class CardLock:
    def __init__(self, pin, stale: dict | None = None):
        self.pin = pin
        self.stale = stale  # the stale lock found and replaced, if any
        self.held = True
        self.here: HereLock | None = None  # the run's hold on this computer, released last
        self.not_removed: str | None = None  # why the lock file could not be removed, once release() said so

    def message(self) -> str | None:
        if not self.stale:
            return None
        if self.stale.get("empty"):
            return _(
                "{card}: an empty lock file left by an earlier run that could not write it (a full "
                "card, a crash) was found and replaced."
            ).format(card=self.pin.path)
        return _(
            "{card}: a lock left by an earlier run was found and replaced (host "
            "{host}, process {pid}, started {started}: that process is gone)."
        ).format(
            card=self.pin.path,
            host=self.stale.get("host", "?"),
            pid=self.stale.get("pid", "?"),
            started=_started(self.stale, "?"),
        )

    def release(self) -> bool:
        """Remove the lock; False when the card no longer answers or did not confirm the
        removal (:data:`stager.card.stop.STATE` says which: the lock may stay on the card).
        The hold on this computer goes last, whatever the card did."""
        try:
            return self._release_card()
        finally:
            if self.here is not None:
                self.here.release()

    def _release_card(self) -> bool:
        from stager.card.durable import confirm
        from stager.card.stop import STATE

        if not self.held:
            return True
        self.held = False
        where = self.pin.where(LOCK_NAME)
        try:
            self.pin.unlink(LOCK_NAME)
        except FileNotFoundError:
            STATE.gone(where)
            return True
        except OSError as e:
            self.not_removed = os_reason(e)
            STATE.not_removed(where, self.not_removed)
            return False
        STATE.unlinked(where)
        if STATE.stopped_at is None:  # a run that ends: a lock left by a cache the card never got is stale next time
            STATE.gone(where)
            return True
        if not confirm(self.pin):  # a stop: its closing message says whether the card holds the removal
            return False
        STATE.confirmed([where])
        return True


def _started(holder: dict, unknown: str) -> str:
    """When the lock's run started, in local time as the reader writes it (as recorded otherwise)."""
    from stager.i18n_format import format_datetime

    started = holder.get("started")
    if not isinstance(started, str):
        return unknown
    try:
        moment = format_datetime(dt.datetime.fromisoformat(started))
    except ValueError:
        return started
    # TRANSLATORS: when a run started: "on 1 December 2026 19:15" (the date as the reader writes it).
    return _("on {moment}").format(moment=moment)


def _busy(pin, holder: dict) -> MediaError:
    where = pin.where(LOCK_NAME)
    if holder.get("empty"):
        return MediaError(
            _(
                "{card} holds an empty lock file, {lock}, written {seconds} seconds ago: another stager "
                "run may be starting on this card. Wait a minute and try again (an empty lock older than "
                "{limit} seconds is replaced); if no run is going on, delete {lock}."
            ).format(card=pin.path, lock=where, seconds=max(0, int(holder.get("age", 0))), limit=EMPTY_STALE_SECONDS),
            code="card-busy",
            details={"lock": where, "holder": {}},
        )
    host, pid = holder.get("host", _("an unknown computer")), holder.get("pid", "?")
    return MediaError(
        _(
            "{card} is being written by another stager run (host {host}, process {pid}, started "
            "{started}): one run per card at a time. Wait for it to end. "
            "If no run is going on, delete {lock} and try again."
        ).format(card=pin.path, host=host, pid=pid, started=_started(holder, _("at an unknown time")), lock=where),
        code="card-busy",
        details={"lock": where, "holder": holder},
    )


def take(pin) -> CardLock:
    """Take the card's lock (see the module doc)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    stale = None
    for _attempt in range(2):
        try:
            fd = pin.open(LOCK_NAME, flags)
        except FileExistsError:
            holder = _holder(pin)
            if not _is_stale(holder):
                raise _busy(pin, holder) from None
            stale = holder
            try:
                pin.unlink(LOCK_NAME)
            except FileNotFoundError:
                pass
            continue
        except OSError as e:
            if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise MediaError(
                    _(
                        "{card} is read-only ({error}). Unlock the card (its lock switch) or remount it read-write."
                    ).format(card=pin.path, error=os_reason(e)),
                    code="read-only",
                ) from None
            from stager.card.staging import media_error

            raise media_error(e, pin.path, _("taking the card's lock")) from None
        from stager.card.stop import STATE

        STATE.wrote(pin.where(LOCK_NAME), "lock")  # a stop from now on names it until it is removed
        _write(pin, fd)  # closes fd; removes the lock again when it cannot be written
        return CardLock(pin, stale)
    raise _busy(pin, _holder(pin))


# --------------------------------------------------------------------------- this computer
#: Where a run also holds its card's folder on this computer (see :func:`hold_here`).
HOST_LOCKS = "stager-locks"


def _here_path(folder) -> str:
    """The hold's file: in this user's own folder of the system's temporary folder."""
    key = path_key(os.path.realpath(os.fspath(folder)))
    user = f"-{os.getuid()}" if hasattr(os, "getuid") else ""
    return os.path.join(temp_folder(), f"{HOST_LOCKS}{user}", f"{key}.lock")


def _own_folder(path: str) -> bool:
    """The hold's folder exists as this user's own real folder (never a link another user
    left in the shared temporary folder), created private when missing."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


class HereLock:
    """A run's hold on its card's folder on this computer, for the whole run: an ``flock``
    on a file of the system's temporary folder, named after the folder's real path. The
    card's own lock cannot be seen while the run unmounts and mounts the card again to
    read its folder from the medium (stager.card.remount): then the mount point is a plain
    folder of the system disk, and another run must still find the card busy, never write
    there. The system drops an ``flock`` when its process ends, however it ends: it is
    never stale."""

    def __init__(self, fd: int | None):
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


def hold_here(folder) -> HereLock:
    """Hold ``folder`` on this computer (see :class:`HereLock`); a MediaError (card-busy)
    when another run holds it. Where the system has no ``flock`` (Windows, which never
    unmounts a card under a run), or the temporary folder cannot be used, nothing is held:
    the card's own lock is the guard. The hold is this user's (two users running stager on
    one card at once are kept apart by the card's lock only)."""
    try:
        import fcntl
    except ImportError:
        return HereLock(None)
    try:
        path = _here_path(folder)
    except OSError:  # no temporary folder takes a file
        return HereLock(None)
    if not _own_folder(os.path.dirname(path)):
        return HereLock(None)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return HereLock(None)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = _read_here(fd)
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise _busy_here(folder, path, holder) from None
        return HereLock(None)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, _this_run(), 0)
    except OSError:
        pass  # the flock is the hold; its content only names the holder
    return HereLock(fd)


def _read_here(fd: int) -> dict:
    try:
        return _parsed(os.pread(fd, 4096, 0))
    except OSError:
        return {}


def _busy_here(folder, path: str, holder: dict) -> MediaError:
    pid = holder.get("pid", "?")
    return MediaError(
        _(
            "{card} is being written by another stager run on this computer (process {pid}, started "
            "{started}): one run per card at a time. Wait for it to end."
        ).format(card=folder, pid=pid, started=_started(holder, _("at an unknown time"))),
        code="card-busy",
        details={"lock": path, "holder": holder},
    )
