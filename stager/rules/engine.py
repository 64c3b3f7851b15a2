"""The rules engine: is this kit/terminal choice allowed on this charger, and why.

Pure: no I/O beyond the rules data loaded once by :mod:`stager.rules.loader`. Every rule is a
small function that adds refusals, conditions or warnings, each citing the note.
"""

from __future__ import annotations

from stager.i18n import _, ngettext
from stager.i18n_format import format_list, format_month
from stager.rules.inputs import RouterSpec
from stager.rules.loader import Model, Router, RouterCell, Rules, family
from stager.rules.loader import rules as _rules
from stager.value import field, replace, value


@value
class Reason:
    code: str
    message: str
    #: one line for a standing reminder (shown instead of ``message`` unless --explain)
    brief: str = ""

    @property
    def standing(self) -> bool:
        """A reminder given whenever its option is missing (MASTER SD, April 2023, newer kit)."""
        return self.code in STANDING

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message}


#: The codes of the standing reminders: given on every run whose option is missing, so
#: shown in one line each (the full text in ``check`` and with ``--explain``).
STANDING = frozenset({"master-sd-reminder", "april-2023-reminder", "newer-kit-available"})


@value
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
    kit_latest: bool = False  # --kit latest: ``kit`` is the newest the rules allow (newest_allowed)


@value
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
            "kit_chosen": q.kit_latest,
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
    return ", ".join(str(v) for v in versions) if versions else _("none")


# --------------------------------------------------------------------------- helpers
def hardware_blocks(rules: Rules, model: Model, terminal: int, built) -> bool:
    """True when a terminal built in ``built`` cannot run ``terminal`` (April-2023 rule)."""
    if built is None or not model.april_2023_rule:
        return False
    return tuple(built) >= rules.april_2023_from and family(terminal) in rules.april_2023.forbidden_terminal_families


def needs_master_sd(rules: Rules, from_kit: int, kit: int) -> bool:
    """Section 2: a 1XX/2XX kit reaches 3XX or later only with the MASTER SD."""
    mig = rules.migration
    return family(from_kit) in mig.from_families and family(kit) >= mig.barrier_family


def master_sd_text(rules: Rules) -> str:
    mig = rules.migration
    return _("the MASTER SD (MADIC ref. {ref}, procedure {procedure})").format(
        ref=mig.master_sd_ref, procedure=mig.procedure
    )


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
    label = cls.label if cls is not None else "?"
    lines = [
        _("{title}: router {router} at version {version} with kit {kit} (class {label}), section {section}.").format(
            title=_(note.title), router=router.name, version=version, kit=kit, label=label, section=router.section
        )
    ]
    lines += [f"  {i}. {_(step)}" for i, step in enumerate(note.steps, 1)]
    lines.append(f"  {_(note.after)}")
    lines.append(f"  {_(rules.site_visit)}")
    return Reason(note.code, "\n".join(lines))


def hardware_refusal(rules: Rules, model: Model, terminal: int, built, compatible=()) -> Reason:
    """The April-2023 refusal (section 2 NB) of ``terminal`` on a terminal built ``built``,
    with the terminals of ``compatible`` that it can run."""
    year, month = built
    runnable = [t for t in compatible if not hardware_blocks(rules, model, t, built)]
    then = (
        ngettext(
            "With this kit use terminal {terminals}.",
            "With this kit use one of the terminals {terminals}.",
            len(runnable),
        ).format(terminals=format_list(runnable, "or"))
        if runnable
        else _("No terminal of this kit's row can run on it: choose a 3XX kit or later.")
    )
    fams = "/".join(f"{f}XX" for f in sorted(rules.april_2023.forbidden_terminal_families))
    return Reason(
        "terminal-hardware",
        _(
            "This terminal was built {built}, so after the change of component of April 2023: it cannot run "
            "terminal version {terminal}, a {families} version (the manufacturer's note, section {section}). {then}"
        ).format(
            built=format_month(year, month),
            terminal=terminal,
            families=fams,
            section=rules.april_2023.section,
            then=then,
        ),
    )


def older_than_table(rules: Rules, version: int, versions) -> bool:
    """A 1XX/2XX version of a family below every version of the table's axis."""
    return family(version) in rules.migration.from_families and family(version) < min(family(v) for v in versions)


