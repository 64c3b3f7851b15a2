"""Everything the CLI prints goes through here: payload on stdout, the rest on stderr.

- ``emit_json(doc)``: the one JSON document of a ``--json`` run, on stdout.
- ``say(text)``: human text for the payload of a command (stdout, or stderr when the
  command's payload is JSON).
- ``style(text, ...)``: colour only when the stream is a terminal and ``NO_COLOR`` is
  unset (https://no-color.org); on Windows, only where the console accepts
  virtual-terminal processing (``_winconsole``), else plain text.
- ``render_error``: a :class:`StagerError` as the contract shows it (the one caller
  that turns errors into exit codes is ``stager.cli.run``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys

import click

from stager.errors import StagerError


def is_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal (False for anything that cannot say)."""
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):
        return False
    if sys.platform.startswith("win"):  # ANSI only where the console interprets it
        from stager.cli._winconsole import enable_vt

        return enable_vt(stream)
    return True


def color_enabled(stream=None) -> bool:
    return not os.environ.get("NO_COLOR") and is_terminal(stream or sys.stdout)


def style(text: str, stream=None, **kwargs) -> str:
    """``click.style`` when colour is on for ``stream``, else the plain text."""
    return click.style(text, **kwargs) if color_enabled(stream) else text


def emit_json(doc) -> None:
    """The one JSON document of a ``--json`` run: indented for a person at a terminal,
    one line for a pipe (json's C encoder: a 5,000-file catalog list costs 8 ms, not 40)."""
    indent = 2 if is_terminal(sys.stdout) else None
    click.echo(json.dumps(doc, indent=indent, ensure_ascii=False))


def say(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    click.echo(text, err=err, nl=nl, color=False if os.environ.get("NO_COLOR") else None)


def warn(text: str) -> None:
    say(text, err=True)


def error_document(error: StagerError) -> dict:
    doc = {"ok": False, "error": error.to_json()}
    decision = getattr(error, "decision", None)
    if decision is not None:
        doc["decision"] = decision.to_json()
    return doc


def error_line(message: str) -> str:
    """The one shape of an error line on standard error: ``Error: <message>``."""
    return f"{style('Error:', sys.stderr, fg='red', bold=True)} {message}"


def render_error(error: StagerError, as_json: bool, hint: str = "") -> None:
    """An error as the contract wants it: the JSON envelope on stdout with ``--json``,
    and always one ``Error:`` line on stderr."""
    if as_json:
        emit_json(error_document(error))
    for line in wrapped([error_line(error.message) + hint], sys.stderr):
        say(line, err=True)


def json_option(fn):
    """The shared ``--json`` flag (parameter name ``as_json``)."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print one JSON document on standard output and nothing else there "
        "(messages and progress go to standard error).",
    )(fn)


def width(stream=None) -> int | None:
    """The terminal's width when ``stream`` is a terminal, else None (no wrapping)."""
    if not is_terminal(stream or sys.stdout):
        return None
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def wrapped(lines, stream=None) -> list[str]:
    """Each line wrapped to the terminal's width (its indentation kept, continuation
    lines indented two more); unchanged when ``stream`` is not a terminal. Words are
    never broken, so a path or a command stays whole."""
    cols = width(stream)
    if cols is None:
        return list(lines)
    import textwrap  # only at a terminal

    out = []
    for line in lines:
        for part in _KEEP.sub(lambda m: m.group(0).replace(" ", "\0"), str(line)).split("\n"):
            indent = part[: len(part) - len(part.lstrip(" "))]
            out.extend(
                textwrap.wrap(
                    part,
                    cols - 1,
                    initial_indent="",
                    subsequent_indent=indent + "  ",
                    break_long_words=False,
                    break_on_hyphens=False,
                    drop_whitespace=True,
                )
                or [""]
            )
    return [line.replace("\0", " ") for line in out]


_KEEP = re.compile(r"\d[\d.,]* (?:B|KiB|MiB|GiB|TiB|bytes?)\b")  # a size is never cut in two
