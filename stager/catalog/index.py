"""The catalog's index and hashing: SHA256SUMS read and written in GNU coreutils'
format (``sha256sum -c`` checks it), files hashed through reused buffers, and the
reports of ``stager catalog index`` and ``verify``. Part of :mod:`stager.catalog.folder`,
which re-exports every public name here."""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path

from stager.catalog.model import CatalogFile, Entry, Problem
from stager.errors import CatalogError
from stager.fileio import fsync_dir, hash_file, os_reason, read_regular
from stager.i18n import N_, _, ngettext
from stager.quoting import command
from stager.value import value

ENV = "STAGER_CATALOG"
INDEX_NAME = "SHA256SUMS"
INDEX_HINT = N_("run 'stager catalog index' once you have checked where the file comes from")


# --------------------------------------------------------------------------- SHA256SUMS
@value
class IndexLine:
    line: int
    sha256: str  # lower-case hex
    relpath: str


@value
class BadLine:
    """A line of SHA256SUMS that is not used; the file it names (if any) is blocked."""

    line: int
    code: str  # malformed, bad-hash, absolute-path, unsafe-path, duplicate-path, outside-catalog, index-itself
    message: str
    relpath: str | None = None

    def to_json(self) -> dict:
        return {"line": self.line, "code": self.code, "message": self.message, "path": self.relpath}


_LINE = re.compile(rb"^(\\?)(\S+) ([ *])(.*)$", re.S)
_TAG = re.compile(rb"^(\\?)SHA256 \((.+)\) = ([0-9a-fA-F]{64})$", re.S)
_ONE_SPACE = re.compile(rb"^[0-9a-fA-F]{64} ([^ *].*)$", re.S)
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_EXCLUDED_SUFFIXES = (".sha256", ".minisig", ".tmp", ".part", ".partial", ".crdownload", "~")


def _unescape(raw: bytes) -> bytes | None:
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i : i + 1] == b"\\":
            nxt = {b"\\": b"\\", b"n": b"\n", b"r": b"\r"}.get(raw[i + 1 : i + 2])
            if nxt is None:
                return None
            out += nxt
            i += 2
        else:
            out += raw[i : i + 1]
            i += 1
    return bytes(out)


def _clean_path(text: str) -> tuple[str | None, tuple[str, str] | None]:
    if text.startswith("/"):
        why = _("'{path}' is an absolute path: paths are relative to the catalog folder").format(path=text)
        return None, ("absolute-path", why)
    parts = text.split("/")
    if ".." in parts:
        return None, (
            "unsafe-path",
            _("'{path}' climbs out with '..': paths must stay inside the catalog").format(path=text),
        )
    parts = [p for p in parts if p not in ("", ".")]
    if not parts:
        return None, ("malformed", _("'{path}' names no file").format(path=text))
    relpath = "/".join(parts)
    if relpath == INDEX_NAME:
        return relpath, ("index-itself", _("the index cannot list itself ({index})").format(index=INDEX_NAME))
    return relpath, None


