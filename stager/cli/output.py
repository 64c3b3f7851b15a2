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
import sys

import click

from stager import i18n
from stager.errors import StagerError
from stager.i18n import _
from stager.i18n_format import after_colon


def _fit_error(exc):
    """A codec error handler: what a stream's encoding cannot carry, as near as it can
    (U+202F as U+00A0, else a space: :func:`stager.i18n_format.fit`), and anything else
    it cannot carry as ``\\uXXXX`` (as Python's own standard error does), never a traceback."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    from stager.i18n_format import fit

    out = []
    for char in exc.object[exc.start : exc.end]:
        near = fit(char, exc.encoding)
        try:
            near.encode(exc.encoding)
        except (UnicodeEncodeError, LookupError):
            near = char.encode("ascii", "backslashreplace").decode("ascii")
        out.append(near)
    return "".join(out), exc.end


def fit_streams() -> None:
    """Standard output and error never fail on a character their encoding cannot carry:
    French typography in a Windows code page (cp1252, cp850: output redirected) or Latin-1
    is written as near as it can, anything else (a file name that is not UTF-8) with
    escapes (:func:`_fit_error`). Called once by ``stager.cli.run``, the one place, so
    click's help and errors get it too."""
    import codecs

    codecs.register_error("stager-fit", _fit_error)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="stager-fit")
            except (ValueError, OSError):  # closed, or not a text wrapper that can change
                pass


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


def is_tty(stream) -> bool:
    """Whether ``stream`` is a terminal; False when it is closed (``<&-``: Python's stream
    is None) or cannot say."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def stdin_is_terminal() -> bool:
    """Whether a question can be asked: standard input is a terminal."""
    return is_tty(sys.stdin)


def color_enabled(stream=None) -> bool:
    return not os.environ.get("NO_COLOR") and is_terminal(stream or sys.stdout)


def style(text: str, stream=None, **kwargs) -> str:
    """``click.style`` when colour is on for ``stream``, else the plain text."""
    return click.style(text, **kwargs) if color_enabled(stream) else text


class OutputFailed(Exception):
    """Standard output could not be written (a full disk, /dev/full, an I/O error; not a
    closed pipe): ``stager.cli.run`` says so on standard error, exit 5."""


class PipeClosed(Exception):
    """Standard output is a pipe whose reader is gone (``| head``): ``stager.cli.run``
    ends quietly with exit 5. Not an OSError, which click would turn into exit 1."""


def _echo(text: str, err: bool = False, nl: bool = True, color=None) -> None:
    try:
        click.echo(text, err=err, nl=nl, color=color)
    except BrokenPipeError:
        if err:
            raise
        raise PipeClosed() from None
    except OSError as e:
        if err:
            raise
        raise OutputFailed(e) from None


def emit_json(doc) -> None:
    """The one JSON document of a ``--json`` run: indented for a person at a terminal,
    one line for a pipe (json's C encoder: a 5,000-file catalog list costs 8 ms, not 40).
    Every document says the language of its messages: ``"lang": "fr"`` (docs/cli.md)."""
    indent = 2 if is_terminal(sys.stdout) else None
    _echo(json.dumps({**doc, "lang": i18n.lang()}, indent=indent, ensure_ascii=False))


def say(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    _echo(text, err=err, nl=nl, color=False if os.environ.get("NO_COLOR") else None)


def warn(text: str) -> None:
    """A message on standard error, wrapped to the terminal's width (words never cut)."""
    for line in wrapped(str(text).split("\n"), sys.stderr):
        say(line, err=True)


def error_document(error: StagerError) -> dict:
    doc = {"ok": False, "error": error.to_json()}
    decision = getattr(error, "decision", None)
    if decision is not None:
        doc["decision"] = decision.to_json()
    return doc


def colon(subject, text) -> str:
    """'<subject>: <text>', with the language's own colon (French puts a space before it)."""
    # TRANSLATORS: a subject (a card, a file, a charger model) and what is said of it.
    return _("{subject}: {text}").format(subject=subject, text=text)


def error_line(message: str) -> str:
    """The one shape of an error line on standard error: ``Error: <message>``."""
    # TRANSLATORS: the head of every error line, "Error: <message>" (click's own is "Error: {message}").
    head = _("Error:")  # outside the f-string: the extractor does not read inside one
    return f"{style(head, sys.stderr, fg='red', bold=True)} {after_colon(message)}"


class Reported(Exception):
    """A command whose report is printed and whose run ends in an error (catalog verify
    with damaged files, plan with lines it could not plan). The command raises it; run(),
    the one place where an error becomes its message and its exit code, prints the
    report, then the one ``Error:`` line, then ``after`` (warnings on stderr), and returns
    ``exit_code`` (the error's own by default). ``doc``: the JSON document (with
    ``merge``, the error's envelope merged into it); ``lines``: the text report."""

    def __init__(self, error: StagerError, *, doc=None, lines=(), merge=True, after=(), exit_code=None):
        super().__init__(error.message)
        self.error, self.doc, self.lines, self.merge, self.after = error, doc, list(lines), merge, list(after)
        self.exit_code = int(error.exit_code if exit_code is None else exit_code)


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
        help=_(
            "Print one JSON document on standard output and nothing else there "
            "(messages and progress go to standard error)."
        ),
    )(fn)


def width(stream=None) -> int | None:
    """The terminal's width when ``stream`` is a terminal, else None (no wrapping)."""
    if not is_terminal(stream or sys.stdout):
        return None
    import shutil  # for a terminal only (it imports lzma and bz2): a piped or --json run never asks

    return max(40, shutil.get_terminal_size((80, 24)).columns)


def wrapped(lines, stream=None) -> list[str]:
    """Each line wrapped to the terminal's width (its indentation kept, continuation
    lines indented two more); unchanged when ``stream`` is not a terminal. Words are
    never broken, so a path or a command stays whole, and the French space before
    "?", ";", ":", "!", "»" (after "«") is never a line's end (``helpformat.glue``)."""
    cols = width(stream)
    if cols is None:
        return list(lines)
    import textwrap  # only at a terminal

    from stager.cli.helpformat import glue  # French "?", ";", "»"... stay with their word

    out = []
    for line in lines:
        for part in glue(_KEEP.sub(lambda m: m.group(0).replace(" ", "\0"), str(line))).split("\n"):
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


# a size (8.0 MiB, 8,0\u00a0Mio, 512 octets), and a checksum with its name, are never cut in two
_KEEP = re.compile(
    r"\d[\d.,\u202f\u00a0]*[ \u00a0](?:B|KiB|MiB|GiB|TiB|Kio|Mio|Gio|Tio|bytes?|octets?)\b|sha256 [0-9a-f]{8,64}"
)
