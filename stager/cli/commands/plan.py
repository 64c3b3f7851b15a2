"""stager plan: what a technician brings to a site, for one charger or a whole site."""

from __future__ import annotations

import sys

import click

from stager.cli.options import (
    allow_rollback_option,
    catalog_option,
    epilog,
    explain_option,
    lang_option,
    parsed_by,
    rule_options,
)
from stager.cli.output import Reported, emit_json, json_option, say, style, warn
from stager.cli.render import size_text
from stager.errors import BadInput
from stager.i18n import _, ngettext, pgettext
from stager.i18n_format import after_colon, format_list
from stager.rules import inputs
from stager.rules.engine import master_sd_text
from stager.rules.loader import rules


def _to(value):
    if value is None or value.strip().lower() == "latest":
        return None
    return inputs.parse_version(value, "target kit")


def _installed_kit(value):
    if value.strip().lower() == inputs.LATEST:
        raise BadInput(
            _(
                "in plan, --kit is the kit installed now: give its version; the kit to move to is --to "
                "(default: latest, the newest kit the rules allow for this charger)."
            )
        )
    return inputs.parse_version(value, "kit")


def checklist(site, stream, explain: bool = True) -> list[str]:
    lines = []
    for p in site.plans:
        c = p.charger
        now = _kit_text(c.kit, c.terminal or None)
        to = _kit_text(p.to_kit, p.to_terminal)
        # TRANSLATORS: {now} and {to} are "kit 212 + terminal 220"; the arrow is the move from one to the other.
        head = _("Charger {id}: {model}, {now} -> {to}").format(
            id=c.id, model=p.decision.model_name if p.decision else c.model, now=now, to=to
        )
        lines.append(style(head, stream, bold=True))
        for r in p.refusals:
            label = _("RULED OUT as installed now") if r in p.ruled_out else _("REFUSED")
            lines.append(style(f"  {label} [{r.code}] ", stream, fg="red", bold=True) + r.message)
        for i, s in enumerate(p.ordered_steps(), 1):
            first, *rest = s.message.splitlines()
            lines.append(f"  [ ] {i}. {first}")
            lines.extend(f"        {x}" for x in rest)
        for w in p.warnings:  # a standing reminder in one line, unless --explain
            text = w.brief if (w.standing and w.brief and not explain) else w.message
            lines.append(style("  " + _("warning:") + " ", stream, fg="yellow") + after_colon(text))
        lines += _file_lines(p, stream, site.from_file)
        lines.append("")
    if site.errors:
        lines.append(style(_("Lines not planned:"), stream, fg="red", bold=True))
        lines.extend(
            "  " + _("line {line}: {message}").format(line=e["line"], message=e["message"]) for e in site.errors
        )
        lines.append("")
    return lines + _bring_lines(site, stream)


def _kit_text(kit, terminal) -> str:
    """A charger's heading's "kit 212 + terminal 220" (no article in French, as check's heading)."""
    if terminal is None:
        return pgettext("heading", "kit {kit}").format(kit=kit)
    return pgettext("heading", "kit {kit} + terminal {terminal}").format(kit=kit, terminal=terminal)


def _file_lines(p, stream, from_file: bool = False) -> list[str]:
    """The files of one charger's plan: in the catalog, or missing from it (from a site
    file, a pack to choose is the line's lang column, not --lang)."""
    lines = []
    for f in p.files:
        if f.found is True:
            text = _("file {name}: in the catalog ({size}, sha256 {sha256}...)")
            lines.append("  " + text.format(name=f.name, size=size_text(f.size), sha256=f.sha256[:16]))
        elif f.found is False and from_file and f.code == "several-files" and f.packs:
            text = _(
                "file {name}: a language pack to choose (the catalog has {packs}): fill in the lang column "
                "of this charger's line (for example {first})."
            ).format(name=f.name, packs=format_list(f.packs), first=f.packs[0])
            lines.append(style("  " + text, stream, fg="red"))
        elif f.found is False:
            text = _("file {name}: MISSING from the catalog").format(name=f.name)
            lines.append(style("  " + text, stream, fg="red") + f" ({f.why})")
    return lines


