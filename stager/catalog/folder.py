"""The firmware catalog: a folder tree of firmware files and its ``SHA256SUMS`` index.

Opening a catalog scans it (names and sizes only, never contents): every file is
``usable``, ``not-indexed``, ``bad-index-line``, ``index-unreadable``, ``ambiguous``,
``unreadable``, ``inconsistent`` or ``unrecognised`` (and ``damaged`` once hashed by :meth:`Catalog.verify`).
The index is
GNU coreutils' format (``sha256sum -c SHA256SUMS`` checks it); a bad line is named by
its number and blocks only the file it names. Symlinks pointing outside the catalog
and index paths that leave it are never followed or used.

:func:`stager.catalog.select.select` turns an allowed rules decision into the one
bundle (and the terminal's ``.hex``); it does not read the files: the staging engine hashes while it
copies and compares with ``CatalogFile.sha256`` (or calls :func:`check_content`).

Duplicates: the same name (compared in canonical spelling) in several subfolders is
taken only when every copy is indexed with the same checksum: the bytes are then the
same and either copy will do (the shallowest path, then the first in sort order, is
taken and the others named in a note). Otherwise the name is ``ambiguous`` and selecting it fails with
``several-files``: two different contents claim to be one firmware file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from stager.catalog.index import (
    ENV,
    INDEX_HINT,
    INDEX_NAME,
    BadLine,
    FileCheck,
    IndexLine,
    IndexReport,
    VerifyReport,
    _check,
    check_content,
    excluded_from_index,
    format_index_line,
    hash_many,
    parse_index,
    write_atomic,
)
from stager.catalog.model import CatalogFile, Entry, Problem
from stager.errors import BadInput, CatalogError
from stager.fileio import is_under, kind_of, os_error_text, os_reason, path_kind, read_regular
from stager.i18n import _
from stager.rules import names
from stager.rules.loader import rules as _rules

#: An index larger than this is not read (a line a file: far more than any catalog holds).
MAX_INDEX_BYTES = 64 * 1024 * 1024


# --------------------------------------------------------------------------- opening
def open_catalog(path=None, environ=None) -> Catalog:
    """The catalog at ``path``, else ``$STAGER_CATALOG``; scanned."""
    value = str(path) if path else (environ if environ is not None else os.environ).get(ENV, "")
    if not value.strip():
        raise BadInput(_("no catalog folder: give --catalog DIR or set {env}.").format(env=ENV), code="no-catalog")
    folder = Path(value).expanduser()
    try:
        kind = path_kind(folder)
    except OSError as e:
        raise CatalogError(
            _("the catalog folder cannot be opened: {error} (check --catalog or {env})").format(
                error=os_error_text(e, folder), env=ENV
            ),
            code="catalog-unreadable",
        ) from None
    if kind == "missing":
        raise CatalogError(
            _("the catalog folder {folder} does not exist: check --catalog or {env}.").format(folder=folder, env=ENV),
            code="catalog-not-found",
        )
    if kind != "dir":
        raise CatalogError(
            _("the catalog {folder} is not a folder: give the folder holding {index}.").format(
                folder=folder, index=INDEX_NAME
            ),
            code="catalog-not-found",
        )
    return Catalog(folder)


def _structure(entries, stop) -> dict:
    """{relpath: StructureProblem} for the files whose structure is not sound (an
    unreadable file is left to the hashing, which reports it)."""
    from stager.catalog.structure import check_structure

    out = {}
    for e in entries:
        if stop.is_set():
            break
        try:
            problem = check_structure(e.path, e.relpath)
        except OSError:
            continue
        if problem is not None:
            out[e.relpath] = problem
    return out


def _hash_and_check(entries, progress) -> tuple[dict, dict]:
    """(hashes as :func:`hash_many` gives them, structure problems), both reads at once:
    the structure check (mostly zlib, which releases the GIL) runs beside the hashing."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        shape = pool.submit(_structure, entries, stop)
        try:
            hashes = hash_many([e.path for e in entries], progress)
        except BaseException:
            stop.set()
            raise
        return hashes, shape.result()


