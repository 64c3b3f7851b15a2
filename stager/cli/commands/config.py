"""stager config show: the settings in force and where each value comes from."""

from __future__ import annotations

import os

import click

from stager.cli.output import emit_json, json_option, say
from stager.errors import ExitCode


def show_lines(doc: dict) -> list[str]:
    out = ["Settings files (read in this order):"]
    for f in doc["files"]:
        state = "read" if f["status"] == "read" else "not present"
        out.append(f"  {f['scope']:8} {f['path']} ({state})")
    cat = doc["catalog"]
    out.append("")
    if cat["value"]:
        out.append(f"Catalog: {cat['value']} (from {cat['source']}; --catalog on the command line wins)")
    else:
        out.append('Catalog: none set (give --catalog DIR, set STAGER_CATALOG, or catalog = "DIR" in a settings file)')
    keys = doc["trusted_keys"]
    if keys:
        out.append(f"Trusted keys ({len(keys)}): only a catalog whose SHA256SUMS one of them signed is used.")
        out += [f"  {k['id']} {k['key']}\n      from {k['source']}" for k in keys]
    else:
        out.append(
            "Trusted keys: none. SHA256SUMS is checked against accidental damage only; add "
            'trusted_keys = ["RWQ..."] (or the path of a .pub file) to a settings file to require a signed index.'
        )
    out.append(f"History folder: {doc['history']['value']} (from {doc['history']['source']})")
    out.append(f"Accepted signature times (no rollback): {doc['state_file']}")
    return out


@click.group(
    epilog="""\b
Examples:
  stager config show
  stager config show --json | jq '.trusted_keys'""",
)
def config():
    """The workshop's settings: the default catalog and the trusted signing keys."""


@config.command(
    "show",
    epilog="""\b
Examples:
  stager config show
  STAGER_CONFIG=/etc/stager-test.toml stager config show --json

\b
Exit codes: 0 shown, 2 a settings file is not valid (the file and the problem are named).""",
)
@json_option
def show(as_json):
    """Print the settings in force: which files were read (the machine's, then the user's,
    or STAGER_CONFIG's alone), the catalog folder, the trusted keys and where each
    comes from, and the history folder."""
    from stager.catalog.settings import load_settings

    doc = load_settings().to_json()
    doc["environment"] = {name: os.environ.get(name) for name in ("STAGER_CONFIG", "STAGER_CATALOG", "STAGER_HOME")}
    if as_json:
        emit_json(doc)
    else:
        say("\n".join(show_lines(doc)))
    return ExitCode.OK
