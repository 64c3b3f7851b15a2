"""stager verify: on site, "this card is right": one firmware set, each file read back
from the card matching its sidecar, allowed by the rules (and, with a charger, the one
the rules choose for it)."""

from __future__ import annotations

import sys

import click

from stager.cli.options import (
    allow_rollback_option,
    epilog,
    optional_kit_option,
    optional_model_option,
    terminal_option,
)
from stager.cli.output import emit_json, json_option, style, warn
from stager.cli.render import role_text, rules_text
from stager.errors import BadInput
from stager.i18n import _, pgettext
from stager.quoting import command


def _file_lines(f, stream, target) -> list[str]:
    good = f.status == "ok" and f.rules in ("ok", None) and f.catalog != "differs"
    ok, fail = _("OK"), _("FAIL")
    width = max(len(ok), len(fail))
    mark = (
        style(ok.ljust(width), stream, fg="green", bold=True)
        if good
        else style(fail.ljust(width), stream, fg="red", bold=True)
    )
    says = ""
    if f.parsed:
        p = f.parsed
        bits = [
            p.get("model"),
            pgettext("heading", "kit {kit}").format(kit=p["kit"]) if p.get("kit") else None,
            _("terminal {terminal}").format(terminal=p.get("terminal")),
            _("pack {pack}").format(pack=p["pack"]) if p.get("pack") else None,
            role_text(p.get("role")),
        ]
        name_says = ", ".join(b for b in bits if b)
        says = " [" + _("{name_says}; rules: {rules}").format(name_says=name_says, rules=rules_text(f.rules)) + "]"
    lines = [f"{mark} {f.name}{says}"]
    if f.status == "ok" and f.read_back != "cached":
        text = _("SHA-256 read back from the card matches {name}.sha256 ({sha256}...)")
        lines.append("     " + text.format(name=f.name, sha256=f.sha256[:16]))
    elif f.status == "ok":
        text = _(
            "SHA-256 matches {name}.sha256 ({sha256}...), but it could only be read from the "
            "system's cache, not from the card: {why}. "
            "To prove the card: eject it, insert it again, then run: {command}"
        )
        why = f.read_back_why or _("no uncached read is possible here")
        verify = command("stager", "verify", "--target", str(target))
        lines.append("     " + text.format(name=f.name, sha256=f.sha256[:16], why=why, command=verify))
    if f.catalog == "match":
        text = _("and the catalog's {name} (line {line} of its SHA256SUMS)")
        lines.append("     " + text.format(name=f.name, line=f.catalog_line))
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
        text = _(
            "Leftover temporary files of an interrupted staging: {files} "
            "(not firmware names; 'stager prepare' removes them)."
        )
        lines.append(text.format(files=", ".join(report.leftovers)))
    for problem in report.set_problems:
        lines.append(style(_("NOT ONE FIRMWARE SET"), stream, fg="red", bold=True) + f"  {problem}")
    if report.charger is not None:
        mark = _("FOR THIS CHARGER") if report.charger["matches"] else _("NOT FOR THIS CHARGER")
        colour = "green" if report.charger["matches"] else "red"
        lines.append(f"{style(mark, stream, fg=colour, bold=True)}  {report.charger['why']}")
    if not report.checked_catalog:
        lines.append(
            _(
                "The sidecars prove only that the card matches itself, not that it holds the catalog's files: "
                "give --catalog DIR to check that too."
            )
        )
    lines.append(_verdict(report, stream))
    if report.exit_code == 0 and report.checked_catalog:  # without --catalog the line above says it
        lines.append("  " + _("(A sidecar proves the card matches itself; the file's origin is the catalog's index.)"))
    return lines


def _verdict(report, stream) -> str:
    """The last line: whether the card is right, and if not, what to do."""
    if report.exit_code == 0 and report.read_back != "cached":
        good = _("The card is right: one firmware set, every file read back from the card matches its sidecar.")
        return style(good, stream, fg="green", bold=True)
    if report.exit_code == 0:
        good = _("The files match their sidecars, but the card itself was not read (only the system's cache).")
        return style(good, stream, fg="yellow", bold=True)
    verdict = {
        4: _("The card holds a file the catalog does not vouch for: do not use it."),
        3: _("The card holds a file the rules refuse here: do not use it."),
        5: _("The card is NOT right: a charger must find one firmware set."),
        6: _("The card is NOT right: prepare it again."),
    }
    return style(verdict[report.exit_code], stream, fg="red", bold=True)


