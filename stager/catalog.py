"""The firmware catalog: a folder tree of firmware files and its ``SHA256SUMS`` index.

Opening a catalog scans it (names and sizes only, never contents): every file is
``usable``, ``not-indexed``, ``bad-index-line``, ``ambiguous``, ``unreadable``,
``inconsistent`` or ``unrecognised`` (and ``damaged`` once hashed by :meth:`Catalog.verify`). The index is
GNU coreutils' format (``sha256sum -c SHA256SUMS`` checks it); a bad line is named by
its number and blocks only the file it names. Symlinks pointing outside the catalog
and index paths that leave it are never followed or used.

:meth:`Catalog.select` turns an allowed rules decision into the one bundle (and the
terminal's ``.hex``); it does not read the files: the staging engine hashes while it
copies and compares with ``CatalogFile.sha256`` (or calls :func:`check_content`).

Duplicates: the same name (compared in canonical spelling) in several subfolders is
taken only when every copy is indexed with the same checksum: the bytes are then the
same and either copy will do (the first path in sort order is taken and the others
named in a note). Otherwise the name is ``ambiguous`` and selecting it fails with
``several-files``: two different contents claim to be one firmware file.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from stager import names
from stager.hashing import hash_stream
from stager.data import rules as _rules
from stager.errors import BadInput, CatalogError, Refused
from stager.names import BadName, ParsedName
from stager.rules import Reason

ENV = "STAGER_CATALOG"
INDEX_NAME = "SHA256SUMS"
INDEX_HINT = "run 'stager catalog index' once you have checked where the file comes from"


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Entry:
    """One scanned file."""

    relpath: str  # relative to the catalog root, with '/'
    path: Path
    bytes: int
    status: str
    why: str
    parsed: ParsedName | BadName
    sha256: str | None = None  # from its index line
    line: int | None = None
    duplicates: tuple[str, ...] = ()  # other paths with the same canonical name

    @property
    def name(self) -> str:
        return self.path.name

    def to_json(self) -> dict:
        p = self.parsed
        out = {"path": self.relpath, "name": self.name, "bytes": self.bytes, "status": self.status,
               "why": self.why, "sha256": self.sha256, "line": self.line,
               "duplicates": list(self.duplicates)}
        if p.ok:
            out.update(model=p.model, kit=p.kit, terminal=p.terminal, pack=p.pack, role=p.role,
                       format=p.format, canonical=p.name, rules=rules_cell(p))
        return out


@dataclass(frozen=True)
class CatalogFile:
    """A file chosen for staging: its index checksum is what the copy must match."""

    name: str
    relpath: str
    path: Path
    role: str  # "bundle" | "hex"
    bytes: int
    sha256: str
    parsed: ParsedName = field(compare=False, repr=False)
    line: int = field(default=0, compare=False)

    def to_json(self) -> dict:
        return {"name": self.name, "role": self.role, "bytes": self.bytes, "sha256": self.sha256,
                "path": self.relpath, "pack": self.parsed.pack}


@dataclass(frozen=True)
class Selection:
    """What :meth:`Catalog.select` chose; iterates as its files (bundle first)."""

    files: tuple[CatalogFile, ...]
    pack: str | None
    notes: tuple[Reason, ...] = ()

    def __iter__(self):
        return iter(self.files)

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return self.files[i]

    @property
    def bundle(self) -> CatalogFile:
        return self.files[0]

    @property
    def hex(self) -> CatalogFile | None:
        return next((f for f in self.files if f.role == "hex"), None)

    def to_json(self) -> dict:
        return {"files": [f.to_json() for f in self.files], "pack": self.pack,
                "notes": [n.to_json() for n in self.notes]}


@dataclass(frozen=True)
class Problem:
    """Something the scan could not use: a folder, a link, a line naming a missing file."""

    path: str
    why: str
    line: int | None = None

    def to_json(self) -> dict:
        return {"path": self.path, "why": self.why, "line": self.line}


def rules_cell(p: ParsedName) -> str:
    """What the rules say of a name's kit/terminal: ok, ko, forbidden, unknown-kit, unknown-terminal."""
    r = _rules()
    model = r.models[p.model]
    if p.terminal not in model.terminals:
        return "unknown-terminal"
    if p.kit is None:
        return "ok"
    if p.kit in r.forbidden_kits:
        return "forbidden"
    if p.kit not in model.kits:
        return "unknown-kit"
    return "ok" if model.cell(p.kit, p.terminal) else "ko"


