"""Options shared by several commands (one decorator stack, defined once).

Each option parses its value with :mod:`stager.rules.inputs`; a bad value becomes click's
usage error (exit 2) with the parser's one-line message.
"""

from __future__ import annotations

import click

from stager.errors import BadInput
from stager.i18n import _
from stager.rules import inputs


def epilog(*blocks: str) -> str:
    """A command's epilog: its blocks (examples, exit codes). A block whose lines after the
    first are indented (examples, a table) is printed as written, marked with click's
    "\\b", which stays out of the messages; a block of prose (exit codes) is one
    paragraph that click wraps to the terminal's width, in any language."""
    return "\n\n".join(_epilog_block(block) for block in blocks)


def _epilog_block(block: str) -> str:
    lines = block.split("\n")
    if any(line.startswith(" ") for line in lines[1:]):
        return "\b\n" + block
    return " ".join(line.strip() for line in lines)


def parsed_by(parser):
    def callback(ctx, param, value):
        if value is None:
            return None
        try:
            return parser(value)
        except BadInput as e:
            raise click.BadParameter(e.message) from None

    return callback


#: What the charger's model is, written once (every command's --model).
MODEL_HELP = _(
    "Charger model: p22 (Pulse 22 GL/WL), p50 (Pulse 50) or wbac (Pulse WB-AC); "
    "spellings such as pulse22, Pulse-50, WB-AC are accepted."
)


def _model_option(required: bool):
    return click.option(
        "--model",
        "-m",
        required=required,
        metavar=_("MODEL"),
        callback=parsed_by(inputs.parse_model),
        help=MODEL_HELP,
    )


model_option = _model_option(required=True)
#: --model for a command where the charger is optional (verify: with --kit, or neither).
optional_model_option = _model_option(required=False)
kit_option = click.option(
    "--kit",
    "-k",
    required=True,
    metavar="KIT|latest",
    callback=parsed_by(inputs.parse_kit),
    help=_(
        "OCPP kit version, 3 digits (e.g. 318), or latest: the newest kit the rules allow "
        "with the other options given (terminal, --from-kit, --built, --ocpp, --mid, --router)."
    ),
)
#: --kit for a command where the charger is optional (verify): a version, not latest.
optional_kit_option = click.option(
    "--kit",
    "-k",
    required=False,
    metavar=_("KIT"),
    callback=parsed_by(lambda v: inputs.parse_version(v, "kit")),
    help=_(
        "OCPP kit version, 3 digits (e.g. 318): the kit the charger is to get (with --model); "
        "the card must hold what the rules choose."
    ),
)
explain_option = click.option(
    "--explain",
    is_flag=True,
    help=_("Give the standing reminders (MASTER SD, April 2023, newer kit) in full, not in one line each."),
)
terminal_option = click.option(
    "--terminal",
    "-t",
    metavar=_("TERMINAL"),
    callback=parsed_by(lambda v: inputs.parse_version(v, "terminal")),
    help=_("Terminal version, 3 digits. Default: the newest terminal the rules allow with the kit."),
)


def rule_options(fn):
    """--from-kit, --built, --ocpp, --mid, --router (the contract's RULE OPTIONS)."""
    options = [
        click.option(
            "--from-kit",
            metavar=_("KIT"),
            callback=parsed_by(lambda v: inputs.parse_version(v, "current kit")),
            help=_("The kit version installed now: checks the MASTER SD barrier (1XX/2XX to 3XX+) and downgrades."),
        ),
        click.option(
            "--built",
            metavar=_("YYYY-MM"),
            callback=parsed_by(inputs.parse_month),
            help=_("The month the terminal was built: from 2023-04 it cannot run 1XX/2XX terminal versions."),
        ),
        click.option(
            "--ocpp",
            metavar="1.5|1.6",
            callback=parsed_by(inputs.parse_ocpp),
            help=_("The OCPP protocol the back office speaks: 1.5 (SOAP) or 1.6 (JSON, 3XX kits and later)."),
        ),
        click.option("--mid", is_flag=True, help=_("A MID meter is fitted (needs kit 310 or later).")),
        click.option(
            "--router",
            metavar=_("NAME:VERSION"),
            callback=parsed_by(inputs.parse_router),
            help=_("The charger's router and its firmware version, e.g. f3426:9 or f3x26q:8."),
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def query_from(model, kit, terminal=None, from_kit=None, built=None, ocpp=None, mid=False, router=None):
    """The rules engine's Query from the parsed options; ``kit`` 'latest' becomes the newest
    kit the rules allow with the other options (the engine's newest_allowed)."""
    from stager.rules.engine import Query, newest_allowed

    latest = kit == inputs.LATEST
    query = Query(
        model=model,
        kit=0 if latest else kit,
        terminal=terminal,
        from_kit=from_kit,
        built=built,
        ocpp=ocpp,
        mid=bool(mid),
        router=router,
    )
    return newest_allowed(query).query if latest else query


def _lang(value):
    from stager.rules.names import parse_lang

    return parse_lang(value)


#: ``--catalog DIR`` (parameter ``catalog_dir``); None means $STAGER_CATALOG (see open_catalog).
catalog_option = click.option(
    "--catalog",
    "catalog_dir",
    metavar=_("DIR"),
    help=_(
        "The firmware catalog folder (default: the STAGER_CATALOG environment variable, then "
        "catalog = in the settings file)."
    ),
)
#: ``--allow-rollback`` (parameter ``allow_rollback``): accept a signed index older than one accepted before.
allow_rollback_option = click.option(
    "--allow-rollback",
    is_flag=True,
    help=_("Accept a signed index older than the newest this machine has accepted (an old catalog on purpose)."),
)
#: ``--lang L`` (parameter ``lang``), parsed to a pack such as 'FR' or 'FR-EN'.
lang_option = click.option(
    "--lang",
    "lang",
    metavar=_("L"),
    callback=parsed_by(_lang),
    help=_("Terminal language pack, e.g. FR or FR-EN-DE. Default: the only pack in the catalog."),
)
