"""A whole site: read site.csv, plan every charger, and say what to bring.

``site.csv``: a header and one charger a line, columns
``id,model,kit,terminal,built,router,mid,ocpp,lang,to`` (only id, model and kit
required). A bad line is reported with its number; the others are still planned.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from stager import inputs
from stager.data import rules
from stager.errors import BadInput
from stager.plan import Charger, ChargerPlan, plan_charger

COLUMNS = ("id", "model", "kit", "terminal", "built", "router", "mid", "ocpp", "lang", "to")
REQUIRED = ("id", "model", "kit")
YES = {"yes": True, "y": True, "true": True, "1": True, "oui": True,
       "no": False, "n": False, "false": False, "0": False, "non": False, "": False}


@dataclass
class SitePlan:
    plans: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # {"line": n, "message": ...}
    catalog: str | None = None

    def bring(self) -> dict:
        master = sum(1 for p in self.plans if any(s.code == "master-sd" for s in p.steps))
        files: dict[str, dict] = {}
        for p in self.plans:
            for f in p.files:
                entry = files.setdefault(f.name, {"name": f.name, "role": f.role, "chargers": [], "found": f.found,
                                                  "bytes": f.bytes, "sha256": f.sha256})
                entry["chargers"].append(p.charger.id)
        cards: dict[str, dict] = {}
        for p in self.plans:
            bundle = p.bundle
            if bundle is None:
                continue
            card = cards.setdefault(bundle.name, {"files": [bundle.name], "chargers": [], "plan": p})
            card["chargers"].append(p.charger.id)
            for f in p.files:
                if f.role == "hex" and f.name not in card["files"]:
                    card["files"].append(f.name)
        out_cards = []
        for card in cards.values():
            p = card.pop("plan")
            card["command"] = prepare_command(p, len(card["files"]) > 1, self.catalog)
            out_cards.append(card)
        return {"master_sd": master, "files": list(files.values()), "cards": out_cards}

    def to_json(self) -> dict:
        return {"chargers": [p.to_json() for p in self.plans], "bring": self.bring(), "errors": list(self.errors)}

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        if any(p.refusals for p in self.plans):
            return 3
        if any(f.found is False for p in self.plans for f in p.files):
            return 4
        return 0


def prepare_command(p: ChargerPlan, with_hex: bool, catalog: str | None) -> str:
    c = p.charger
    parts = ["stager", "prepare", "--model", c.model, "--kit", str(p.to_kit), "--terminal", str(p.to_terminal)]
    if c.lang:
        parts += ["--lang", c.lang]
    elif p.bundle is not None and "<LANG>" in p.bundle.name and rules().models[c.model].languages_matter:
        parts += ["--lang", "<LANG>"]
    if with_hex:
        parts.append("--hex")
    if catalog:
        parts += ["--catalog", catalog]
    return " ".join(parts)


def parse_row(row: dict) -> Charger:
    """One CSV row -> Charger; BadInput naming the column on any bad value."""
    def val(key):
        return (row.get(key) or "").strip()

    def parsed(key, parser):
        try:
            return parser(val(key)) if val(key) else None
        except BadInput as e:
            raise BadInput(f"column {key}: {e.message}") from None

    for key in REQUIRED:
        if not val(key):
            raise BadInput(f"column {key} is empty")
    mid = val("mid").lower()
    if mid not in YES:
        raise BadInput(f"column mid: '{val('mid')}' is not yes or no")
    to = val("to").lower()
    if to in ("", "latest"):
        to_kit = None
    else:
        to_kit = parsed("to", lambda v: inputs.parse_version(v, "target kit"))
    from stager.names import parse_lang

    return Charger(
        id=val("id"), model=parsed("model", inputs.parse_model), kit=parsed("kit", inputs.parse_version),
        terminal=parsed("terminal", lambda v: inputs.parse_version(v, "terminal")),
        built=parsed("built", inputs.parse_month), router=parsed("router", inputs.parse_router),
        mid=YES[mid], ocpp=parsed("ocpp", inputs.parse_ocpp), lang=parsed("lang", parse_lang), to=to_kit,
    )


def read_site(path) -> tuple[list[tuple[int, Charger]], list[dict]]:
    """(chargers with their line numbers, errors). BadInput (exit 2) for a file that
    cannot be read at all: missing, empty, not UTF-8, no header, a required column missing."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"site file {path} does not exist.") from None
    except OSError as e:
        raise BadInput(f"cannot read site file {path}: {e.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise BadInput(f"site file {path} is not UTF-8 text (line {line}): save it as UTF-8 CSV.") from None
    if not text.strip():
        raise BadInput(f"site file {path} is empty: it needs a header line ({','.join(COLUMNS)}) and one charger a line.")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadInput(f"site file {path}: line 1 must be a header naming at least {', '.join(REQUIRED)} "
                       f"(missing: {', '.join(missing)}); columns: {','.join(COLUMNS)}.")
    chargers, errors, seen = [], [], {}
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        errors.append({"line": 1, "message": f"unknown column(s) {', '.join(unknown)}: the columns are {','.join(COLUMNS)}"})
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append({"line": line, "message": f"{len(row)} cells, the header has {len(header)}"})
            continue
        try:
            ch = parse_row(dict(zip(header, row)))
        except BadInput as e:
            errors.append({"line": line, "message": e.message})
            continue
        if ch.id in seen:
            errors.append({"line": line, "message": f"charger id '{ch.id}' is already on line {seen[ch.id]}"})
            continue
        seen[ch.id] = line
        chargers.append((line, ch))
    return chargers, errors


def plan_site(path, catalog=None) -> SitePlan:
    chargers, errors = read_site(path)
    site = SitePlan(errors=errors, catalog=str(catalog.root) if catalog is not None else None)
    for _, ch in chargers:
        site.plans.append(plan_charger(ch, catalog))
    return site