# --------------------------------------------------------------------------- opening
def open_catalog(path=None, environ=None) -> Catalog:
    """The catalog at ``path``, else ``$STAGER_CATALOG``; scanned."""
    value = str(path) if path else (environ if environ is not None else os.environ).get(ENV, "")
    if not value.strip():
        raise BadInput(f"no catalog folder: give --catalog DIR or set {ENV}.", code="no-catalog")
    folder = Path(value).expanduser()
    if not folder.exists():
        raise CatalogError(f"the catalog folder {folder} does not exist: check --catalog or {ENV}.",
                           code="catalog-not-found")
    if not folder.is_dir():
        raise CatalogError(f"the catalog {folder} is not a folder: give the folder holding {INDEX_NAME}.",
                           code="catalog-not-found")
    return Catalog(folder)


def _inside(target: str, root_real: str) -> bool:
    return target == root_real or target.startswith(root_real.rstrip(os.sep) + os.sep)


class Catalog:
    """A scanned catalog folder. Attributes: ``root``, ``entries`` (sorted by path),
    ``bad_lines``, ``missing`` (good index lines naming no scanned file, as Problems),
    ``skipped`` (folders and links not used), ``index_present``, ``index_error``."""

    def __init__(self, root: Path):
        self.root = Path(os.path.abspath(root))
        self._real = os.path.realpath(self.root)
        self.skipped: list[Problem] = []
        self.index_present = False
        self.index_error: str | None = None
        self._index_bytes = b""
        files = self._walk()
        good, self.bad_lines = self._read_index()
        self.lines = {ln.relpath: ln for ln in good}
        self._blocked = {b.relpath: b for b in self.bad_lines if b.relpath}
        self.entries = self._classify(files, self._blocked)
        self.missing = self._unmatched_lines(good, {e.relpath for e in self.entries})

    # ------------------------------------------------------------------ scan
    def _walk(self) -> list[tuple[str, str, int, bool]]:
        files, stack = [], [("", str(self.root))]
        while stack:
            rel, folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    found = list(it)
            except OSError as e:
                if not rel:
                    raise CatalogError(f"cannot read the catalog folder {self.root}: {e.strerror or e}.",
                                       code="catalog-unreadable") from None
                self.skipped.append(Problem(rel, f"cannot read this folder ({e.strerror or e}): its files are not listed"))
                continue
            for de in found:
                relpath = f"{rel}/{de.name}" if rel else de.name
                if relpath == INDEX_NAME:
                    continue
                try:
                    if de.is_symlink():
                        target = os.path.realpath(de.path)
                        if not _inside(target, self._real):
                            self.skipped.append(Problem(relpath, f"a link to {target}, outside the catalog: never followed or used"))
                            continue
                        if os.path.isdir(target):
                            self.skipped.append(Problem(relpath, "a link to a folder of the catalog: not followed (its files are listed where they are)"))
                            continue
                        if not os.path.exists(target):
                            self.skipped.append(Problem(relpath, "a broken link"))
                            continue
                        st = os.stat(de.path)
                    elif de.is_dir(follow_symlinks=False):
                        if de.name.startswith("."):
                            self.skipped.append(Problem(relpath, "a hidden folder: not scanned"))
                        else:
                            stack.append((relpath, de.path))
                        continue
                    else:
                        st = de.stat(follow_symlinks=False)
                except OSError as e:
                    self.skipped.append(Problem(relpath, f"cannot read it ({e.strerror or e})"))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.skipped.append(Problem(relpath, "not a regular file"))
                    continue
                files.append((relpath, de.path, st.st_size, os.access(de.path, os.R_OK)))
        files.sort()
        self.skipped.sort(key=lambda p: p.path)
        return files

    def _read_index(self) -> tuple[list[IndexLine], list[BadLine]]:
        index = self.root / INDEX_NAME
        if not os.path.lexists(index):
            return [], []
        if index.is_symlink() and not _inside(os.path.realpath(index), self._real):
            self.index_error = f"{INDEX_NAME} is a link outside the catalog: not read"
            return [], []
        try:
            data = index.read_bytes()
        except OSError as e:
            self.index_error = f"cannot read {INDEX_NAME} ({e.strerror or e})"
            return [], []
        self.index_present = True
        self._index_bytes = data
        return parse_index(data)

    def _classify(self, files, blocked) -> tuple[Entry, ...]:
        entries, conv = [], names.convention()
        for relpath, path, size, readable in files:
            parsed = names.parse(relpath.rsplit("/", 1)[-1], conv)
            line = self.lines.get(relpath)
            sha, num = (line.sha256, line.line) if line else (None, None)
            if not parsed.ok:
                status, why = parsed.status, parsed.why
            elif not readable:
                status, why = "unreadable", "stager may not read this file (permissions): never used"
            elif relpath in blocked:
                b = blocked[relpath]
                status, why = "bad-index-line", f"named on bad line {b.line} of {INDEX_NAME} ({b.message}): never used until that line is mended"
            elif line is None:
                status, why = "not-indexed", f"no line in {INDEX_NAME}: not used until indexed ({INDEX_HINT})"
            else:
                status, why = "usable", ""
            entries.append(Entry(relpath, Path(path), size, status, why, parsed, sha, num))
        return self._mark_duplicates(entries)

    @staticmethod
    def _mark_duplicates(entries: list[Entry]) -> tuple[Entry, ...]:
        groups: dict[str, list[int]] = {}
        for i, e in enumerate(entries):
            if e.parsed.ok:
                groups.setdefault(e.parsed.name, []).append(i)
        for members in groups.values():
            if len(members) < 2:
                continue
            group = [entries[i] for i in members]
            same = all(e.status == "usable" for e in group) and len({e.sha256 for e in group}) == 1
            for i in members:
                e = entries[i]
                others = tuple(x.relpath for x in group if x is not e)
                status, why = e.status, e.why
                if not same and status == "usable":
                    status = "ambiguous"
                    why = (f"the same name is also at {', '.join(others)} with other or unchecked content: "
                           "never used until one copy is removed (or all are indexed with the same checksum)")
                elif same:
                    why = f"identical copy (same checksum in {INDEX_NAME}) of {', '.join(others)}"
                entries[i] = Entry(e.relpath, e.path, e.bytes, status, why, e.parsed, e.sha256, e.line, others)
        return tuple(entries)

    def _unmatched_lines(self, good: list[IndexLine], scanned: set[str]) -> tuple[Problem, ...]:
        missing = []
        skipped = {p.path for p in self.skipped}
        for ln in good:
            if ln.relpath in scanned:
                continue
            full = os.path.join(self.root, *ln.relpath.split("/"))
            if os.path.lexists(full) and not _inside(os.path.realpath(full), self._real):
                self.bad_lines.append(BadLine(ln.line, "outside-catalog",
                                              f"{ln.relpath} leads outside the catalog through a link: never used", ln.relpath))
            elif os.path.lexists(full) or ln.relpath in skipped:
                self.skipped.append(Problem(ln.relpath, "indexed, but in a folder or link the scan does not use", ln.line))
            else:
                missing.append(Problem(ln.relpath, f"named on line {ln.line} of {INDEX_NAME} but not in the catalog", ln.line))
        self.bad_lines.sort(key=lambda b: b.line)
        return tuple(missing)

    # ------------------------------------------------------------------ queries
    def files(self, status: str | None = None) -> list[Entry]:
        return [e for e in self.entries if status is None or e.status == status]

    def counts(self) -> dict:
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.status] = out.get(e.status, 0) + 1
        return out

    def select(self, decision, lang: str | None = None, hex: bool = False) -> Selection:
        """The one bundle for an allowed decision (model, kit, terminal), and with
        ``hex`` the terminal's .hex (same pack for a 3XX terminal). Raises CatalogError
        (exit 4): no-matching-file, several-files, not-indexed, bad-index-line."""
        return _select(self, decision, lang, hex)

    def to_json(self, model: str | None = None) -> dict:
        entries = [e for e in self.entries if model is None or not e.parsed.ok or e.parsed.model == model]
        rules = _rules()
        models = []
        for mid, m in rules.models.items():
            if model is not None and mid != model:
                continue
            rows = [e.to_json() for e in entries if e.parsed.ok and e.parsed.model == mid]
            models.append({"model": mid, "name": m.name, "files": rows})
        return {
            "catalog": str(self.root),
            "index": {"present": self.index_present, "error": self.index_error,
                      "lines": len(self.lines) + len(self.bad_lines)},
            "counts": self.counts(),
            "models": models,
            "inconsistent": [e.to_json() for e in entries if e.status == "inconsistent"],
            "unrecognised": [e.to_json() for e in entries if e.status == "unrecognised"],
            "bad_lines": [b.to_json() for b in self.bad_lines],
            "missing": [p.to_json() for p in self.missing],
            "skipped": [p.to_json() for p in self.skipped],
        }

    # ------------------------------------------------------------------ index, verify
    def _needs_line(self, e: Entry) -> bool:
        return e.relpath not in self.lines and e.relpath not in self._blocked and not excluded_from_index(e.relpath)

    def index(self, progress=None) -> IndexReport:
        """Add a line to SHA256SUMS for every file that has none (except the index itself,
        hidden files, sidecars and unfinished downloads); check every file that has one.
        Existing lines are kept byte for byte; a file whose content no longer matches its
        line is reported as damaged and never re-indexed. The catalog is rescanned after."""
        if self.index_error:
            raise CatalogError(f"{self.index_error}: no line can be added. Mend {self.root / INDEX_NAME} first.",
                               code="index-unreadable")
        new = [e for e in self.entries if self._needs_line(e)]
        old = [e for e in self.entries if e.relpath in self.lines]
        hashes = hash_many([e.path for e in new + old], progress)
        checked = tuple(_check(e, self.lines[e.relpath], hashes[e.path]) for e in old)
        added, unreadable = [], []
        for e in new:
            got = hashes[e.path]
            if isinstance(got, str):
                added.append(FileCheck(e.relpath, None, got, got, e.bytes, "added", ""))
            else:
                unreadable.append(FileCheck(e.relpath, None, None, None, e.bytes, "unreadable",
                                            f"cannot read it ({getattr(got, 'strerror', None) or got}): not indexed"))
        written = False
        if added:
            old_bytes = self._index_bytes if self.index_present else b""
            body = b"".join(format_index_line(c.actual, c.path) for c in sorted(added, key=lambda c: c.path))
            sep = b"\n" if old_bytes and not old_bytes.endswith(b"\n") else b""
            write_atomic(self.root / INDEX_NAME, old_bytes + sep + body, expect=old_bytes)
            written = True
        report = IndexReport(
            catalog=str(self.root), added=tuple(added), checked=checked + tuple(unreadable),
            bad_lines=tuple(self.bad_lines), missing=self.missing,
            excluded=tuple(e.relpath for e in self.entries
                           if e.relpath not in self.lines and excluded_from_index(e.relpath)),
            blocked=tuple(e.relpath for e in self.entries if e.relpath in self._blocked),
            written=written,
        )
        self.__init__(self.root)
        return report

    def verify(self, progress=None) -> VerifyReport:
        """Re-hash every indexed file and compare with its line."""
        old = [e for e in self.entries if e.relpath in self.lines]
        hashes = hash_many([e.path for e in old], progress)
        return VerifyReport(
            catalog=str(self.root),
            checks=tuple(_check(e, self.lines[e.relpath], hashes[e.path]) for e in old),
            missing=self.missing, bad_lines=tuple(self.bad_lines),
            not_indexed=tuple(e.relpath for e in self.entries if self._needs_line(e)),
        )

    def total_indexed_bytes(self) -> int:
        return sum(e.bytes for e in self.entries if e.relpath in self.lines)

    def bytes_to_index(self) -> int:
        """What :meth:`index` will read (for a progress bar's total)."""
        return sum(e.bytes for e in self.entries if e.relpath in self.lines or self._needs_line(e))


