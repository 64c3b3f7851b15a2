"""The fault engine of the faulty medium: one image file, read and written at byte offsets,
with faults chosen at run time. Pure Python (no FUSE): server.py serves it, and the engine
can be driven directly in a test.

A fault is a dict (it travels as JSON through the control file):

    {"kind": "drop"|"flip"|"eio"|"hang",
     "op": "read"|"write"|"any",     # which requests it looks at (drop: write, flip: read)
     "start": int, "end": int,       # only requests overlapping [start, end) of the image
     "match": "hex",                 # only requests whose data holds these bytes
                                     #   (write: the bytes written; read: the bytes stored)
     "after": int,                   # only once this many bytes of that op went by since the
                                     #   fault was set, inside [start, end) where given
                                     #   (drop: the first N bytes are stored)
     "times": int,                   # at most this many hits, then the fault is spent
     "offset": int, "at": int, "mask": int,   # flip: the image byte at offset, or the byte
                                              #   `at` past the start of `match`; XOR mask (1)
     "timeout": float, "then": "eio"|"pass"}  # hang: released by release() or after timeout
                                              #   seconds (30), then fails with EIO or passes

drop: the write is acknowledged and the bytes it covers (inside [start, end), past `after`)
are not stored. flip: the read returns a byte XOR mask; the image is unchanged. eio: the
request fails with EIO. hang: the request blocks until released.

The image may pretend to be bigger than it is (``apparent`` > the real size, a counterfeit
card): bytes past the real size wrap around onto the start (``beyond="wrap"``) or are lost
and read as zeros (``beyond="drop"``).

``reread_bytes`` counts the bytes read from 4 KiB blocks that had been written before (since
the engine started or its counters were reset): a read-back that reached the medium. Reads
of a block before it is written (a page cache's read-modify-write) do not count.
"""

from __future__ import annotations

import errno
import os
import threading
from typing import Any

BLOCK = 4096
KINDS = {"drop": "write", "flip": "read", "eio": "any", "hang": "any"}
KEYS = {"kind", "op", "start", "end", "match", "after", "times", "offset", "at", "mask", "timeout", "then"}
COUNTERS = (
    "reads",
    "writes",
    "read_bytes",
    "write_bytes",
    "stored_bytes",
    "dropped_bytes",
    "reread_bytes",
    "flipped",
    "eio",
    "hung",
    "hanging",
    "released",
    "timed_out",
)


class FaultError(ValueError):
    """A fault description that does not make sense."""


def check_fault(spec: dict) -> dict:
    """A validated copy of one fault, with its defaults filled in."""
    if not isinstance(spec, dict):
        raise FaultError(f"a fault is a JSON object, not {spec!r}")
    unknown = set(spec) - KEYS
    if unknown:
        raise FaultError(f"unknown fault keys: {sorted(unknown)}")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise FaultError(f"fault kind must be one of {sorted(KINDS)}, not {kind!r}")
    fault = {"op": KINDS[kind], **spec}
    if fault["op"] not in ("read", "write", "any"):
        raise FaultError(f"op must be read, write or any, not {fault['op']!r}")
    if kind in ("drop", "flip") and fault["op"] != KINDS[kind]:
        raise FaultError(f"a {kind} fault only applies to {KINDS[kind]}s")
    for key in ("start", "end", "after", "times", "offset", "at", "mask"):
        if key in fault and (not isinstance(fault[key], int) or fault[key] < 0):
            raise FaultError(f"{key} must be a whole number >= 0, not {fault[key]!r}")
    if "match" in fault:
        try:
            fault["match"] = bytes.fromhex(fault["match"])
        except (TypeError, ValueError) as e:
            raise FaultError(f"match must be hex digits: {e}") from None
        if not fault["match"]:
            raise FaultError("match must not be empty")
    if kind == "flip" and "offset" not in fault and "match" not in fault:
        raise FaultError("a flip fault needs an offset or a match")
    fault.setdefault("mask", 1)
    if not 0 < fault["mask"] < 256:
        raise FaultError("mask must be 1..255")
    fault.setdefault("timeout", 30.0)
    fault.setdefault("then", "eio")
    if fault["then"] not in ("eio", "pass"):
        raise FaultError(f"then must be eio or pass, not {fault['then']!r}")
    fault.update(hits=0, seen=0)
    if kind == "hang":
        fault["event"] = threading.Event()
    return fault


