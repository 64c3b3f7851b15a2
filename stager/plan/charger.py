"""`stager plan`: what a technician brings to a site, and in what order to do it.

Built on the rules engine, it restates no rule: the current state and the target are
both :func:`stager.rules.engine.decide` decisions; the MASTER SD step comes from
:func:`needs_master_sd`, the downgrade warning is the engine's (``from_kit``); the
router steps and refusals come from :func:`router_verdict`, :func:`router_refusal` and
:func:`note_reason`; the April-2023 refusal from :func:`hardware_refusal`; a state older
than the table from :func:`installed_older_than_table`; file names from
:mod:`stager.rules.names`. Pure but for the optional catalog look-up.

Reading of the current state (plan.md "Impossible"): what the engine refuses about the
installed kit and terminal (a pair the table marks KO, a kit of a family the tables
cover that is not a row, an unknown terminal, a terminal built from April 2023 on
running a 1XX/2XX version, an installed 314, which "must not be used") is a state the
note rules out: reported in ``refusals`` (exit 3; also in ``ruled_out``), and the plan
is still made. One exception, reported as warnings:

- a kit older than the model's table (1XX; the tables start at 2XX, the WB-AC's at
  3XX): the note knows such kits (section 2: "1XX to 2XX without any problem", 1XX/2XX
  to 3XX with the MASTER SD), it just has no row for them, so the kit/terminal pairing
  cannot be checked, and a terminal older than the table is not "unknown" either.
  The April-2023 rule still applies to that terminal.
"""

from __future__ import annotations

from stager.catalog.select import select, select_hex
from stager.errors import BadInput, CatalogError
from stager.i18n import _
from stager.i18n_format import after_colon
from stager.rules import names
from stager.rules.engine import (
    Query,
    Reason,
    decide,
    hardware_blocks,
    hardware_refusal,
    installed_older_than_table,
    master_sd_text,
    needs_master_sd,
    newest_allowed,
    note_reason,
    router_refusal,
    router_verdict,
)
from stager.rules.inputs import RouterSpec
from stager.rules.loader import family
from stager.rules.loader import rules as _rules
from stager.value import field, replace, value

STEP_ORDER = ("master-sd", "stage-bundle", "stlink-hex", "router-update", "router-config", "nothing-to-do")


@value
class Charger:
    """What is installed now on one charger, and what is wanted."""

    id: str
    model: str
    kit: int
    terminal: int | None = None
    built: tuple | None = None  # (year, month)
    router: RouterSpec | None = None
    mid: bool = False
    ocpp: str | None = None
    lang: str | None = None
    to: int | None = None  # None: the latest the rules allow
    with_hex: bool = False


@value
class Step:
    code: str
    message: str
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message, **self.extra}


@value(frozen=False)
class FileNeed:
    """A file the plan needs; with a catalog, what it holds (or why it is missing)."""

    name: str
    role: str  # "bundle" | "hex"
    found: bool | None = None  # None: no catalog was given
    size: int | None = None
    sha256: str | None = None
    why: str | None = None
    code: str | None = None  # the catalog's error code when it is missing (several-files: a pack to choose)
    packs: list = field(default_factory=list)  # with several-files: the packs the catalog has


@value(frozen=False)
class ChargerPlan:
    charger: Charger
    to_kit: int | None
    to_terminal: int | None
    steps: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    refusals: list = field(default_factory=list)
    ruled_out: list = field(default_factory=list)  # those of ``refusals`` about the state installed now
    files: list = field(default_factory=list)  # FileNeed: what `stager prepare` puts on the card, bundle first
    pack: str | None = None  # the language pack: --lang, or the catalog's only one
    decision: object = None  # the target's rules Decision

    def ordered_steps(self) -> list:
        """The steps in the order they are done on site (plan.md)."""
        return sorted(self.steps, key=lambda s: STEP_ORDER.index(s.code))

    def file(self, role: str) -> FileNeed:
        """The file of ``role`` the plan needs (asked only once it is in ``files``)."""
        found = next((f for f in self.files if f.role == role), None)
        if found is None:
            raise KeyError(f"the plan needs no {role} file")
        return found

    @property
    def migrates(self) -> bool:
        """Whether this charger's kit goes through the MASTER SD."""
        return any(s.code == "master-sd" for s in self.steps)

    def to_json(self) -> dict:
        c = self.charger
        return {
            "id": c.id,
            "model": c.model,
            "from": {"kit": c.kit, "terminal": c.terminal},
            "to": {"kit": self.to_kit, "terminal": self.to_terminal},
            "steps": [s.to_json() for s in self.ordered_steps()],
            "warnings": [w.to_json() for w in self.warnings],
            "refusals": [r.to_json() for r in self.refusals],
        }