# --------------------------------------------------------------------------- SHA256SUMS
@dataclass(frozen=True)
class IndexLine:
    line: int
    sha256: str  # lower-case hex
    relpath: str


@dataclass(frozen=True)
class BadLine:
    """A line of SHA256SUMS that is not used; the file it names (if any) is blocked."""

    line: int
    code: str  # malformed, bad-hash, absolute-path, unsafe-path, duplicate-path, outside-catalog, index-itself
    message: str
    relpath: str | None = None

    def to_json(self) -> dict:
        return {"line": self.line, "code": self.code, "message": self.message, "path": self.relpath}


_LINE = re.compile(rb"^(\\?)(\S+) ([ *])(.*)$", re.S)
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_EXCLUDED_SUFFIXES = (".sha256", ".tmp", ".part", ".partial", ".crdownload", "~")


def _unescape(raw: bytes) -> bytes | None:
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i:i + 1] == b"\\":
            nxt = {b"\\": b"\\", b"n": b"\n", b"r": b"\r"}.get(raw[i + 1:i + 2])
            if nxt is None:
                return None
            out += nxt
            i += 2
        else:
            out += raw[i:i + 1]
            i += 1
    return bytes(out)


def _clean_path(text: str) -> tuple[str | None, tuple[str, str] | None]:
    if text.startswith("/"):
        return None, ("absolute-path", f"'{text}' is an absolute path: paths are relative to the catalog folder")
    parts = text.split("/")
    if ".." in parts:
        return None, ("unsafe-path", f"'{text}' climbs out with '..': paths must stay inside the catalog")
    parts = [p for p in parts if p not in ("", ".")]
    if not parts:
        return None, ("malformed", f"'{text}' names no file")
    relpath = "/".join(parts)
    if relpath == INDEX_NAME:
        return relpath, ("index-itself", f"the index cannot list itself ({INDEX_NAME})")
    return relpath, None


