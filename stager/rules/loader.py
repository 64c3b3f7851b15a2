"""Load the rules shipped in ``stager/rules/`` (``rules.toml``, ``routers.toml``), once.

This is the only module that reads the rules files. Every table is validated on load;
any damage (a row with the wrong number of cells, a cell other than OK/KO, a duplicate
row, a missing key) is a :class:`~stager.errors.DataError` that names the file and line.

``STAGER_DATA_DIR`` points at another folder holding the same files (a workshop's own
copy); by default the package's own data is read.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import re
from pathlib import Path
from typing import NoReturn

from stager.errors import DataError
from stager.fileio import os_error_text, read_regular
from stager.i18n import N_, _, package_folder
from stager.value import field, value

_VERSION = re.compile(r"^\d{3}$")
#: A rules file larger than this is not read (they are a few KiB).
MAX_DATA_BYTES = 4 * 1024 * 1024
#: The package's own TOML files as parsed when they were written (scripts/parse_rules.py):
#: for each file, the SHA-256 of its text and its document, in JSON.
PARSED_FILE = "parsed.json"
#: The TOML files PARSED_FILE records.
DATA_FILES = ("rules.toml", "routers.toml", "names.toml")


def data_dir() -> Path:
    """The folder the rules and patterns are read from: ``STAGER_DATA_DIR``, else the
    package's own copy (``stager/rules/*.toml``, found by :func:`stager.i18n.package_folder`:
    beside the installed module, else through importlib.resources)."""
    override = os.environ.get("STAGER_DATA_DIR")
    if override:
        return Path(override)
    return Path(str(package_folder("stager.rules")))


def family(version: int) -> int:
    """A version's family is its first digit: 318 -> 3 (the note's "V3XX")."""
    return version // 100


# --------------------------------------------------------------------------- values
@value
class Model:
    id: str
    name: str
    section: str
    aliases: tuple[str, ...]
    type: str
    kipx_letter: str
    languages_matter: bool
    april_2023_rule: bool
    terminals: tuple[int, ...]
    kits: tuple[int, ...]
    ok: frozenset = field(repr=False)  # {(kit, terminal)} of the OK cells

    def cell(self, kit: int, terminal: int) -> bool:
        return (kit, terminal) in self.ok

    def compatible(self, kit: int) -> tuple[int, ...]:
        return tuple(t for t in self.terminals if (kit, t) in self.ok)


@value
class KitClass:
    id: str
    label: str
    min: int
    max: int

    def holds(self, kit: int) -> bool:
        return self.min <= kit <= self.max


@value
class RouterNote:
    number: int
    code: str
    title: str
    steps: tuple[str, ...]
    after: str
    original: str


@value
class RouterCell:
    ok: bool
    note: int | None = None


@value
class Router:
    id: str
    name: str
    description: str
    section: str
    aliases: tuple[str, ...]
    versions: tuple[int, ...]
    classes: tuple[str, ...]  # column ids, in the table's order
    cells: dict = field(repr=False, compare=False)  # {(version, class_id): RouterCell}

    def cell(self, version: int, class_id: str) -> RouterCell:
        return self.cells[(version, class_id)]


@value
class Forbidden:
    """Section 6 NB: versions never to be used, whatever the model."""

    section: str
    kits: frozenset[int]


@value
class Migration:
    """Section 2: a kit of ``from_families`` reaches ``barrier_family`` or later only
    with the MASTER SD (``master_sd_ref``, procedure ``procedure``)."""

    section: str
    from_families: frozenset[int]
    barrier_family: int
    master_sd_ref: str
    procedure: str


@value
class April2023:
    """Section 2 NB: terminals built from ``built_from`` cannot run these families."""

    section: str
    built_from: tuple[int, int]  # (year, month)
    forbidden_terminal_families: frozenset[int]


@value
class Protocol:
    """Section 2: the kit families that speak only OCPP 1.5, and the protocols' names."""

    section: str
    only_1_5_families: frozenset[int]
    names: dict[str, str]


@value
class Mid:
    """Section 2 NB: a MID meter needs kit ``min_kit`` or later."""

    section: str
    min_kit: int


@value
class Latest:
    """End of the note: MADIC recommends the latest OCPP version."""

    section: str


