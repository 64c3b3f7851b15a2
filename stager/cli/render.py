"""Human rendering shared by several commands: rules decisions (check, prepare, plan),
the prepare plan, the cards' checks, the question and the summary (prepare, demo),
sizes (one format: :mod:`stager.units`), quoted commands and text wrapped to the
terminal's width."""

from __future__ import annotations

import sys

from stager.cli.output import say, style, wrapped
from stager.quoting import command
from stager.units import exact_bytes, human_bytes

__all__ = ["decision_lines", "exact_bytes", "human_bytes", "plan_lines", "result_lines", "wrapped"]


def say_lines(lines, stream=None, err: bool = False) -> None:
    for line in wrapped(lines, stream or (sys.stderr if err else sys.stdout)):
        say(line, err=err)


def decision_lines(decision, stream=None, explain: bool = True) -> list[str]:
    """A short readable report: the ALLOWED/REFUSED line, then reasons. Without
    ``explain`` the standing reminders are left out of it: :func:`reminder_lines` gives
    them in one line each, after what matters more (the cards' warnings, the results)."""
    stream = stream or sys.stdout
    q = decision.query
    terminal = decision.terminal
    if q.kit_latest:
        if decision.allowed:
            what = f"kit {q.kit} (newest the rules allow with these options)"
        else:
            what = f"kit {q.kit} (the newest kit: no kit of the table is allowed with these options)"
        if terminal is not None:
            what += f" + terminal {terminal}"
    elif terminal is None:
        what = f"kit {q.kit}"
    else:
        chosen = ""
        if decision.terminal_chosen:
            chosen = " (newest allowed)" if decision.allowed else " (newest of the table for this kit)"
        what = f"kit {q.kit} + terminal {terminal}{chosen}"
    if decision.allowed:
        head = style("ALLOWED", stream, fg="green", bold=True)
    else:
        head = style("REFUSED", stream, fg="red", bold=True)
    lines = [f"{head}  {decision.model_name}: {what}"]
    if decision.compatible_terminals:
        terms = ", ".join(map(str, decision.compatible_terminals))
        lines.append(f"  Terminals the table allows with kit {q.kit}: {terms}")
    for title, reasons, colour in (
        ("Refused because", decision.refusals, "red"),
        ("Conditions (to do on site)", decision.conditions, "yellow"),
        ("Warnings", [w for w in decision.warnings if explain or not w.standing], "yellow"),
    ):
        if not reasons:
            continue
        lines.append(style(f"{title}:", stream, fg=colour, bold=True))
        for r in reasons:
            first, *rest = r.message.splitlines()
            lines.append(f"  - [{r.code}] {first}")
            lines.extend(f"    {line}" for line in rest)
    return lines


def reminder_lines(decision, stream=None, explain: bool = False) -> list[str]:
    """The standing reminders (MASTER SD, April 2023, newer kit): one line each, or their
    full text with ``explain`` (then :func:`decision_lines` already gave them)."""
    reminders = [w for w in decision.warnings if w.standing]
    if explain or not reminders:
        return []
    lines = [style("Reminders (--explain for the full text):", stream or sys.stdout, fg="yellow")]
    lines.extend(f"  - [{w.code}] {w.brief or w.message.splitlines()[0]}" for w in reminders)
    return lines


def plan_lines(plan, stream) -> list[str]:
    lines = [f"Catalog {plan.catalog_root}:"]
    for f in plan.files:
        lines.append(f"  {f.name}  ({f.role}, {exact_bytes(f.bytes)}, sha256 {f.sha256[:16]}...)")
    for n in plan.selection.notes:
        lines.append(f"  note: {n.message}")
    if plan.targets:
        for t in plan.targets:
            free = f"{exact_bytes(t.free_bytes)} free" if t.free_bytes is not None else "free space unknown"
            ident = f"; {t.identity()}" if t.removable else ""
            lines.append(f"Target {t.describe()}: {free}{ident}")
    elif plan.target_problem is not None:
        lines.append(f"Target: none yet ({plan.target_problem.message})")
    return lines


PROVED_HOW = {
    "direct": "read from the card with the system's cache bypassed",
    "evicted": "read from the card after the system's cache of it was dropped",
    "remounted": "read from the card after it was mounted again",
}


def file_line(name: str, how: str, method: str | None, why: str, path) -> str:
    """One file of a STAGED card: how it got there and how it was proved (or not)."""
    if method in PROVED_HOW:
        return f"  {name}: {how}; SHA-256 read back from the card matches the catalog ({PROVED_HOW[method]})."
    return (
        f"  {name}: {how}; its SHA-256 matches the catalog, but it could only be read from the system's cache, "
        f"not from the card ({why or 'no uncached read is possible here'}): the card is not proved. To prove it, "
        f"eject the card, insert it again, then run: {command('stager', 'verify', '--target', str(path))}"
    )