def parse_index(data: bytes) -> tuple[list[IndexLine], list[BadLine]]:
    """Lines of a SHA256SUMS file (GNU format, text ' ' or binary '*' marker, '\\'-escaped
    names, CRLF, '#' comments and blank lines accepted) -> (good lines, bad lines)."""
    good, bad, seen = [], [], {}
    for num, raw in enumerate(data.split(b"\n"), 1):
        raw = raw[:-1] if raw.endswith(b"\r") else raw
        if not raw.strip() or raw.startswith(b"#"):
            continue
        m = _LINE.match(raw)
        if not m or not m.group(4):
            bad.append(BadLine(num, "malformed", f"not '<64 hex digits>  <path>': {raw[:60].decode('utf-8', 'replace')!r}"))
            continue
        path = _unescape(m.group(4)) if m.group(1) else m.group(4)
        if path is None:
            bad.append(BadLine(num, "malformed", "a '\\' escape in the path is not \\\\, \\n or \\r"))
            continue
        relpath, problem = _clean_path(os.fsdecode(path))
        if problem:
            bad.append(BadLine(num, problem[0], problem[1], relpath))
            continue
        digest = m.group(2).decode("ascii", "replace")
        if relpath in seen:
            bad.append(BadLine(num, "duplicate-path", f"{relpath} is already on line {seen[relpath]}", relpath))
            continue
        seen[relpath] = num
        if not _HEX64.match(digest):
            bad.append(BadLine(num, "bad-hash", f"the checksum of {relpath} is not 64 hexadecimal digits", relpath))
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
        if expect is not None and (path.read_bytes() if path.exists() else b"") != expect:
            raise CatalogError(f"{path} changed while stager was indexing: run the command again.",
                               code="index-changed")
        os.replace(tmp, path)
    except OSError as e:
        raise CatalogError(f"cannot write {path}: {e.strerror or e}. Is the catalog folder writable?",
                           code="index-not-written") from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# --------------------------------------------------------------------------- hashing
