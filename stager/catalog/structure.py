"""A firmware file's own structure, checked before it is indexed (and by `catalog verify`).

A checksum proves a file is the one indexed, not that what was indexed was whole: a
download cut short has a perfect checksum of its own. So before a file gets a line:

- any firmware file (``.bin``, ``.tar.gz``, ``.hex``): not empty;
- ``.tar.gz``: one complete gzip stream (zlib checks the CRC-32 and the length in its
  trailer), nothing after it, holding a tar that reads to its end, whose members are
  plain relative paths (no absolute path, no ``..``, no link leading out, no device);
- ``.hex``: Intel HEX: every line a record ``:LLAAAATT<data>CC`` whose checksum holds,
  known record types of the right length, exactly one end-of-file record, and nothing
  after it.

:func:`check_structure` returns None or a :class:`StructureProblem` (what and where).
"""

from __future__ import annotations

import os
import tarfile
import zlib

from stager.fileio import CHUNK
from stager.i18n import _
from stager.rules.names import firmware_format
from stager.value import value


@value
class StructureProblem:
    path: str
    what: str  # one sentence: what is wrong
    where: str  # "byte 1234", "line 17", "member 'a/b'"

    @property
    def message(self) -> str:
        return _("{path}: {problem} ({where})").format(path=self.path, problem=self.what, where=self.where)

    def to_json(self) -> dict:
        return {"path": self.path, "what": self.what, "where": self.where}


class _Bad(Exception):
    def __init__(self, what: str, where: str):
        super().__init__(what)
        self.what, self.where = what, where


def check_structure(path, relpath: str | None = None) -> StructureProblem | None:
    """None when the file's structure is sound for its kind (by its name), else the problem.
    Files that are not firmware names are not checked. OSError is left to the caller."""
    name = str(relpath or path)
    kind = firmware_format(name)
    if kind is None:
        return None
    try:
        if os.path.getsize(path) == 0:
            raise _Bad(_("the file is empty: an empty file is never firmware"), _("byte {n}").format(n=0))
        if kind == "tar.gz":
            check_targz(path)
        elif kind == "hex":
            check_hex(path)
    except _Bad as e:
        return StructureProblem(name, e.what, e.where)
    return None


# --------------------------------------------------------------------------- .tar.gz
class _GzipReader:
    """A read-only stream of the one gzip member of a file, raising _Bad at any fault.
    At most about one chunk of output is held at a time, however well the data compresses."""

    def __init__(self, f):
        self.f = f
        self.z = zlib.decompressobj(wbits=31)
        self.offset = 0  # compressed bytes read from the file so far
        self.pending = b""  # compressed bytes read but not yet inflated
        self.buf = b""
        self.pos = 0
        self.done = False

    def _input(self) -> None:
        chunk = self.f.read(CHUNK)
        if not chunk:
            raise _Bad(
                _("the gzip stream stops before its end: the file is cut short (an interrupted download?)"),
                _("byte {n}").format(n=self.offset),
            )
        self.offset += len(chunk)
        self.pending = chunk

    def _more(self) -> None:
        if not self.pending:
            self._input()
        try:
            out = self.z.decompress(self.pending, CHUNK)
        except zlib.error as e:
            why = str(e)
            what = (
                _("the gzip trailer does not match the data (CRC-32 or length): the file is damaged")
                if "check" in why
                else _("the gzip data is damaged (zlib: {why})").format(why=why)
            )
            where = _("within bytes {start} to {end}").format(start=self.offset - len(self.pending), end=self.offset)
            raise _Bad(what, where) from None
        self.pending = self.z.unconsumed_tail
        self.buf, self.pos = self.buf[self.pos :] + out, 0
        if self.z.eof:
            self.done = True
            if self.z.unused_data or self.f.read(1):
                raise _Bad(
                    _("there are bytes after the end of the gzip stream: one complete stream is expected"),
                    _("byte {n}").format(n=self.offset - len(self.z.unused_data)),
                )

    def read(self, n: int = -1) -> bytes:
        while not self.done and (n < 0 or len(self.buf) - self.pos < n):
            self._more()
        end = len(self.buf) if n < 0 else self.pos + n
        out = self.buf[self.pos : end]
        self.pos += len(out)
        return out

    def drain(self) -> None:
        while not self.done:
            self.buf, self.pos = b"", 0
            self._more()


