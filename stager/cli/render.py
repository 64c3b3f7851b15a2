"""Human rendering shared by several commands: rules decisions (check, prepare, plan),
the prepare plan, the cards' checks, the question and the summary (prepare, demo),
sizes (one format: :func:`stager.i18n_format.format_size`, in the user's language),
quoted commands and text wrapped to the terminal's width."""

from __future__ import annotations

import sys
from pathlib import Path

from stager.cli.output import colon, say, style, wrapped
from stager.i18n import N_, _, ngettext, pgettext
from stager.i18n_format import after_colon, format_size
from stager.quoting import command

__all__ = ["decision_lines", "plan_lines", "result_lines", "size_text", "wrapped"]


def size_text(n: int | None) -> str:
    """A size as the user reads it (``8.0 MiB (8,391,753 bytes)``, ``8,0 Mio (8 391 753 octets)``)."""
    return _("unknown") if n is None else format_size(n)


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
    what = _what(decision, terminal).format(kit=q.kit, terminal=terminal)
    if decision.allowed:
        head = style(_("ALLOWED"), stream, fg="green", bold=True)
    else:
        head = style(_("REFUSED"), stream, fg="red", bold=True)
    lines = [f"{head}  " + colon(decision.model_name, what)]
    if decision.compatible_terminals:
        terms = ", ".join(map(str, decision.compatible_terminals))
        lines.append(
            "  " + _("Terminals the table allows with kit {kit}: {terminals}").format(kit=q.kit, terminals=terms)
        )
    for title, reasons, colour in (
        (_("Refused because:"), decision.refusals, "red"),
        (_("Conditions (to do on site):"), decision.conditions, "yellow"),
        (_("Warnings:"), [w for w in decision.warnings if explain or not w.standing], "yellow"),
    ):
        if not reasons:
            continue
        lines.append(style(title, stream, fg=colour, bold=True))
        for r in reasons:
            first, *rest = r.message.splitlines()
            lines.append(f"  - [{r.code}] {first}")
            lines.extend(f"    {line}" for line in rest)
    return lines


def _what(decision, terminal) -> str:
    """What was decided: the kit (and terminal), and how they were chosen ({kit}, {terminal})."""
    if decision.query.kit_latest:
        if decision.allowed:
            if terminal is None:
                return _("kit {kit} (newest the rules allow with these options)")
            return _("kit {kit} (newest the rules allow with these options) + terminal {terminal}")
        if terminal is None:
            return _("kit {kit} (the newest kit: no kit of the table is allowed with these options)")
        return _("kit {kit} (the newest kit: no kit of the table is allowed with these options) + terminal {terminal}")
    # TRANSLATORS: the heading of a decision ("ALLOWED  Pulse WB-AC: kit 318 + terminal 124"): no article.
    if terminal is None:
        return pgettext("heading", "kit {kit}")
    if not decision.terminal_chosen:
        return pgettext("heading", "kit {kit} + terminal {terminal}")
    if decision.allowed:
        return _("kit {kit} + terminal {terminal} (newest allowed)")
    return _("kit {kit} + terminal {terminal} (newest of the table for this kit)")


def reminder_lines(decision, stream=None, explain: bool = False) -> list[str]:
    """The standing reminders (MASTER SD, April 2023, newer kit): one line each, or their
    full text with ``explain`` (then :func:`decision_lines` already gave them)."""
    reminders = [w for w in decision.warnings if w.standing]
    if explain or not reminders:
        return []
    lines = [style(_("Reminders (--explain for the full text):"), stream or sys.stdout, fg="yellow")]
    lines.extend(f"  - [{w.code}] {w.brief or w.message.splitlines()[0]}" for w in reminders)
    return lines


def role_text(role: str | None) -> str | None:
    """A firmware file's role (``bundle``, ``hex``: its JSON value) as a person reads it."""
    if role == "bundle":
        # TRANSLATORS: a firmware file's role: one archive for the OCPP kit and the terminal together.
        return pgettext("role", "bundle")
    if role == "hex":
        # TRANSLATORS: a firmware file's role: the terminal's .hex file, flashed with the ST-LINK probe.
        return pgettext("role", "hex")
    return role


