"""A whole site: read site.csv, plan every charger, and say what to bring.

``site.csv``: a header and one charger a line, columns
``id,model,kit,terminal,built,router,mid,ocpp,lang,to`` (only id, model and kit
required). A bad line is reported with its number; the others are still planned.
"""

from __future__ import annotations

import csv
import io
import shlex
from pathlib import Path

from stager.errors import BadInput, ExitCode
from stager.fileio import os_error_text, read_regular
from stager.i18n import _, ngettext
from stager.i18n_format import format_int
from stager.plan.charger import Charger, ChargerPlan, plan_charger
from stager.rules import inputs
from stager.rules.loader import rules
from stager.value import field, value

COLUMNS = ("id", "model", "kit", "terminal", "built", "router", "mid", "ocpp", "lang", "to")
REQUIRED = ("id", "model", "kit")
#: A site file larger than this is not read (a line a charger).
MAX_SITE_BYTES = 16 * 1024 * 1024
YES = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "oui": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
    "non": False,
    "": False,
}


@value(frozen=False)
class SitePlan:
    plans: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # {"line": n, "message": ...}
    catalog: str | None = None
    from_file: bool = False  # planned from a site file (its pack is the lang column, not --lang)

    def bring(self) -> dict:
        """What to bring for the site: MASTER SDs (one a charger migrated), the distinct
        files with the chargers needing each, one card a distinct bundle. On a model
        whose language does not matter (the WB-AC), one file serves every pack asked."""
        master = sum(1 for p in self.plans if p.migrates)
        files: dict = {}
        cards: dict = {}
        for p in self.plans:
            keys = []
            for f in p.files:
                key = file_key(p, f)
                keys.append(key)
                entry = files.get(key)
                if entry is None or _better(f, entry):
                    entry = files[key] = {
                        "name": f.name,
                        "role": f.role,
                        "chargers": entry["chargers"] if entry else [],
                        "found": f.found,
                        "bytes": f.size,
                        "sha256": f.sha256,
                        "plan": p,
                    }
                entry["chargers"].append(p.charger.id)
            if keys:
                card = cards.setdefault(keys[0], {"keys": [], "plans": []})
                card["plans"].append(p)
                card["keys"] += [k for k in keys if k not in card["keys"]]
        out = []
        for card in cards.values():
            plans = card["plans"]
            on_card = [files[k] for k in card["keys"]]
            # The card is made for the plan whose bundle the files list names (the file found).
            out.append(
                {
                    "files": [f["name"] for f in on_card],
                    "chargers": [p.charger.id for p in plans],
                    "command": prepare_command(
                        on_card[0]["plan"], any(p.charger.with_hex for p in plans), self.catalog
                    ),
                    "missing": [f["name"] for f in on_card if f["found"] is False],
                }
            )
        listed = [{k: v for k, v in f.items() if k != "plan"} for f in files.values()]
        return {"master_sd": master, "files": listed, "cards": out}

    def to_json(self) -> dict:
        return {"chargers": [p.to_json() for p in self.plans], "bring": self.bring(), "errors": list(self.errors)}

    @property
    def exit_code(self) -> int:
        if self.errors:
            return ExitCode.BAD_INPUT
        if any(p.refusals for p in self.plans):
            return ExitCode.REFUSED
        if any(card["missing"] for card in self.bring()["cards"]):
            return ExitCode.CATALOG  # a card cannot be made (on a WB-AC, another pack may make it)
        return ExitCode.OK


def _better(f, entry: dict) -> bool:
    """Whether ``f`` should name a shared file rather than ``entry`` (a WB-AC file that
    any pack will do): one found in the catalog over one that is not, then one whose
    pack is known over ``<LANG>``."""
    if (f.found is True) != (entry["found"] is True):
        return f.found is True
    return "<LANG>" in entry["name"] and "<LANG>" not in f.name


def file_key(p: ChargerPlan, f) -> object:
    """What makes two chargers' files the same file: the name, or, on a model whose
    language does not matter, the model, kit, terminal and role whatever the pack."""
    if rules().models[p.charger.model].languages_matter:
        return f.name
    return (p.charger.model, f.role, p.to_kit if f.role == "bundle" else None, p.to_terminal)


def prepare_command(p: ChargerPlan, with_hex: bool, catalog: str | None) -> str:
    """The `stager prepare` command that makes the card for plan ``p``'s target. The
    pack is given when known (the CSV's, or the catalog's); when it is not, prepare
    takes the catalog's only pack (any pack on a WB-AC) or asks for --lang."""
    c = p.charger
    parts = ["stager", "prepare", "--model", c.model, "--kit", str(p.to_kit), "--terminal", str(p.to_terminal)]
    if p.pack:
        parts += ["--lang", p.pack]
    if with_hex:
        parts.append("--hex")
    if catalog:
        parts += ["--catalog", shlex.quote(catalog)]
    return " ".join(parts)


def parse_row(row: dict) -> Charger:
    """One CSV row -> Charger; BadInput naming the column on any bad value."""

    def val(key):
        return (row.get(key) or "").strip()

    def parsed(key, parser):
        try:
            return parser(val(key)) if val(key) else None
        except BadInput as e:
            raise BadInput(_("column {column}: {message}").format(column=key, message=e.message)) from None

    for key in REQUIRED:
        if not val(key):
            raise BadInput(_("column {column} is empty").format(column=key))
    mid = val("mid").lower()
    if mid not in YES:
        raise BadInput(_("column mid: '{value}' is not yes or no").format(value=val("mid")))
    to = val("to").lower()
    to_kit = None if to in ("", "latest") else parsed("to", lambda v: inputs.parse_version(v, "target kit"))
    from stager.rules.names import parse_lang

    return Charger(
        id=val("id"),
        model=parsed("model", inputs.parse_model),
        kit=parsed("kit", inputs.parse_version),
        terminal=parsed("terminal", lambda v: inputs.parse_version(v, "terminal")),
        built=parsed("built", inputs.parse_month),
        router=parsed("router", inputs.parse_router),
        mid=YES[mid],
        ocpp=parsed("ocpp", inputs.parse_ocpp),
        lang=parsed("lang", parse_lang),
        to=to_kit,
    )