CHUNK = 4 * 1024 * 1024
_tls = threading.local()


def hash_file(path, progress=None, _stop=None) -> str:
    """SHA-256 of a file, hex, streamed through a reused 4 MiB buffer (one per thread).
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
        return hash_stream(f, buf, progress, _stop)


def hash_many(paths, progress=None, workers: int | None = None) -> dict:
    """{path: hex digest or the OSError met}, a few files at a time (hashlib releases the
    GIL, so threads overlap reading and hashing). Ctrl-C stops every worker."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    paths = list(dict.fromkeys(paths))
    results: dict = {}
    if progress is not None:
        lock, report = threading.Lock(), progress

        def progress(n):  # noqa: F811 (serialise the callers' callback)
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


@dataclass(frozen=True)
class FileCheck:
    path: str
    line: int | None
    expected: str | None
    actual: str | None
    bytes: int
    status: str  # ok, damaged, unreadable, added
    why: str

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "status": self.status, "bytes": self.bytes,
                "expected": self.expected, "actual": self.actual, "why": self.why}


def _check(e: Entry, line: IndexLine, got) -> FileCheck:
    if not isinstance(got, str):
        return FileCheck(e.relpath, line.line, line.sha256, None, e.bytes, "unreadable",
                         f"cannot read it ({getattr(got, 'strerror', None) or got})")
    if got != line.sha256:
        return FileCheck(e.relpath, line.line, line.sha256, got, e.bytes, "damaged",
                         f"its content does not match line {line.line} of {INDEX_NAME}: never staged")
    return FileCheck(e.relpath, line.line, line.sha256, got, e.bytes, "ok", "")


