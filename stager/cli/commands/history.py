"""stager history: the recent stagings, for traceability."""

from __future__ import annotations

import click

from stager.cli.options import epilog
from stager.cli.output import emit_json, json_option, say, warn
from stager.errors import ExitCode
from stager.i18n import _


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
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    metavar=_("N"),
    help=_("How many recent entries to show."),
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


def entry_line(e: dict) -> str:
    """One staging: its local time, result, file, card and the charger it was for."""
    d = e.get("decision", {})
    where = e.get("label") or e.get("device") or ""
    text = _("{time}  {result} {file}  -> {target}{where}  [{model} kit {kit} terminal {terminal}]  sha256 {sha256}...")
    return text.format(
        time=when_text(e.get("time")),
        result=f"{e.get('result', '?'):<8}",
        file=e.get("file", "?"),
        target=e.get("target", "?"),
        where=f" ({where})" if where else "",
        model=d.get("model"),
        kit=d.get("kit"),
        terminal=d.get("terminal"),
        sha256=str(e.get("sha256", ""))[:16],
    )


def when_text(recorded) -> str:
    """A recorded time (ISO 8601, UTC) in the user's local time and language; as recorded when it is not one."""
    import datetime as dt

    from stager.i18n_format import format_datetime

    try:
        return format_datetime(dt.datetime.fromisoformat(str(recorded).replace("Z", "+00:00")))
    except ValueError:
        return str(recorded or "?")