def _decode(path: Path, raw: bytes) -> tuple[str, list[dict]]:
    """The file's text, and an error for each line that is not UTF-8 (left empty, so
    that the other lines keep their numbers and are still planned)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        raise BadInput(
            _("site file {path} is not UTF-8 text (UTF-16 or binary): save it as CSV UTF-8.").format(path=path)
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # lines as any spreadsheet ends them (Excel for Mac: \r)
    lines, errors = [], []
    for number, line in enumerate(raw.split(b"\n"), 1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError as e:
            if number == 1:
                raise BadInput(
                    _("site file {path}: line 1 (the header) is not UTF-8 text: save the file as CSV UTF-8.").format(
                        path=path
                    )
                ) from None
            errors.append(
                {
                    "line": number,
                    "message": _("not UTF-8 text (byte {byte} at column {column}): save the file as CSV UTF-8").format(
                        byte=f"{line[e.start]:#04x}", column=e.start + 1
                    ),
                }
            )
            lines.append("")
    return "\n".join(lines), errors


def read_site(path) -> tuple[list[tuple[int, Charger]], list[dict]]:
    """(chargers with their line numbers, errors naming bad lines). BadInput (exit 2) for
    a file that cannot be read at all: missing, empty, not text, no header or a
    required column missing, no charger line."""
    path = Path(path)
    try:
        raw = read_regular(path, MAX_SITE_BYTES)
    except FileNotFoundError:
        raise BadInput(_("site file {path} does not exist.").format(path=path)) from None
    except OSError as e:
        raise BadInput(
            _("cannot read site file {path}: {error}").format(path=path, error=os_error_text(e, ""))
        ) from None
    if not raw.removeprefix(b"\xef\xbb\xbf").strip():  # nothing, or only the UTF-8 mark of a spreadsheet
        raise BadInput(
            _("site file {path} is empty: it needs a header line ({columns}) and one charger a line.").format(
                path=path, columns=",".join(COLUMNS)
            )
        )
    text, errors = _decode(path, raw)
    first = text.split("\n", 1)[0]
    # A spreadsheet set to French saves "CSV" with semicolons: read the file as it is.
    delimiter = ";" if ";" in first and "," not in first else ","
    rows = _csv_rows(path, text, delimiter)
    header = [h.strip().lower() for h in rows[0][1]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadInput(
            _(
                "site file {path}: line 1 must be a header naming at least {required} "
                "(missing: {missing}); columns: {columns}."
            ).format(path=path, required=", ".join(REQUIRED), missing=", ".join(missing), columns=",".join(COLUMNS))
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        message = ngettext(
            "unknown column {unknown}: the columns are {columns}",
            "unknown columns {unknown}: the columns are {columns}",
            len(unknown),
        )
        errors.append({"line": 1, "message": message.format(unknown=", ".join(unknown), columns=",".join(COLUMNS))})
    chargers = _chargers(header, rows[1:], errors)
    if not chargers and not errors:
        raise BadInput(
            _("site file {path} has a header but no charger line: one charger a line, columns {columns}.").format(
                path=path, columns=",".join(COLUMNS)
            )
        )
    return chargers, sorted(errors, key=lambda e: e["line"])


def _chargers(header: list[str], rows, errors: list[dict]) -> list[tuple[int, Charger]]:
    """The chargers of the rows (with their line numbers); an error in ``errors`` for each bad row."""
    chargers: list = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            message = _("{cells} cells, the header has {columns}").format(cells=len(row), columns=len(header))
            errors.append({"line": line, "message": message})
            continue
        try:
            ch = parse_row(dict(zip(header, row, strict=False)))
        except BadInput as e:
            errors.append({"line": line, "message": e.message})
            continue
        if ch.id in seen:
            message = _("charger id '{id}' is already on line {line}").format(id=ch.id, line=seen[ch.id])
            errors.append({"line": line, "message": message})
            continue
        seen[ch.id] = line
        chargers.append((line, ch))
    return chargers


def plan_one(charger: Charger, catalog=None) -> SitePlan:
    """The plan of one charger, as a site of one."""
    return SitePlan(plans=[plan_charger(charger, catalog)], catalog=str(catalog.root) if catalog is not None else None)


def _csv_rows(path: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each CSV row; BadInput for a row the csv module refuses
    (a cell over its 128 KiB limit...), naming the line."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as e:
        raise BadInput(
            _(
                "site file {path}: line {line} cannot be read as CSV ({error}): one charger a line, columns {columns}."
            ).format(path=path, line=reader.line_num, error=_csv_reason(e), columns=",".join(COLUMNS))
        ) from None


def _csv_reason(e: csv.Error) -> str:
    """What the csv module refused, in the user's language where its words are known (a
    cell over its limit is the one a file of this shape meets), else its own words."""
    if str(e).startswith("field larger than field limit"):
        return _("a cell is longer than {limit} characters").format(limit=format_int(csv.field_size_limit()))
    return str(e)


def plan_site(path, catalog=None) -> SitePlan:
    chargers, errors = read_site(path)
    site = SitePlan(errors=errors, catalog=str(catalog.root) if catalog is not None else None, from_file=True)
    for _line, ch in chargers:
        site.plans.append(plan_charger(ch, catalog))
    return site