def installed_older_than_table(rules: Rules, model: Model, refusal: Reason, kit: int, terminal) -> Reason | None:
    """An installed state older than the model's table (section 2 knows 1XX/2XX kits, to
    1XX/2XX without a problem, to 3XX with the MASTER SD; the tables just have no row
    for them): the warning that replaces the decision's ``unknown-kit`` refusal of such a
    kit, or its ``unknown-terminal`` refusal of a terminal older than the table too.
    None when ``refusal`` is not one of these."""
    if not older_than_table(rules, kit, model.kits):
        return None
    if refusal.code == "unknown-kit":
        return Reason(
            "kit-older-than-table",
            _(
                "Installed kit {kit} is older than the {model} table (section {section}), which starts at "
                "{first}: the note knows {family}XX kits (section {migration}) but the kit/terminal "
                "pairing cannot be checked."
            ).format(
                kit=kit,
                model=model.name,
                section=model.section,
                first=min(model.kits),
                family=family(kit),
                migration=rules.migration.section,
            ),
        )
    if (
        refusal.code == "unknown-terminal"
        and terminal is not None
        and older_than_table(rules, terminal, model.terminals)
    ):
        return Reason(
            "terminal-older-than-table",
            _(
                "Installed terminal {terminal} is older than the {model} table, which starts at {first}: "
                "it goes with the {family}XX kit and cannot be checked."
            ).format(terminal=terminal, model=model.name, first=min(model.terminals), family=family(kit)),
        )
    return None


@value
class RouterVerdict:
    """What section 7 says of a router at a version with a kit.

    ``status``: ``unknown-version`` (not a row of its table), ``no-column`` (the kit's
    class is not a column), ``ko``, ``ok`` or ``ok-with-note`` (a condition applies).
    ``best`` is the router version to move to when it is not ``ok``: (version, cell)."""

    router: Router
    spec: RouterSpec
    kit: int
    status: str
    cell: RouterCell | None
    best: tuple[int, RouterCell] | None


def router_verdict(rules: Rules, spec: RouterSpec, kit: int) -> RouterVerdict:
    router, cell = router_cell(rules, spec, kit)
    if spec.version not in router.versions:
        status = "unknown-version"
    elif cell is None:
        status = "no-column"
    elif not cell.ok:
        status = "ko"
    else:
        status = "ok" if cell.note is None else "ok-with-note"
    options = router_versions_for(rules, router.id, kit)
    best = options[0] if options and status in ("unknown-version", "ko") else None
    return RouterVerdict(router, spec, kit, status, cell, best)


# --------------------------------------------------------------------------- engine
@value(frozen=False)
class _Case:
    """One query being decided: what each rule reads, and what the rules found."""

    rules: Rules
    model: Model
    query: Query
    compatible: tuple[int, ...] = ()
    terminal: int | None = None
    chosen: bool = False
    refusals: list[Reason] = field(default_factory=list)
    conditions: list[Reason] = field(default_factory=list)
    warnings: list[Reason] = field(default_factory=list)

    @property
    def kit(self) -> int:
        return self.query.kit

    @property
    def kit_known(self) -> bool:
        return self.kit in self.model.kits

    @property
    def kit_usable(self) -> bool:
        """A kit of the table that is not forbidden (else the advice is noise)."""
        return self.kit_known and self.kit not in self.rules.forbidden_kits


def _kit_rule(c: _Case) -> None:
    """Forbidden version (section 6 NB) and the model's table (sections 4, 5, 6)."""
    r, m, kit = c.rules, c.model, c.kit
    if kit in r.forbidden_kits:
        c.refusals.append(
            Reason(
                "forbidden-version",
                # TRANSLATORS: {quote} is the note's own sentence, in French: keep it as it is.
                _(
                    "Kit {kit} must never be used, whatever the model (the manufacturer's note, section "
                    '{section}: "{quote}"). Choose another kit for the {model}: {kits}.'
                ).format(
                    kit=kit,
                    section=r.forbidden.section,
                    quote=f"La version OCPP {kit} ne doit pas être utilisée",
                    model=m.name,
                    kits=_fmt(k for k in m.kits if k not in r.forbidden_kits),
                ),
            )
        )
    elif not c.kit_known:
        c.refusals.append(
            Reason(
                "unknown-kit",
                _(
                    "Kit {kit} is not in the {model} table (the manufacturer's note, section {section}): "
                    "the kits it knows are {kits}."
                ).format(kit=kit, model=m.name, section=m.section, kits=_fmt(m.kits)),
            )
        )
    c.compatible = m.compatible(kit) if c.kit_known else ()


