"""`stager plan`: what a technician brings to a site, and in what order to do it.

Built on the rules engine (it restates no rule): the target comes from
:func:`stager.rules.decide`, the MASTER SD from :func:`needs_master_sd`, the April-2023
rule from :func:`hardware_blocks`, the router from :func:`router_versions_for` and
:func:`note_reason`. Pure but for the optional catalog look-up.

Reading of the current state (plan.md "Impossible"): a kit/terminal pair the table
marks KO, a kit of a family the tables cover (2XX and later) that is not a row, an
unknown terminal, or a terminal built from April 2023 running a 1XX/2XX version is a
state the note rules out: reported in ``refusals`` (exit 3), and the plan is still made.
A 1XX kit is not a row of any table because the tables start at 2XX; the note knows
1XX kits (section 2: 1XX -> 2XX freely), so it is planned with a warning, not refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stager.data import family, rules as _rules
from stager.errors import BadInput, CatalogError
from stager.rules import (Query, Reason, decide, hardware_blocks, master_sd_text, needs_master_sd, note_reason,
                          router_cell, router_versions_for)

STEP_ORDER = ("master-sd", "stage-bundle", "stlink-hex", "router-update", "router-config", "nothing-to-do")


@dataclass(frozen=True)
class Charger:
    id: str
    model: str
    kit: int
    terminal: int | None = None
    built: tuple | None = None
    router: object = None  # inputs.RouterSpec
    mid: bool = False
    ocpp: str | None = None
    lang: str | None = None
    to: int | None = None  # None: the latest the rules allow
    hex: bool = False


@dataclass
class Step:
    code: str
    message: str
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass
class FileNeed:
    name: str
    role: str
    found: bool | None = None  # None: no catalog was given
    bytes: int | None = None
    sha256: str | None = None
    why: str | None = None


@dataclass
class ChargerPlan:
    charger: Charger
    to_kit: int | None
    to_terminal: int | None
    steps: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    refusals: list = field(default_factory=list)
    files: list = field(default_factory=list)  # FileNeed, bundle first
    decision: object = None

    def ordered_steps(self) -> list:
        """The steps in the order they are done on site (plan.md)."""
        return sorted(self.steps, key=lambda s: STEP_ORDER.index(s.code))

    @property
    def bundle(self) -> FileNeed | None:
        return next((f for f in self.files if f.role == "bundle"), None)

    def to_json(self) -> dict:
        c = self.charger
        return {
            "id": c.id, "model": c.model,
            "from": {"kit": c.kit, "terminal": c.terminal},
            "to": {"kit": self.to_kit, "terminal": self.to_terminal},
            "steps": [s.to_json() for s in self.ordered_steps()],
            "warnings": [w.to_json() for w in self.warnings],
            "refusals": [r.to_json() for r in self.refusals],
        }


# --------------------------------------------------------------------------- current state
def current_state_problems(ch: Charger, rules) -> tuple[list[Reason], list[Reason]]:
    """(refusals, warnings) about what is installed now."""
    model = rules.models[ch.model]
    refusals, warnings = [], []
    if ch.kit in rules.forbidden_kits:
        warnings.append(Reason("forbidden-installed", f"Kit {ch.kit} is installed: it must never be used "
                               f"(section {rules.forbidden['section']}). This plan replaces it."))
    elif ch.kit not in model.kits:
        if family(ch.kit) in rules.migration["from_families"] and family(ch.kit) < min(family(k) for k in model.kits):
            warnings.append(Reason("kit-older-than-tables", f"Kit {ch.kit} is older than the {model.name} table "
                                   f"(section {model.section}), which starts at {min(model.kits)}: its terminal "
                                   f"pairing cannot be checked."))
        else:
            refusals.append(Reason("unknown-kit", f"Installed kit {ch.kit} is not in the {model.name} table "
                                   f"(section {model.section}): check what the charger really runs."))
    if ch.terminal is not None:
        if ch.terminal not in model.terminals:
            refusals.append(Reason("unknown-terminal", f"Installed terminal {ch.terminal} is not in the "
                                   f"{model.name} table (section {model.section})."))
        else:
            if ch.kit in model.kits and not model.cell(ch.kit, ch.terminal):
                refusals.append(Reason("incompatible-terminal", f"Installed kit {ch.kit} with terminal "
                                       f"{ch.terminal} is KO in the {model.name} table (section {model.section}): "
                                       f"the charger is in a state the note rules out."))
            if hardware_blocks(rules, model, ch.terminal, ch.built):
                refusals.append(Reason("terminal-hardware", f"A terminal built {ch.built[0]:04d}-{ch.built[1]:02d} "
                                       f"cannot run terminal version {ch.terminal} (section "
                                       f"{rules.april_2023['section']}): this state is impossible; check the "
                                       f"build month and the version."))
    return refusals, warnings


# --------------------------------------------------------------------------- target
def target_decision(ch: Charger, rules):
    """The target's rules decision: --to, or the newest kit the rules allow."""
    def query(kit):
        return Query(ch.model, kit, built=ch.built, ocpp=ch.ocpp, mid=ch.mid)

    if ch.to is not None:
        return decide(query(ch.to), rules)
    model = rules.models[ch.model]
    for kit in sorted(model.kits, reverse=True):
        d = decide(query(kit), rules)
        if d.allowed:
            return d
    return decide(query(max(model.kits)), rules)