# --------------------------------------------------------------------------- current state
def current_state(ch: Charger, rules) -> tuple[list[Reason], list[Reason]]:
    """(refusals, warnings) about what is installed now: the engine's decision on the
    installed kit and terminal, read as a state (see the module's note)."""
    model = rules.models[ch.model]
    now = decide(Query(ch.model, ch.kit, terminal=ch.terminal, built=ch.built), rules)
    installed = (
        _("kit {kit} + terminal {terminal}").format(kit=ch.kit, terminal=ch.terminal)
        if ch.terminal is not None
        else _("kit {kit}").format(kit=ch.kit)
    )
    refusals, warnings = [], []
    for r in now.refusals:
        older = installed_older_than_table(rules, model, r, ch.kit, ch.terminal)
        if older is not None:
            warnings.append(older)
        else:
            refusals.append(_ruled_out(installed, r))
    # The engine applies the build month to the table's terminals only.
    if (
        ch.terminal is not None
        and ch.terminal not in model.terminals
        and hardware_blocks(rules, model, ch.terminal, ch.built)
    ):
        r = hardware_refusal(rules, model, ch.terminal, ch.built, model.compatible(ch.kit))
        refusals.append(_ruled_out(installed, r))
    return refusals, warnings


def _ruled_out(installed: str, r: Reason) -> Reason:
    """The engine's refusal of what is installed now, read as a state the note rules out."""
    # TRANSLATORS: {installed} is "kit 212 + terminal 241"; {reason} is the engine's reason, a sentence.
    # French goes on after a colon in lower case: the reason is given through after_colon().
    text = _("Installed now, {installed}: a state the note rules out. {reason}")
    text = text.format(installed=installed, reason=after_colon(r.message))
    return Reason(r.code, text[:1].upper() + text[1:])


# --------------------------------------------------------------------------- target
def target_decision(ch: Charger, rules):
    """The target's decision: ``--to``, or the newest kit of the model's table that the
    rules allow for this charger (never 314, MID, OCPP 1.6, the terminal's hardware)."""

    def query(kit):
        return Query(ch.model, kit, built=ch.built, ocpp=ch.ocpp, mid=ch.mid)

    if ch.to is not None:
        return decide(query(ch.to), rules)
    return newest_allowed(query(max(rules.models[ch.model].kits)), rules)


# --------------------------------------------------------------------------- files
def file_name(model: str, terminal: int, kit: int | None, lang: str | None, rules) -> str:
    """The canonical name (stager.rules.names) of the bundle, or of the terminal's .hex when
    ``kit`` is None; ``<LANG>`` stands for a pack not given (with a catalog, the name
    becomes the catalog's file: on a WB-AC, whose language does not matter, any pack)."""
    if lang:
        try:
            return names.format_name(model, terminal, kit, lang)
        except BadInput:  # a form without LANG (a 1XX/2XX .hex)
            pass
    return names.expected_name(model, terminal, kit, pack=None)


