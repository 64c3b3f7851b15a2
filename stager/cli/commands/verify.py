"""stager verify: on site, prove the card holds exactly the staged files."""

from __future__ import annotations

import sys

import click

from stager.cli.commands.catalog import allow_rollback_option
from stager.cli.output import emit_json, json_option, say, style, warn


def report_lines(report, stream) -> list[str]:
    lines = []
    for f in report.files:
        mark = (
            style("OK  ", stream, fg="green", bold=True)
            if f.status == "ok" and f.rules in ("ok", None)
            else style("FAIL", stream, fg="red", bold=True)
        )
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
        lines.append(f"{mark} {f.name}{says}")
        if f.status == "ok":
            lines.append(f"     sha256 read back from the card matches {f.name}.sha256 ({f.sha256[:16]}...)")
        if f.catalog == "match":
            lines.append(f"     and the catalog's {f.name} (line {f.catalog_line} of its SHA256SUMS)")
        if f.why:
            lines.append(f"     {f.why}")
    if report.leftovers:
        lines.append(
            f"Leftover temporary files of an interrupted staging: {', '.join(report.leftovers)} "
            f"(not firmware names; 'stager prepare' removes them)."
        )
    if not report.checked_catalog:
        lines.append(
            "The sidecars prove only that the card matches itself, not that it holds the catalog's files: "
            "give --catalog DIR to check that too."
        )
    verdict = {
        0: style("The card is good.", stream, fg="green", bold=True),
        4: style("The card holds a file the catalog does not vouch for: do not use it.", stream, fg="red", bold=True),
        3: style("The card holds a file the rules refuse: do not use it.", stream, fg="red", bold=True),
        6: style("The card is NOT good: prepare it again.", stream, fg="red", bold=True),
    }
    lines.append(verdict[report.exit_code])
    return lines


@click.command(
    epilog="""\b
Examples:
  stager verify --target /media/tech/PULSECARD
  stager verify --target E:\\ --json

\b
Exit codes: 0 all good, 3 a file the rules refuse, 4 (with --catalog) a file the
catalog's index does not have, or a catalog that is not trusted, 5 no firmware on the
card, 6 a checksum mismatch, a missing sidecar, or a file that is not the catalog's.""",
)
@click.option("--target", required=True, metavar="DIR", help="The card's folder (its mount point).")
@click.option(
    "--catalog",
    "catalog_dir",
    metavar="DIR",
    help="Also check each file is the catalog's, per its (signed) SHA256SUMS line. Without it, the "
    "settings' catalog is not used: the card is checked against its own sidecars only.",
)
@allow_rollback_option
@json_option
def verify(target, catalog_dir, allow_rollback, as_json):
    """Check every firmware file on the card root: its .sha256 sidecar, its SHA-256 read
    back from the card (not from the cache), what its name says and whether the rules
    allow that kit/terminal pair; with --catalog, that it is the catalog's file."""
    from stager.card.verify import verify_card

    catalog = None
    if catalog_dir is not None:
        from stager.catalog.trust import open_trusted

        catalog = open_trusted(catalog_dir, allow_rollback=allow_rollback, warn=warn)
    report = verify_card(target, catalog=catalog)
    if as_json:
        emit_json(report.to_json())
    else:
        for line in report_lines(report, sys.stdout):
            say(line)
    return report.exit_code