def _bring_lines(site, stream) -> list[str]:
    """What to bring to the site: the MASTER SD and the cards to make, as a checklist."""
    bring = site.bring()
    lines = [style(_("Bring:"), stream, bold=True)]
    if bring["master_sd"]:
        migrated = [p.charger.id for p in site.plans if p.migrates]
        # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
        text = ngettext(
            "{master_sd}: {n} migration(s), charger(s) {chargers}",
            "{master_sd}: {n} migration(s), charger(s) {chargers}",
            bring["master_sd"],
        )
        text = text.format(master_sd=master_sd_text(rules()), n=bring["master_sd"], chargers=", ".join(migrated))
        lines.append("  [ ] " + text)
    by_id = {p.charger.id: p for p in site.plans}
    for card in bring["cards"]:
        # TRANSLATORS: English writes "(s)" in both forms; the form follows the number of chargers.
        text = ngettext(
            "a card with {files} for charger(s) {chargers}",
            "a card with {files} for charger(s) {chargers}",
            len(card["chargers"]),
        )
        lines.append("  [ ] " + text.format(files=", ".join(card["files"]), chargers=", ".join(card["chargers"])))
        lines.append("      " + _("make it with: {command}").format(command=card["command"]))
        if card["missing"]:
            text = _("cannot be made yet: {files} MISSING from the catalog").format(files=", ".join(card["missing"]))
            lines.append(style("      " + text, stream, fg="red"))
        if any("<LANG>" in name for name in card["files"]):
            model = rules().models[by_id[card["chargers"][0]].charger.model]
            if model.languages_matter and site.from_file:
                text = _(
                    "(language pack not given: fill in the lang column of the site file, e.g. FR, or keep one "
                    "pack in the catalog)"
                )
            elif model.languages_matter:
                text = _("(language pack not given: add --lang, e.g. --lang FR, or keep one pack in the catalog)")
            else:
                text = _("(any language pack: the {model} terminal has LEDs only)").format(model=model.name)
            lines.append("      " + text)
    if not bring["master_sd"] and not bring["cards"]:
        lines.append("  " + _("nothing: no card and no MASTER SD needed."))
    return lines


@click.command(
    help=_(
        "Plan the visit: from what is installed now to the target, the ordered steps with "
        "the note's rule behind each (MASTER SD, the card to stage, the ST-LINK .hex, the "
        "router), and what to bring."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager plan --model p50 --kit 212 --terminal 220 --built 2022-06 --router f3426:7\n"
            "  stager plan --model p22 --kit 316 --router f3426:9 --to 318 --lang FR --hex\n"
            "  stager plan --site site.csv --catalog /srv/firmware --json"
        ),
        _(
            "site.csv columns: id,model,kit,terminal,built,router,mid,ocpp,lang,to (id, model, kit\n"
            "required; router as f3426:7; mid yes/no; to a kit or latest).\n"
            "Exit codes: 2 a file or line that cannot be read, 3 a plan refused or a current state\n"
            "the note rules out, 4 the catalog lacks a file, else 0."
        ),
    ),
)
@click.option(
    "--model",
    "-m",
    metavar=_("MODEL"),
    callback=parsed_by(inputs.parse_model),
    help=_("Charger model (p22, p50, wbac); with --kit, one charger."),
)
@click.option(
    "--kit",
    "-k",
    metavar=_("KIT"),
    callback=parsed_by(_installed_kit),
    help=_("The kit version installed now."),
)
@click.option(
    "--terminal",
    "-t",
    metavar=_("TERMINAL"),
    callback=parsed_by(lambda v: inputs.parse_version(v, "terminal")),
    help=_("The terminal version installed now."),
)
@rule_options
@click.option(
    "--to",
    "to",
    metavar="KIT|latest",
    callback=parsed_by(_to),
    help=_("The kit wanted. Default: the latest the rules allow for this charger."),
)
@lang_option
@click.option("--hex", "with_hex", is_flag=True, help=_("Also plan the terminal's .hex for the ST-LINK probe."))
@catalog_option
@click.option("--site", metavar=_("FILE.csv"), help=_("Plan every charger of a site from a CSV file."))
@allow_rollback_option
@explain_option
@json_option
def plan(site, catalog_dir, allow_rollback, explain, as_json, **charger):
    from stager.plan.charger import Charger
    from stager.plan.site import plan_one, plan_site

    catalog = _catalog(catalog_dir, allow_rollback)
    if site is not None:
        given = [_flag(name) for name, value in charger.items() if value]
        if given:
            text = _("with --site, each charger's values come from the CSV's columns: drop {options}.")
            raise BadInput(text.format(options=", ".join(given)))
        result = plan_site(site, catalog)
    else:
        if charger["model"] is None or charger["kit"] is None:
            raise BadInput(_("give --model and --kit (what is installed now), or --site FILE.csv."))
        from_kit = charger.pop("from_kit")
        if from_kit is not None and from_kit != charger["kit"]:
            raise BadInput(_("in plan, --kit is the kit installed now: --from-kit is not needed."))
        result = plan_one(Charger(id="1", **charger), catalog)
    problem = unplanned(result)
    if problem is not None:  # run() prints the plan, then the one Error: line, then the summary
        raise Reported(
            problem,
            doc=result.to_json() if as_json else None,
            lines=() if as_json else checklist(result, sys.stdout, explain),
            merge=False,
            after=summary(result),
            exit_code=result.exit_code,
        )
    if as_json:
        emit_json(result.to_json())
    else:
        say("\n".join(checklist(result, sys.stdout, explain)))
    for line in summary(result):
        warn(line)
    return result.exit_code


