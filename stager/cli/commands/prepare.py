"""stager prepare: put the one right firmware file on the card, and prove it is there."""

from __future__ import annotations

import sys

import click

from stager.cli.options import (
    allow_rollback_option,
    catalog_option,
    epilog,
    explain_option,
    kit_option,
    lang_option,
    model_option,
    query_from,
    rule_options,
    terminal_option,
)
from stager.cli.output import colon, emit_json, fit_streams, is_tty, json_option, say, stdin_is_terminal, style, warn
from stager.cli.progress import card_bars
from stager.cli.render import (
    card_plan_lines,
    check_lines,
    plan_lines,
    question,
    reminder_lines,
    result_lines,
    say_lines,
)
from stager.errors import BadInput, ExitCode
from stager.i18n import _
from stager.value import value


@click.command(
    help=_(
        "Stage the firmware for a charger onto a card: pick the one right file from the "
        "catalog, refuse what the rules forbid, copy it, read it back from the card and "
        "compare its SHA-256 with the catalog's index; write a .sha256 sidecar beside it."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager prepare --model wbac --kit 318                  (the one card inserted)\n"
            "  stager prepare -m p22 -k 318 --lang FR --hex --target /media/tech/PULSECARD\n"
            "  stager prepare -m p50 -k 400 --dry-run --json          (the plan, nothing written)"
        ),
        _(
            "Exit codes: 0 staged and verified, 2 bad input, 3 refused by the rules, 4 catalog\n"
            "problem, 5 media problem, 6 verification failed (the copy is removed), 130 interrupted."
        ),
    ),
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
    metavar=_("DIR"),
    help=_(
        "The card's folder (its mount point). Repeat to write several cards at once. "
        "Default: the one removable medium mounted."
    ),
)
@click.option(
    "--allow-fixed",
    is_flag=True,
    help=_("Allow a --target folder that is not on removable media (it stands for the card's root)."),
)
@click.option(
    "--allow-any-fs",
    is_flag=True,
    help=_("Write a card formatted other than FAT32 or exFAT (the chargers read FAT32 and exFAT)."),
)
@rule_options
@click.option(
    "--hex",
    "with_hex",
    is_flag=True,
    help=_("Also stage the terminal's .hex for the ST-LINK probe (STM32 ST-LINK Utility 4.6+, NT-23017)."),
)
@click.option(
    "--clean",
    is_flag=True,
    help=_(
        "Remove firmware files already on the card root (.bin, .tar.gz, .hex and their "
        ".sha256) before staging; nothing else is touched."
    ),
)
@click.option("--dry-run", is_flag=True, help=_("Show the plan and check the files' content; write nothing."))
@click.option(
    "--replay",
    "replay_file",
    metavar=_("FILE"),
    help=_(
        "With --dry-run: choose the card on a machine recorded by 'stager media --record' "
        "(its own card checks need the card and are not made)."
    ),
)
@click.option("--yes", "-y", is_flag=True, help=_("Do not ask for confirmation."))
@click.option("--quiet", "-q", is_flag=True, help=_("No progress bars."))
@click.option("--eject", is_flag=True, help=_("After success, unmount and eject the card where the system allows."))
@allow_rollback_option
@explain_option
@json_option
def prepare(
    model,
    kit,
    terminal,
    lang,
    catalog_dir,
    targets,
    allow_fixed,
    allow_any_fs,
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
    explain,
    as_json,
):
    from stager.card import prepare as lib
    from stager.card import stop

    never_crash_on_paths()
    out = sys.stderr if as_json else sys.stdout
    query = query_from(model, kit, terminal, from_kit, built, ocpp, mid, router)
    if replay_file and not dry_run:
        raise BadInput(_("--replay is for a dry run only: add --dry-run (nothing is written to a recorded machine)."))
    opts = Options(
        catalog_dir,
        lang,
        with_hex,
        targets,
        allow_fixed,
        allow_any_fs,
        dry_run,
        yes,
        quiet,
        clean,
        eject,
        replay_file,
        allow_rollback,
        explain,
    )
    previous = stop.install()  # SIGTERM, SIGHUP and Ctrl-Break act like Ctrl-C
    try:
        return _prepare(lib, query, out, opts, as_json)
    except KeyboardInterrupt:  # before or after the copy (the copy itself cleans up and says so)
        raise stop.closing() from None  # what was removed, what is left and where
    finally:
        stop.restore(previous, ending=True)


def never_crash_on_paths() -> None:
    """A folder name that is not UTF-8 (or a console that cannot show a character) is
    printed with escapes rather than stopping the run after the card was staged (and French
    typography a code page cannot carry is written as near as it can: ``output.fit_streams``)."""
    fit_streams()


