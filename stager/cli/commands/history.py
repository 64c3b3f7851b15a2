"""stager history: the recent stagings, for traceability."""

from __future__ import annotations

import click

from stager.cli.output import emit_json, json_option, say, warn
from stager.errors import ExitCode
from stager.i18n import _


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
        where = e.get("label") or e.get("device") or ""
        sha = str(e.get("sha256") or "")
        say(
            f"{e.get('time') or '?'}  {e.get('result') or '?':<8} {e.get('file') or '?'}  -> {e.get('target') or '?'}"
            f"{f' ({where})' if where else ''}{_choice(e.get('decision'))}"
            f"{f'  sha256 {sha[:16]}...' if sha else ''}"
        )
    return ExitCode.OK


def _choice(decision) -> str:
    """``  [p22 kit 318 terminal 313]``, with only what the entry records (nothing when it records none)."""
    d = decision if isinstance(decision, dict) else {}
    parts = [str(d["model"])] if d.get("model") else []
    if d.get("kit"):
        parts.append(_("kit {kit}").format(kit=d["kit"]))
    if d.get("terminal"):
        parts.append(_("terminal {terminal}").format(terminal=d["terminal"]))
    return f"  [{' '.join(parts)}]" if parts else ""
