"""stager plan: what a technician brings to a site, for one charger or a whole site."""

from __future__ import annotations

import sys

import click

from stager.cli.commands.catalog import allow_rollback_option, catalog_option, lang_option
from stager.cli.options import explain_option, parsed_by, rule_options
from stager.cli.output import emit_json, json_option, render_error, say, style, warn
from stager.errors import BadInput
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
            "in plan, --kit is the kit installed now: give its version; the kit to move to is --to "
            "(default: latest, the newest kit the rules allow for this charger)."
        )
    return inputs.parse_version(value, "kit")


def checklist(site, stream, explain: bool = True) -> list[str]:
    lines = []
    for p in site.plans:
        c = p.charger
        now = f"kit {c.kit}" + (f" + terminal {c.terminal}" if c.terminal else "")
        to = f"kit {p.to_kit}" + (f" + terminal {p.to_terminal}" if p.to_terminal is not None else "")
        head = f"Charger {c.id}: {p.decision.model_name if p.decision else c.model}, {now} -> {to}"
        lines.append(style(head, stream, bold=True))
        for r in p.refusals:
            label = "RULED OUT as installed now" if r in p.ruled_out else "REFUSED"
            lines.append(style(f"  {label} [{r.code}] ", stream, fg="red", bold=True) + r.message)
        for i, s in enumerate(p.ordered_steps(), 1):
            first, *rest = s.message.splitlines()
            lines.append(f"  [ ] {i}. {first}")
            lines.extend(f"        {x}" for x in rest)
        for w in p.warnings:  # a standing reminder in one line, unless --explain
            text = w.brief if (w.standing and w.brief and not explain) else w.message
            lines.append(style("  warning: ", stream, fg="yellow") + text)
        for f in p.files:
            if f.found is True:
                lines.append(f"  file {f.name}: in the catalog ({f.bytes} bytes, sha256 {f.sha256[:16]}...)")
            elif f.found is False:
                lines.append(style(f"  file {f.name}: MISSING from the catalog", stream, fg="red") + f" ({f.why})")
        lines.append("")
    if site.errors:
        lines.append(style("Lines not planned:", stream, fg="red", bold=True))
        lines.extend(f"  line {e['line']}: {e['message']}" for e in site.errors)
        lines.append("")
    bring = site.bring()
    lines.append(style("Bring:", stream, bold=True))
    if bring["master_sd"]:
        migrated = [p.charger.id for p in site.plans if p.migrates]
        lines.append(
            f"  [ ] {master_sd_text(rules())}: {bring['master_sd']} migration(s), charger(s) {', '.join(migrated)}"
        )
    by_id = {p.charger.id: p for p in site.plans}
    for card in bring["cards"]:
        lines.append(f"  [ ] a card with {', '.join(card['files'])} for charger(s) {', '.join(card['chargers'])}")
        lines.append(f"      make it with: {card['command']}")
        if card["missing"]:
            lines.append(
                style(
                    f"      cannot be made yet: {', '.join(card['missing'])} MISSING from the catalog", stream, fg="red"
                )
            )
        if any("<LANG>" in name for name in card["files"]):
            model = by_id[card["chargers"][0]].charger.model
            if rules().models[model].languages_matter:
                lines.append(
                    "      (language pack not given: add --lang, e.g. --lang FR, or keep one pack in the catalog)"
                )
            else:
                lines.append(f"      (any language pack: the {rules().models[model].name} terminal has LEDs only)")
    if not bring["master_sd"] and not bring["cards"]:
        lines.append("  nothing: no card and no MASTER SD needed.")
    return lines


@click.command(
    epilog="""\b
Examples:
  stager plan --model p50 --kit 212 --terminal 220 --built 2022-06 --router f3426:7
  stager plan --model p22 --kit 316 --router f3426:9 --to 318 --lang FR --hex
  stager plan --site site.csv --catalog /srv/firmware --json

\b
site.csv columns: id,model,kit,terminal,built,router,mid,ocpp,lang,to (id, model, kit
required; router as f3426:7; mid yes/no; to a kit or latest).
Exit codes: 2 a file or line that cannot be read, 3 a plan refused or a current state
the note rules out, 4 the catalog lacks a file, else 0.""",
)
@click.option(
    "--model",
    "-m",
    metavar="MODEL",
    callback=parsed_by(inputs.parse_model),
    help="Charger model (p22, p50, wbac); with --kit, one charger.",
)
@click.option(
    "--kit",
    "-k",
    metavar="KIT",
    callback=parsed_by(_installed_kit),
    help="The kit version installed now.",
)
@click.option(
    "--terminal",
    "-t",
    metavar="TERMINAL",
    callback=parsed_by(lambda v: inputs.parse_version(v, "terminal")),
    help="The terminal version installed now.",
)
@rule_options
@click.option(
    "--to",
    "to",
    metavar="KIT|latest",
    callback=parsed_by(_to),
    help="The kit wanted. Default: the latest the rules allow for this charger.",
)
@lang_option
@click.option("--hex", "with_hex", is_flag=True, help="Also plan the terminal's .hex for the ST-LINK probe.")
@catalog_option
@click.option("--site", metavar="FILE.csv", help="Plan every charger of a site from a CSV file.")
@allow_rollback_option
@explain_option
@json_option
def plan(site, catalog_dir, allow_rollback, explain, as_json, **charger):
    """Plan the visit: from what is installed now to the target, the ordered steps with
    the note's rule behind each (MASTER SD, the card to stage, the ST-LINK .hex, the
    router), and what to bring."""
    from stager.plan.charger import Charger
    from stager.plan.site import plan_one, plan_site

    catalog = _catalog(catalog_dir, allow_rollback)
    if site is not None:
        given = [_flag(name) for name, value in charger.items() if value]
        if given:
            raise BadInput(f"with --site, each charger's values come from the CSV's columns: drop {', '.join(given)}.")
        result = plan_site(site, catalog)
    else:
        if charger["model"] is None or charger["kit"] is None:
            raise BadInput("give --model and --kit (what is installed now), or --site FILE.csv.")
        from_kit = charger.pop("from_kit")
        if from_kit is not None and from_kit != charger["kit"]:
            raise BadInput("in plan, --kit is the kit installed now: --from-kit is not needed.")
        result = plan_one(Charger(id="1", **charger), catalog)
    if as_json:
        emit_json(result.to_json())
    else:
        say("\n".join(checklist(result, sys.stdout, explain)))
    problem = unplanned(result)
    if problem is not None:  # the one Error: line, as run() renders it (the document is already out)
        render_error(problem, as_json=False)
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
    return BadInput(
        f"{len(site.errors)} line(s) of the site file not planned: "
        + "; ".join(f"line {e['line']}: {e['message']}" for e in site.errors)
    )


def summary(site) -> list[str]:
    """Why the exit code is not 0 besides the lines not planned (:func:`unplanned`), on
    standard error (one line a reason)."""
    out = []
    refused = [p.charger.id for p in site.plans if p.refusals]
    if refused:
        out.append(
            f"Refused: charger(s) {', '.join(refused)}: a plan the rules refuse or a current state the "
            f"note rules out (see REFUSED and RULED OUT above)."
        )
    missing = sorted({name for card in site.bring()["cards"] for name in card["missing"]})
    if missing:
        out.append(f"Catalog: {len(missing)} file(s) missing: {', '.join(missing)}.")
    return out
