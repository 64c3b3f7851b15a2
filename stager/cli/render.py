"""Human rendering of rules decisions (shared by check, prepare and plan)."""

from __future__ import annotations

import sys

from stager.cli.output import style


def decision_lines(decision, stream=None) -> list[str]:
    """A short readable report: the ALLOWED/REFUSED line, then reasons."""
    stream = stream or sys.stdout
    q = decision.query
    terminal = decision.terminal
    if terminal is None:
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
        ("Warnings", decision.warnings, "yellow"),
    ):
        if not reasons:
            continue
        lines.append(style(f"{title}:", stream, fg=colour, bold=True))
        for r in reasons:
            first, *rest = r.message.splitlines()
            lines.append(f"  - [{r.code}] {first}")
            lines.extend(f"    {line}" for line in rest)
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
