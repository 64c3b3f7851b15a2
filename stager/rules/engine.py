"""The rules engine: is this kit/terminal choice allowed on this charger, and why.

Pure: no I/O beyond the rules data loaded once by :mod:`stager.rules.loader`. Every rule is a
small function that adds refusals, conditions or warnings, each citing the note.
"""

from __future__ import annotations

from dataclasses import dataclass

from stager.rules.inputs import RouterSpec
from stager.rules.loader import Model, Router, RouterCell, Rules, family
from stager.rules.loader import rules as _rules

NOTE = "the manufacturer's note"


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Query:
    """What the user asks: a model, a kit, maybe a terminal, and the rule options."""

    model: str
    kit: int
    terminal: int | None = None
    from_kit: int | None = None
    built: tuple[int, int] | None = None  # (year, month) the terminal was built
    ocpp: str | None = None  # "1.5" | "1.6"
    mid: bool = False
    router: RouterSpec | None = None


@dataclass(frozen=True)
class Decision:
    query: Query
    model_name: str
    terminal: int | None  # asked for, or chosen
    terminal_chosen: bool
    compatible_terminals: tuple[int, ...]
    refusals: tuple[Reason, ...] = ()
    conditions: tuple[Reason, ...] = ()
    warnings: tuple[Reason, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def model(self) -> str:
        return self.query.model

    @property
    def kit(self) -> int:
        return self.query.kit

    def codes(self) -> dict:
        return {
            "refusals": [r.code for r in self.refusals],
            "conditions": [c.code for c in self.conditions],
            "warnings": [w.code for w in self.warnings],
        }

    def to_json(self) -> dict:
        q = self.query
        return {
            "allowed": self.allowed,
            "model": q.model,
            "kit": q.kit,
            "terminal": self.terminal,
            "compatible_terminals": list(self.compatible_terminals),
            "refusals": [r.to_json() for r in self.refusals],
            "conditions": [c.to_json() for c in self.conditions],
            "warnings": [w.to_json() for w in self.warnings],
            # additions to the contract's keys
            "model_name": self.model_name,
            "terminal_chosen": self.terminal_chosen,
            "options": {
                "from_kit": q.from_kit,
                "built": f"{q.built[0]:04d}-{q.built[1]:02d}" if q.built else None,
                "ocpp": q.ocpp,
                "mid": q.mid,
                "router": str(q.router) if q.router else None,
            },
        }


def _fmt(versions) -> str:
    versions = list(versions)
    return ", ".join(str(v) for v in versions) if versions else "none"


# --------------------------------------------------------------------------- helpers
def hardware_blocks(rules: Rules, model: Model, terminal: int, built) -> bool:
    """True when a terminal built in ``built`` cannot run ``terminal`` (April-2023 rule)."""
    if built is None or not model.april_2023_rule:
        return False
    return tuple(built) >= rules.april_2023_from and family(terminal) in rules.april_2023["forbidden_terminal_families"]


def needs_master_sd(rules: Rules, from_kit: int, kit: int) -> bool:
    """Section 2: a 1XX/2XX kit reaches 3XX or later only with the MASTER SD."""
    mig = rules.migration
    return family(from_kit) in mig["from_families"] and family(kit) >= mig["barrier_family"]


def master_sd_text(rules: Rules) -> str:
    mig = rules.migration
    return f"the MASTER SD (MADIC ref. {mig['master_sd_ref']}, procedure {mig['procedure']})"


def router_cell(rules: Rules, spec: RouterSpec, kit: int) -> tuple[Router, RouterCell | None]:
    router = rules.routers[spec.router]
    cls = rules.kit_class(kit)
    if spec.version not in router.versions or cls is None or cls.id not in router.classes:
        return router, None
    return router, router.cell(spec.version, cls.id)


def router_versions_for(rules: Rules, router_id: str, kit: int) -> list[tuple[int, RouterCell]]:
    """The router's versions whose cell is OK for ``kit``'s class, best first:
    a cell with no condition before one with a condition, then the highest version."""
    router = rules.routers[router_id]
    cls = rules.kit_class(kit)
    if cls is None or cls.id not in router.classes:
        return []
    ok = [(v, router.cell(v, cls.id)) for v in router.versions if router.cell(v, cls.id).ok]
    return sorted(ok, key=lambda vc: (vc[1].note is not None, -vc[0]))


def note_reason(rules: Rules, router: Router, version: int, kit: int, number: int) -> Reason:
    """A condition from a router cell's note, in full (steps numbered)."""
    note = rules.notes[number]
    cls = rules.kit_class(kit)
    lines = [
        f"{note.title}: router {router.name} at version {version} with kit {kit} "
        f"(class {cls.label}), section {router.section}."
    ]
    lines += [f"  {i}. {step}" for i, step in enumerate(note.steps, 1)]
    lines.append(f"  {note.after}")
    lines.append(f"  {rules.site_visit}")
    return Reason(note.code, "\n".join(lines))


# --------------------------------------------------------------------------- engine
def decide(query: Query, rules: Rules | None = None) -> Decision:
    """Apply every rule of the note to ``query``."""
    rules = rules or _rules()
    model = rules.models[query.model]
    kit = query.kit
    refusals: list[Reason] = []
    conditions: list[Reason] = []
    warnings: list[Reason] = []

    # Forbidden version (section 6 NB) and the model's table (sections 4, 5, 6).
    kit_known = kit in model.kits
    if kit in rules.forbidden_kits:
        refusals.append(
            Reason(
                "forbidden-version",
                f"Kit {kit} must never be used, whatever the model ({NOTE}, section "
                f'{rules.forbidden["section"]}: "La version OCPP {kit} ne doit pas être utilisée"). '
                f"Choose another kit for the {model.name}: "
                f"{_fmt(k for k in model.kits if k not in rules.forbidden_kits)}.",
            )
        )
    elif not kit_known:
        refusals.append(
            Reason(
                "unknown-kit",
                f"Kit {kit} is not in the {model.name} table ({NOTE}, section {model.section}): "
                f"the kits it knows are {_fmt(model.kits)}.",
            )
        )
    compatible = model.compatible(kit) if kit_known else ()
    kit_usable = kit_known and kit not in rules.forbidden_kits  # else the advice below is noise

    # Terminal: the one asked for, or the newest one the table and the hardware allow.
    terminal, chosen = query.terminal, False
    if terminal is not None:
        if terminal not in model.terminals:
            refusals.append(
                Reason(
                    "unknown-terminal",
                    f"Terminal {terminal} is not in the {model.name} table ({NOTE}, section "
                    f"{model.section}): the terminals it knows are {_fmt(model.terminals)}.",
                )
            )
        elif kit_known and terminal not in compatible:
            refusals.append(
                Reason(
                    "incompatible-terminal",
                    f"Kit {kit} and terminal {terminal} are KO in the {model.name} table ({NOTE}, "
                    f"section {model.section}): with kit {kit} use terminal {_fmt(compatible)}.",
                )
            )
        if terminal in model.terminals and hardware_blocks(rules, model, terminal, query.built):
            refusals.append(_hardware_refusal(rules, model, terminal, query.built, compatible))
    elif compatible:
        runnable = [t for t in compatible if not hardware_blocks(rules, model, t, query.built)]
        chosen = True
        terminal = max(runnable) if runnable else max(compatible)
        if not runnable:
            refusals.append(_hardware_refusal(rules, model, terminal, query.built, compatible))
    if query.built is not None and not model.april_2023_rule and tuple(query.built) >= rules.april_2023_from:
        warnings.append(
            Reason(
                "terminal-hardware-not-applicable",
                f"Note: the {model.name} LED terminal numbers its versions on its own scale; "
                f"the April-2023 rule ({NOTE}, section {rules.april_2023['section']}) is not "
                f"stated for it, so the build month does not restrict it.",
            )
        )

    # Kit migration (section 2): the MASTER SD barrier, downgrades.
    mig_section = rules.migration["section"]
    if query.from_kit is not None:
        if needs_master_sd(rules, query.from_kit, kit):
            refusals.append(
                Reason(
                    "master-sd-required",
                    f"The kit is on {query.from_kit} ({family(query.from_kit)}XX): moving it to {kit} "
                    f"({family(kit)}XX) is only possible with {master_sd_text(rules)}, never with a "
                    f"file staged by stager ({NOTE}, section {mig_section}). Migrate with the MASTER "
                    f"SD first, then stage kit {kit}.",
                )
            )
        elif query.from_kit > kit:
            warnings.append(
                Reason(
                    "downgrade",
                    f"Kit {kit} is lower than the installed {query.from_kit}: this is a downgrade. "
                    f"MADIC recommends the latest OCPP version ({NOTE}, {rules.latest['section']}).",
                )
            )
        elif query.from_kit == kit:
            warnings.append(
                Reason(
                    "same-version",
                    f"Kit {kit} is already installed: staging it re-installs the same version.",
                )
            )
    elif kit_usable and family(kit) >= rules.migration["barrier_family"]:
        warnings.append(
            Reason(
                "master-sd-reminder",
                f"Kit {kit} is a {family(kit)}XX version: if the charger's kit is still on 1XX "
                f"or 2XX, it must first be migrated with {master_sd_text(rules)} ({NOTE}, section "
                f"{mig_section}). Give --from-kit to check.",
            )
        )

    # Protocol (section 2): 1XX/2XX kits speak only OCPP 1.5 SOAP.
    proto = rules.protocol
    if query.ocpp == "1.6" and family(kit) in proto["only_1_5_families"]:
        refusals.append(
            Reason(
                "ocpp-protocol",
                f"Kit {kit} ({family(kit)}XX) speaks only {proto['names']['1.5']}; "
                f"{proto['names']['1.6']} needs a 3XX kit or later ({NOTE}, section {proto['section']}).",
            )
        )

    # MID meters (section 2 NB): only from kit 310.
    min_mid = rules.mid["min_kit"]
    if query.mid and kit < min_mid:
        refusals.append(
            Reason(
                "mid-meter",
                f"A MID meter works only from kit {min_mid} (and its matching terminal) ({NOTE}, "
                f"section {rules.mid['section']}): kit {kit} cannot drive it. Choose kit {min_mid} or later.",
            )
        )

    # Routers (section 7).
    if query.router is not None:
        _router_rules(rules, query.router, kit, refusals, conditions)

    # Latest version (end of the note).
    usable = [k for k in model.kits if k not in rules.forbidden_kits]
    newest = max(usable) if usable else None
    if kit_usable and newest is not None and kit < newest:
        warnings.append(
            Reason(
                "newer-kit-available",
                f"A newer kit exists for the {model.name}: {newest}. MADIC INDUSTRIES recommends "
                f"the latest OCPP version ({NOTE}, {rules.latest['section']}).",
            )
        )

    return Decision(
        query=query,
        model_name=model.name,
        terminal=terminal,
        terminal_chosen=chosen,
        compatible_terminals=compatible,
        refusals=tuple(refusals),
        conditions=tuple(conditions),
        warnings=tuple(warnings),
    )


def _hardware_refusal(rules: Rules, model: Model, terminal: int, built, compatible) -> Reason:
    year, month = built
    runnable = [t for t in compatible if not hardware_blocks(rules, model, t, built)]
    then = (
        f"With this kit use terminal {_fmt(runnable)}."
        if runnable
        else "No terminal of this kit's row can run on it: choose a 3XX kit or later."
    )
    fams = "/".join(f"{f}XX" for f in rules.april_2023["forbidden_terminal_families"])
    return Reason(
        "terminal-hardware",
        f"This terminal was built {year:04d}-{month:02d}, from April 2023 on: it cannot run "
        f"terminal version {terminal} ({fams}) ({NOTE}, section {rules.april_2023['section']}). {then}",
    )


def _router_rules(rules: Rules, spec: RouterSpec, kit: int, refusals: list, conditions: list) -> None:
    router, cell = router_cell(rules, spec, kit)
    if spec.version not in router.versions:
        refusals.append(
            Reason(
                "router-unknown",
                f"Router {router.name} version {spec.version} is not in the note's table (section "
                f"{router.section}): it knows versions {_fmt(router.versions)}.",
            )
        )
        return
    if cell is None:
        refusals.append(
            Reason(
                "router-unknown",
                f"The {router.name} table (section {router.section}) has no column for kit {kit}: "
                f"it covers {', '.join(rules.classes[c].label for c in router.classes)}.",
            )
        )
        return
    cls = rules.kit_class(kit)
    if not cell.ok:
        options = router_versions_for(rules, router.id, kit)
        if options:
            best, best_cell = options[0]
            extra = f" (with note {best_cell.note})" if best_cell.note else ""
            todo = (
                f"Update the router to version {best}{extra} first."
                if best > spec.version
                else f"Put the router back on version {best}{extra} first."
            )
        else:
            todo = "No version of this router suits this kit."
        refusals.append(
            Reason(
                "router-incompatible",
                f"Router {router.name} at version {spec.version} does not work with kit {kit} (class "
                f"{cls.label}): KO in section {router.section}. {todo} {rules.site_visit}",
            )
        )
    elif cell.note is not None:
        conditions.append(note_reason(rules, router, spec.version, kit, cell.note))


def table_cell(model_id: str, kit: int | None, terminal: int) -> str:
    """What the rules say of a file's kit/terminal pair, as a one-word status:
    ok, ko, forbidden, unknown-kit, unknown-terminal (``kit`` None: a terminal's .hex)."""
    r = _rules()
    model = r.models[model_id]
    if terminal not in model.terminals:
        return "unknown-terminal"
    if kit is None:
        return "ok"
    if kit in r.forbidden_kits:
        return "forbidden"
    if kit not in model.kits:
        return "unknown-kit"
    return "ok" if model.cell(kit, terminal) else "ko"
