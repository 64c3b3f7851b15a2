"""The one read-and-hash loop: a file object streamed through a reused buffer."""

from __future__ import annotations

import hashlib


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