def _failure(damaged, unreadable, missing, bad_lines) -> CatalogError | None:
    if damaged:
        return CatalogError(f"{len(damaged)} file(s) no longer match their line in {INDEX_NAME}: "
                            f"{', '.join(c.path for c in damaged)}. They are never staged: get them again "
                            "from their source.", code="damaged")
    if missing:
        return CatalogError(f"{len(missing)} file(s) named in {INDEX_NAME} are missing: "
                            f"{', '.join(p.path for p in missing)}.", code="missing")
    if unreadable:
        return CatalogError(f"{len(unreadable)} file(s) cannot be read: {', '.join(c.path for c in unreadable)}.",
                            code="unreadable")
    if bad_lines:
        return CatalogError(f"{len(bad_lines)} bad line(s) in {INDEX_NAME}: "
                            f"{', '.join(str(b.line) for b in bad_lines)} (the files they name are never used).",
                            code="bad-index-line")
    return None


@dataclass(frozen=True)
class VerifyReport:
    catalog: str
    checks: tuple[FileCheck, ...]
    missing: tuple[Problem, ...]
    bad_lines: tuple[BadLine, ...]
    not_indexed: tuple[str, ...]

    @property
    def damaged(self):
        return [c for c in self.checks if c.status == "damaged"]

    @property
    def unreadable(self):
        return [c for c in self.checks if c.status == "unreadable"]

    def error(self) -> CatalogError | None:
        """The exit-4 error this report means, or None when every indexed file is sound."""
        return _failure(self.damaged, self.unreadable, self.missing, self.bad_lines)

    @property
    def ok(self) -> bool:
        return self.error() is None

    def to_json(self) -> dict:
        return {"ok": self.ok, "catalog": self.catalog, "checked": len(self.checks),
                "bytes": sum(c.bytes for c in self.checks),
                "files": [c.to_json() for c in self.checks],
                "damaged": [c.path for c in self.damaged], "unreadable": [c.path for c in self.unreadable],
                "missing": [p.to_json() for p in self.missing],
                "bad_lines": [b.to_json() for b in self.bad_lines],
                "not_indexed": list(self.not_indexed)}


@dataclass(frozen=True)
class IndexReport:
    catalog: str
    added: tuple[FileCheck, ...]
    checked: tuple[FileCheck, ...]  # files that already had a line (and unreadable new ones)
    bad_lines: tuple[BadLine, ...]
    missing: tuple[Problem, ...]
    excluded: tuple[str, ...]  # given no line by policy (hidden, sidecars, unfinished)
    blocked: tuple[str, ...]  # named on a bad line: not indexed again
    written: bool

    @property
    def damaged(self):
        return [c for c in self.checked if c.status == "damaged"]

    @property
    def unreadable(self):
        return [c for c in self.checked if c.status == "unreadable"]

    def error(self) -> CatalogError | None:
        """Exit 4 for damaged or unreadable files (index cannot mend those)."""
        return _failure(self.damaged, self.unreadable, (), ())

    def to_json(self) -> dict:
        return {"ok": self.error() is None, "catalog": self.catalog, "written": self.written,
                "added": [{"path": c.path, "sha256": c.actual, "bytes": c.bytes} for c in self.added],
                "checked": len([c for c in self.checked if c.line is not None]),
                "damaged": [c.to_json() for c in self.damaged],
                "unreadable": [c.to_json() for c in self.unreadable],
                "bad_lines": [b.to_json() for b in self.bad_lines],
                "missing": [p.to_json() for p in self.missing],
                "excluded": list(self.excluded), "blocked": list(self.blocked)}


def content_mismatch(cf: CatalogFile, actual: str) -> CatalogError:
    """The error for a file whose bytes are not those of its index line (exit 4)."""
    return CatalogError(
        f"{cf.relpath} does not match line {cf.line} of {INDEX_NAME} (indexed {cf.sha256[:16]}..., "
        f"read {actual[:16]}...): its content changed since it was indexed, so it is never staged. "
        f"Get the file again from its source (or, if the new content is right, delete its line "
        f"and run 'stager catalog index').", code="damaged")


def check_content(cf: CatalogFile, progress=None) -> str:
    """Hash a chosen file and compare with its index line; CatalogError 'damaged' (exit 4)."""
    try:
        actual = hash_file(cf.path, progress)
    except OSError as e:
        raise CatalogError(f"cannot read {cf.relpath}: {e.strerror or e}.", code="unreadable") from None
    if actual != cf.sha256:
        raise content_mismatch(cf, actual)
    return actual