def _member_problem(m: tarfile.TarInfo) -> str | None:
    name = m.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return _("the member '{name}' has an absolute path").format(name=name)
    if ".." in parts:
        return _("the member '{name}' climbs out of the archive with '..'").format(name=name)
    if m.issym() or m.islnk():
        target = m.linkname.replace("\\", "/")
        base = parts[:-1] if m.issym() else []
        depth = 0
        for p in [*base, *target.split("/")]:
            depth = depth - 1 if p == ".." else depth + (p not in ("", "."))
            if depth < 0:
                break
        if target.startswith("/") or depth < 0:
            return _("the link '{name}' points outside the archive ('{target}')").format(name=name, target=m.linkname)
    if m.ischr() or m.isblk() or m.isfifo():
        return _("the member '{name}' is a device or a pipe, not a file").format(name=name)
    return None


def check_targz(path) -> None:
    with open(path, "rb") as f:
        stream = _GzipReader(f)
        last = _("the start of the archive")
        try:
            with tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK) as tar:  # type: ignore[call-overload]
                for member in tar:
                    problem = _member_problem(member)
                    if problem:
                        raise _Bad(problem, _("member '{name}'").format(name=member.name))
                    last = _("member '{name}' or just after it").format(name=member.name)
        except tarfile.TarError as e:
            raise _Bad(_("the archive inside is not a readable tar ({error})").format(error=e), last) from None
        stream.drain()


# --------------------------------------------------------------------------- .hex
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_LENGTHS = {2: 2, 3: 4, 4: 2, 5: 4}  # record type -> its fixed data length


def _hex_record(raw: bytes, num: int) -> int:
    """The record type of one Intel HEX line, or _Bad."""
    where = _("line {n}").format(n=num)
    if not raw.startswith(b":"):
        raise _Bad(_("an Intel HEX record starts with ':'"), where)
    body = raw[1:]
    if len(body) < 10 or len(body) % 2 or not _HEX_DIGITS.issuperset(body):
        raise _Bad(_("not an Intel HEX record (an even count of hexadecimal digits, at least 10)"), where)
    data = bytes.fromhex(body.decode("ascii"))
    length, rtype = data[0], data[3]
    if len(data) != length + 5:
        raise _Bad(
            _("the record announces {length} data bytes but holds {held}").format(length=length, held=len(data) - 5),
            where,
        )
    if sum(data) & 0xFF:
        raise _Bad(
            _("the record's checksum is wrong ({found}, it should be {wanted})").format(
                found=f"0x{data[-1]:02X}", wanted=f"0x{-sum(data[:-1]) & 0xFF:02X}"
            ),
            where,
        )
    if rtype > 5:
        raise _Bad(_("unknown record type {type}").format(type=f"{rtype:02X}"), where)
    if rtype == 1 and length != 0:
        raise _Bad(_("an end-of-file record holds no data"), where)
    if rtype in _LENGTHS and length != _LENGTHS[rtype]:
        raise _Bad(
            _("a type {type} record holds {wanted} data bytes, not {length}").format(
                type=f"{rtype:02X}", wanted=_LENGTHS[rtype], length=length
            ),
            where,
        )
    return rtype


def check_hex(path) -> None:
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    end_line = None
    for num, raw in enumerate(lines, 1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        if end_line is not None:
            rtype = _hex_record(raw, num) if raw.startswith(b":") else None
            what = (
                _("a second end-of-file record (the end is on line {end})")
                if rtype == 1
                else _("data after the end-of-file record (the end is on line {end})")
            )
            raise _Bad(what.format(end=end_line), _("line {n}").format(n=num))
        if _hex_record(raw, num) == 1:
            end_line = num
    if end_line is None:
        raise _Bad(
            _("no end-of-file record (':00000001FF'): the file is cut short"), _("line {n}").format(n=len(lines))
        )