def plan_lines(plan, stream) -> list[str]:
    lines = [_("Catalog {folder}:").format(folder=plan.catalog_root)]
    for f in plan.files:
        lines.append(
            "  "
            + _("{name}  ({role}, {size}, sha256 {sha256}...)").format(
                name=f.name, role=role_text(f.role), size=size_text(f.size), sha256=f.sha256[:16]
            )
        )
    for n in plan.selection.notes:
        lines.append("  " + _("note: {message}").format(message=after_colon(n.message)))
    if plan.targets:
        for t in plan.targets:
            if t.free_bytes is not None:
                free = _("{size} free").format(size=size_text(t.free_bytes))
            else:
                free = _("free space unknown")
            line = _("Target {target}: {free}").format(target=t.describe(), free=free)
            if t.removable:
                # TRANSLATORS: a target's line, then what identifies its volume ("volume 97A7-A82C, ...").
                line = _("{line}; {identity}").format(line=line, identity=t.identity())
            lines.append(line)
    elif plan.target_problem is not None:
        lines.append(_("Target: none yet ({problem})").format(problem=plan.target_problem.message))
    return lines


PROVED_HOW = {
    "direct": N_("read from the card with the system's cache bypassed"),
    "evicted": N_("read from the card after the system's cache of it was dropped"),
    "remounted": N_("read from the card after it was mounted again"),
}


def file_line(name: str, how: str, method: str | None, why: str, path) -> str:
    """One file of a STAGED card: how it got there and how it was proved (or not)."""
    if method in PROVED_HOW:
        text = _("{name}: {how}; SHA-256 read back from the card matches the catalog ({proved}).")
        return "  " + text.format(name=name, how=how, proved=_(PROVED_HOW[method]))
    text = _(
        "{name}: {how}; its SHA-256 matches the catalog, but it could only be read from the system's cache, "
        "not from the card: {why}. The card is not proved. To prove it, "
        "eject the card, insert it again, then run: {command}"
    )
    why = why or _("no uncached read is possible here")
    return "  " + text.format(name=name, how=how, why=why, command=command("stager", "verify", "--target", str(path)))


def check_lines(plan, checks, stream, dry_run: bool = False) -> list[str]:
    """What the cards' checks found, before the question (warnings first)."""
    lines = []
    for c in checks:
        where = c.target.describe()
        if c.error is not None:
            head = _("WOULD FAIL") if dry_run else _("CANNOT WRITE")
            lines.append(f"{style(head, stream, fg='red', bold=True)}  " + colon(where, c.error.message))
            continue
        for w in c.warnings:
            lines.append(style(_("Warning:"), stream, fg="yellow", bold=True) + " " + colon(where, w))
        for name in c.pre.already:
            text = _("{card}: {name} is already on the card and verified against the catalog: nothing to copy.")
            lines.append(text.format(card=where, name=name))
    return lines


def card_plan_lines(plan, checks, stream, dry_run: bool = False) -> list[str]:
    """Per card that passed its checks: what will be written, what --clean removes."""
    ready = [c for c in checks if c.ready]
    if dry_run:
        # TRANSLATORS: English writes "(s)" in both forms; the form follows {ready}, the cards to write.
        head = ngettext(
            "The run would write {ready} of {total} card(s):",
            "The run would write {ready} of {total} card(s):",
            len(ready),
        )
    else:
        # TRANSLATORS: English writes "(s)" in both forms; the form follows {ready}, the cards to write.
        head = ngettext(
            "Ready to write {ready} of {total} card(s):", "Ready to write {ready} of {total} card(s):", len(ready)
        )
    lines = [head.format(ready=len(ready), total=len(checks))]
    for i, c in enumerate(ready, 1):
        lines.append(f"  {i}. {c.target.describe()}")
        writes = c.writes(plan)
        for f in writes:
            lines.append(
                "     " + _("write {name}, {size}, and {name}.sha256").format(name=f.name, size=size_text(f.size))
            )
        if not writes:
            lines.append("     " + _("nothing to copy: the files are already there (they are read back again)"))
        if c.removes:
            when = (
                _("first: the card cannot hold both; the new file was checked against the catalog's index")
                if c.holds_both is False
                else _("once the new file is verified on the card")
            )
            lines.append("     " + _("--clean removes: {files} ({when})").format(files=", ".join(c.removes), when=when))
    return lines