def _terminal_rule(c: _Case) -> None:
    """The terminal asked for, or the newest one the table and the hardware allow."""
    r, m, built = c.rules, c.model, c.query.built
    terminal = c.query.terminal
    if terminal is None:
        if c.compatible:
            runnable = [t for t in c.compatible if not hardware_blocks(r, m, t, built)]
            c.terminal, c.chosen = (max(runnable) if runnable else max(c.compatible)), True
            if not runnable:
                c.refusals.append(hardware_refusal(r, m, c.terminal, built, c.compatible))
        return
    c.terminal = terminal
    if terminal not in m.terminals:
        c.refusals.append(
            Reason(
                "unknown-terminal",
                _(
                    "Terminal {terminal} is not in the {model} table (the manufacturer's note, section "
                    "{section}): the terminals it knows are {terminals}."
                ).format(terminal=terminal, model=m.name, section=m.section, terminals=_fmt(m.terminals)),
            )
        )
    elif c.kit_known and terminal not in c.compatible:
        c.refusals.append(
            Reason(
                "incompatible-terminal",
                ngettext(
                    "Kit {kit} and terminal {terminal} are KO in the {model} table (the manufacturer's note, "
                    "section {section}): with kit {kit} use terminal {terminals}.",
                    "Kit {kit} and terminal {terminal} are KO in the {model} table (the manufacturer's note, "
                    "section {section}): with kit {kit} use one of the terminals {terminals}.",
                    len(c.compatible),
                ).format(
                    kit=c.kit,
                    terminal=terminal,
                    model=m.name,
                    section=m.section,
                    terminals=format_list(c.compatible, "or") or _fmt(c.compatible),
                ),
            )
        )
    if terminal in m.terminals and hardware_blocks(r, m, terminal, built):
        c.refusals.append(hardware_refusal(r, m, terminal, built, c.compatible))


def _april_2023_scope_rule(c: _Case) -> None:
    """The April-2023 rule is stated for the terminals of the Pulse 22/50 tables only."""
    r, m, built = c.rules, c.model, c.query.built
    if built is not None and not m.april_2023_rule and tuple(built) >= r.april_2023_from:
        c.warnings.append(
            Reason(
                "terminal-hardware-not-applicable",
                _(
                    "Note: the {model} LED terminal numbers its versions on its own scale; the April-2023 rule "
                    "(the manufacturer's note, section {section}) is not stated for it, so the build month "
                    "does not restrict it."
                ).format(model=m.name, section=r.april_2023.section),
            )
        )


def _migration_rule(c: _Case) -> None:
    """Kit migration (section 2): the MASTER SD barrier, downgrades, the same version."""
    r, kit, from_kit = c.rules, c.kit, c.query.from_kit
    section = r.migration.section
    if from_kit is None:
        if c.kit_usable and family(kit) >= r.migration.barrier_family:
            c.warnings.append(
                Reason(
                    "master-sd-reminder",
                    _(
                        "Kit {kit} is a {family}XX version: if the charger's kit is still on 1XX or 2XX, it must "
                        "first be migrated with {master_sd} (the manufacturer's note, section {section}). "
                        "Give --from-kit to check."
                    ).format(kit=kit, family=family(kit), master_sd=master_sd_text(r), section=section),
                    _(
                        "Kit {kit} is {family}XX: a charger still on a 1XX or 2XX kit needs the MASTER SD first "
                        "(--from-kit to check)."
                    ).format(kit=kit, family=family(kit)),
                )
            )
    elif needs_master_sd(r, from_kit, kit):
        c.refusals.append(
            Reason(
                "master-sd-required",
                _(
                    "The kit is on {from_kit} ({from_family}XX): moving it to {kit} ({family}XX) is only possible "
                    "with {master_sd}, never with a file staged by stager (the manufacturer's note, section "
                    "{section}). Migrate with the MASTER SD first, then stage kit {kit}."
                ).format(
                    from_kit=from_kit,
                    from_family=family(from_kit),
                    kit=kit,
                    family=family(kit),
                    master_sd=master_sd_text(r),
                    section=section,
                ),
            )
        )
    elif from_kit > kit:
        c.warnings.append(
            Reason(
                "downgrade",
                _(
                    "Kit {kit} is older than the installed kit ({from_kit}): this is a downgrade. MADIC INDUSTRIES "
                    "recommends the latest OCPP version (the manufacturer's note, {section})."
                ).format(kit=kit, from_kit=from_kit, section=_(r.latest.section)),
            )
        )
    elif from_kit == kit:
        c.warnings.append(
            Reason(
                "same-version",
                _("Kit {kit} is already installed: staging it re-installs the same version.").format(kit=kit),
            )
        )