def _flag(param: str) -> str:
    """The option a parameter comes from: with_hex -> --hex, from_kit -> --from-kit."""
    return "--hex" if param == "with_hex" else "--" + param.replace("_", "-")


def _catalog(catalog_dir, allow_rollback: bool):
    """The trusted catalog when one is given or set, else None (a plan needs none)."""
    from stager.catalog.settings import load_settings

    settings = load_settings()
    if catalog_dir is None and not settings.catalog:
        return None
    from stager.catalog.trust import open_trusted

    return open_trusted(catalog_dir, settings=settings, allow_rollback=allow_rollback, warn=warn)


def unplanned(site) -> BadInput | None:
    """The lines of the site file not planned, as one error (exit 2), or None."""
    if not site.errors:
        return None
    # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
    text = ngettext(
        "{n} line(s) of the site file not planned: {lines}",
        "{n} line(s) of the site file not planned: {lines}",
        len(site.errors),
    )
    # TRANSLATORS: the separator between the lines of a list of errors in one sentence.
    each = _("; ").join(
        _("line {line}: {message}").format(line=e["line"], message=e["message"].rstrip().rstrip("."))
        for e in site.errors
    )
    return BadInput(text.format(n=len(site.errors), lines=each))


def summary(site) -> list[str]:
    """Why the exit code is not 0 besides the lines not planned (:func:`unplanned`), on
    standard error (one line a reason)."""
    out = []
    refused = [p.charger.id for p in site.plans if p.refusals]
    if refused:
        # TRANSLATORS: English writes "(s)" in both forms; the form follows the number of chargers.
        text = ngettext(
            "Refused: charger(s) {chargers}: a plan the rules refuse or a current state the "
            "note rules out (see REFUSED and RULED OUT above).",
            "Refused: charger(s) {chargers}: a plan the rules refuse or a current state the "
            "note rules out (see REFUSED and RULED OUT above).",
            len(refused),
        )
        out.append(text.format(chargers=", ".join(refused)))
    missing = sorted({name for card in site.bring()["cards"] for name in card["missing"]})
    if missing:
        # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
        text = ngettext(
            "Catalog: {n} file(s) missing: {files}.", "Catalog: {n} file(s) missing: {files}.", len(missing)
        )
        out.append(text.format(n=len(missing), files=", ".join(missing)))
    return out