def parse_index(data: bytes) -> tuple[list[IndexLine], list[BadLine]]:
    """Lines of a SHA256SUMS file (GNU format, text ' ' or binary '*' marker, '\\'-escaped
    names, CRLF, '#' comments and blank lines accepted) -> (good lines, bad lines)."""
    good: list[IndexLine] = []
    bad: list[BadLine] = []
    seen: dict[str, int] = {}
    for num, raw in enumerate(data.split(b"\n"), 1):
        raw = raw[:-1] if raw.endswith(b"\r") else raw
        if not raw.strip() or raw.startswith(b"#"):
            continue
        m, tag = _LINE.match(raw), _TAG.match(raw)
        if tag:  # sha256sum --tag: "SHA256 (path) = <hash>", which sha256sum -c also reads
            escaped, path, digest = tag.group(1), tag.group(2), tag.group(3)
        elif m and m.group(4):
            escaped, digest, path = m.group(1), m.group(2), m.group(4)
        else:
            one = _ONE_SPACE.match(raw)
            relpath = _clean_path(os.fsdecode(one.group(1)))[0] if one else None
            why = (
                _("one space between the checksum and the path: sha256sum writes two ('<hash>  <path>')")
                if one
                else _("not '<64 hex digits>  <path>': {line}").format(line=repr(raw[:60].decode("utf-8", "replace")))
            )
            bad.append(BadLine(num, "malformed", why, relpath))
            continue
        path = _unescape(path) if escaped else path
        if path is None:
            bad.append(BadLine(num, "malformed", _("a '\\' escape in the path is not \\\\, \\n or \\r")))
            continue
        relpath, problem = _clean_path(os.fsdecode(path))
        if problem or relpath is None:
            code, why = problem or ("malformed", _("no path"))
            bad.append(BadLine(num, code, why, relpath))
            continue
        digest = digest.decode("ascii", "replace")
        if relpath in seen:
            why = _("{path} is already on line {line}").format(path=relpath, line=seen[relpath])
            bad.append(BadLine(num, "duplicate-path", why, relpath))
            continue
        seen[relpath] = num
        if not _HEX64.match(digest):
            why = _("the checksum of {path} is not 64 hexadecimal digits").format(path=relpath)
            bad.append(BadLine(num, "bad-hash", why, relpath))
            continue
        good.append(IndexLine(num, digest.lower(), relpath))
    return good, bad


def format_index_line(sha256: str, relpath: str) -> bytes:
    """One line as GNU sha256sum writes it (names holding '\\' or a newline escaped)."""
    raw = os.fsencode(relpath)
    if any(c in raw for c in (b"\\", b"\n", b"\r")):
        raw = raw.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
        return b"\\" + sha256.encode("ascii") + b"  " + raw + b"\n"
    return sha256.encode("ascii") + b"  " + raw + b"\n"


def excluded_from_index(relpath: str) -> str | None:
    """Why ``index`` gives no line to this file, or None. Every other regular file is
    indexed, firmware or not: the index records everything received, and `verify` (or
    `sha256sum -c`) then checks all of it; a name that is not usable stays unusable."""
    name = relpath.rsplit("/", 1)[-1]
    if name == INDEX_NAME:
        return "another checksum list"
    if name.lower().endswith(".minisig"):
        return "a signature"
    if name.startswith("."):
        return "a hidden file"
    if name.lower().endswith(_EXCLUDED_SUFFIXES):
        return "a checksum sidecar or an unfinished download"
    return None


def write_atomic(path: Path, data: bytes, expect: bytes | None = None) -> None:
    """Write ``path`` through a temporary file (fsync, rename, fsync of the folder).
    With ``expect``, refuse when the file no longer holds those bytes (changed meanwhile)."""
    folder = path.parent
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o644
    try:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if expect is not None and (read_regular(path) if os.path.lexists(path) else b"") != expect:
            raise CatalogError(
                _("{path} changed while stager was indexing: run the command again.").format(path=path),
                code="index-changed",
            )
        os.replace(tmp, path)
    except OSError as e:
        raise CatalogError(
            _("cannot write {path}: {error}. Is the catalog folder writable?").format(path=path, error=os_reason(e)),
            code="index-not-written",
        ) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    try:
        fsync_dir(folder)
    except OSError as e:
        raise CatalogError(
            _("{path} was written but its folder could not be flushed ({error}): run the command again.").format(
                path=path, error=os_reason(e)
            ),
            code="index-not-written",
        ) from None


