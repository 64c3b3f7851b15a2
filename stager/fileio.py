"""The base of every file operation stager makes: one read-and-hash loop, one buffer
size, one folder fsync, one "is this path inside that root" test, and safe reads.

Every layer above (catalog, card) streams and hashes through :func:`hash_chunks` (the
catalog's files through :func:`hash_stream` / :func:`hash_file`; the copy onto the cards
and the read-back feed each chunk on to their writes and block digests); no other module
imports hashlib for file contents.

- :func:`read_regular`: the bytes of a small file that must be a regular file; a FIFO,
  a device, a socket or a folder is refused without being read (so it cannot hang
  stager or have a device's side effects), and a file over ``limit`` bytes is refused.
- :func:`path_kind`: what is at a path ("missing", "dir", "file" or another kind), with
  the system's errors raised for the caller to word.
- :func:`os_error_text`: an :class:`OSError` as one sentence naming the path and what to
  do (ENAMETOOLONG, ENOTCONN, EACCES...), for the messages of the error tree.
- :func:`temp_folder`: the system's temporary folder, as :func:`tempfile.gettempdir`
  finds it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading

from stager.i18n import N_, _
from stager.i18n_format import format_int

#: One buffer size for every streamed read, copy and read-back (8 MiB).
CHUNK = 8 * 1024 * 1024

#: errno values of a file system that cannot fsync a folder (some FUSE ones refuse it,
#: some with EACCES): not a failure, on a card or in the catalog alike.
FSYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EBADF, errno.EACCES})


class Stopped(Exception):
    """Raised by :func:`hash_stream` when its ``stop`` event is set."""


def hash_chunks(read, feed=(), progress=None, stop=None, *, digest: bool = True) -> tuple[str, int]:
    """THE hashing loop: SHA-256 (hex) and byte count of what ``read()`` gives (a buffer or
    a view per call, empty at EOF). Each chunk also goes to every callable in ``feed`` (the
    card's writes, block digests, a small file's content), then ``progress(n)``. A set
    ``stop`` event raises :class:`Stopped` before the next chunk is read. ``digest=False``:
    the chunks are only fed on (the copy onto the cards, proved by its read-back), "" back."""
    h = hashlib.sha256() if digest else None
    total = 0
    while True:
        if stop is not None and stop.is_set():
            raise Stopped()
        chunk = read()
        if not chunk:
            break
        if h is not None:
            h.update(chunk)
        for fn in feed:
            fn(chunk)
        total += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return (h.hexdigest() if h is not None else ""), total


def hash_stream(f, buf: bytearray, progress=None, stop=None) -> str:
    """SHA-256 (hex) of what ``f.readinto`` gives until EOF, through ``buf``.
    ``progress(n)`` is called with the bytes read after each chunk."""
    view = memoryview(buf)
    return hash_chunks(lambda: view[: f.readinto(buf)], progress=progress, stop=stop)[0]


_tls = threading.local()


def hash_file(path, progress=None, stop=None) -> str:
    """SHA-256 of a file, hex, streamed through a reused buffer (one per thread); a file
    of more than two chunks is read ahead in a thread (the next chunk is read while this
    one is hashed). ``progress(n)`` is called with the bytes read after each chunk."""
    buf = getattr(_tls, "buf", None)
    if buf is None:
        buf = _tls.buf = bytearray(CHUNK)
    with open(path, "rb", buffering=0) as f:
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            except OSError:
                pass
        if os.fstat(f.fileno()).st_size <= 2 * CHUNK:
            return hash_stream(f, buf, progress, stop)
        return _hash_read_ahead(f, buf, progress, stop)


def _hash_read_ahead(f, buf: bytearray, progress, stop) -> str:
    from concurrent.futures import ThreadPoolExecutor

    other = getattr(_tls, "other", None)
    if other is None:
        other = _tls.other = bytearray(CHUNK)
    bufs = (buf, other)
    turn = [0]
    with ThreadPoolExecutor(1, thread_name_prefix="stager-read") as pool:
        ahead = [pool.submit(f.readinto, bufs[0])]

        def read():
            n = ahead[0].result()
            this = bufs[turn[0] % 2]
            turn[0] += 1
            if n:
                ahead[0] = pool.submit(f.readinto, bufs[turn[0] % 2])
            return memoryview(this)[:n]

        return hash_chunks(read, progress=progress, stop=stop)[0]


def fsync_dir(folder) -> None:
    """Make a rename or creation in ``folder`` durable. A file system that cannot fsync
    a folder (errno in :data:`FSYNC_UNSUPPORTED`) and Windows (no folder handles here)
    are not failures; any other error is raised."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fsync_folder_fd(fd)
    finally:
        os.close(fd)


