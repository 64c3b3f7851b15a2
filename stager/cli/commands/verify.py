"""stager verify: on site, "this card is right": one firmware set, each file read back
from the card matching its sidecar, allowed by the rules (and, with a charger, the one
the rules choose for it)."""

from __future__ import annotations

import sys

import click

from stager.cli.commands.catalog import allow_rollback_option
from stager.cli.options import optional_kit_option, optional_model_option, terminal_option
from stager.cli.output import emit_json, json_option, style, warn
from stager.errors import BadInput
from stager.quoting import command


def _file_lines(f, stream, target) -> list[str]:
    good = f.status == "ok" and f.rules in ("ok", None)
    mark = style("OK  ", stream, fg="green", bold=True) if good else style("FAIL", stream, fg="red", bold=True)
    says = ""
    if f.parsed:
        p = f.parsed
        bits = [
            p.get("model"),
            f"kit {p['kit']}" if p.get("kit") else None,
            f"terminal {p.get('terminal')}",
            f"pack {p['pack']}" if p.get("pack") else None,
            p.get("role"),
        ]
        says = " [" + ", ".join(b for b in bits if b) + f"; rules: {f.rules}]"
    lines = [f"{mark} {f.name}{says}"]
    if f.status == "ok" and f.read_back != "cached":
        lines.append(f"     sha256 read back from the card matches {f.name}.sha256 ({f.sha256[:16]}...)")
    elif f.status == "ok":
        verify = command("stager", "verify", "--target", str(target))
        lines.append(
            f"     sha256 matches {f.name}.sha256 ({f.sha256[:16]}...), but it could only be read from the "
            f"system's cache, not from the card ({f.read_back_why or 'no uncached read is possible here'}). "
            f"To prove the card: eject it, insert it again, then run: {verify}"
        )
    if f.catalog == "match":
        lines.append(f"     and the catalog's {f.name} (line {f.catalog_line} of its SHA256SUMS)")
    if f.why:
        lines.append(f"     {f.why}")
    for code, message in f.refusals:  # as `stager check` explains them
        first, *rest = message.splitlines()
        lines.append(f"     - [{code}] {first}")
        lines.extend(f"       {line}" for line in rest)
    return lines


def report_lines(report, stream) -> list[str]:
    lines = []
    for f in report.files:
        lines.extend(_file_lines(f, stream, report.target))
    if report.leftovers:
        lines.append(
            f"Leftover temporary files of an interrupted staging: {', '.join(report.leftovers)} "
            f"(not firmware names; 'stager prepare' removes them)."
        )
    for problem in report.set_problems:
        lines.append(f"{style('NOT ONE FIRMWARE SET', stream, fg='red', bold=True)}  {problem}")
    if report.charger is not None:
        mark = "FOR THIS CHARGER" if report.charger["matches"] else "NOT FOR THIS CHARGER"
        colour = "green" if report.charger["matches"] else "red"
        lines.append(f"{style(mark, stream, fg=colour, bold=True)}  {report.charger['why']}")
    if not report.checked_catalog:
        lines.append(
            "The sidecars prove only that the card matches itself, not that it holds the catalog's files: "
            "give --catalog DIR to check that too."
        )
    good = (
        "The card is right: one firmware set, every file read back from the card matches its sidecar."
        if report.read_back != "cached"
        else "The files match their sidecars, but the card itself was not read (only the system's cache)."
    )
    verdict = {
        0: style(good, stream, fg="green" if report.read_back != "cached" else "yellow", bold=True),
        4: style("The card holds a file the catalog does not vouch for: do not use it.", stream, fg="red", bold=True),
        3: style("The card holds a file the rules refuse here: do not use it.", stream, fg="red", bold=True),
        5: style("The card is NOT right: a charger must find one firmware set.", stream, fg="red", bold=True),
        6: style("The card is NOT right: prepare it again.", stream, fg="red", bold=True),
    }
    lines.append(verdict[report.exit_code])
    if report.exit_code == 0:
        lines.append("  (A sidecar proves the card matches itself; the file's origin is the catalog's index.)")
    return lines


@click.command(
    epilog="""\b
Examples:
  stager verify --target /media/tech/PULSECARD
  stager verify --target /media/tech/PULSECARD --model p22 --kit 318
  stager verify --target E:\\ --json

\b
Exit codes: 0 the card is right, 3 a file the rules refuse (or not the charger's),
4 (with --catalog) a file the catalog's index does not have, or a catalog that is not
trusted, 5 not one firmware set (or no firmware), 6 a checksum mismatch, a missing
sidecar, or a file that is not the catalog's.""",
)
@click.option("--target", required=True, metavar="DIR", help="The card's folder (its mount point).")
@optional_model_option
@optional_kit_option
@terminal_option
@click.option(
    "--catalog",
    "catalog_dir",
    metavar="DIR",
    help="Also check each file is the catalog's, per its (signed) SHA256SUMS line. Without it, the "
    "settings' catalog is not used: the card is checked against its own sidecars only.",
)
@allow_rollback_option
@json_option
def verify(target, model, kit, terminal, catalog_dir, allow_rollback, as_json):
    """Is this card right? Every firmware-like file on the card root (hidden ones too):
    its .sha256 sidecar, its SHA-256 read back from the card (not from the cache), what
    its name says and whether the rules allow it; exactly one firmware set; with
    --model/--kit, the file the rules choose for that charger; with --catalog, that it
    is the catalog's file."""
    from stager.card.verify import verify_card
    from stager.cli.commands.prepare import never_crash_on_paths

    never_crash_on_paths()
    charger = _charger(model, kit, terminal, as_json)
    catalog = None
    if catalog_dir is not None:
        from stager.catalog.trust import open_trusted

        catalog = open_trusted(catalog_dir, allow_rollback=allow_rollback, warn=warn)
    report = verify_card(
        target, catalog=catalog, charger=charger
    )  # its read-back waits with timeouts: Ctrl-C is taken at once
    if as_json:
        emit_json(report.to_json())
    else:
        from stager.cli.render import say_lines

        say_lines(report_lines(report, sys.stdout), sys.stdout)
    return report.exit_code


def _charger(model, kit, terminal, as_json):
    """The rules' decision for the charger asked (None: no charger); exit 3 when refused."""
    if model is None and kit is None:
        if terminal is not None:
            raise BadInput("--terminal needs --model and --kit.", code="bad-input")
        return None
    if model is None or kit is None:
        raise BadInput("--model and --kit go together: give both to check the card for a charger.", code="bad-input")
    from stager.card.prepare import refusal_error
    from stager.cli.render import decision_lines, say_lines
    from stager.rules.engine import Query, decide

    decision = decide(Query(model=model, kit=kit, terminal=terminal))
    if decision.allowed:
        return decision
    if not as_json:
        say_lines(decision_lines(decision, sys.stdout), sys.stdout)
    raise refusal_error(decision)