@value
class Stlink:
    """Section 3.2: the terminal's .hex is flashed with this utility and procedure."""

    section: str
    utility: str
    min_utility_version: str
    procedure: str


@value
class Rules:
    models: dict[str, Model]
    forbidden: Forbidden
    migration: Migration
    april_2023: April2023
    protocol: Protocol
    mid: Mid
    latest: Latest
    stlink: Stlink
    routers: dict[str, Router]
    classes: dict[str, KitClass]  # in table order
    notes: dict[int, RouterNote]
    site_visit: str

    @property
    def forbidden_kits(self) -> frozenset[int]:
        return self.forbidden.kits

    def kit_class(self, kit: int) -> KitClass | None:
        for cls in self.classes.values():
            if cls.holds(kit):
                return cls
        return None

    @property
    def april_2023_from(self) -> tuple[int, int]:
        return self.april_2023.built_from


# --------------------------------------------------------------------------- loading
def _parse(path: Path, text: str) -> dict:
    """The TOML document of a rules file's text: the one recorded in ``parsed.json`` when
    it was parsed from exactly this text (its SHA-256), else tomllib's. The TOML stays
    the only source; the record spares each run the TOML parser (7 ms of a 1 KiB
    staging), and an edited or other copy of a file is parsed as it is."""
    sha256 = _text_sha256(text)
    recorded = _recorded().get(path.name)
    if isinstance(recorded, dict) and recorded.get("sha256") == sha256 and isinstance(recorded.get("doc"), dict):
        return recorded["doc"]
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DataError(_("{path}: not valid TOML: {error}").format(path=path, error=e)) from None


def _text_sha256(text: str) -> str:
    """The SHA-256 a document is recorded under: of its text with CRLF line ends read as
    LF, as TOML reads them (even inside multi-line strings), so that a checkout with
    Windows line ends (Git for Windows' ``core.autocrlf``) uses the same record."""
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def _recorded() -> dict:
    """``parsed.json`` of the package's own data, read afresh (each caller gets its own
    documents); missing or damaged, nothing is recorded and every file is parsed."""
    try:
        with open(Path(str(package_folder("stager.rules"))) / PARSED_FILE, "rb") as f:
            found = json.loads(f.read(MAX_DATA_BYTES))
    except (OSError, ValueError, RecursionError):  # RecursionError: nested too deep to decode
        return {}
    return found if isinstance(found, dict) else {}