# --------------------------------------------------------------------------- hashing
def hash_many(paths, progress=None, workers: int | None = None) -> dict:
    """{path: hex digest or the OSError met}, a few files at a time (hashlib releases the
    GIL, so threads overlap reading and hashing). Ctrl-C stops every worker."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    paths = list(dict.fromkeys(paths))
    results: dict = {}
    if progress is not None:
        lock, report = threading.Lock(), progress

        def progress(n):
            with lock:
                report(n)

    stop = threading.Event()

    def one(p):
        try:
            return hash_file(p, progress, stop)
        except OSError as e:
            return e

    workers = min(workers or 4, os.cpu_count() or 1, len(paths))
    if workers <= 1:
        return {p: one(p) for p in paths}
    pool = ThreadPoolExecutor(workers)
    try:
        futures = {pool.submit(one, p): p for p in paths}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results


@value
class FileCheck:
    path: str
    line: int | None
    expected: str | None
    actual: str | None
    size: int
    status: str  # ok, damaged, unreadable, added
    why: str

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "status": self.status,
            "bytes": self.size,
            "expected": self.expected,
            "actual": self.actual,
            "why": self.why,
        }


def _check(e: Entry, line: IndexLine, got) -> FileCheck:
    if not isinstance(got, str):
        return FileCheck(
            e.relpath,
            line.line,
            line.sha256,
            None,
            e.size,
            "unreadable",
            _("cannot read it ({error})").format(error=os_reason(got)),
        )
    if got != line.sha256:
        return FileCheck(
            e.relpath,
            line.line,
            line.sha256,
            got,
            e.size,
            "damaged",
            _("its content does not match line {line} of {index}: never staged").format(
                line=line.line, index=INDEX_NAME
            ),
        )
    return FileCheck(e.relpath, line.line, line.sha256, got, e.size, "ok", "")


def _failure(damaged, unreadable, missing, bad_lines, malformed=()) -> CatalogError | None:
    if damaged:
        text = ngettext(
            "{n} file no longer matches its line in {index}: {files}. It is never staged: get it again from its "
            "source.",
            "{n} files no longer match their line in {index}: {files}. They are never staged: get them again "
            "from their source.",
            len(damaged),
        )
        return CatalogError(
            text.format(n=len(damaged), index=INDEX_NAME, files=", ".join(c.path for c in damaged)), code="damaged"
        )
    if malformed:
        text = ngettext(
            "{n} file is not whole or not well formed: {problems}. It gets no line in {index} and is never staged: "
            "get it again from its source.",
            "{n} files are not whole or not well formed: {problems}. They get no line in {index} and are never "
            "staged: get them again from their source.",
            len(malformed),
        )
        problems = "; ".join(m.message for m in malformed)
        return CatalogError(text.format(n=len(malformed), problems=problems, index=INDEX_NAME), code="malformed")
    if missing:
        text = ngettext(
            "{n} file named in {index} is missing: {files}.",
            "{n} files named in {index} are missing: {files}.",
            len(missing),
        )
        files = ", ".join(p.path for p in missing)
        return CatalogError(text.format(n=len(missing), index=INDEX_NAME, files=files), code="missing")
    if unreadable:
        text = ngettext("{n} file cannot be read: {files}.", "{n} files cannot be read: {files}.", len(unreadable))
        files = ", ".join(c.path for c in unreadable)
        return CatalogError(text.format(n=len(unreadable), files=files), code="unreadable")
    if bad_lines:
        text = ngettext(
            "{n} bad line in {index}: {lines} (the file it names is never used).",
            "{n} bad lines in {index}: {lines} (the files they name are never used).",
            len(bad_lines),
        )
        lines = ", ".join(str(b.line) for b in bad_lines)
        return CatalogError(text.format(n=len(bad_lines), index=INDEX_NAME, lines=lines), code="bad-index-line")
    return None


@value
class VerifyReport:
    catalog: str
    checks: tuple[FileCheck, ...]
    missing: tuple[Problem, ...]
    bad_lines: tuple[BadLine, ...]
    not_indexed: tuple[str, ...]
    malformed: tuple = ()  # StructureProblem: indexed files that are not whole or well formed

    @property
    def damaged(self):
        return [c for c in self.checks if c.status == "damaged"]

    @property
    def unreadable(self):
        return [c for c in self.checks if c.status == "unreadable"]

    def error(self) -> CatalogError | None:
        """The exit-4 error this report means, or None when every indexed file is sound."""
        return _failure(self.damaged, self.unreadable, self.missing, self.bad_lines, self.malformed)

    @property
    def ok(self) -> bool:
        return self.error() is None

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "catalog": self.catalog,
            "checked": len(self.checks),
            "bytes": sum(c.size for c in self.checks),
            "files": [c.to_json() for c in self.checks],
            "damaged": [c.path for c in self.damaged],
            "unreadable": [c.path for c in self.unreadable],
            "missing": [p.to_json() for p in self.missing],
            "bad_lines": [b.to_json() for b in self.bad_lines],
            "not_indexed": list(self.not_indexed),
            "malformed": [m.to_json() for m in self.malformed],
        }


@value
class IndexReport:
    catalog: str
    added: tuple[FileCheck, ...]
    checked: tuple[FileCheck, ...]  # files that already had a line (and unreadable new ones)
    bad_lines: tuple[BadLine, ...]
    missing: tuple[Problem, ...]
    excluded: tuple[str, ...]  # given no line by policy (hidden, sidecars, unfinished)
    blocked: tuple[str, ...]  # named on a bad line: not indexed again
    written: bool
    malformed: tuple = ()  # StructureProblem: given no line (new) or to be replaced (indexed)
    signature: str | None = None  # "stale": SHA256SUMS.minisig no longer matches what was written

    @property
    def damaged(self):
        return [c for c in self.checked if c.status == "damaged"]

    @property
    def unreadable(self):
        return [c for c in self.checked if c.status == "unreadable"]

    def error(self) -> CatalogError | None:
        """Exit 4 for damaged, unreadable or malformed files (index cannot mend those)."""
        return _failure(self.damaged, self.unreadable, (), (), self.malformed)

    def to_json(self) -> dict:
        return {
            "ok": self.error() is None,
            "catalog": self.catalog,
            "written": self.written,
            "added": [{"path": c.path, "sha256": c.actual, "bytes": c.size} for c in self.added],
            "checked": len([c for c in self.checked if c.line is not None]),
            "damaged": [c.to_json() for c in self.damaged],
            "unreadable": [c.to_json() for c in self.unreadable],
            "bad_lines": [b.to_json() for b in self.bad_lines],
            "missing": [p.to_json() for p in self.missing],
            "excluded": list(self.excluded),
            "blocked": list(self.blocked),
            "malformed": [m.to_json() for m in self.malformed],
            "signature": self.signature,
        }


def content_mismatch(cf: CatalogFile, actual: str) -> CatalogError:
    """The error for a file whose bytes are not those of its index line (exit 4)."""
    return CatalogError(
        _(
            "{path} does not match line {line} of {index} (indexed {indexed}..., read {read}...): its content "
            "changed since it was indexed, so it is never staged. Get the file again from its source (or, if the "
            "new content is right, delete its line and run: {command})."
        ).format(
            path=cf.relpath,
            line=cf.line,
            index=INDEX_NAME,
            indexed=cf.sha256[:16],
            read=actual[:16],
            command=command("stager", "catalog", "index", "--catalog", _root_of(cf)),
        ),
        code="damaged",
    )


def _root_of(cf: CatalogFile) -> str:
    """The catalog folder a chosen file was found in."""
    parts = len(cf.relpath.split("/"))
    return str(Path(cf.path).parents[parts - 1])


def check_content(cf: CatalogFile, progress=None) -> str:
    """Hash a chosen file and compare with its index line; CatalogError 'damaged' (exit 4)."""
    try:
        actual = hash_file(cf.path, progress)
    except OSError as e:
        raise CatalogError(
            _("cannot read {path}: {error}.").format(path=cf.relpath, error=os_reason(e)), code="unreadable"
        ) from None
    if actual != cf.sha256:
        raise content_mismatch(cf, actual)
    return actual
