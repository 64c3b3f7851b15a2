"""The base of every file operation stager makes: one read-and-hash loop, one buffer
size, one folder fsync, one "is this path inside that root" test.

Every layer above (catalog, card) streams and hashes through :func:`hash_stream`; no
other module imports hashlib for file contents.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading

#: One buffer size for every streamed read, copy and read-back (8 MiB).
CHUNK = 8 * 1024 * 1024

#: errno values of a file system that cannot fsync a folder (some FUSE ones): not a failure.
FSYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EBADF})


class Stopped(Exception):
    """Raised by :func:`hash_stream` when its ``stop`` event is set."""


def hash_stream(f, buf: bytearray, progress=None, stop=None) -> str:
    """SHA-256 (hex) of what ``f.readinto`` gives until EOF, through ``buf``.
    ``progress(n)`` is called with the bytes read after each chunk."""
    view = memoryview(buf)
    h = hashlib.sha256()
    while True:
        n = f.readinto(buf)
        if not n:
            break
        h.update(view[:n])
        if progress is not None:
            progress(n)
        if stop is not None and stop.is_set():
            raise Stopped()
    return h.hexdigest()


_tls = threading.local()


def hash_file(path, progress=None, stop=None) -> str:
    """SHA-256 of a file, hex, streamed through a reused buffer (one per thread).
    ``progress(n)`` is called with the bytes read after each chunk."""
    buf = getattr(_tls, "buf", None)
    if buf is None:
        buf = _tls.buf = bytearray(CHUNK)
    with open(path, "rb", buffering=0) as f:
        if hasattr(os, "posix_fadvise"):
            try:
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            except OSError:
                pass
        return hash_stream(f, buf, progress, stop)


def fsync_dir(folder) -> None:
    """Make a rename or creation in ``folder`` durable. A file system that cannot fsync
    a folder (errno in :data:`FSYNC_UNSUPPORTED`) and Windows (no folder handles here)
    are not failures; any other error is raised."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in FSYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def is_under(path: str, root: str) -> bool:
    """True when the (already resolved) ``path`` is ``root`` or inside it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