def _look_up(catalog, decision, lang, plan: ChargerPlan) -> None:
    """Each file looked up on its own (a missing bundle does not hide a .hex that is
    there), and found only when its content matches its index line, as prepare will
    check it: a file prepare would refuse is never reported found."""
    for f in plan.files:
        try:
            if f.role == "bundle":
                sel = select(catalog, decision, lang=lang)
                cf = sel.bundle
                plan.pack = sel.pack or plan.pack  # the pack of the file found (any pack on a WB-AC)
            else:
                cf = select_hex(catalog, decision, plan.pack)
            catalog.check(cf)
        except CatalogError as e:
            f.found, f.why, f.code = False, e.message, e.code
            if e.code == "several-files" and isinstance(e.details, dict):
                f.packs = list(e.details.get("packs") or [])
            continue
        f.name, f.found, f.size, f.sha256 = cf.name, True, cf.size, cf.sha256


# --------------------------------------------------------------------------- the plan
def plan_charger(ch: Charger, catalog=None, rules=None) -> ChargerPlan:
    """The ordered steps from what ``ch`` runs now to its target."""
    rules = rules or _rules()
    refusals, warnings = current_state(ch, rules)
    d = target_decision(ch, rules)
    plan = ChargerPlan(charger=ch, to_kit=d.kit, to_terminal=d.terminal, decision=d, pack=ch.lang)
    plan.ruled_out = refusals
    plan.refusals = refusals + list(d.refusals)
    # No MASTER SD reminder (the plan knows the kit installed), nor an April-2023 one for the
    # terminal the charger already runs (its hardware runs it).
    runs_it = ch.terminal is not None and ch.terminal == d.terminal
    plan.warnings = warnings + [
        w for w in d.warnings if w.code != "master-sd-reminder" and not (runs_it and w.code == "april-2023-reminder")
    ]
    if not d.allowed:
        return plan
    # The same target seen from the installed kit: the engine's MASTER SD barrier and downgrade.
    moving = decide(replace(d.query, from_kit=ch.kit), rules)
    plan.warnings += [w for w in moving.warnings if w.code == "downgrade"]

    kit_changes = d.kit != ch.kit or (ch.terminal is not None and ch.terminal != d.terminal)
    if needs_master_sd(rules, ch.kit, d.kit):
        plan.steps.append(
            Step(
                "master-sd",
                _(
                    "Migrate the kit from {from_kit} ({from_family}XX) with {master_sd} first: kit {kit} "
                    "({barrier}XX or later) is never reached from a file staged by stager (section {section})."
                ).format(
                    from_kit=ch.kit,
                    from_family=family(ch.kit),
                    master_sd=master_sd_text(rules),
                    kit=d.kit,
                    barrier=rules.migration.barrier_family,
                    section=rules.migration.section,
                ),
            )
        )
    _file_steps(ch, d, kit_changes, catalog, rules, plan)
    router_stays = _router_steps(ch, d.kit, rules, plan)
    if not kit_changes and not ch.with_hex and router_stays:
        plan.steps.append(Step("nothing-to-do", _nothing_to_do(ch, d, rules)))
    return plan


def _nothing_to_do(ch: Charger, d, rules) -> str:
    """The one step of a charger already on its target (with its router, if given)."""
    done = {"kit": d.kit, "terminal": d.terminal}
    if ch.router:
        done.update(router=rules.routers[ch.router.router].name, version=ch.router.version)
        if ch.terminal is None:
            return _(
                "Already on kit {kit} + terminal {terminal} with router {router} {version}: nothing to do "
                "(the terminal was not given: check that it runs {terminal})."
            ).format(**done)
        return _("Already on kit {kit} + terminal {terminal} with router {router} {version}: nothing to do.").format(
            **done
        )
    if ch.terminal is None:
        return _(
            "Already on kit {kit} + terminal {terminal}: nothing to do "
            "(the terminal was not given: check that it runs {terminal})."
        ).format(**done)
    return _("Already on kit {kit} + terminal {terminal}: nothing to do.").format(**done)


