"""stager config show: the settings in force and where each value comes from."""

from __future__ import annotations

import os

import click

from stager.cli.options import epilog
from stager.cli.output import emit_json, json_option, say
from stager.errors import ExitCode
from stager.i18n import _, pgettext


def scope_text(scope: str) -> str:
    """Whose settings file it is (its JSON value: machine, user, STAGER_CONFIG), as shown."""
    if scope == "machine":
        # TRANSLATORS: whose settings file this is: the computer's, for every user.
        return pgettext("settings file", "machine")
    if scope == "user":
        # TRANSLATORS: whose settings file this is: the user's own.
        return pgettext("settings file", "user")
    return scope


def show_lines(doc: dict) -> list[str]:
    out = [_("Settings files (read in this order):")]
    labels = [scope_text(f["scope"]) for f in doc["files"]]
    pad = max([8, *(len(label) for label in labels)])
    for f, label in zip(doc["files"], labels, strict=True):
        state = _("read") if f["status"] == "read" else _("not present")
        out.append(f"  {label.ljust(pad)} {f['path']} ({state})")
    cat = doc["catalog"]
    out.append("")
    if cat["value"]:
        text = _("Catalog: {folder} (from {source}; --catalog on the command line wins)")
        out.append(text.format(folder=cat["value"], source=cat["source"]))
    else:
        out.append(
            _('Catalog: none set (give --catalog DIR, set STAGER_CATALOG, or catalog = "DIR" in a settings file)')
        )
    keys = doc["trusted_keys"]
    if keys:
        text = _("Trusted keys ({n}): only a catalog whose SHA256SUMS one of them signed is used.")
        out.append(text.format(n=len(keys)))
        out += [f"  {k['id']} {k['key']}\n      " + _("from {source}").format(source=k["source"]) for k in keys]
    else:
        out.append(
            _(
                "Trusted keys: none. SHA256SUMS is checked against accidental damage only; add "
                'trusted_keys = ["RWQ..."] (or the path of a .pub file) to a settings file to require a signed index.'
            )
        )
    history = doc["history"]
    out.append(_("History folder: {folder} (from {source})").format(folder=history["value"], source=history["source"]))
    out.append(_("Accepted signature times (no rollback): {file}").format(file=doc["state_file"]))
    return out


@click.group(
    options_metavar=_("[OPTIONS]"),
    subcommand_metavar=_("COMMAND [ARGS]..."),
    help=_("The workshop's settings: the default catalog and the trusted signing keys."),
    epilog=epilog(
        _("Examples:\n  stager config show\n  stager config show --json | jq '.trusted_keys'"),
    ),
)
def config():
    """The ``stager config`` group (its help is the help= above, in the user's language)."""


@config.command(
    "show",
    help=_(
        "Print the settings in force: which files were read (the machine's, then the "
        "user's, or STAGER_CONFIG's alone), the catalog folder, the trusted keys and "
        "where each comes from, and the history folder."
    ),
    epilog=epilog(
        _("Examples:\n  stager config show\n  STAGER_CONFIG=/etc/stager-test.toml stager config show --json"),
        _("Exit codes: 0 shown, 2 a settings file is not valid (the file and the problem are named)."),
    ),
)
@json_option
def show(as_json):
    from stager.catalog.settings import load_settings

    doc = load_settings().to_json()
    doc["environment"] = {name: os.environ.get(name) for name in ("STAGER_CONFIG", "STAGER_CATALOG", "STAGER_HOME")}
    if as_json:
        emit_json(doc)
    else:
        say("\n".join(show_lines(doc)))
    return ExitCode.OK