def fsync_folder_fd(fd: int, fsync=None) -> None:
    """fsync an open folder, the one policy for every folder (the catalog's, a card's):
    an errno of :data:`FSYNC_UNSUPPORTED` is not a failure; any other error is raised.
    ``fsync``: the system's strongest flush (stager.card.durable.fsync_fd on a card)."""
    try:
        (fsync or os.fsync)(fd)
    except OSError as e:
        if e.errno not in FSYNC_UNSUPPORTED:
            raise


def path_key(path) -> str:
    """A short file name standing for ``path`` (24 hex digits of the SHA-256 of its bytes),
    for a file that must be found again from the path alone (stager.card.lock's hold)."""
    return hashlib.sha256(os.fsencode(path)).hexdigest()[:24]


def is_under(path: str, root: str) -> bool:
    """True when the (already resolved) ``path`` is ``root`` or inside it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# --------------------------------------------------------------------------- kinds of files
_KINDS = (
    (stat.S_ISDIR, N_("a folder")),
    (stat.S_ISFIFO, N_("a FIFO (named pipe)")),
    (stat.S_ISCHR, N_("a character device")),
    (stat.S_ISBLK, N_("a block device")),
    (stat.S_ISSOCK, N_("a socket")),
)
_OTHER_KIND = N_("not a regular file")


def kind_of(mode: int) -> str:
    """'a regular file', 'a folder', 'a FIFO (named pipe)', ... for a stat mode, in the
    user's language."""
    if stat.S_ISREG(mode):
        return _("a regular file")
    return _(next((name for test, name in _KINDS if test(mode)), _OTHER_KIND))


class NotRegularFile(OSError):
    """A path that should be a regular file is something else (never opened to read).
    An OSError, so that code reporting ``e.strerror`` words it like any other error."""

    def __init__(self, path, kind: str):
        # TRANSLATORS: {kind} is "a folder", "a FIFO (named pipe)", "a block device"...
        super().__init__(errno.EINVAL, _("it is {kind}, not a regular file").format(kind=kind), str(path))
        self.kind = kind


class FileTooLarge(OSError):
    """A file read whole is larger than its limit (never read past the limit)."""

    def __init__(self, path, limit: int):
        text = _("it is larger than {limit} bytes, more than such a file can be").format(limit=format_int(limit))
        super().__init__(errno.EFBIG, text, str(path))
        self.limit = limit


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


def read_regular(path, limit: int | None = None) -> bytes:
    """The bytes of the regular file at ``path`` (symbolic links followed).

    Raises :class:`NotRegularFile` for a FIFO, device, socket or folder (checked before
    opening, and again on the open file), :class:`FileTooLarge` past ``limit`` bytes, and
    the system's OSError otherwise (FileNotFoundError for a missing file)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(path, kind_of(st.st_mode))
    fd = os.open(path, _OPEN_FLAGS)  # O_NONBLOCK: a FIFO swapped in meanwhile cannot block the open
    with os.fdopen(fd, "rb", buffering=0) as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, kind_of(st.st_mode))
        chunks, total = [], 0
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if limit is not None and total > limit:
                raise FileTooLarge(path, limit)
            chunks.append(chunk)
    return b"".join(chunks)


def path_kind(path) -> str:
    """'missing', 'dir', 'file' or the kind of anything else at ``path`` (links
    followed; a broken link is 'missing'). The system's other errors (ENAMETOOLONG,
    ENOTCONN, EACCES, ENOTDIR on a part of the path that is a file...) are raised."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "missing"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISREG(st.st_mode):
        return "file"
    return kind_of(st.st_mode)


