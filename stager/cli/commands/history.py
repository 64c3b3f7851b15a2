"""stager history: the recent stagings, for traceability."""

from __future__ import annotations

import click

from stager.cli.output import emit_json, json_option, say, warn
from stager.errors import ExitCode


@click.command(
    epilog="""\b
Examples:
  stager history
  stager history --limit 100 --json""",
)
@click.option(
    "--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True, help="How many recent entries to show."
)
@json_option
def history(limit, as_json):
    """Show the recent stagings (newest last): when, which card, which file and hash,
    and the result. Kept in history.jsonl in STAGER_HOME or the user's data folder."""
    from stager.card import history as lib

    entries = lib.read(limit=limit, warn=warn)
    if as_json:
        emit_json({"file": str(lib.history_file()), "entries": entries})
        return ExitCode.OK
    if not entries:
        say(f"No staging recorded yet ({lib.history_file()}).")
        return ExitCode.OK
    for e in entries:
        d = e.get("decision", {})
        where = e.get("label") or e.get("device") or ""
        say(
            f"{e.get('time', '?')}  {e.get('result', '?'):<8} {e.get('file', '?')}  -> {e.get('target', '?')}"
            f"{f' ({where})' if where else ''}  [{d.get('model')} kit {d.get('kit')} terminal {d.get('terminal')}]"
            f"  sha256 {str(e.get('sha256', ''))[:16]}..."
        )
    return ExitCode.OK