def question(plan, checks) -> str:
    ready = [c for c in checks if c.ready]
    if len(ready) > 1:
        return _("Write {n} cards as listed above?").format(n=len(ready))
    return _("Write this card as listed above?")


def result_lines(plan, results, stream, ejected=None) -> list[str]:
    """The one summary block after the copy: each card READY or FAILED with why, N of M.
    ``ejected``: {path: True} for the cards stager unmounted."""
    ejected = ejected or {}
    ok = sum(1 for r in results if r.ok and r.method in PROVED_HOW)
    # TRANSLATORS: English writes "(s)" in both forms; the form follows {ok}, the cards ready.
    summary = ngettext("Summary: {ok} of {total} card(s) ready.", "Summary: {ok} of {total} card(s) ready.", ok)
    lines = [style(summary.format(ok=ok, total=len(results)), stream, bold=True)]
    for r in results:
        target = next((t for t in plan.targets if str(t.path) == str(r.path)), None)
        where = target.describe() if target else str(r.path)
        ident = f" [{target.identity()}]" if target is not None and target.removable else ""
        if r.ok:
            proved = r.method in PROVED_HOW
            safe = _safe_text(target, ejected.get(str(r.path)))
            head = style(_("READY"), stream, fg="green", bold=True) + f" {safe}" if proved else ""
            if not proved:
                head = style(_("STAGED, NOT PROVED ON THE CARD"), stream, fg="yellow", bold=True)
            lines.append(f"{head}  {where}{ident}")
            for name in r.staged:
                how = _("already there, re-verified") if name in r.already else _("copied")
                lines.append(file_line(name, how, r.read_back.get(name), r.read_back_why.get(name, ""), r.path))
            if r.removed:
                lines.append("  " + _("Removed old firmware (--clean): {files}.").format(files=", ".join(r.removed)))
            verify = command("stager", "verify", "--target", str(r.path))
            lines.append(
                "  " + _("Check on site: {command} (or 'sha256sum -c' in the card's folder).").format(command=verify)
            )
        else:
            lines.append(style(_("FAILED"), stream, fg="red", bold=True) + f"  {where}{ident}")
            lines.append(f"  {r.error.message}")
            lines += _failed_lines(r)
    for c in plan.decision.conditions:
        text = _("On site: {condition} (see 'stager check' for the steps).")
        lines.append(text.format(condition=c.message.splitlines()[0]))
    return lines


def _failed_lines(r) -> list[str]:
    """What a failed card still holds, and what was removed from it."""
    lines = []
    unconfirmed = getattr(r, "unconfirmed", [])
    if unconfirmed:
        text = _(
            "Removed by the file system, but the card did not confirm it (it is failing or stopped answering), "
            "so these may still be on the card, not proved: {files}. Before the card goes to a charger, insert it "
            "again and run 'stager verify' on it, or use another card."
        )
        lines.append("  " + text.format(files=", ".join(str(Path(r.path) / name) for name in unconfirmed)))
    if r.cleaned and not r.left and not unconfirmed:
        text = _("Removed from the card: {files} (nothing half-written is left).")
        lines.append("  " + text.format(files=", ".join(r.cleaned)))
    elif r.left:
        lines.append(
            "  " + _("Still on the card, not proved: {files}. Delete them by hand.").format(files="; ".join(r.left))
        )
    if r.removed:
        lines.append("  " + _("Old firmware removed (--clean): {files}.").format(files=", ".join(r.removed)))
    return lines


def _safe_text(target, ejected) -> str:
    if target is None or not target.removable:
        return ""
    if ejected:
        return _("(safe to remove)")
    return _("(written and verified; eject it before you pull it out)")


#: The rules' verdict on a catalog file (its JSON value) as the table shows it.
RULES = {
    "ok": N_("allowed"),
    "ko": N_("not allowed"),
    "forbidden": N_("forbidden"),
    "unknown-kit": N_("unknown kit"),
    "unknown-terminal": N_("unknown terminal"),
}


def rules_text(value: str | None) -> str | None:
    """The rules' verdict on a file (its JSON value, ``ok``) as a person reads it (``allowed``)."""
    return _(RULES[value]) if value in RULES else value