def _file_steps(ch: Charger, d, kit_changes: bool, catalog, rules, plan: ChargerPlan) -> None:
    """The files to bring (looked up in the catalog when there is one) and their steps."""
    if kit_changes or ch.with_hex:  # prepare puts the bundle on every card it makes
        plan.files.append(FileNeed(file_name(ch.model, d.terminal, d.kit, ch.lang, rules), "bundle"))
    if ch.with_hex:
        plan.files.append(FileNeed(file_name(ch.model, d.terminal, None, ch.lang, rules), "hex"))
    if catalog is not None and plan.files:
        _look_up(catalog, d, ch.lang, plan)
    if kit_changes:
        name = plan.file("bundle").name
        text = (
            _("Update kit and terminal to {kit} + {terminal} after the MASTER SD migration from a card holding {file}.")
            if plan.steps
            else _("Update kit and terminal to {kit} + {terminal} from a card holding {file}.")
        )
        plan.steps.append(Step("stage-bundle", text.format(kit=d.kit, terminal=d.terminal, file=name), {"file": name}))
    if ch.with_hex:
        name = plan.file("hex").name
        st = rules.stlink
        plan.steps.append(
            Step(
                "stlink-hex",
                _(
                    "Flash terminal {terminal} with the ST-LINK probe ({utility} {version} or later, {procedure}) "
                    "from {file} (section {section})."
                ).format(
                    terminal=d.terminal,
                    utility=st.utility,
                    version=st.min_utility_version,
                    procedure=st.procedure,
                    file=name,
                    section=st.section,
                ),
                {"file": name},
            )
        )


def _router_steps(ch: Charger, kit: int, rules, plan: ChargerPlan) -> bool:
    """The router's update or configuration steps (the engine's verdict on section 7);
    True when it needs nothing."""
    if ch.router is None:
        return True
    spec = ch.router
    v = router_verdict(rules, spec, kit)
    router = v.router
    if v.status == "unknown-version":
        installed = _("router {router} at version {version}").format(router=router.name, version=spec.version)
        plan.refusals.append(_ruled_out(installed, router_refusal(rules, v)))
    elif ch.kit != kit and router_verdict(rules, spec, ch.kit).status == "ko":
        plan.warnings.append(
            Reason(
                "router-ko-now",
                _(
                    "Router {router} at version {version} is KO with the installed kit {kit} (section {section}): "
                    "the charger may be offline until this plan is done."
                ).format(router=router.name, version=spec.version, kit=ch.kit, section=router.section),
            )
        )
    if v.status == "ok":
        return True
    if v.status == "ok-with-note" and v.cell is not None and v.cell.note is not None:
        _router_config_step(plan, note_reason(rules, router, spec.version, kit, v.cell.note), router.id)
        return False
    if v.best is None:  # no version suits the kit (an unknown version is refused above already)
        if v.status != "unknown-version":
            plan.refusals.append(router_refusal(rules, v))
        return False
    best, best_cell = v.best
    text = _router_update_text(v, kit, rules)
    plan.steps.append(Step("router-update", text, {"router": router.id, "from": spec.version, "to": best}))
    if best_cell.note is not None:
        _router_config_step(plan, note_reason(rules, router, best, kit, best_cell.note), router.id)
    return False


def _router_update_text(v, kit: int, rules) -> str:
    """The router-update step: from the version installed to the best one for ``kit``, and why."""
    router, spec, (best, _cell) = v.router, v.spec, v.best
    cls = rules.kit_class(kit)
    facts = (
        _(
            "version {version} is not in the note's table with kit {kit} (class {label}, section {section}); "
            "version {best} works with it. {site_visit}"
        )
        if v.status == "unknown-version"
        else _(
            "version {version} does not work with kit {kit} (class {label}, section {section}); "
            "version {best} works with it. {site_visit}"
        )
    ).format(
        version=spec.version,
        kit=kit,
        label=cls.label if cls else "?",
        section=router.section,
        best=best,
        site_visit=_(rules.site_visit),
    )
    if best > spec.version:
        text = _("Update router {router} from version {version} to {best}: {facts}")
    else:
        text = _("Put router {router} back from version {version} to {best}: {facts}")
    return text.format(router=router.name, version=spec.version, best=best, facts=facts)


def _router_config_step(plan: ChargerPlan, reason: Reason, router_id: str) -> None:
    plan.steps.append(Step("router-config", reason.message, {"condition": reason.code, "router": router_id}))