# --------------------------------------------------------------------------- files
def _file_name(model: str, terminal: int, kit: int | None, lang: str | None, rules) -> str:
    from stager import names

    needs_lang = rules.models[model].languages_matter
    if lang and (needs_lang or kit is None):
        try:
            return names.format_name(model, terminal, kit, lang)
        except BadInput:
            pass
    return names.expected_name(model, terminal, kit, pack=None)


def _look_up(catalog, decision, lang, want_hex, files: list[FileNeed]) -> None:
    try:
        sel = catalog.select(decision, lang=lang, hex=want_hex)
    except CatalogError as e:
        for f in files:
            f.found, f.why = False, e.message
        return
    by_role = {cf.role: cf for cf in sel.files}
    for f in files:
        cf = by_role.get(f.role)
        if cf is None:
            f.found, f.why = False, "not in the catalog"
        else:
            f.name, f.found, f.bytes, f.sha256 = cf.name, True, cf.bytes, cf.sha256


# --------------------------------------------------------------------------- the plan
def plan_charger(ch: Charger, catalog=None, rules=None) -> ChargerPlan:
    rules = rules or _rules()
    refusals, warnings = current_state_problems(ch, rules)
    d = target_decision(ch, rules)
    plan = ChargerPlan(charger=ch, to_kit=d.kit, to_terminal=d.terminal, decision=d)
    plan.refusals = refusals + list(d.refusals)
    plan.warnings = warnings + [w for w in d.warnings if w.code != "master-sd-reminder"]
    if not d.allowed:
        return plan
    if d.kit < ch.kit:
        plan.warnings.append(Reason("downgrade", f"Kit {d.kit} is lower than the installed {ch.kit}: a downgrade "
                                    f"(allowed, not advised: MADIC recommends the latest OCPP version)."))

    kit_changes = d.kit != ch.kit or (ch.terminal is not None and ch.terminal != d.terminal)
    if needs_master_sd(rules, ch.kit, d.kit):
        plan.steps.append(Step("master-sd", f"Migrate the kit from {ch.kit} ({family(ch.kit)}XX) with "
                               f"{master_sd_text(rules)} first: a {family(d.kit)}XX kit cannot be reached from a "
                               f"file (section {rules.migration['section']}). Bring a MASTER SD."))
    if kit_changes:
        name = _file_name(ch.model, d.terminal, d.kit, ch.lang, rules)
        plan.files.append(FileNeed(name, "bundle"))
        after = " after the MASTER SD migration" if plan.steps else ""
        plan.steps.append(Step("stage-bundle", f"Update kit and terminal to {d.kit} + {d.terminal}{after} from a "
                               f"card holding {name}.", {"file": name}))
    if ch.hex:
        name = _file_name(ch.model, d.terminal, None, ch.lang, rules)
        plan.files.append(FileNeed(name, "hex"))
        st = rules.stlink
        plan.steps.append(Step("stlink-hex", f"Flash terminal {d.terminal} with the ST-LINK probe ({st['utility']} "
                               f"{st['min_utility_version']} or later, {st['procedure']}) from {name}.",
                               {"file": name}))
    router_ok = _router_steps(ch, d.kit, rules, plan)
    if catalog is not None and plan.files:
        _look_up(catalog, d, ch.lang, ch.hex, plan.files)
    if not kit_changes and not ch.hex and router_ok:
        plan.steps.append(Step("nothing-to-do", f"Already on kit {d.kit} + terminal {d.terminal}"
                               + (f" with router {ch.router.router.upper()} {ch.router.version}" if ch.router else "")
                               + ": nothing to do."))
    return plan


def _router_steps(ch: Charger, kit: int, rules, plan: ChargerPlan) -> bool:
    """Router update or configuration steps; True when the router needs no change."""
    if ch.router is None:
        return True
    router, cell = router_cell(rules, ch.router, kit)
    cls = rules.kit_class(kit)
    if cell is not None and cell.ok:
        if cell.note is None:
            return True
        reason = note_reason(rules, router, ch.router.version, kit, cell.note)
        plan.steps.append(Step("router-config", reason.message, {"condition": reason.code, "router": router.id}))
        return False
    options = router_versions_for(rules, router.id, kit)
    if not options:
        plan.refusals.append(Reason("router-incompatible", f"No version of router {router.name} suits kit {kit} "
                                    f"(section {router.section})."))
        return False
    best, best_cell = options[0]
    plan.steps.append(Step(
        "router-update",
        f"Update router {router.name} from version {ch.router.version} to {best}: version {ch.router.version} is "
        f"KO with kit {kit} (class {cls.label if cls else '?'}, section {router.section}). {rules.site_visit}",
        {"router": router.id, "from": ch.router.version, "to": best}))
    if best_cell.note is not None:
        reason = note_reason(rules, router, best, kit, best_cell.note)
        plan.steps.append(Step("router-config", reason.message, {"condition": reason.code, "router": router.id}))
    return False
