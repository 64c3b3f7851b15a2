"""stager demo: the whole job on a built-in demo catalog and a demo card folder."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from stager.cli.options import epilog
from stager.cli.output import say, style
from stager.cli.progress import card_bars
from stager.cli.render import plan_lines, result_lines
from stager.errors import BadInput
from stager.fileio import os_error_text
from stager.i18n import _
from stager.quoting import command

CARD_MARK = ".stager-demo-card"


def _card_folder(root: Path) -> Path:
    """The demo card folder: created, or emptied of an earlier demo's files (only when
    it carries the demo mark: nothing else is ever removed)."""
    card = root / "card"
    if card.exists():
        if not (card / CARD_MARK).is_file():
            raise BadInput(_("{folder} exists and is not a stager demo card: give another folder.").format(folder=card))
        for p in card.iterdir():
            if p.is_file() and p.name != CARD_MARK:
                p.unlink()
    else:
        card.mkdir(parents=True)
        (card / CARD_MARK).write_text("stager demo card folder (not a real card)\n")
    return card


def _heading(text: str) -> None:
    say("")
    say(style(f"== {text}", sys.stdout, bold=True))


@click.command(
    help=_(
        "Run the whole job on a built-in DEMO catalog (small files named by the "
        "convention, not real firmware) and a demo card folder: check the rules, plan, "
        "stage the file, read it back, verify the card. Nothing outside DIRECTORY is "
        "written."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager demo                  (in a new temporary folder, kept for you to look at)\n"
            "  stager demo ~/stager-demo    (the demo catalog and card folder go there)"
        ),
    ),
)
@click.argument("directory", required=False, metavar=_("[DIRECTORY]"), type=click.Path(file_okay=False, path_type=Path))
def demo(directory):
    from stager.card import prepare as lib
    from stager.card.verify import verify_card
    from stager.catalog.demo import build_demo_catalog
    from stager.cli.commands.verify import report_lines
    from stager.cli.render import decision_lines
    from stager.rules.engine import Query, decide

    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="stager-demo-"))
    try:
        root.mkdir(parents=True, exist_ok=True)
        card = _card_folder(root)
        catalog = build_demo_catalog(root / "catalog")
    except OSError as e:
        text = _("the demo folder cannot be made: {problem} Give another folder: stager demo DIR.")
        raise BadInput(text.format(problem=os_error_text(e)), code="demo-folder") from None
    say(style(_("stager demo: DEMO files, not real firmware."), sys.stdout, fg="yellow", bold=True))
    say(_("Demo catalog: {folder}").format(folder=catalog))
    say(_("Demo card:    {folder}  (a plain folder standing in for the SD card)").format(folder=card))

    _heading(_("1. The rules: {command}").format(command="stager check --model wbac --kit 314"))
    refused = decide(Query("wbac", 314))
    say("\n".join(decision_lines(refused, sys.stdout)))

    _heading(_("2. The plan: {command}").format(command="stager prepare --model wbac --kit 318 --dry-run"))
    query = Query("wbac", 318)
    plan = lib.make_plan(query, catalog_dir=catalog, targets=[card], allow_fixed=True, trusted=False)
    say("\n".join(decision_lines(plan.decision, sys.stdout)))
    say("\n".join(plan_lines(plan, sys.stdout)))

    _heading(_("3. Staging: copy, read back from the card, compare, sidecar"))
    # The demo's staging is recorded beside it, never in the workshop's own history.
    results = lib.run(plan, progress_factory=card_bars(), report=say, history_path=root / "history.jsonl")
    for line in result_lines(plan, results, sys.stdout):
        say(line)
    code = lib.exit_code(results)
    if code:
        return code

    _heading(_("4. On site: {command}").format(command=command("stager", "verify", "--target", card)))
    report = verify_card(card)
    for line in report_lines(report, sys.stdout):
        say(line)
    say("")
    text = _(
        "Done. Look at {folder}: the firmware file and its .sha256 sidecar "
        "(`sha256sum -c *.sha256` in that folder checks it too)."
    )
    say(text.format(folder=card))
    return report.exit_code
