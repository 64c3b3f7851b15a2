"""The command line: a thin click layer over the library.

Commands live in ``stager/cli/commands/<verb>.py`` and are imported only when run (or
when ``--help`` lists them), so that ``stager check`` never pays for psutil or tqdm.
Each body parses, calls one library function, renders and returns an exit code; errors
become their message and exit code in one place, :func:`run`.
"""

from __future__ import annotations

import errno
import importlib
import sys

import click

from stager import __version__, i18n

# The language first: click's words and stager's help= texts are looked up when the
# decorators below (and the command modules') run (docs/i18n.md).
i18n.install()

from stager.cli.helpformat import HelpFormatter  # noqa: E402
from stager.errors import BadInput, ExitCode, StagerError  # noqa: E402
from stager.i18n import _  # noqa: E402

# every command's help, in any language, wraps without leaving "?" or "»" alone on a line
click.Context.formatter_class = HelpFormatter

#: errno values that mean the medium itself failed (exit 5 rather than 2).
_MEDIUM_ERRNOS = {
    errno.ENOTCONN,
    errno.ECONNABORTED,
    errno.EIO,
    errno.ENOSPC,
    errno.EROFS,
    errno.ENODEV,
    errno.ENXIO,
    errno.ESTALE,
}

#: command name -> "module:attribute"; the order is the order of ``stager --help``.
COMMANDS = {
    "check": "stager.cli.commands.check:check",
    "matrix": "stager.cli.commands.matrix:matrix",
    "catalog": "stager.cli.commands.catalog:catalog",
    "media": "stager.cli.commands.media:media",
    "prepare": "stager.cli.commands.prepare:prepare",
    "verify": "stager.cli.commands.verify:verify",
    "plan": "stager.cli.commands.plan:plan",
    "history": "stager.cli.commands.history:history",
    "demo": "stager.cli.commands.demo:demo",
    "config": "stager.cli.commands.config:config",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, _sep, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        # Keep the table in COMMANDS order rather than click's alphabetical one.
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=formatter.width - 20)))
        if rows:
            with formatter.section(_("Commands")):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    options_metavar=_("[OPTIONS]"),
    subcommand_metavar=_("COMMAND [ARGS]..."),
    help=_(
        "Prepare firmware update cards for MADIC Pulse EV chargers, by the manufacturer's rules "
        "(kit/terminal compatibility, forbidden versions, MASTER SD migration, April-2023 terminals, "
        "OCPP protocol, MID meters, routers)."
    ),
    epilog=_(
        "Example: stager check --model p22 --kit 318      (is kit 318 allowed on a Pulse 22?)\n\n"
        "Exit codes: 0 done, 2 bad input, 3 refused by the manufacturer's rules, 4 catalog "
        "problem, 5 media problem, 6 verification failed, 130 interrupted."
    ),
)
@click.version_option(__version__, "-V", "--version", prog_name="stager")
def cli():
    """stager's top-level group (its help is the help= above, in the user's language)."""


def _argv_wants_json(argv) -> bool:
    return "--json" in (argv if argv is not None else sys.argv[1:])


def run(argv=None) -> int:
    """Run one command and return its exit code. The one place where an error becomes
    its message and its exit code, for text and ``--json`` alike; commands return codes."""
    from stager.cli import output

    output.fit_streams()
    as_json = _argv_wants_json(argv)
    code = _run(argv, as_json)
    failed = _stdout_fails()  # what was left in its buffer, written now
    if failed is None:
        return code
    return ExitCode.MEDIA if isinstance(failed, BrokenPipeError) else _output_failed()


def _stdout_fails() -> OSError | None:
    """Flush standard output now, while its failure can still be said (else the
    interpreter's last flush prints "Exception ignored" and exits 120): the error when
    it fails, None when all was written. A closed pipe (EPIPE: ``| head``) is exit 5
    too but stays quiet, as for any command-line tool. Either way, nothing more is
    written there."""
    import os

    try:
        if sys.stdout is not None:
            sys.stdout.flush()
        return None
    except OSError as e:
        try:  # the interpreter's flush at exit must not fail again
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)
        except (OSError, ValueError):
            pass
        return e