@value
class Options:
    catalog_dir: object
    lang: str | None
    with_hex: bool
    targets: tuple
    allow_fixed: bool
    allow_any_fs: bool
    dry_run: bool
    yes: bool
    quiet: bool
    clean: bool
    eject: bool
    replay_file: str | None = None
    allow_rollback: bool = False
    explain: bool = True


def _replayed(replay_file) -> dict:
    """make_plan's media probes for a replayed machine ({} for this one)."""
    if not replay_file:
        return {}
    from stager.card.media import replay

    machine = replay(replay_file)
    return {"detect": machine.all_volumes, "medium_for_path": machine.medium_for_path, "local": False}


def _make_plan(lib, query, out, o: Options, as_json: bool):
    from stager.card.media import unmounted, unmounted_line
    from stager.cli.render import decision_lines

    interactive = not o.yes and stdin_is_terminal() and is_tty(sys.stderr)
    try:
        plan = lib.make_plan(
            query,
            catalog_dir=o.catalog_dir,
            lang=o.lang,
            with_hex=o.with_hex,
            targets=o.targets,
            allow_fixed=o.allow_fixed,
            dry_run=o.dry_run,
            allow_rollback=o.allow_rollback,
            warn=warn,
            allow_any_fs=o.allow_any_fs,
            choose=pick_cards if interactive and not o.targets else None,
            unmounted=None if o.replay_file else (lambda: [unmounted_line(v) for v in unmounted()]),
            **_replayed(o.replay_file),
        )
    except lib.Refused as e:
        if not as_json:
            lines = decision_lines(e.decision, out, o.explain) + reminder_lines(e.decision, out, o.explain)
            say_lines(lines, out)
        raise
    if not as_json:
        say_lines(decision_lines(plan.decision, out, o.explain), out)
        say_lines(plan_lines(plan, out), out)
    return plan


def _prepare(lib, query, out, o: Options, as_json: bool):
    plan = _make_plan(lib, query, out, o, as_json)
    progress = None if (as_json or o.quiet) else card_bars()
    # The catalog's bytes against its index, before anything is asked. With --yes nothing is
    # asked: each card's read-back is compared with the index, and a difference then reads
    # the source again (exit 4 when it changed); only --clean removing old firmware before
    # the copy needs the source proved first (below).
    early = not o.yes or o.dry_run or bool(o.replay_file)
    if early:
        lib.check_files(plan, progress)
    if o.replay_file:
        return _replay_end(lib, plan, out, o, as_json)
    checks = lib.check_cards(plan, clean=o.clean, probe=not o.dry_run, report=None if as_json else say)
    try:
        if not as_json:
            say_lines(check_lines(plan, checks, out, dry_run=o.dry_run), out)
            if any(c.ready for c in checks):
                say_lines(card_plan_lines(plan, checks, out, dry_run=o.dry_run), out)
        if o.dry_run:
            lib.release(checks)
            return _dry_run_end(lib, plan, checks, out, o, as_json)
        if any(c.ready for c in checks) and not o.yes:
            _confirm(plan, checks)
        if not early and lib.removes_first(checks):
            lib.check_files(plan, progress)  # proved before --clean removes old firmware ahead of the copy
    except BaseException:  # "no", Ctrl-C at the question...: the cards' locks and pins are given back
        lib.release(checks)
        raise
    # Once every card's outcome is known, a Ctrl-C (or SIGTERM...) would only make the exit
    # status contradict what is printed (a verified card reported as interrupted): ignored
    # until the result is out, then taken again for --eject. A run with no card ready
    # records each card's failure in the history.
    from stager.card import stop

    results = lib.run(plan, checks=checks, clean=o.clean, progress_factory=progress, settled=stop.ignore)
    return _finish(lib, plan, results, out, o, as_json)


def _finish(lib, plan, results, out, o: Options, as_json: bool) -> int:
    from stager.card import stop

    worst = lib.exit_code(results)
    stop.install(fresh=False)  # for --eject: what this run left stays known
    ejected = {}
    if worst == 0 and o.eject:
        done = lib.eject_all(plan, report=lambda text: say(text, err=as_json))
        ejected = {path: ok for path, ok, _message in done}
        removable = {str(t.path) for t in plan.targets if t.removable}
        if any(not ok and path in removable for path, ok, _message in done):
            worst = ExitCode.MEDIA  # a media problem the user asked about; the staging itself is done and verified
    if as_json:
        emit_json(plan.to_json(dry_run=False, results=results))
    else:
        lines = result_lines(plan, results, out, ejected=ejected) + reminder_lines(plan.decision, out, o.explain)
        say_lines(lines, out)
    return worst


