"""stager verify: on site, prove the card holds exactly the staged files."""

from __future__ import annotations

import sys

import click

from stager.cli.output import emit_json, json_option, say, style


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
        if f.why:
            lines.append(f"     {f.why}")
    if report.leftovers:
        lines.append(
            f"Leftover temporary files of an interrupted staging: {', '.join(report.leftovers)} "
            f"(not firmware names; 'stager prepare' removes them)."
        )
    verdict = {
        0: style("The card is good.", stream, fg="green", bold=True),
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
Exit codes: 0 all good, 3 a file the rules refuse, 5 no firmware on the card,
6 a checksum mismatch or a missing sidecar.""",
)
@click.option("--target", required=True, metavar="DIR", help="The card's folder (its mount point).")
@json_option
def verify(target, as_json):
    """Check every firmware file on the card root: its .sha256 sidecar, its SHA-256 read
    back from the card (not from the cache), what its name says and whether the rules
    allow that kit/terminal pair."""
    from stager.card.verify import verify_card

    report = verify_card(target)
    if as_json:
        emit_json(report.to_json())
    else:
        for line in report_lines(report, sys.stdout):
            say(line)
    return report.exit_code
