"""Human rendering shared by several commands: rules decisions (check, prepare, plan),
the prepare plan and its results (prepare, demo), sizes."""

from __future__ import annotations

import sys

from stager.cli.output import style


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


def human_bytes(n: int | None) -> str:
    """1536 -> '1.5 KiB'; None -> 'unknown'."""
    if n is None:
        return "unknown"
    value, units = float(n), ("B", "KiB", "MiB", "GiB", "TiB")
    for unit in units:
        if value < 1024 or unit == units[-1]:
            break
        value /= 1024
    return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"


def plan_lines(plan, stream) -> list[str]:
    lines = [f"Catalog {plan.catalog_root}:"]
    for f in plan.files:
        lines.append(f"  {f.name}  ({f.role}, {human_bytes(f.bytes)}, sha256 {f.sha256[:16]}...)")
    for n in plan.selection.notes:
        lines.append(f"  note: {n.message}")
    if plan.targets:
        for t in plan.targets:
            free = f", {human_bytes(t.free_bytes)} free" if t.free_bytes else ""
            lines.append(f"Target {t.describe()}{free}")
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
        f"eject the card, insert it again, then run 'stager verify --target {path}'."
    )


def result_lines(plan, results, stream) -> list[str]:
    """What a technician reads after the copy: one verdict per card, then what next."""
    lines = []
    for r in results:
        target = next((t for t in plan.targets if str(t.path) == str(r.path)), None)
        where = target.describe() if target else str(r.path)
        if r.ok:
            proved = r.method in PROVED_HOW
            head = "STAGED" if proved else "STAGED, NOT PROVED ON THE CARD"
            lines.append(f"{style(head, stream, fg='green' if proved else 'yellow', bold=True)}  {where}")
            for name in r.staged:
                how = "already there, re-verified" if name in r.already else "copied"
                lines.append(file_line(name, how, r.read_back.get(name), r.read_back_why.get(name, ""), r.path))
            lines.append(f"  Sidecars written: check on site with 'sha256sum -c' or 'stager verify --target {r.path}'.")
        else:
            lines.append(f"{style('FAILED', stream, fg='red', bold=True)}  {where}")
            lines.append(f"  {r.error.message}")
            if r.cleaned and not r.left:
                lines.append(f"  Removed from the card: {', '.join(r.cleaned)} (nothing half-written is left).")
            elif r.left:
                lines.append(f"  Still on the card, not proved: {'; '.join(r.left)}. Delete them by hand.")
    for c in plan.decision.conditions:
        lines.append(f"On site: {c.message.splitlines()[0]} (see 'stager check' for the steps).")
    return lines