class Catalog:
    """A scanned catalog folder. Attributes: ``root``, ``entries`` (sorted by path),
    ``bad_lines``, ``missing`` (good index lines naming no scanned file, as Problems),
    ``skipped`` (folders and links not used), ``index_present``, ``index_error``."""

    def __init__(self, root: Path):
        self.root = Path(os.path.abspath(root))
        self._real = os.path.realpath(self.root)
        #: stager.catalog.trust.Trust once the catalog was opened with the trust settings
        self.trust = None
        self._scan()

    def _scan(self) -> None:
        """Read the folder and its index (again, after ``index`` wrote lines)."""
        self.skipped: list[Problem] = []
        self.index_present = False
        self.index_error: str | None = None
        self._index_bytes = b""
        self._checked: dict[str, CatalogError | None] = {}
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
                    raise CatalogError(
                        _("cannot read the catalog folder {folder}: {error}.").format(
                            folder=self.root, error=os_reason(e)
                        ),
                        code="catalog-unreadable",
                    ) from None
                self.skipped.append(
                    Problem(
                        rel,
                        _("cannot read this folder ({error}): its files are not listed").format(error=os_reason(e)),
                    )
                )
                continue
            for de in found:
                relpath = f"{rel}/{de.name}" if rel else de.name
                if relpath == INDEX_NAME:
                    continue
                try:
                    if de.is_symlink():
                        unused = self._unused_link(de.path)
                        if unused:
                            self.skipped.append(Problem(relpath, unused))
                            continue
                        st = os.stat(de.path)
                    elif de.is_dir(follow_symlinks=False):
                        if de.name.startswith("."):
                            self.skipped.append(Problem(relpath, _("a hidden folder: not scanned")))
                        else:
                            stack.append((relpath, de.path))
                        continue
                    else:
                        st = de.stat(follow_symlinks=False)
                except OSError as e:
                    self.skipped.append(Problem(relpath, _("cannot read it ({error})").format(error=os_reason(e))))
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.skipped.append(Problem(relpath, _("not a regular file")))
                    continue
                files.append((relpath, de.path, st.st_size, os.access(de.path, os.R_OK)))
        files.sort()
        self.skipped.sort(key=lambda p: p.path)
        return files

    def _unused_link(self, path: str) -> str | None:
        """Why the scan does not follow the link at ``path``, or None for a link to a file of the catalog."""
        target = os.path.realpath(path)
        if not is_under(target, self._real):
            return _("a link to {target}, outside the catalog: never followed or used").format(target=target)
        if os.path.isdir(target):
            return _("a link to a folder of the catalog: not followed (its files are listed where they are)")
        if not os.path.exists(target):
            return _("a broken link")
        return None

    def _read_index(self) -> tuple[list[IndexLine], list[BadLine]]:
        index = self.root / INDEX_NAME
        if not os.path.lexists(index):
            return [], []
        if index.is_symlink() and not is_under(os.path.realpath(index), self._real):
            self.index_error = _("{index} is a link outside the catalog: not read").format(index=INDEX_NAME)
            return [], []
        try:
            data = read_regular(index, MAX_INDEX_BYTES)
        except OSError as e:
            self.index_error = _("cannot read {index} ({error})").format(index=INDEX_NAME, error=os_reason(e))
            return [], []
        self.index_present = True
        self._index_bytes = data
        return parse_index(data)

    def _classify(self, files, blocked) -> tuple[Entry, ...]:
        entries, conv = [], names.convention()
        read: dict[str, names.ParsedName | names.BadName] = {}  # a name's copies are read once
        not_indexed = ""
        for relpath, path, size, readable in files:
            base = relpath.rsplit("/", 1)[-1]
            parsed = read.get(base) or read.setdefault(base, names.parse(base, conv))
            line = self.lines.get(relpath)
            sha, num = (line.sha256, line.line) if line else (None, None)
            if not parsed.ok:
                status, why = parsed.status, parsed.why
            elif not readable:
                status, why = "unreadable", _("stager may not read this file (permissions): never used")
            elif self.index_error:
                why = _("{problem}: no file is used until it can be read").format(problem=self.index_error)
                status = "index-unreadable"
            elif relpath in blocked:
                b = blocked[relpath]
                status, why = (
                    "bad-index-line",
                    _("named on bad line {line} of {index} ({problem}): never used until that line is mended").format(
                        line=b.line, index=INDEX_NAME, problem=b.message
                    ),
                )
            elif line is None:
                not_indexed = not_indexed or _("no line in {index}: not used until indexed ({hint})").format(
                    index=INDEX_NAME, hint=_(INDEX_HINT)
                )
                status, why = "not-indexed", not_indexed
            else:
                status, why = "usable", ""
            entries.append(Entry(relpath, path, size, status, why, parsed, sha, num))
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
            paths = tuple(e.relpath for e in group)
            for j, i in enumerate(members):
                e = entries[i]
                others = paths[:j] + paths[j + 1 :]  # by position: no search of the group per copy
                status, why = e.status, e.why
                if not same and status == "usable":
                    status = "ambiguous"
                    why = _(
                        "the same name is also at {others} with other or unchecked content: "
                        "never used until one copy is removed (or all are indexed with the same checksum)"
                    ).format(others=", ".join(others))
                elif same:
                    why = _("identical copy (same checksum in {index}) of {others}").format(
                        index=INDEX_NAME, others=", ".join(others)
                    )
                entries[i] = Entry(e.relpath, e.where, e.size, status, why, e.parsed, e.sha256, e.line, others)
        return tuple(entries)

    def _unmatched_lines(self, good: list[IndexLine], scanned: set[str]) -> tuple[Problem, ...]:
        missing = []
        skipped = {p.path for p in self.skipped}
        for ln in good:
            if ln.relpath in scanned:
                continue
            full = os.path.join(self.root, *ln.relpath.split("/"))
            if os.path.lexists(full) and not is_under(os.path.realpath(full), self._real):
                self.bad_lines.append(
                    BadLine(
                        ln.line,
                        "outside-catalog",
                        _("{path} leads outside the catalog through a link: never used").format(path=ln.relpath),
                        ln.relpath,
                    )
                )
            elif (kind := _not_a_file(full)) is not None:  # a FIFO, folder or device where the file was
                missing.append(
                    Problem(
                        ln.relpath,
                        _(
                            "named on line {line} of {index}, but it is {kind}, not a regular file: never used "
                            "(it is not read)"
                        ).format(line=ln.line, index=INDEX_NAME, kind=kind),
                        ln.line,
                    )
                )
            elif os.path.lexists(full) or ln.relpath in skipped:
                self.skipped.append(
                    Problem(ln.relpath, _("indexed, but in a folder or link the scan does not use"), ln.line)
                )
            else:
                missing.append(
                    Problem(
                        ln.relpath,
                        _("named on line {line} of {index} but not in the catalog").format(
                            line=ln.line, index=INDEX_NAME
                        ),
                        ln.line,
                    )
                )
        self.bad_lines.sort(key=lambda b: b.line)
        return tuple(missing)

    # ------------------------------------------------------------------ queries
    @property
    def index_bytes(self) -> bytes:
        """SHA256SUMS exactly as read and parsed (what its signature must cover)."""
        return self._index_bytes

    @property
    def signed(self) -> bool:
        """True when the index was checked against a trusted key's signature."""
        return bool(self.trust is not None and self.trust.enforced)

    def files(self, status: str | None = None) -> list[Entry]:
        return [e for e in self.entries if status is None or e.status == status]

    def counts(self) -> dict:
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.status] = out.get(e.status, 0) + 1
        return out

    def check(self, cf: CatalogFile) -> None:
        """:func:`check_content`, once per file however often it is asked (a site plan)."""
        if cf.relpath not in self._checked:
            try:
                check_content(cf)
                self._checked[cf.relpath] = None
            except CatalogError as e:
                self._checked[cf.relpath] = e
        error = self._checked[cf.relpath]
        if error is not None:
            raise error

    def to_json(self, model: str | None = None) -> dict:
        entries = [e for e in self.entries if model is None or not e.parsed.ok or e.parsed.model == model]
        rules = _rules()
        cells: dict = {}  # one listing, one answer per table cell
        models = []
        for mid, m in rules.models.items():
            if model is not None and mid != model:
                continue
            rows = [e.to_json(cells) for e in entries if e.parsed.ok and e.parsed.model == mid]
            models.append({"model": mid, "name": m.name, "files": rows})
        return {
            "catalog": str(self.root),
            "index": {
                "present": self.index_present,
                "error": self.index_error,
                "lines": len(self.lines) + len(self.bad_lines),
            },
            "counts": self.counts(),
            "models": models,
            "inconsistent": [e.to_json(cells) for e in entries if e.status == "inconsistent"],
            "unrecognised": [e.to_json(cells) for e in entries if e.status == "unrecognised"],
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
            raise CatalogError(
                _("{problem}: no line can be added. Mend {index} first.").format(
                    problem=self.index_error, index=self.root / INDEX_NAME
                ),
                code="index-unreadable",
            )
        new = [e for e in self.entries if self._needs_line(e)]
        old = [e for e in self.entries if e.relpath in self.lines]
        hashes, malformed = _hash_and_check(new + old, progress)
        checked = tuple(_check(e, self.lines[e.relpath], hashes[e.path]) for e in old)
        added, unreadable = [], []
        for e in new:
            got = hashes[e.path]
            if e.relpath in malformed:
                continue
            if isinstance(got, str):
                added.append(FileCheck(e.relpath, None, got, got, e.size, "added", ""))
            else:
                unreadable.append(
                    FileCheck(
                        e.relpath,
                        None,
                        None,
                        None,
                        e.size,
                        "unreadable",
                        _("cannot read it ({error}): not indexed").format(error=os_reason(got)),
                    )
                )
        written = False
        if added:
            old_bytes = self._index_bytes if self.index_present else b""
            lines = [format_index_line(c.actual or "", c.path) for c in sorted(added, key=lambda c: c.path)]
            body = b"".join(lines)  # every added file was hashed: c.actual is set
            sep = b"\n" if old_bytes and not old_bytes.endswith(b"\n") else b""
            write_atomic(self.root / INDEX_NAME, old_bytes + sep + body, expect=old_bytes)
            written = True
        signed = os.path.lexists(self.root / (INDEX_NAME + ".minisig"))
        report = IndexReport(
            catalog=str(self.root),
            added=tuple(added),
            checked=checked + tuple(unreadable),
            bad_lines=tuple(self.bad_lines),
            missing=self.missing,
            excluded=tuple(
                e.relpath for e in self.entries if e.relpath not in self.lines and excluded_from_index(e.relpath)
            ),
            blocked=tuple(e.relpath for e in self.entries if e.relpath in self._blocked),
            written=written,
            malformed=tuple(malformed.values()),
            signature=("stale" if written else "unchanged") if signed else None,
        )
        self._scan()
        return report

    def verify(self, progress=None) -> VerifyReport:
        """Re-hash every indexed file and compare with its line. An index that cannot be
        read, or none at all, is a failure (exit 4): nothing could be verified."""
        if self.index_error:
            raise CatalogError(
                _(
                    "{problem}: nothing can be verified. Mend {index} (or get the catalog again from its source)."
                ).format(problem=self.index_error, index=self.root / INDEX_NAME),
                code="index-unreadable",
            )
        if not self.index_present:
            raise CatalogError(
                _(
                    "{folder} has no {index}: nothing can be verified and no file is used. "
                    "Check where the files come from, then run '{command}'."
                ).format(folder=self.root, index=INDEX_NAME, command=f"stager catalog index --catalog {self.root}"),
                code="no-index",
            )
        old = [e for e in self.entries if e.relpath in self.lines]
        hashes, malformed = _hash_and_check(old, progress)
        return VerifyReport(
            catalog=str(self.root),
            checks=tuple(_check(e, self.lines[e.relpath], hashes[e.path]) for e in old),
            missing=self.missing,
            bad_lines=tuple(self.bad_lines),
            not_indexed=tuple(e.relpath for e in self.entries if self._needs_line(e)),
            malformed=tuple(malformed.values()),
        )

    def total_indexed_bytes(self) -> int:
        return sum(e.size for e in self.entries if e.relpath in self.lines)

    def bytes_to_index(self) -> int:
        """What :meth:`index` will read (for a progress bar's total)."""
        return sum(e.size for e in self.entries if e.relpath in self.lines or self._needs_line(e))


def _not_a_file(path: str) -> str | None:
    """What stands where an indexed file should be, when it is neither a regular file nor
    a link (a FIFO, a folder, a device): never opened, so a FIFO cannot hang the run."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) or stat.S_ISLNK(mode) else kind_of(mode)
