"""One run per card at a time: an exclusive lock file on the card's root.

:func:`take` creates ``.stager-lock`` with ``O_CREAT | O_EXCL`` through the pinned card
(so two runs, even from two computers sharing a card reader, cannot both get it), holding
the host name, the process id and the start time. It is taken before the pre-flight, so a
second run never takes the first run's live ``.part`` for a leftover, nor cleans the file
the first run is verifying.

A lock whose process is gone (same host, no such pid) is stale: it is named, replaced and
said so. A lock from another host, or from a live process, refuses the run (exit 5) and
names its holder.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import socket
import stat

from stager.errors import MediaError

LOCK_NAME = ".stager-lock"


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
            return {"host": "?", "pid": "?", "started": f"(not a lock file: {LOCK_NAME} is not a regular file)"}
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        found = json.loads(raw.decode("utf-8", errors="replace"))
        return found if isinstance(found, dict) else {}
    except ValueError:
        return {}


def _write(pin, fd: int) -> None:
    info = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    os.write(fd, (json.dumps(info) + "\n").encode())  # no fsync: a lock needs no durability


class CardLock:
    def __init__(self, pin, stale: dict | None = None):
        self.pin = pin
        self.stale = stale  # the stale lock found and replaced, if any
        self.held = True

    def message(self) -> str | None:
        if not self.stale:
            return None
        return (
            f"{self.pin.path}: a lock left by an earlier run was found and replaced (host "
            f"{self.stale.get('host', '?')}, process {self.stale.get('pid', '?')}, started "
            f"{self.stale.get('started', '?')}: that process is gone)."
        )

    def release(self) -> bool:
        """Remove the lock; False when the card no longer answers or did not confirm the
        removal (:data:`stager.card.stop.STATE` says which: the lock may stay on the card)."""
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
            STATE.not_removed(where, e.strerror or str(e))
            return False
        STATE.unlinked(where)
        if STATE.stopped_at is None:  # a run that ends: a lock left by a cache the card never got is stale next time
            STATE.gone(where)
            return True
        if not confirm(self.pin):  # a stop: its closing message says whether the card holds the removal
            return False
        STATE.confirmed([where])
        return True


def _busy(pin, holder: dict) -> MediaError:
    where = pin.where(LOCK_NAME)
    host, pid = holder.get("host", "an unknown computer"), holder.get("pid", "?")
    return MediaError(
        f"{pin.path} is being written by another stager run (host {host}, process {pid}, started "
        f"{holder.get('started', 'at an unknown time')}): one run per card at a time. Wait for it to end. "
        f"If no run is going on, delete {where} and try again.",
        code="card-busy",
        details={"lock": where, "holder": holder},
    )


def take(pin) -> CardLock:
    """Take the card's lock (see the module doc)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    stale = None
    for _ in range(2):
        try:
            fd = pin.open(LOCK_NAME, flags)
        except FileExistsError:
            holder = _holder(pin)
            mine = holder.get("host") == socket.gethostname()
            pid = holder.get("pid")
            if not (mine and isinstance(pid, int) and pid != os.getpid() and not _alive(pid)):
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
                    f"{pin.path} is read-only ({e.strerror}). Unlock the card (its lock switch) or remount it "
                    f"read-write.",
                    code="read-only",
                ) from None
            from stager.card.staging import media_error

            raise media_error(e, pin.path, "taking the card's lock") from None
        from stager.card.stop import STATE

        STATE.wrote(pin.where(LOCK_NAME), "lock")  # a stop from now on names it until it is removed
        try:
            _write(pin, fd)
        finally:
            os.close(fd)
        return CardLock(pin, stale)
    raise _busy(pin, _holder(pin))
