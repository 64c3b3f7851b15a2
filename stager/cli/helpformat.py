"""click's help formatter, for the French forms as well as the English ones.

- A space French puts before ``?``, ``;``, ``:``, ``!`` and ``»``, and the one after
  ``«``, never starts or ends a line: the wrapper sees them as part of the word (a NUL
  in the wrapped text, a space again in the output), so a ``?`` is never left alone at
  the head of a line and the text stays in ordinary spaces.
- A block click prints as written (``\\b``: the examples of an epilog) still fits the
  width: a line too long for it goes on over the next lines, under its comment (inside the
  ``(`` that follows two spaces) or four columns further in, never cutting a word.

``stager.cli`` makes it click's formatter (``click.Context.formatter_class``)."""

from __future__ import annotations

import re

import click
from click.formatting import term_len

GLUE = "\x00"
_SPACES = re.compile(r" (?=[?;:!\u00bb])|(?<=\u00ab) ")


def glue(text: str) -> str:
    """``text`` with the spaces that must not be a line's end or start made part of the words."""
    return _SPACES.sub(GLUE, text)


def fit_block(block: str, width: int) -> str:
    """The lines of a ``\\b`` block, each wrapped to ``width`` when longer."""
    import textwrap  # only for --help: every command's start-up would pay 1 ms

    out = []
    for line in block.split("\n"):
        if term_len(line) <= width:
            out.append(line)
            continue
        lead = len(line) - len(line.lstrip(" "))
        comment = line.find("  (", lead)
        under = comment + 3 if 0 < comment < width - 20 else lead + 4
        out += textwrap.wrap(
            line, width, subsequent_indent=" " * under, break_long_words=False, break_on_hyphens=False
        ) or [line]
    return "\n".join(out)


class HelpFormatter(click.HelpFormatter):
    """click's formatter, with :func:`glue` and :func:`fit_block` (the module's documentation)."""

    def write_text(self, text: str) -> None:
        room = max(20, self.width - self.current_indent)
        paragraphs = glue(text).split("\n\n")
        fitted = [fit_block(p, room) if p.startswith("\b\n") else p for p in paragraphs]
        super().write_text("\n\n".join(fitted))

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(glue(a), glue(b)) for a, b in rows], col_max, col_spacing)

    def getvalue(self) -> str:
        return super().getvalue().replace(GLUE, " ")