def check_lines(plan, checks, stream, dry_run: bool = False) -> list[str]:
    """What the cards' checks found, before the question (warnings first)."""
    lines = []
    for c in checks:
        where = c.target.describe()
        if c.error is not None:
            head = "WOULD FAIL" if dry_run else "CANNOT WRITE"
            lines.append(f"{style(head, stream, fg='red', bold=True)}  {where}: {c.error.message}")
            continue
        for w in c.warnings:
            lines.append(f"{style('Warning:', stream, fg='yellow', bold=True)} {where}: {w}")
        for name in c.pre.already:
            lines.append(f"{where}: {name} is already on the card and verified against the catalog: nothing to copy.")
    return lines


def card_plan_lines(plan, checks, stream, dry_run: bool = False) -> list[str]:
    """Per card that passed its checks: what will be written, what --clean removes."""
    ready = [c for c in checks if c.ready]
    if dry_run:
        head = f"The run would write {len(ready)} of {len(checks)} card(s):"
    else:
        head = f"Ready to write {len(ready)} of {len(checks)} card(s):"
    lines = [head]
    for i, c in enumerate(ready, 1):
        lines.append(f"  {i}. {c.target.describe()}")
        writes = c.writes(plan)
        for f in writes:
            lines.append(f"     write {f.name} ({exact_bytes(f.bytes)}) and {f.name}.sha256")
        if not writes:
            lines.append("     nothing to copy: the files are already there (they are read back again)")
        if c.removes:
            when = (
                "first: the card cannot hold both; the new file was checked against the catalog's index"
                if c.holds_both is False
                else "once the new file is verified on the card"
            )
            lines.append(f"     --clean removes: {', '.join(c.removes)} ({when})")
    return lines


def question(plan, checks) -> str:
    ready = [c for c in checks if c.ready]
    return f"Write {len(ready)} card(s) as listed above?" if len(ready) > 1 else "Write this card as listed above?"


def result_lines(plan, results, stream, ejected=None) -> list[str]:
    """The one summary block after the copy: each card READY or FAILED with why, N of M.
    ``ejected``: {path: True} for the cards stager unmounted."""
    ejected = ejected or {}
    ok = sum(1 for r in results if r.ok and r.method in PROVED_HOW)
    lines = [style(f"Summary: {ok} of {len(results)} card(s) ready.", stream, bold=True)]
    for r in results:
        target = next((t for t in plan.targets if str(t.path) == str(r.path)), None)
        where = target.describe() if target else str(r.path)
        ident = f" [{target.identity()}]" if target is not None and target.removable else ""
        if r.ok:
            proved = r.method in PROVED_HOW
            safe = _safe_text(target, ejected.get(str(r.path)))
            head = style("READY", stream, fg="green", bold=True) + f" {safe}" if proved else ""
            if not proved:
                head = style("STAGED, NOT PROVED ON THE CARD", stream, fg="yellow", bold=True)
            lines.append(f"{head}  {where}{ident}")
            for name in r.staged:
                how = "already there, re-verified" if name in r.already else "copied"
                lines.append(file_line(name, how, r.read_back.get(name), r.read_back_why.get(name, ""), r.path))
            if r.removed:
                lines.append(f"  Removed old firmware (--clean): {', '.join(r.removed)}.")
            verify = command("stager", "verify", "--target", str(r.path))
            lines.append(f"  Check on site: {verify} (or 'sha256sum -c' in the card's folder).")
        else:
            lines.append(f"{style('FAILED', stream, fg='red', bold=True)}  {where}{ident}")
            lines.append(f"  {r.error.message}")
            if r.cleaned and not r.left:
                lines.append(f"  Removed from the card: {', '.join(r.cleaned)} (nothing half-written is left).")
            elif r.left:
                lines.append(f"  Still on the card, not proved: {'; '.join(r.left)}. Delete them by hand.")
            if r.removed:
                lines.append(f"  Old firmware removed (--clean): {', '.join(r.removed)}.")
    for c in plan.decision.conditions:
        lines.append(f"On site: {c.message.splitlines()[0]} (see 'stager check' for the steps).")
    return lines


def _safe_text(target, ejected) -> str:
    if target is None or not target.removable:
        return ""
    if ejected:
        return "(safe to remove)"
    return "(written and verified; eject it before you pull it out)"