def parsed_record(directory: Path) -> str:
    """The text of ``parsed.json`` for the TOML files in ``directory``, as
    ``scripts/parse_rules.py`` writes it and a test checks it is current."""
    import tomllib

    files = {}
    for name in DATA_FILES:
        text = (directory / name).read_bytes().decode("utf-8")
        files[name] = {"sha256": _text_sha256(text), "doc": tomllib.loads(text)}
    return json.dumps(files, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


class _Source:
    """A TOML file's text and parsed content, to name lines in errors."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.text = read_regular(path, MAX_DATA_BYTES).decode("utf-8")
        except OSError as e:
            raise DataError(
                _("{path}: cannot read the rules file: {error}").format(path=path, error=os_error_text(e, ""))
            ) from None
        except UnicodeDecodeError:
            raise DataError(_("{path}: the rules file is not UTF-8 text").format(path=path)) from None
        self.doc = _parse(path, self.text)
        self.lines = self.text.splitlines()

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        where = f"{self.path}:{line}" if line else str(self.path)
        raise DataError(_("{where}: {message}").format(where=where, message=message))

    def header_line(self, header: str) -> int | None:
        """1-based line number of a ``[header]`` line."""
        for i, line in enumerate(self.lines, 1):
            if line.strip() == f"[{header}]":
                return i
        return None

    def grid_first_line(self, header: str, key: str = "grid") -> int | None:
        """1-based line number of the first line inside ``key = \"\"\"`` under [header]."""
        start = self.header_line(header) or 0
        for i in range(start, len(self.lines)):
            if self.lines[i].lstrip().startswith(f"{key}") and '"""' in self.lines[i]:
                return i + 2  # the string starts on the line after the opening quotes
        return None

    def table(self, parent: str, key: str) -> dict:
        value = self.doc.get(parent, {}).get(key) if parent else self.doc.get(key)
        if not isinstance(value, dict):
            self.fail(_("missing table [{parent}{key}]").format(parent=parent + "." if parent else "", key=key))
        return value

    def strings(self, table: dict, key: str, header: str) -> tuple[str, ...]:
        """A list of non-empty texts (aliases, steps): anything else names the key."""
        values = self.need(table, key, list, header)
        if not all(isinstance(v, str) and v.strip() for v in values):
            self.fail(
                _("[{header}] key '{key}' must be a list of non-empty texts").format(header=header, key=key),
                self.header_line(header),
            )
        return tuple(values)

    def need(self, table: dict, key: str, kind, header: str):
        if not isinstance(table, dict):
            self.fail(_("[{header}] must be a table").format(header=header), self.header_line(header))
        if key not in table:
            self.fail(_("[{header}] lacks the key '{key}'").format(header=header, key=key), self.header_line(header))
        value = table[key]
        if not isinstance(value, kind):
            self.fail(
                _("[{header}] key '{key}' has the wrong type").format(header=header, key=key), self.header_line(header)
            )
        return value


def _parse_grid(src: _Source, header: str, text: str, first_word: str, cell_ok):
    """Rows of a grid: returns (columns, [(row_value, [cell...], line_no)])."""
    base = src.grid_first_line(header)
    rows = []
    columns = None
    seen: dict[str, int | None] = {}
    for offset, raw in enumerate(text.splitlines()):
        line_no = base + offset if base else None
        words = raw.split()
        if not words:
            continue
        if columns is None:
            if words[0] != first_word:
                src.fail(
                    _("[{header}] grid must start with a '{first_word} ...' header line").format(
                        header=header, first_word=first_word
                    ),
                    line_no,
                )
            columns = words[1:]
            if not columns:
                src.fail(_("[{header}] grid header names no columns").format(header=header), line_no)
            dup = {c for c in columns if columns.count(c) > 1}
            if dup:
                src.fail(
                    _("[{header}] grid header repeats column {column}").format(header=header, column=sorted(dup)[0]),
                    line_no,
                )
            continue
        key, cells = words[0], words[1:]
        if key in seen:
            src.fail(
                _("[{header}] duplicate row {key} (first at line {first})").format(
                    header=header, key=key, first=seen[key]
                ),
                line_no,
            )
        seen[key] = line_no
        if len(cells) != len(columns):
            src.fail(
                _("[{header}] row {key} has {cells} cells, the header has {columns} columns").format(
                    header=header, key=key, cells=len(cells), columns=len(columns)
                ),
                line_no,
            )
        for col, cell in zip(columns, cells, strict=True):
            if not cell_ok(cell):
                src.fail(
                    _("[{header}] row {key}, column {column}: cell '{cell}' is not valid").format(
                        header=header, key=key, column=col, cell=cell
                    ),
                    line_no,
                )
        rows.append((key, cells, line_no))
    if columns is None or not rows:
        src.fail(_("[{header}] grid is empty").format(header=header), src.header_line(header))
    return columns, rows


def _version(src: _Source, header: str, word: str, line_no, what: str) -> int:
    if not _VERSION.match(word):
        src.fail(
            (
                _("[{header}] terminal '{word}' is not a 3-digit version")
                if what == "terminal"
                else _("[{header}] kit '{word}' is not a 3-digit version")
            ).format(header=header, word=word),
            line_no,
        )
    return int(word)


def _load_models(src: _Source) -> dict:
    models = {}
    aliases_seen: dict[str, str] = {}
    for model_id, t in src.table("", "models").items():
        header = f"models.{model_id}"
        if not isinstance(t, dict):
            src.fail(_("models.{model_id} must be a table").format(model_id=model_id))
        grid = src.need(t, "grid", str, header)
        columns, rows = _parse_grid(src, header, grid, "kit", lambda c: c in ("OK", "KO"))
        base = src.grid_first_line(header)
        terminals = tuple(_version(src, header, c, base, "terminal") for c in columns)
        kits: list[int] = []
        ok: set[tuple[int, int]] = set()
        for key, cells, line_no in rows:
            kit = _version(src, header, key, line_no, "kit")
            kits.append(kit)
            ok.update((kit, term) for term, cell in zip(terminals, cells, strict=True) if cell == "OK")
        aliases = tuple(a.lower() for a in src.strings(t, "aliases", header))
        for a in (*aliases, model_id):
            if aliases_seen.setdefault(a, model_id) != model_id:
                src.fail(
                    _("[{header}] alias '{alias}' is already used by {owner}").format(
                        header=header, alias=a, owner=aliases_seen[a]
                    ),
                    src.header_line(header),
                )
        models[model_id] = Model(
            id=model_id,
            name=src.need(t, "name", str, header),
            section=src.need(t, "section", str, header),
            aliases=aliases,
            type=src.need(t, "type", str, header),
            kipx_letter=src.need(t, "kipx_letter", str, header),
            languages_matter=src.need(t, "languages_matter", bool, header),
            april_2023_rule=src.need(t, "april_2023_rule", bool, header),
            terminals=terminals,
            kits=tuple(kits),
            ok=frozenset(ok),
        )
    if not models:
        src.fail(_("no [models.*] table"))
    return models


def _load_classes(src: _Source) -> list[KitClass]:
    """The kit classes (the router tables' columns), sorted, never overlapping."""
    classes = {}
    for cid, t in src.table("", "classes").items():
        header = f"classes.{cid}"
        classes[cid] = KitClass(
            id=cid,
            label=src.need(t, "label", str, header),
            min=src.need(t, "min", int, header),
            max=src.need(t, "max", int, header),
        )
    ordered = sorted(classes.values(), key=lambda c: c.min)
    for a, b in itertools.pairwise(ordered):
        if b.min <= a.max:
            src.fail(
                _("kit classes {first} and {second} overlap").format(first=a.id, second=b.id),
                src.header_line(f"classes.{b.id}"),
            )
    return ordered


def _load_notes(src: _Source) -> dict[int, RouterNote]:
    notes = {}
    for num, t in src.table("", "notes").items():
        header = f"notes.{num}"
        if not re.fullmatch(r"[0-9]{1,3}", num):
            src.fail(_("[{header}] a note is named by its number").format(header=header), src.header_line(header))
        notes[int(num)] = RouterNote(
            number=int(num),
            code=src.need(t, "code", str, header),
            title=src.need(t, "title", str, header),
            steps=src.strings(t, "steps", header),
            after=src.need(t, "after", str, header),
            original=src.need(t, "original", str, header),
        )
    return notes


def _load_router(src: _Source, rid: str, t: dict, classes: dict, notes: dict) -> Router:
    def cell_ok(cell: str) -> bool:
        if cell in ("OK", "KO"):
            return True
        head, _sep, num = cell.partition(":")
        return head == "OK" and re.fullmatch(r"[0-9]{1,3}", num) is not None and int(num) in notes

    header = f"routers.{rid}"
    grid = src.need(t, "grid", str, header)
    columns, rows = _parse_grid(src, header, grid, "version", cell_ok)
    base = src.grid_first_line(header)
    for c in columns:
        if c not in classes:
            src.fail(
                _("[{header}] column '{column}' is not a kit class of [classes]").format(header=header, column=c), base
            )
    cells, versions = {}, []
    for key, row, line_no in rows:
        if not re.fullmatch(r"[0-9]{1,3}", key):
            src.fail(_("[{header}] router version '{key}' is not a number").format(header=header, key=key), line_no)
        version = int(key)
        versions.append(version)
        for c, cell in zip(columns, row, strict=True):
            head, _sep, num = cell.partition(":")
            cells[(version, c)] = RouterCell(ok=head == "OK", note=int(num) if num else None)
    return Router(
        id=rid,
        name=src.need(t, "name", str, header),
        description=src.need(t, "description", str, header),
        section=src.need(t, "section", str, header),
        aliases=tuple(a.lower() for a in src.strings(t, "aliases", header)),
        versions=tuple(versions),
        classes=tuple(columns),
        cells=cells,
    )


def _load_routers(src: _Source):
    ordered = _load_classes(src)
    classes = {c.id: c for c in ordered}
    notes = _load_notes(src)
    routers = {rid: _load_router(src, rid, t, classes, notes) for rid, t in src.table("", "routers").items()}
    site_visit = src.doc.get("site_visit")
    if not isinstance(site_visit, str):
        src.fail(_("lacks the key 'site_visit'"))
    return routers, classes, notes, site_visit


def load_rules(directory: Path | None = None) -> Rules:
    """Read and validate ``rules.toml`` and ``routers.toml`` from ``directory``."""
    directory = Path(directory) if directory is not None else data_dir()
    src = _Source(directory / "rules.toml")
    models = _load_models(src)
    rsrc = _Source(directory / "routers.toml")
    routers, classes, notes, site_visit = _load_routers(rsrc)
    return Rules(
        models=models,
        routers=routers,
        classes=classes,
        notes=notes,
        site_visit=site_visit,
        **_load_sections(src),
    )


def _load_sections(src: _Source) -> dict:
    """The typed sections of rules.toml, each key checked for its type (file and line)."""
    s = _Section
    forbidden, mig = s(src, "forbidden"), s(src, "migration")
    april, proto = s(src, "april_2023"), s(src, "protocol")
    mid, latest, st = s(src, "mid"), s(src, "latest"), s(src, "stlink")
    built_from = april.text("built_from")
    if not re.match(r"^\d{4}-(0[1-9]|1[0-2])$", built_from):
        src.fail(_("[april_2023] built_from must be YYYY-MM"), src.header_line("april_2023"))
    names = proto.get("names", dict)
    if set(names) != {"1.5", "1.6"} or not all(isinstance(v, str) for v in names.values()):
        src.fail(_('[protocol] names must give the text of "1.5" and "1.6"'), src.header_line("protocol"))
    year, month = built_from.split("-")
    return {
        "forbidden": Forbidden(forbidden.text("section"), frozenset(forbidden.versions("kits"))),
        "migration": Migration(
            mig.text("section"),
            frozenset(mig.families("from_families")),
            mig.family("barrier_family"),
            mig.text("master_sd_ref"),
            mig.text("procedure"),
        ),
        "april_2023": April2023(
            april.text("section"), (int(year), int(month)), frozenset(april.families("forbidden_terminal_families"))
        ),
        "protocol": Protocol(proto.text("section"), frozenset(proto.families("only_1_5_families")), dict(names)),
        "mid": Mid(mid.text("section"), mid.version("min_kit")),
        "latest": Latest(latest.text("section")),
        "stlink": Stlink(st.text("section"), st.text("utility"), st.text("min_utility_version"), st.text("procedure")),
    }


class _Section:
    """One ``[header]`` table of rules.toml, read key by key with its type checked."""

    def __init__(self, src: _Source, header: str):
        self.src, self.header = src, header
        self.table = src.table("", header)

    def get(self, key: str, kind):
        value = self.src.need(self.table, key, kind, self.header)
        if isinstance(value, bool):  # TOML's true/false are ints to Python
            self._wrong(key, _("a number or text, not true/false"))
        return value

    def _wrong(self, key: str, what: str):
        self.src.fail(
            _("[{header}] key '{key}' must be {what}").format(header=self.header, key=key, what=what),
            self.src.header_line(self.header),
        )

    def text(self, key: str) -> str:
        value = self.get(key, str)
        if not value.strip():
            self._wrong(key, _("non-empty text"))
        return value

    def family(self, key: str) -> int:
        value = self.get(key, int)
        if not 1 <= value <= 9:
            self._wrong(key, _("a version family, 1 to 9"))
        return value

    def version(self, key: str) -> int:
        value = self.get(key, int)
        if not 100 <= value <= 999:
            self._wrong(key, _("a 3-digit version"))
        return value

    def _ints(self, key: str, low: int, high: int, what: str) -> list[int]:
        values = self.get(key, list)
        if not all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in values):
            self._wrong(key, _(what))
        return values

    def families(self, key: str) -> list[int]:
        return self._ints(key, 1, 9, N_("a list of version families, 1 to 9"))

    def versions(self, key: str) -> list[int]:
        return self._ints(key, 100, 999, N_("a list of 3-digit versions"))


@functools.cache
def _cached(directory: str) -> Rules:
    return load_rules(Path(directory))


_current: dict[str | None, Rules] = {}


def rules() -> Rules:
    """The rules in force, parsed once per process (and per ``STAGER_DATA_DIR`` value: the
    data folder is resolved once, not on every call)."""
    key = os.environ.get("STAGER_DATA_DIR")
    found = _current.get(key)
    if found is None:
        found = _current[key] = _cached(str(data_dir()))
    return found