# --------------------------------------------------------------------------- wording errors
#: errno -> the sentence after "{path}: " (named placeholders only).
_SENTENCES = {
    errno.ENAMETOOLONG: N_(
        "the name is too long for this system (a name over 255 characters, or a path too long). Use a shorter name."
    ),
    errno.ENOTCONN: N_(
        "the medium mounted there no longer answers (it was removed, or its driver stopped). "
        "Unmount it, insert the card again and retry."
    ),
    # A FUSE mount whose driver died answers ENOTCONN, or ECONNABORTED once the kernel aborted it.
    errno.ECONNABORTED: N_(
        "the medium mounted there no longer answers (it was removed, or its driver stopped). "
        "Unmount it, insert the card again and retry."
    ),
    errno.EACCES: N_("permission denied. Check that your user may use it, or choose another place."),
    errno.EPERM: N_(
        "the system does not allow this operation (permission or a locked file). "
        "Check the file is not locked or in use, or choose another place."
    ),
    errno.ENOTDIR: N_("a part of this path is a file, not a folder. Check the path."),
    errno.ELOOP: N_("it is a loop of symbolic links. Check the path."),
    errno.EIO: N_("input/output error: the medium may be damaged or was removed. Check it and retry."),
    errno.EROFS: N_("the file system is read-only. Unlock the card (its lock switch) or remount it read-write."),
    errno.ENOSPC: N_("no space is left on that medium. Free some space or use another medium."),
    errno.EBUSY: N_("it is busy (in use by another program). Close that program and retry."),
    errno.ENOENT: N_("it does not exist. Check the path."),
    errno.EISDIR: N_("it is a folder, where a file is expected. Check the path."),
}


#: errno -> a short phrase for what the system said, in the user's language (the C
#: library's strerror is English whatever the locale, and only on some systems translated).
_REASONS = {
    errno.EPERM: N_("operation not permitted"),
    errno.ENOENT: N_("no such file or folder"),
    errno.EIO: N_("input/output error"),
    errno.ENXIO: N_("no such device or address"),
    errno.E2BIG: N_("argument list too long"),
    errno.EBADF: N_("bad file descriptor"),
    errno.EAGAIN: N_("resource temporarily unavailable"),
    errno.ENOMEM: N_("not enough memory"),
    errno.EACCES: N_("permission denied"),
    errno.EBUSY: N_("device or resource busy"),
    errno.EEXIST: N_("the file exists"),
    errno.EXDEV: N_("a link across file systems"),
    errno.ENODEV: N_("no such device"),
    errno.ENOTDIR: N_("not a folder"),
    errno.EISDIR: N_("it is a folder"),
    errno.EINVAL: N_("invalid argument"),
    errno.ENFILE: N_("too many open files in the system"),
    errno.EMFILE: N_("too many open files"),
    errno.ETXTBSY: N_("the file is busy"),
    errno.EFBIG: N_("the file is too large"),
    errno.ENOSPC: N_("no space left on the medium"),
    errno.EROFS: N_("read-only file system"),
    errno.ENAMETOOLONG: N_("the name is too long"),
    errno.ENOTEMPTY: N_("the folder is not empty"),
    errno.ELOOP: N_("too many levels of symbolic links"),
    errno.ENOTCONN: N_("the medium no longer answers"),
    errno.ECONNABORTED: N_("the medium no longer answers"),
    errno.ESTALE: N_("the medium was replaced or removed"),
    errno.ETIMEDOUT: N_("the medium did not answer in time"),
    errno.EOPNOTSUPP: N_("the operation is not supported by this file system"),
    errno.EDQUOT: N_("the disk quota is exceeded"),
}