def _protocol_rule(c: _Case) -> None:
    """Protocol (section 2): 1XX/2XX kits speak only OCPP 1.5 SOAP."""
    proto, kit = c.rules.protocol, c.kit
    if c.query.ocpp == "1.6" and family(kit) in proto.only_1_5_families:
        c.refusals.append(
            Reason(
                "ocpp-protocol",
                _(
                    "Kit {kit} ({family}XX) speaks only {old}; {new} needs a 3XX kit or later "
                    "(the manufacturer's note, section {section})."
                ).format(
                    kit=kit, family=family(kit), old=proto.names["1.5"], new=proto.names["1.6"], section=proto.section
                ),
            )
        )


def _mid_rule(c: _Case) -> None:
    """MID meters (section 2 NB): only from kit 310."""
    mid = c.rules.mid
    if c.query.mid and c.kit < mid.min_kit:
        c.refusals.append(
            Reason(
                "mid-meter",
                _(
                    "A MID meter works only from kit {min_kit} and its matching terminal (the manufacturer's "
                    "note, section {section}): kit {kit} cannot drive it. Choose kit {min_kit} or later."
                ).format(min_kit=mid.min_kit, section=mid.section, kit=c.kit),
            )
        )


def _router_rule(c: _Case) -> None:
    """Routers (section 7)."""
    if c.query.router is None:
        return
    v = router_verdict(c.rules, c.query.router, c.kit)
    if v.status in ("unknown-version", "no-column", "ko"):
        c.refusals.append(router_refusal(c.rules, v))
    elif v.status == "ok-with-note" and v.cell is not None and v.cell.note is not None:
        c.conditions.append(note_reason(c.rules, v.router, v.spec.version, c.kit, v.cell.note))


def _april_2023_reminder_rule(c: _Case) -> None:
    """Section 2 NB: without --built, a 1XX/2XX terminal version may not run on the
    charger's terminal (those built from April 2023 cannot run them)."""
    r, m, t = c.rules, c.model, c.terminal
    fams = r.april_2023.forbidden_terminal_families
    if c.query.built is not None or not m.april_2023_rule or t is None or t not in m.terminals:
        return
    if family(t) not in fams:
        return
    year, month = r.april_2023_from
    c.warnings.append(
        Reason(
            "april-2023-reminder",
            _(
                "Terminal {terminal} is a {family}XX version: terminals built from {month} on cannot run 1XX or "
                "2XX versions, after a change of component (the manufacturer's note, section {section}). Read the "
                "build month on the terminal's plate and give --built YYYY-MM to check."
            ).format(terminal=t, family=family(t), month=format_month(year, month), section=r.april_2023.section),
            _(
                "Terminal {terminal} is {family}XX: a terminal built from {month} on cannot run it (--built to check)."
            ).format(terminal=t, family=family(t), month=format_month(year, month)),
        )
    )