def _output_failed() -> int:
    from stager.cli import output
    from stager.i18n import _

    output.say(
        output.error_line(
            _(
                "the output could not be written to standard output (the file or device it goes to is full "
                "or failing). Send it elsewhere and run the command again."
            )
        ),
        err=True,
    )
    return ExitCode.MEDIA


def _run(argv, as_json: bool) -> int:
    from stager.cli import output

    try:
        code = cli.main(args=argv, prog_name="stager", standalone_mode=False)
    except output.OutputFailed:
        _stdout_fails()  # nothing more is written there
        return _output_failed()
    except output.PipeClosed:  # quiet, but the output was not all written
        _stdout_fails()
        return ExitCode.MEDIA
    except click.UsageError as e:
        hint = " " + _("See '{command} --help'.").format(command=e.ctx.command_path) if e.ctx is not None else ""
        if isinstance(e, click.exceptions.NoArgsIsHelpError):  # `stager` alone: the usage, then one error line
            output.say(e.ctx.get_usage(), err=True)
            output.render_error(BadInput(_("no command given."), code="no-command"), as_json, hint=hint)
            return ExitCode.BAD_INPUT
        _quote_names(e)
        output.render_error(BadInput(e.format_message()), as_json, hint=hint)
        return ExitCode.BAD_INPUT
    except output.Reported as ended:  # a report printed, then its error (catalog verify, plan)
        _render_reported(ended, as_json)
        return ended.exit_code
    except StagerError as e:
        output.render_error(e, as_json)
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except (click.Abort, KeyboardInterrupt):
        output.say("\n" + _("Interrupted."), err=True)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # a closed pipe (| head): quiet, but the output was not all written
        return ExitCode.MEDIA
    except OSError as e:  # the system refused something no check above foresaw: say what, no traceback
        from stager.fileio import os_error_text

        output.render_error(StagerError(os_error_text(e), code="system-error"), as_json)
        return ExitCode.MEDIA if e.errno in _MEDIUM_ERRNOS else ExitCode.BAD_INPUT
    except Exception:  # a bug: say so, with the traceback for the report
        import traceback

        traceback.print_exc()
        output.say(
            _("stager: internal error (this is a bug in stager, please report it with the text above)."), err=True
        )
        return ExitCode.BUG
    return int(code or 0)


def _render_reported(ended, as_json: bool) -> None:
    """The report of a :class:`stager.cli.output.Reported` run, its ``Error:`` line, and what follows it."""
    from stager.cli.output import emit_json, render_error, warn
    from stager.cli.render import say_lines

    if as_json:
        doc = ended.doc or {}
        if ended.merge:
            doc = {"ok": False, "error": ended.error.to_json(), **{k: v for k, v in doc.items() if k != "ok"}}
        emit_json(doc)
    elif ended.lines:
        say_lines(ended.lines, sys.stdout)
    render_error(ended.error, as_json=False)
    for line in ended.after:
        warn(line)


def _quote_names(error: click.UsageError) -> None:
    """The option an error line names, quoted as the language quotes (click writes
    '--model' in every language; French: « --model »)."""
    if isinstance(error, click.BadParameter) and error.param_hint is None and error.param is not None:
        names = getattr(error.param, "opts", None) or [error.param.human_readable_name]
        # TRANSLATORS: an option's name quoted in an error line ('--model'; French: « --model »).
        error.param_hint = " / ".join(_("'{name}'").format(name=name) for name in names)


def main(argv=None) -> None:
    """Entry point of the ``stager`` console script."""
    code = run(argv)
    # The command is over and its output flushed; what is left is the interpreter's
    # teardown, whose last garbage collections walk every object the imports made. Frozen,
    # they are skipped: about 20 ms of a 1 KiB staging's 190 (scripts/bench_costs.py).
    # Nothing depends on them: every file stager wrote is closed, atexit still runs.
    import gc

    gc.freeze()
    sys.exit(code)
