"""stager prepare: put the one right firmware file on the card, and prove it is there."""

from __future__ import annotations

import signal
import sys

import click

from stager.cli.commands.catalog import allow_rollback_option, catalog_option, lang_option
from stager.cli.options import kit_option, model_option, query_from, rule_options, terminal_option
from stager.cli.output import emit_json, json_option, say, style, warn
from stager.cli.progress import card_bars
from stager.cli.render import plan_lines, result_lines
from stager.errors import BadInput, ExitCode


@click.command(
    epilog="""\b
Examples:
  stager prepare --model wbac --kit 318                  (the one card inserted)
  stager prepare -m p22 -k 318 --lang FR --hex --target /media/tech/PULSECARD
  stager prepare -m p50 -k 400 --dry-run --json          (the plan, nothing written)

\b
Exit codes: 0 staged and verified, 2 bad input, 3 refused by the rules, 4 catalog
problem, 5 media problem, 6 verification failed (the copy is removed), 130 interrupted.""",
)
@model_option
@kit_option
@terminal_option
@lang_option
@catalog_option
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="DIR",
    help="The card's folder (its mount point). Repeat to write several cards at once. "
    "Default: the one removable medium mounted.",
)
@click.option("--allow-fixed", is_flag=True, help="Allow a --target folder that is not on removable media.")
@rule_options
@click.option(
    "--hex",
    "with_hex",
    is_flag=True,
    help="Also stage the terminal's .hex for the ST-LINK probe (STM32 ST-LINK Utility 4.6+, NT-23017).",
)
@click.option(
    "--clean",
    is_flag=True,
    help="Remove firmware files already on the card root (.bin, .tar.gz, .hex and their "
    ".sha256) before staging; nothing else is touched.",
)
@click.option("--dry-run", is_flag=True, help="Show the plan and check the files' content; write nothing.")
@click.option(
    "--replay",
    "replay_file",
    metavar="FILE",
    help="With --dry-run: choose the card on a machine recorded by 'stager media --record' "
    "(its own card checks need the card and are not made).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.option("--eject", is_flag=True, help="After success, unmount and eject the card where the system allows.")
@allow_rollback_option
@json_option
def prepare(
    model,
    kit,
    terminal,
    lang,
    catalog_dir,
    targets,
    allow_fixed,
    from_kit,
    built,
    ocpp,
    mid,
    router,
    with_hex,
    clean,
    dry_run,
    replay_file,
    yes,
    quiet,
    eject,
    allow_rollback,
    as_json,
):
    """Stage the firmware for a charger onto a card: pick the one right file from the
    catalog, refuse what the rules forbid, copy it, read it back from the card and
    compare its SHA-256 with the catalog's index; write a .sha256 sidecar beside it."""
    from stager.card import prepare as lib

    out = sys.stderr if as_json else sys.stdout
    query = query_from(model, kit, terminal, from_kit, built, ocpp, mid, router)
    if replay_file and not dry_run:
        raise BadInput("--replay is for a dry run only: add --dry-run (nothing is written to a recorded machine).")
    try:
        return _prepare(
            lib,
            query,
            out,
            catalog_dir,
            lang,
            with_hex,
            targets,
            allow_fixed,
            dry_run,
            yes,
            quiet,
            clean,
            eject,
            as_json,
            replay_file=replay_file,
            allow_rollback=allow_rollback,
        )
    except KeyboardInterrupt:  # before or after the copy (the copy itself cleans up and says so)
        from stager.errors import Interrupted

        raise Interrupted("Interrupted: nothing half-written is on the card.") from None


def _replayed(replay_file) -> dict:
    """make_plan's media probes for a replayed machine ({} for this one)."""
    if not replay_file:
        return {}
    from stager.card.media import replay

    machine = replay(replay_file)
    return {"detect": machine.all_volumes, "medium_for_path": machine.medium_for_path, "local": False}


def _prepare(
    lib,
    query,
    out,
    catalog_dir,
    lang,
    with_hex,
    targets,
    allow_fixed,
    dry_run,
    yes,
    quiet,
    clean,
    eject,
    as_json,
    *,
    replay_file=None,
    allow_rollback=False,
):
    from stager.cli.render import decision_lines

    try:
        plan = lib.make_plan(
            query,
            catalog_dir=catalog_dir,
            lang=lang,
            with_hex=with_hex,
            targets=targets,
            allow_fixed=allow_fixed,
            dry_run=dry_run,
            allow_rollback=allow_rollback,
            warn=warn,
            **_replayed(replay_file),
        )
    except lib.Refused as e:
        if not as_json:
            say("\n".join(decision_lines(e.decision, out)))
        raise
    if not as_json:
        say("\n".join(decision_lines(plan.decision, out)))
        say("\n".join(plan_lines(plan, out)))
    progress = None if (as_json or quiet) else card_bars()

    if dry_run:
        return _dry_run(lib, plan, progress, out, clean, as_json, replay_file)

    if not yes:
        _confirm(plan)
    # Once every card's outcome is known, a Ctrl-C would only make the exit status
    # contradict what is printed (a verified card reported as interrupted): ignored
    # until the result is out, then taken again for --eject.
    results = lib.run(
        plan,
        clean=clean,
        progress_factory=progress,
        report=None if as_json else say,
        settled=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    worst = lib.exit_code(results)
    if as_json:
        emit_json(plan.to_json(dry_run=False, results=results))
    else:
        for line in result_lines(plan, results, out):
            say(line)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if worst == 0 and eject:
        ejected = lib.eject_all(plan, report=lambda text: say(text, err=as_json))
        removable = {str(t.path) for t in plan.targets if t.removable}
        if any(not ok and path in removable for path, ok, _message in ejected):
            worst = ExitCode.MEDIA  # a media problem the user asked about; the staging itself is done and verified
    return worst


def _dry_run(lib, plan, progress, out, clean: bool, as_json: bool, replay_file) -> int:
    """The files' content checked, the card's checks made (not on a replayed machine),
    nothing written: the exit code the staging would meet."""
    lib.check_files(plan, progress)
    if replay_file:  # the card is on the recorded machine: its own checks cannot be made here
        checked = []
        say(
            f"Replayed machine {replay_file}: the card's own checks (free space, firmware on it) were not made.",
            err=as_json,
        )
    else:
        checked = lib.check_targets(plan, clean=clean, report=None if as_json else say)
    worst = lib.exit_code(checked)
    if as_json:
        emit_json(plan.to_json(dry_run=True, results=checked))
    elif worst:
        for r in checked:
            if r.error is not None:
                say(f"{style('WOULD FAIL', out, fg='red', bold=True)}  {r.path}: {r.error.message}")
        say("Dry run: the files match the catalog's index; nothing was written.")
    elif replay_file and plan.targets:
        say(
            "Dry run: the files match the catalog's index and the recorded machine's card was chosen; "
            "its own checks need the card; nothing was written."
        )
    elif not plan.targets:
        say(
            style(
                "Dry run: the files match the catalog's index; no card was checked (none given or "
                "inserted); nothing was written.",
                out,
                fg="green",
            )
        )
    else:
        say(
            style(
                "Dry run: the files match the catalog's index and the card passes its checks; nothing was written.",
                out,
                fg="green",
            )
        )
    return worst


def _confirm(plan) -> None:
    from stager.cli.render import human_bytes

    if not sys.stdin.isatty():
        raise BadInput(
            "no terminal to ask for confirmation: add --yes to stage without asking.", code="confirmation-needed"
        )
    where = ", ".join(t.describe() for t in plan.targets)
    names = ", ".join(f.name for f in plan.files)
    if not click.confirm(f"Write {names} ({human_bytes(plan.total_bytes)}) to {where}?", default=False, err=True):
        raise BadInput("nothing was written (not confirmed).", code="not-confirmed")
