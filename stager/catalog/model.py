"""The catalog's values: a scanned entry, a file chosen for staging, a selection, an
index problem. Leaf types, imported by every other catalog module and by nothing
they import."""

from __future__ import annotations

from pathlib import Path

from stager.i18n import N_, _
from stager.rules.engine import Reason, table_cell
from stager.rules.names import BadName, ParsedName
from stager.value import field, value

#: An entry's or a catalog file's status (a JSON code) as a reader's word, in a sentence or
#: in `catalog list`'s and `catalog verify`'s tables.
STATUS_WORDS = {
    "usable": N_("usable"),
    "indexed": N_("indexed"),
    "damaged": N_("damaged"),
    "missing": N_("missing"),
    "unrecognised": N_("unrecognised"),
    "inconsistent": N_("inconsistent"),
    "unreadable": N_("unreadable"),
    "index-unreadable": N_("index unreadable"),
    "bad-index-line": N_("bad index line"),
    "not-indexed": N_("not indexed"),
    "ambiguous": N_("ambiguous"),
}


def status_text(status: str) -> str:
    """``status`` in the reader's language ('inconsistent', 'incohérent'); an unknown code as it is."""
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


@value
class Entry:
    """One scanned file."""

    relpath: str  # relative to the catalog root, with '/'
    where: str  # the file's full path, as the scan found it (a Path only when asked: 5,000 of them cost 15 ms)
    size: int
    status: str
    why: str
    parsed: ParsedName | BadName
    sha256: str | None = None  # from its index line
    line: int | None = None
    duplicates: tuple[str, ...] = ()  # other paths with the same canonical name

    @property
    def path(self) -> Path:
        return Path(self.where)

    @property
    def name(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]  # the path's last part, as path.name, without parsing a Path

    @property
    def firmware(self) -> ParsedName:
        """The reading of a recognised firmware name (selection works on these only)."""
        if not self.parsed.ok:
            raise TypeError(f"{self.relpath} is not a recognised firmware name: {self.parsed.why}")
        return self.parsed

    def to_json(self, cells: dict | None = None) -> dict:
        """The entry's JSON; ``cells``, shared by one listing's entries, keeps each
        model/kit/terminal's table cell once asked (a catalog of 5,000 files asked the
        rules 5,000 times for a handful of answers)."""
        p = self.parsed
        out = {
            "path": self.relpath,
            "name": self.name,
            "bytes": self.size,
            "status": self.status,
            "why": self.why,
            "sha256": self.sha256,
            "line": self.line,
            "duplicates": list(self.duplicates),
        }
        if p.ok:
            out.update(
                model=p.model,
                kit=p.kit,
                terminal=p.terminal,
                pack=p.pack,
                role=p.role,
                format=p.format,
                canonical=p.name,
                rules=_cell(cells, p.model, p.kit, p.terminal),
            )
        return out


def _cell(cells: dict | None, model: str, kit: int | None, terminal: int) -> str:
    if cells is None:
        return table_cell(model, kit, terminal)
    key = (model, kit, terminal)
    found = cells.get(key)
    if found is None:
        found = cells[key] = table_cell(model, kit, terminal)
    return found


@value
class CatalogFile:
    """A file chosen for staging: its index checksum is what the copy must match."""

    name: str
    relpath: str
    path: Path
    role: str  # "bundle" | "hex"
    size: int
    sha256: str
    parsed: ParsedName = field(compare=False, repr=False)
    line: int = field(default=0, compare=False)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "role": self.role,
            "bytes": self.size,
            "sha256": self.sha256,
            "path": self.relpath,
            "pack": self.parsed.pack,
        }


@value
class Selection:
    """What :func:`stager.catalog.select.select` chose; iterates as its files (bundle first)."""

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
        return {
            "files": [f.to_json() for f in self.files],
            "pack": self.pack,
            "notes": [n.to_json() for n in self.notes],
        }


@value
class Problem:
    """Something the scan could not use: a folder, a link, a line naming a missing file."""

    path: str
    why: str
    line: int | None = None

    def to_json(self) -> dict:
        return {"path": self.path, "why": self.why, "line": self.line}