@click.command(
    help=_(
        "Is this card right? Every firmware-like file on the card root (hidden ones too): "
        "its .sha256 sidecar, its SHA-256 read back from the card (not from the cache), "
        "what its name says and whether the rules allow it; exactly one firmware set; "
        "with --model/--kit, the file the rules choose for that charger; with --catalog, "
        "that it is the catalog's file."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager verify --target /media/tech/PULSECARD\n"
            "  stager verify --target /media/tech/PULSECARD --model p22 --kit 318\n"
            "  stager verify --target E:\\ --json"
        ),
        _(
            "Exit codes: 0 the card is right, 3 a file the rules refuse (or not the charger's),\n"
            "4 (with --catalog) a file the catalog's index does not have, or a catalog that is not\n"
            "trusted, 5 not one firmware set (or no firmware, or a card formatted other than FAT32 or\n"
            "exFAT: --allow-any-fs), 6 a checksum mismatch, a missing sidecar, or a file that is not\n"
            "the catalog's."
        ),
    ),
)
@click.option("--target", required=True, metavar=_("DIR"), help=_("The card's folder (its mount point)."))
@optional_model_option
@optional_kit_option
@terminal_option
@click.option(
    "--catalog",
    "catalog_dir",
    metavar=_("DIR"),
    help=_(
        "Also check each file is the catalog's, per its (signed) SHA256SUMS line. Without it, the "
        "settings' catalog is not used: the card is checked against its own sidecars only."
    ),
)
@click.option(
    "--allow-any-fs",
    is_flag=True,
    help=_(
        "Verify a card formatted other than FAT32 or exFAT (NTFS, ext4...) anyway, as prepare's "
        "--allow-any-fs stages one: only if you know this charger reads it."
    ),
)
@allow_rollback_option
@json_option
def verify(target, model, kit, terminal, catalog_dir, allow_any_fs, allow_rollback, as_json):
    from stager.card.verify import verify_card
    from stager.cli.commands.prepare import never_crash_on_paths

    never_crash_on_paths()
    charger = _charger(model, kit, terminal, as_json)
    catalog = None
    if catalog_dir is not None:
        from stager.catalog.trust import open_trusted

        catalog = open_trusted(catalog_dir, allow_rollback=allow_rollback, warn=warn)
    report = _verify_stoppable(verify_card, target, catalog, charger, allow_any_fs)
    if as_json:
        emit_json(report.to_json())
    else:
        from stager.cli.render import say_lines

        say_lines(report_lines(report, sys.stdout), sys.stdout)
    return report.exit_code


def _verify_stoppable(verify_card, target, catalog, charger, allow_any_fs):
    """The card's read-back with Ctrl-C, SIGTERM, SIGHUP and Ctrl-Break taken at once: the
    stop event is checked between chunks and while a read waits for the card (Windows'
    console handler sets it too); verify only reads, so nothing is left to clean up."""
    from stager.card import stop

    previous = stop.install()
    try:
        return verify_card(target, catalog=catalog, charger=charger, allow_any_fs=allow_any_fs, stop=stop.STATE.event)
    except KeyboardInterrupt:
        raise stop.read_only_stopped() from None
    finally:
        stop.restore(previous, ending=True)


def _charger(model, kit, terminal, as_json):
    """The rules' decision for the charger asked (None: no charger); exit 3 when refused."""
    if model is None and kit is None:
        if terminal is not None:
            raise BadInput(_("--terminal needs --model and --kit."), code="bad-input")
        return None
    if model is None or kit is None:
        raise BadInput(_("--model and --kit go together: give both to check the card for a charger."), code="bad-input")
    from stager.card.prepare import refusal_error
    from stager.cli.render import decision_lines, say_lines
    from stager.rules.engine import Query, decide

    decision = decide(Query(model=model, kit=kit, terminal=terminal))
    if decision.allowed:
        return decision
    if not as_json:
        say_lines(decision_lines(decision, sys.stdout), sys.stdout)
    raise refusal_error(decision)
