"""stager check: is this kit/terminal choice allowed on this charger, and why."""

from __future__ import annotations

import sys

import click

from stager.cli.options import epilog, kit_option, model_option, query_from, rule_options, terminal_option
from stager.cli.output import emit_json, json_option
from stager.errors import ExitCode
from stager.i18n import _


@click.command(
    help=_(
        "Check a kit (and terminal) against the manufacturer's rules for a model.\n\n"
        "Prints ALLOWED or REFUSED with every reason, the conditions to meet on site and "
        "the warnings. Without --terminal, the newest terminal the rules allow is chosen."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager check --model p22 --kit 318\n"
            "  stager check --model pulse50 --kit 400 --from-kit 212      (MASTER SD needed)\n"
            "  stager check --model p22 --kit 318 --router f3426:9 --json"
        ),
        _("Exit codes: 0 allowed, 2 bad input, 3 refused by the manufacturer's rules."),
    ),
)
@model_option
@kit_option
@terminal_option
@rule_options
@json_option
def check(model, kit, terminal, from_kit, built, ocpp, mid, router, as_json):
    from stager.cli.render import decision_lines, say_lines
    from stager.rules.engine import decide

    decision = decide(query_from(model, kit, terminal, from_kit, built, ocpp, mid, router))
    if as_json:
        emit_json(decision.to_json())
    else:
        say_lines(decision_lines(decision, sys.stdout), sys.stdout)  # wrapped to the terminal
    return ExitCode.OK if decision.allowed else ExitCode.REFUSED