# --------------------------------------------------------------------------- selection
def _listing(items: list[str], limit: int = 6) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _catalog_file(e: Entry) -> CatalogFile:
    return CatalogFile(e.name, e.relpath, e.path, e.parsed.role, e.bytes, e.sha256, e.parsed, e.line or 0)


def _one(cat: Catalog, cands: list[Entry], notes: list) -> CatalogFile:
    """The file among same-named candidates (see the module's note on duplicates)."""
    cands = sorted(cands, key=lambda e: (e.relpath.count("/"), e.relpath))
    if all(c.status == "usable" for c in cands):
        first = cands[0]
        if len(cands) > 1:
            notes.append(Reason("identical-copies", f"{first.parsed.name} is in the catalog {len(cands)} times "
                                f"with the same checksum: took {first.relpath} (also {_listing([c.relpath for c in cands[1:]])})."))
        return _catalog_file(first)
    if len(cands) == 1:
        c = cands[0]
        if c.status == "not-indexed":
            raise CatalogError(
                f"{c.relpath} is in the catalog but has no line in {INDEX_NAME}, so it is not used: check "
                f"where it comes from, then run 'stager catalog index --catalog {cat.root}'.", code="not-indexed")
        raise CatalogError(f"{c.relpath}: {c.why}.", code=c.status)
    listed = [f"{c.relpath} ({c.status if c.status != 'ambiguous' else 'indexed'}"
              f"{', ' + c.sha256[:12] + '...' if c.sha256 else ''})" for c in cands]
    raise CatalogError(
        f"{len(cands)} files are named {cands[0].parsed.name}: {_listing(listed)}. They are not one "
        f"indexed content, so none is used: keep one copy (or index them all if they are the same file).",
        code="several-files", details={"files": [c.relpath for c in cands]})


def _usable_first(cands: list[Entry], packs: list) -> object:
    ok = {e.parsed.pack for e in cands if e.status == "usable"}
    return sorted(packs, key=lambda p: (p not in ok, p or ""))[0]


def _choose_pack(model, cands: list[Entry], wanted, notes: list, what: str):
    packs = sorted({e.parsed.pack for e in cands}, key=lambda p: p or "")
    shown = ", ".join(p or "(none)" for p in packs)
    if wanted is not None and wanted in packs:
        return wanted
    if len(packs) == 1 and (wanted is None or packs[0] is None):
        return packs[0]
    if not model.languages_matter:
        pick = _usable_first(cands, packs)
        others = [p for p in packs if p != pick]
        asked = f"no {wanted} pack; " if wanted else ""
        notes.append(Reason("any-pack", f"The language pack does not matter for the {model.name}: {asked}"
                            f"took {pick} for {what}" + (f" (the catalog also has {', '.join(others)})." if others else ".")))
        return pick
    files = [e.relpath for e in cands]
    if wanted is not None:
        hint = [p for p in packs if p and set(wanted.split("-")) <= set(p.split("-"))]
        tip = f" Pack {hint[0]} holds {wanted}: use --lang {hint[0]}." if hint else ""
        raise CatalogError(f"no {wanted} language pack of {what} for the {model.name}: the catalog has {shown} "
                           f"({_listing(files)}).{tip}", code="no-matching-file",
                           details={"packs": packs, "files": files})
    raise CatalogError(f"{what} for the {model.name} comes in {len(packs)} language packs: {shown} "
                       f"({_listing(files)}). Say which with --lang (for example --lang {packs[0]}).",
                       code="several-files", details={"packs": packs, "files": files})


def _no_match(cat: Catalog, model, what: str, expected: str, nearby: list[str]) -> CatalogError:
    near = f" Nearby: {'; '.join(nearby)}." if nearby else " Nothing like it in the catalog."
    return CatalogError(f"no file in the catalog {cat.root} for the {model.name}, {what}: expected {expected}.{near}",
                        code="no-matching-file", details={"expected": expected, "nearby": nearby})