def os_reason(e: BaseException) -> str:
    """What the system said of ``e``, as a short phrase in the user's language (to go
    inside a sentence: "cannot read {path}: {error}."). An errno stager has no words for is
    named by its symbol (``EHWPOISON``) beside the system's own text."""
    number = getattr(e, "errno", None)
    if isinstance(e, NotRegularFile | FileTooLarge):
        return e.strerror or str(e)  # stager's own words, translated where raised
    if isinstance(e, OSError) and number in _REASONS:
        return _(_REASONS[number])
    if isinstance(e, OSError) and number is not None:
        # TRANSLATORS: an error of the system stager has no words for: its symbol, then the system's text.
        return _("system error {code} ({text})").format(code=errno.errorcode.get(number, number), text=e.strerror or e)
    return str(e)


def os_error_text(e: OSError, path=None) -> str:
    """One sentence for an OSError met on ``path`` (default: the error's own file name)."""
    where = path if path is not None else (e.filename if e.filename is not None else "")
    plain = e.errno is not None and not isinstance(e, NotRegularFile | FileTooLarge)
    sentence = _SENTENCES.get(e.errno) if plain and e.errno is not None else None
    if sentence is not None:
        sentence = _(sentence)
    elif plain:
        # TRANSLATORS: what the system said (a short phrase), made a sentence.
        sentence = _("{reason}.").format(reason=os_reason(e))
    else:
        sentence = f"{e.strerror or e}."
    # TRANSLATORS: a path, then what went wrong there (a sentence).
    return _("{path}: {error}").format(path=where, error=sentence) if where != "" else sentence


# --------------------------------------------------------------------------- temporary folder
def temp_candidates(environ=None, windows: bool | None = None) -> list[str]:
    """The folders :func:`temp_folder` tries, in order, as :mod:`tempfile` lists them:
    ``TMPDIR``, ``TEMP``, ``TMP`` (when not empty), the system's own, the current folder."""
    env = os.environ if environ is None else environ
    windows = os.name == "nt" if windows is None else windows
    found = [env[name] for name in ("TMPDIR", "TEMP", "TMP") if env.get(name)]
    if windows:
        found += [
            os.path.expanduser(r"~\AppData\Local\Temp"),
            os.path.expandvars(r"%SYSTEMROOT%\Temp"),
            r"c:\temp",
            r"c:\tmp",
            r"\temp",
            r"\tmp",
        ]
    else:
        found += ["/tmp", "/var/tmp", "/usr/tmp"]
    try:
        found.append(os.getcwd())
    except OSError:
        found.append(os.curdir)
    return found


def temp_folder(environ=None, windows: bool | None = None) -> str:
    """The system's temporary folder, as :func:`tempfile.gettempdir` finds it: the first
    of :func:`temp_candidates` where a file can be created and written (a file of a
    random name, removed at once; a folder refusing it is skipped). Asked afresh on each
    call (tempfile keeps its first answer for the process). Written here rather than
    imported because tempfile imports shutil and random, and with them lzma and bz2:
    11 million instructions of a 1 KiB staging's 290 for one path (tests/card/test_temp_folder.py
    compares the two). :class:`FileNotFoundError` when no folder takes a file."""
    windows = os.name == "nt" if windows is None else windows
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    candidates = temp_candidates(environ, windows)
    for folder in candidates:
        if folder != os.curdir:
            folder = os.path.abspath(folder)
        for _attempt in range(100):  # another name when one is taken
            probe = os.path.join(folder, f"tmp{os.urandom(6).hex()}")
            try:
                fd = os.open(probe, flags, 0o600)
                try:
                    try:
                        os.write(fd, b"blat")
                    finally:
                        os.close(fd)
                finally:
                    os.unlink(probe)
                return folder
            except FileExistsError:
                continue
            except PermissionError:
                # Windows: also what a folder of the chosen name gives
                if windows and os.path.isdir(folder) and os.access(folder, os.W_OK):
                    continue
                break
            except OSError:
                break
    raise FileNotFoundError(errno.ENOENT, f"No usable temporary directory found in {candidates}")