def _replay_end(lib, plan, out, o: Options, as_json: bool) -> int:
    """A dry run on a recorded machine: the card's own checks need the card."""
    text = _("Replayed machine {file}: the card's own checks (free space, firmware on it) were not made.")
    say(text.format(file=o.replay_file), err=as_json)
    if as_json:
        emit_json(plan.to_json(dry_run=True, results=[]))
        return ExitCode.OK
    if plan.targets:
        text = _(
            "Dry run: the files match the catalog's index and the recorded machine's card was chosen; "
            "its own checks need the card; nothing was written."
        )
    else:
        text = _("Dry run: the files match the catalog's index; no card was chosen; nothing was written.")
    say_lines([text, *reminder_lines(plan.decision, out, o.explain)], out)
    return ExitCode.OK


def _dry_run_end(lib, plan, checks, out, o: Options, as_json: bool) -> int:
    checked = lib.check_results(checks)
    worst = lib.exit_code(checked)
    if as_json:
        emit_json(plan.to_json(dry_run=True, results=checked))
        return worst
    if worst:
        text = _("Dry run: the files match the catalog's index; nothing was written.")
    elif not plan.targets:
        text = style(
            _(
                "Dry run: the files match the catalog's index; no card was checked (none given or "
                "inserted); nothing was written."
            ),
            out,
            fg="green",
        )
    else:
        text = style(
            _("Dry run: the files match the catalog's index and the card passes its checks; nothing was written."),
            out,
            fg="green",
        )
    say_lines([text, *reminder_lines(plan.decision, out, o.explain)], out)
    return worst


def pick_cards(found, unusable=()) -> list:
    """The terminal's picker: the cards found, numbered; one or more numbers, or 'all'.
    ``unusable``: why each card that cannot be offered is not (a mount that no longer answers)."""
    from stager.card.media import unmounted, unmounted_line
    from stager.card.targets import medium_line

    lines = [_("{n} cards are inserted:").format(n=len(found))]  # the picker is for two cards or more
    lines += [f"  {i}. {medium_line(m)}" for i, m in enumerate(found, 1)]
    if unusable:
        lines.append(_("Not offered:"))
        lines += [f"  {why}" for why in unusable]
    waiting = unmounted()
    if waiting:
        lines.append(_("Inserted but not mounted (mount one to offer it here):"))
        lines += [f"  {unmounted_line(v)}" for v in waiting]
    say_lines(lines, sys.stderr, err=True)
    for _attempt in range(3):
        # TRANSLATORS: the answers 'all', 'a', '*' and, in French, 'tout' or 'tous' choose every card.
        question = _("Which card(s) to write? Numbers separated by commas, or 'all'")
        with _at_a_prompt():
            answer = click.prompt(colon(question, ""), default="", show_default=False, prompt_suffix="", err=True)
        chosen = parse_pick(answer, len(found))
        if chosen:
            return [found[i] for i in chosen]
        say(_("Type one or more numbers from 1 to {n} (e.g. 1,3), or 'all'.").format(n=len(found)), err=True)
    raise BadInput(_("no card was chosen: nothing was written."), code="no-card-chosen")


def parse_pick(answer: str, count: int) -> list[int]:
    """'2', '1,3', '1 3', 'all' (or 'tout') -> 0-based indexes; [] when not a valid choice."""
    text = answer.strip().lower()
    if text in ("all", "a", "*", "tout", "tous"):
        return list(range(count))
    picked: list[int] = []
    for part in text.replace(",", " ").split():
        if not part.isdigit() or not 1 <= int(part) <= count:
            return []
        if int(part) - 1 not in picked:
            picked.append(int(part) - 1)
    return picked


def _at_a_prompt():
    from stager.card.stop import at_a_prompt

    return at_a_prompt()


def _confirm(plan, checks) -> None:
    if not stdin_is_terminal():
        raise BadInput(
            _("no terminal to ask for confirmation: add --yes to stage without asking."), code="confirmation-needed"
        )
    if not ask_yes_no(question(plan, checks)):
        raise BadInput(_("nothing was written (not confirmed)."), code="not-confirmed")


#: the answers that say yes or no, in every language stager speaks (an empty answer is no)
YES = ("y", "yes", "o", "oui")
NO = ("n", "no", "non", "")


def yes_or_no(answer: str) -> bool | None:
    """True for yes ('y', 'yes', and the French 'o', 'oui'), False for no or nothing, None else."""
    text = answer.strip().lower()
    return True if text in YES else False if text in NO else None


def ask_yes_no(question_text: str) -> bool:
    """Ask until the answer is yes or no (click.confirm takes only 'y'/'n', and says
    '[y/N]' in every language); end of input stops as click does (Abort)."""
    # TRANSLATORS: a yes/no question; y and N are the answers' first letters (French: [o/N]), N the default.
    prompt = _("{question} [y/N]: ").format(question=question_text)
    while True:
        with _at_a_prompt():
            answer = click.prompt(prompt, default="", show_default=False, prompt_suffix="", err=True)
        verdict = yes_or_no(answer)
        if verdict is not None:
            return verdict
        say(_("Answer y (yes) or n (no)."), err=True)
