"""The card pinned: every file operation of a run goes through a handle known to be that card.

On Linux and macOS a :class:`CardPin` holds an open descriptor of the card's root folder
(``O_DIRECTORY``) whose device id (``st_dev``) is the one seen when the target was chosen;
every open, rename, unlink and listing is relative to it (``dir_fd``), so a card unmounted
at the prompt, pulled (its mount point left as a plain folder) or lazily unmounted can never
send a byte to another file system. :meth:`CardPin.check` says whether the card is still
mounted where the technician sees it; it runs before the first write and before a card is
called staged.

On Windows there is no ``dir_fd``: the pin is the volume's serial number and an open
handle of the root folder (``FILE_FLAG_BACKUP_SEMANTICS``); :meth:`check` compares the
serial of the path's volume and of the handle with the pinned one before any write.
The Windows calls go through an injected ``kernel32``-like object so tests replay them.
"""

from __future__ import annotations

import os
import stat as stat_mod
import sys
from pathlib import Path

from stager.card.gone import card_gone
from stager.fileio import fsync_folder_fd, os_reason
from stager.i18n import _
from stager.value import value

O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@value
class Mount:
    """What /proc/self/mountinfo says of the file system holding the card's root."""

    fstype: str
    source: str
    mountpoint: str


def device_id(path) -> int | None:
    """The st_dev of a folder as the system sees it now (None when it cannot be read)."""
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


def _unescape(field: str) -> str:
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mount_of(st_dev: int, mountinfo: str = "/proc/self/mountinfo") -> Mount | None:
    """The mount whose major:minor is ``st_dev`` (Linux; None elsewhere or when not found)."""
    want = f"{os.major(st_dev)}:{os.minor(st_dev)}"
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    found = None
    for line in lines:
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or fields[2] != want:
            continue
        tail = right.split()
        if len(tail) >= 2:
            found = Mount(fstype=tail[0], source=_unescape(tail[1]), mountpoint=_unescape(fields[4]))
    return found


class CardPin:
    """An open handle of the card root (POSIX): see the module doc."""

    def __init__(self, path: Path, fd: int, st: os.stat_result, mount: Mount | None):
        self.path = Path(path)
        self.fd = fd
        self.st_dev = st.st_dev
        self.st_ino = st.st_ino
        self.mount = mount

    # ---- identity
    @property
    def fstype(self) -> str | None:
        return self.mount.fstype if self.mount else None

    @property
    def block_device(self) -> str | None:
        """The block device the file system reads (its source), when it is one."""
        src = self.mount.source if self.mount else None
        try:
            if src and stat_mod.S_ISBLK(os.stat(src).st_mode):
                return src
        except OSError:
            return None
        return None

    def check(self) -> None:
        """MediaError (card-gone) unless the card is still mounted at its path and answers."""
        try:
            os.fstat(self.fd)
        except OSError as e:
            raise card_gone(self.path, _("it does not answer: {error}").format(error=os_reason(e))) from None
        try:
            now = os.stat(self.path)
        except OSError as e:
            why = _("{path} cannot be read: {error}").format(path=self.path, error=os_reason(e))
            raise card_gone(self.path, why) from None
        if (now.st_dev, now.st_ino) != (self.st_dev, self.st_ino):
            why = _("{path} is now another folder or another file system").format(path=self.path)
            raise card_gone(self.path, why)

    # ---- file operations, all relative to the card root
    def open(self, name: str, flags: int, mode: int = 0o644) -> int:
        return os.open(name, flags | O_CLOEXEC, mode, dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        os.unlink(name, dir_fd=self.fd)

    def replace(self, src: str, dst: str) -> None:
        os.replace(src, dst, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def stat(self, name: str) -> os.stat_result:
        return os.stat(name, dir_fd=self.fd, follow_symlinks=False)

    def exists(self, name: str) -> bool:
        try:
            self.stat(name)
            return True
        except FileNotFoundError:
            return False

    def files(self) -> list[tuple[str, int]]:
        """(name, size) of every regular file on the card root, sorted by name."""
        out = []
        with os.scandir(self.fd) as it:  # CPython lists a duplicate of the descriptor
            for e in it:
                if e.is_file(follow_symlinks=False):
                    out.append((e.name, e.stat(follow_symlinks=False).st_size))
        return sorted(out)

    def fsync_dir(self) -> None:
        from stager.card.durable import fsync_fd

        fsync_folder_fd(self.fd, fsync_fd)  # the one folder policy (stager.fileio)

    def where(self, name: str) -> str:
        return str(self.path / name)

    def reopen(self) -> None:
        """Open the card root again after a remount (:mod:`stager.card.remount`): it must be
        the same block device (``st_dev``) at the same path, else MediaError (card-gone)."""
        self.close()
        try:
            fd = os.open(self.path, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        except OSError as e:
            raise card_gone(self.path, _("its folder cannot be opened: {error}").format(error=os_reason(e))) from None
        st = os.fstat(fd)
        if st.st_dev != self.st_dev:
            os.close(fd)
            raise card_gone(self.path, "its folder is now on another file system: the card was unmounted or pulled")
        self.fd, self.st_ino = fd, st.st_ino
        self.mount = mount_of(st.st_dev) or self.mount

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1


def pin_card(path, expected_dev: int | None = None, *, platform: str | None = None, kernel32=None):
    """Pin the card mounted at ``path``. ``expected_dev`` is the st_dev seen when the target
    was chosen: another one (the card unmounted, its folder now on the system disk) is a
    MediaError (card-gone, exit 5)."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        from stager.card.pin_windows import pin_windows

        return pin_windows(Path(path), kernel32=kernel32)
    try:
        fd = os.open(path, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    except OSError as e:
        raise card_gone(path, _("its folder cannot be opened: {error}").format(error=os_reason(e))) from None
    st = os.fstat(fd)
    if expected_dev is not None and st.st_dev != expected_dev:
        os.close(fd)
        raise card_gone(path, _("its folder is now on another file system: the card was unmounted or pulled"))
    mount = mount_of(st.st_dev) if platform.startswith("linux") else None
    return CardPin(Path(path), fd, st, mount)


def firmware_like_entries(pin) -> list[tuple[str, str]]:
    """(name, kind) of every entry of the card root under a firmware-like name that is not
    a regular file (a folder, a FIFO, a link, a device): a charger may try it, and stager
    never removes it. Listed through the pin (its descriptor where it has one); never opened."""
    from stager.fileio import kind_of
    from stager.rules.names import is_firmware_name

    fd = getattr(pin, "fd", None)
    where = fd if isinstance(fd, int) and fd >= 0 and os.name == "posix" else str(pin.path)
    out = []
    with os.scandir(where) as it:
        for e in it:
            if not is_firmware_name(e.name) or e.is_file(follow_symlinks=False):
                continue
            try:
                mode = e.stat(follow_symlinks=False).st_mode
            except OSError:
                mode = 0
            out.append((e.name, _("a link") if stat_mod.S_ISLNK(mode) else kind_of(mode)))
    return sorted(out)
