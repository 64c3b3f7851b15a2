"""stager history: the recent stagings, for traceability."""

from __future__ import annotations

import click

from stager.cli.options import epilog
from stager.cli.output import emit_json, json_option, say, warn
from stager.errors import ExitCode
from stager.i18n import _, pgettext


def _at_least_one(value: int) -> int:
    """--limit's check, in the user's language (click's IntRange says "x>=1" in every language)."""
    if value < 1:
        raise click.BadParameter(_("{value} is too small: give 1 or more.").format(value=value))
    return value


@click.command(
    help=_(
        "Show the recent stagings (newest last): when, which card, which file and hash, "
        "and the result. Kept in history.jsonl in STAGER_HOME or the user's data folder."
    ),
    epilog=epilog(
        _("Examples:\n  stager history\n  stager history --limit 100 --json"),
    ),
)
@click.option(
    "--limit",
    "-n",
    type=int,
    default=20,
    show_default=True,
    metavar=_("N"),
    callback=lambda ctx, param, value: _at_least_one(value),
    help=_("How many recent entries to show (at least 1)."),
)
@json_option
def history(limit, as_json):
    from stager.card import history as lib

    entries = lib.read(limit=limit, warn=warn)
    if as_json:
        emit_json({"file": str(lib.history_file()), "entries": entries})
        return ExitCode.OK
    if not entries:
        say(_("No staging recorded yet ({file}).").format(file=lib.history_file()))
        return ExitCode.OK
    for e in entries:
        say(entry_line(e))
    return ExitCode.OK


def result_text(result) -> str:
    """A staging's result as the table shows it: ``ok`` as a word of the reader's language,
    an error's code as recorded (the JSON keeps ``ok``)."""
    if result == "ok":
        # TRANSLATORS: the result of a staging in the history table (French: réussie), at most 8 letters.
        return pgettext("history result", "ok")
    return str(result or "?")


def entry_line(e: dict) -> str:
    """One staging: its local time, result, file, card, the charger it was for (only what
    the entry records: nothing shows as None) and its checksum."""
    where = e.get("label") or e.get("device") or ""
    sha = str(e.get("sha256") or "")
    # TRANSLATORS: a history line: time, result, file, "->", the card, then (its label).
    line = _("{time}  {result} {file}  -> {target}{where}").format(
        time=when_text(e.get("time")),
        result=f"{result_text(e.get('result')):<8}",
        file=e.get("file") or "?",
        target=e.get("target") or "?",
        where=f" ({where})" if where else "",
    )
    return line + _choice(e.get("decision")) + (f"  sha256 {sha[:16]}..." if sha else "")


def _choice(decision) -> str:
    """``  [p22 kit 318 terminal 313]``, with only what the entry records (nothing when it records none)."""
    d = decision if isinstance(decision, dict) else {}
    parts = [str(d["model"])] if d.get("model") else []
    if d.get("kit"):
        parts.append(pgettext("heading", "kit {kit}").format(kit=d["kit"]))
    if d.get("terminal"):
        parts.append(_("terminal {terminal}").format(terminal=d["terminal"]))
    return f"  [{' '.join(parts)}]" if parts else ""


def when_text(recorded) -> str:
    """A recorded time (ISO 8601, UTC) in the user's local time and language; as recorded when it is not one."""
    import datetime as dt

    from stager.i18n_format import format_datetime

    try:
        return format_datetime(dt.datetime.fromisoformat(str(recorded).replace("Z", "+00:00")))
    except ValueError:
        return str(recorded or "?")