def public(fault: dict) -> dict:
    """A fault as JSON shows it (match as hex, no event)."""
    out = {k: v for k, v in fault.items() if k != "event"}
    if "match" in out:
        out["match"] = out["match"].hex()
    return out


class Engine:
    """The image behind the served file: real size ``size`` bytes in ``path``, served as
    ``apparent`` bytes. Thread-safe: FUSE calls it from several threads."""

    def __init__(self, path: str, apparent: int | None = None, beyond: str = "wrap"):
        if beyond not in ("wrap", "drop"):
            raise FaultError(f"beyond must be wrap or drop, not {beyond!r}")
        self.fd = os.open(path, os.O_RDWR)
        self.size = os.fstat(self.fd).st_size
        self.apparent = apparent or self.size
        if self.apparent < self.size:
            raise FaultError("the apparent size cannot be smaller than the image")
        self.beyond = beyond
        self.lock = threading.Lock()
        self.faults: list[dict] = []
        self.stats = dict.fromkeys(COUNTERS, 0)
        self.written = bytearray(-(-self.apparent // BLOCK))  # 1 where a write was acknowledged

    def close(self) -> None:
        self.release()
        os.close(self.fd)

    # ---- control
    def set_faults(self, specs: list[dict]) -> None:
        faults = [check_fault(s) for s in specs]
        with self.lock:
            old, self.faults = self.faults, faults
        for f in old:  # nothing stays blocked on a fault that is gone
            if "event" in f:
                f["event"].set()

    def release(self) -> None:
        """Let every hung request go on, and disarm the hang faults."""
        with self.lock:
            hangs = [f for f in self.faults if f["kind"] == "hang"]
            self.faults = [f for f in self.faults if f["kind"] != "hang"]
        for f in hangs:
            f["event"].set()

    def reset_stats(self) -> None:
        with self.lock:
            hanging = self.stats["hanging"]  # requests still blocked stay counted
            self.stats = dict.fromkeys(COUNTERS, 0)
            self.stats["hanging"] = hanging
            self.written = bytearray(len(self.written))

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "size": self.size,
                "apparent": self.apparent,
                "beyond": self.beyond,
                "stats": dict(self.stats),
                "faults": [public(f) for f in self.faults],
            }

    # ---- the image, real bytes
    def _pieces(self, offset: int, length: int):
        """(image offset, length) pieces of an apparent range: wrapped, or None past the real size."""
        pos, end = offset, offset + length
        while pos < end:
            if pos < self.size:
                n = min(end, self.size) - pos
                yield pos, pos, n
            elif self.beyond == "wrap":
                real = pos % self.size
                n = min(end - pos, self.size - real)
                yield pos, real, n
            else:
                n = end - pos
                yield pos, None, n
            pos += n

    def _pread(self, offset: int, length: int) -> bytes:
        out = bytearray()
        for _, real, n in self._pieces(offset, length):
            out += os.pread(self.fd, n, real) if real is not None else bytes(n)
        return bytes(out)

    def _pwrite(self, data: bytes, offset: int, keep: list[tuple[int, int]]) -> int:
        """Store the parts of data inside the keep ranges (offsets relative to data)."""
        stored = 0
        for lo, hi in keep:
            for pos, real, n in self._pieces(offset + lo, hi - lo):
                if real is not None:
                    os.pwrite(self.fd, data[pos - offset : pos - offset + n], real)
                    stored += n
        return stored

    # ---- requests
    def read(self, offset: int, size: int) -> bytes:
        size = max(0, min(size, self.apparent - offset))
        data = bytearray(self._pread(offset, size))
        self._gate("read", offset, bytes(data))
        with self.lock:
            for f in self.faults:
                if f["kind"] == "flip" and self._hits(f, "read", offset, bytes(data)):
                    pos = f["offset"] - offset if "offset" in f else bytes(data).find(f["match"]) + f["at"]
                    if 0 <= pos < len(data):
                        data[pos] ^= f["mask"]
                        self.stats["flipped"] += 1
            self.stats["reads"] += 1
            self.stats["read_bytes"] += len(data)
            self.stats["reread_bytes"] += self._written_bytes(offset, len(data))
        return bytes(data)

    def _written_bytes(self, offset: int, length: int) -> int:
        """How many bytes of [offset, offset+length) lie in blocks written before. Lock held."""
        total, pos, end = 0, offset, offset + length
        while pos < end:
            block_end = min(end, (pos // BLOCK + 1) * BLOCK)
            if self.written[pos // BLOCK]:
                total += block_end - pos
            pos = block_end
        return total

    def write(self, data: bytes, offset: int) -> int:
        if offset + len(data) > self.apparent:
            raise OSError(errno.ENOSPC, "past the end of the medium")
        self._gate("write", offset, data)
        keep = [(0, len(data))]
        with self.lock:
            for f in self.faults:
                if f["kind"] == "drop" and self._hits(f, "write", offset, data):
                    keep = _cut(keep, _drop_span(f, offset, len(data)))
            self.stats["writes"] += 1
            self.stats["write_bytes"] += len(data)
            first, last = offset // BLOCK, (offset + len(data) - 1) // BLOCK
            self.written[first : last + 1] = b"\x01" * (last - first + 1)
            for f in self.faults:
                if f["op"] in ("write", "any"):
                    f["seen"] += _overlap(f, offset, len(data))
        stored = self._pwrite(data, offset, keep)
        with self.lock:
            self.stats["stored_bytes"] += stored
            self.stats["dropped_bytes"] += len(data) - stored
        return len(data)

    def _hits(self, f: dict, op: str, offset: int, data: bytes) -> bool:
        """Does fault f apply to this request? Counts the hit. Called with the lock held."""
        if f["op"] not in (op, "any"):
            return False
        if "times" in f and f["hits"] >= f["times"]:
            return False
        start, end = f.get("start", 0), f.get("end", self.apparent)
        if f["kind"] == "flip" and "offset" in f:
            start, end = f["offset"], f["offset"] + 1
        if offset >= end or offset + len(data) <= start:
            return False
        if "match" in f and f["match"] not in data:
            return False
        if f["kind"] == "drop":
            if "after" in f and f["seen"] + _overlap(f, offset, len(data)) <= f["after"]:
                return False
        elif "after" in f and f["seen"] < f["after"]:
            return False
        f["hits"] += 1
        return True

    def _gate(self, op: str, offset: int, data: bytes) -> None:
        """EIO and hang faults, before the request touches the image."""
        with self.lock:
            for f in self.faults:
                if f["kind"] == "eio" and self._hits(f, op, offset, data):
                    self.stats["eio"] += 1
                    raise OSError(errno.EIO, "injected I/O error")
            hang = next((f for f in self.faults if f["kind"] == "hang" and self._hits(f, op, offset, data)), None)
            if op == "read":
                for f in self.faults:
                    if f["op"] in ("read", "any"):
                        f["seen"] += _overlap(f, offset, len(data))
            if hang is None:
                return
            self.stats["hung"] += 1
            self.stats["hanging"] += 1
        released = hang["event"].wait(hang["timeout"])
        with self.lock:
            self.stats["hanging"] -= 1
            self.stats["released" if released else "timed_out"] += 1
        if not released and hang["then"] == "eio":
            raise OSError(errno.EIO, "injected hang timed out")


def _overlap(f: dict, offset: int, length: int) -> int:
    """How many bytes of a request lie inside the fault's [start, end) (all, without one)."""
    lo, hi = max(offset, f.get("start", 0)), min(offset + length, f.get("end", offset + length))
    return max(0, hi - lo)


def _drop_span(f: dict, offset: int, length: int) -> tuple[int, int]:
    """The part of a write (relative to its start) that a drop fault loses."""
    lo, hi = 0, length
    if "start" in f:
        lo = max(lo, f["start"] - offset)
    if "end" in f:
        hi = min(hi, f["end"] - offset)
    if "after" in f:
        lo += max(0, f["after"] - f["seen"])
    if "match" in f:
        lo, hi = 0, length  # the whole request that carried the pattern
    return lo, max(lo, hi)


def _cut(keep: list[tuple[int, int]], span: tuple[int, int]) -> list[tuple[int, int]]:
    lo, hi = span
    out = []
    for a, b in keep:
        if hi <= a or lo >= b:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo))
        if hi < b:
            out.append((hi, b))
    return out