def _latest_rule(c: _Case) -> None:
    """Latest version (end of the note): a newer kit of the table is recommended (not
    with --kit latest: the newest kit these options allow is already the one chosen)."""
    r, m = c.rules, c.model
    usable = [k for k in m.kits if k not in r.forbidden_kits]
    if c.kit_usable and usable and c.kit < max(usable) and not c.query.kit_latest:
        c.warnings.append(
            Reason(
                "newer-kit-available",
                _(
                    "A newer kit exists for the {model}: {kit}. MADIC INDUSTRIES recommends the latest OCPP version "
                    "(the manufacturer's note, {section})."
                ).format(model=m.name, kit=max(usable), section=_(r.latest.section)),
                _("A newer kit exists for the {model}: {kit} (MADIC INDUSTRIES recommends the latest).").format(
                    model=m.name, kit=max(usable)
                ),
            )
        )


#: The rules of the note, in the order their findings are listed.
RULES = (
    _kit_rule,
    _terminal_rule,
    _april_2023_scope_rule,
    _april_2023_reminder_rule,
    _migration_rule,
    _protocol_rule,
    _mid_rule,
    _router_rule,
    _latest_rule,
)


def decide(query: Query, rules: Rules | None = None) -> Decision:
    """Apply every rule of the note to ``query``."""
    rules = rules or _rules()
    case = _Case(rules, rules.models[query.model], query)
    for rule in RULES:
        rule(case)
    return Decision(
        query=query,
        model_name=case.model.name,
        terminal=case.terminal,
        terminal_chosen=case.chosen,
        compatible_terminals=case.compatible,
        refusals=tuple(case.refusals),
        conditions=tuple(case.conditions),
        warnings=tuple(case.warnings),
    )


def newest_allowed(query: Query, rules: Rules | None = None) -> Decision:
    """--kit latest: the decision for the newest kit of the model's table that the rules
    allow with the query's other options (its own kit is ignored). When none is allowed,
    the decision for the newest kit that is not forbidden, whose refusals say why."""
    rules = rules or _rules()
    model = rules.models[query.model]
    usable = sorted((k for k in model.kits if k not in rules.forbidden_kits), reverse=True)
    for kit in usable:
        d = decide(replace(query, kit=kit, kit_latest=True), rules)
        if d.allowed:
            return d
    return decide(replace(query, kit=usable[0] if usable else max(model.kits), kit_latest=True), rules)


def router_refusal(rules: Rules, v: RouterVerdict) -> Reason:
    """Why section 7 refuses a router verdict that is not OK (``unknown-version``,
    ``no-column`` or ``ko``): router-unknown or router-incompatible, in full."""
    router, spec, kit = v.router, v.spec, v.kit
    if v.status == "unknown-version":
        return Reason(
            "router-unknown",
            _(
                "Router {router} version {version} is not in the note's table (section {section}): "
                "it knows versions {versions}."
            ).format(router=router.name, version=spec.version, section=router.section, versions=_fmt(router.versions)),
        )
    if v.status == "no-column":
        return Reason(
            "router-unknown",
            _("The {router} table (section {section}) has no column for kit {kit}: it covers {classes}.").format(
                router=router.name,
                section=router.section,
                kit=kit,
                classes=", ".join(rules.classes[c].label for c in router.classes),
            ),
        )
    cls = rules.kit_class(kit)
    return Reason(
        "router-incompatible",
        _(
            "Router {router} at version {version} does not work with kit {kit} (class {label}): "
            "KO in section {section}. {todo} {site_visit}"
        ).format(
            router=router.name,
            version=spec.version,
            kit=kit,
            label=cls.label if cls else "?",
            section=router.section,
            todo=_router_todo(v, spec),
            site_visit=_(rules.site_visit),
        ),
    )


def _router_todo(v: RouterVerdict, spec: RouterSpec) -> str:
    """What to do with a router that is KO: the version to move it to, first."""
    if v.best is None:
        return _("No version of this router suits this kit.")
    best, best_cell = v.best
    if best_cell.note and best > spec.version:
        return _("Update the router to version {version} (with note {note}) first.").format(
            version=best, note=best_cell.note
        )
    if best_cell.note:
        return _("Put the router back on version {version} (with note {note}) first.").format(
            version=best, note=best_cell.note
        )
    if best > spec.version:
        return _("Update the router to version {version} first.").format(version=best)
    return _("Put the router back on version {version} first.").format(version=best)


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