def _nearby(cat: Catalog, model, role: str, kit, terminal, compatible=()) -> list[str]:
    ok = [e for e in cat.entries if e.parsed.ok and e.parsed.role == role]
    out = []
    if role == "bundle":
        same_kit = [f"{e.relpath} (terminal {e.parsed.terminal})" for e in ok
                    if e.parsed.model == model.id and e.parsed.kit == kit and e.parsed.terminal != terminal]
        if same_kit:
            allowed = sorted({e.parsed.terminal for e in ok if e.parsed.model == model.id and e.parsed.kit == kit
                              and e.parsed.terminal in compatible and e.parsed.terminal != terminal})
            tip = f" (the rules allow it: give --terminal {allowed[-1]} to take it)" if allowed else ""
            out.append(f"other terminals for kit {kit}: {_listing(same_kit)}{tip}")
        same_term = [e.relpath for e in ok if e.parsed.model == model.id and e.parsed.terminal == terminal
                     and e.parsed.kit != kit]
        if same_term:
            out.append(f"terminal {terminal} with other kits: {_listing(same_term)}")
    else:
        others = [e.relpath for e in ok if e.parsed.model == model.id and e.parsed.terminal == terminal]
        if others:
            out.append(f"terminal {terminal} in other packs: {_listing(others)}")
        near = [e.relpath for e in ok if e.parsed.model == model.id and e.parsed.terminal in compatible
                and e.parsed.terminal != terminal]
        if near:
            out.append(f"other terminals for kit {kit}: {_listing(near)}")
    other_model = [f"{e.relpath} (for the {_rules().models[e.parsed.model].name})" for e in ok
                   if e.parsed.model != model.id and e.parsed.terminal == terminal
                   and (role == "hex" or e.parsed.kit == kit)]
    if other_model:
        out.append(f"for other models: {_listing(other_model)}")
    looks = [f"{e.relpath} is never used ({e.status}: {e.why})" for e in cat.entries
             if not e.parsed.ok and e.parsed.terminal == terminal and e.parsed.role == role
             and (role == "hex" or e.parsed.kit == kit)]
    out.extend(looks[:6])
    for p in cat.skipped:  # e.g. a link out of the catalog bearing the very name wanted
        parsed = names.parse(p.path)
        if parsed.ok and parsed.model == model.id and parsed.role == role and parsed.terminal == terminal \
                and (role == "hex" or parsed.kit == kit):
            out.append(f"{p.path} is never used ({p.why})")
    return out


def _select(cat: Catalog, decision, lang, want_hex) -> Selection:
    if not decision.allowed or decision.terminal is None:
        codes = ", ".join(r.code for r in decision.refusals) or "no terminal"
        raise Refused(f"the rules refuse this choice ({codes}): nothing is taken from the catalog.",
                      decision=decision, code=decision.refusals[0].code if decision.refusals else "refused")
    model = _rules().models[decision.model]
    kit, terminal = decision.kit, decision.terminal
    wanted = names.parse_lang(lang) if lang else None
    notes: list[Reason] = []
    what = f"kit {kit} + terminal {terminal}"
    bundles = [e for e in cat.entries if e.parsed.ok and e.parsed.role == "bundle" and e.parsed.model == model.id
               and e.parsed.kit == kit and e.parsed.terminal == terminal]
    if not bundles:
        raise _no_match(cat, model, what, names.expected_name(model.id, terminal, kit, wanted),
                        _nearby(cat, model, "bundle", kit, terminal, decision.compatible_terminals))
    pack = _choose_pack(model, bundles, wanted, notes, what)
    files = [_one(cat, [e for e in bundles if e.parsed.pack == pack], notes)]
    if want_hex:
        form = names.convention().form_for("hex", None, terminal)
        hex_pack = pack if form is not None and "LANG" in form.tokens else None
        hexes = [e for e in cat.entries if e.parsed.ok and e.parsed.role == "hex" and e.parsed.model == model.id
                 and e.parsed.terminal == terminal]
        if hex_pack is not None and not model.languages_matter:
            hexes_pack = [e for e in hexes if e.parsed.pack == hex_pack]
            if not hexes_pack and hexes:
                hex_pack = _choose_pack(model, hexes, hex_pack, notes, f"the terminal {terminal} .hex")
        chosen = [e for e in hexes if e.parsed.pack == hex_pack]
        if not chosen:
            raise _no_match(cat, model, f"terminal {terminal} (.hex for the ST-LINK probe)",
                            names.expected_name(model.id, terminal, None, hex_pack),
                            _nearby(cat, model, "hex", kit, terminal, decision.compatible_terminals))
        files.append(_one(cat, chosen, notes))
    return Selection(tuple(files), pack, tuple(notes))
