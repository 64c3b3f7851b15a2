"""Every ``--help`` laid out for an 80-column console, in French and in English (acceptance
of issue 16, F2/F3): no line over the width (the French exit-code paragraphs ran to 161
columns: they were printed as written with the English line breaks), and no "?", ";",
":", "!" or "»" alone at the head of a line, no "«" at its end (French puts a space
before them, and the wrapper broke there)."""

from __future__ import annotations

import re

import click
import pytest

from stager.cli import COMMANDS, cli
from stager.cli.helpformat import HelpFormatter, fit_block, glue


def _help_paths() -> list[str]:
    paths = [""]
    ctx = click.Context(cli)
    for name in COMMANDS:
        paths.append(name)
        cmd = cli.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            paths += [f"{name} {sub}" for sub in cmd.list_commands(ctx)]
    return paths


ORPHAN = re.compile(r"^\s*[?;:!\u00bb]|\u00ab\s*$")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("path", _help_paths(), ids=lambda p: p or "stager")
def test_a_help_fits_80_columns_and_keeps_its_punctuation(run_stager, path, lang):
    r = run_stager(*path.split(), "--help", env={"STAGER_UI_LANG": lang, "COLUMNS": "80"})
    assert r.code == 0, r
    long = [line for line in r.out.splitlines() if len(line) > 80]
    assert not long, "\n".join(long)
    orphans = [line for line in r.out.splitlines() if ORPHAN.search(line)]
    assert not orphans, "\n".join(orphans)


def test_glue_keeps_the_french_spaces_with_their_words():
    assert glue("Pulse 22 ?) « stager » ; a : b") == "Pulse 22\x00?) «\x00stager\x00»\x00; a\x00: b"
    assert glue("Example: stager check") == "Example: stager check"  # English has no such space


def test_a_long_example_line_goes_on_under_its_comment():
    line = "  stager demo             (dans un nouveau dossier temporaire, conservé pour que vous le regardiez)"
    lines = fit_block(line, 78).split("\n")
    assert len(lines) == 2 and all(len(x) <= 78 for x in lines)
    assert lines[1].index(lines[1].lstrip()) == line.index("(") + 1  # inside the parenthesis


def test_the_formatter_gives_back_ordinary_spaces():
    f = HelpFormatter(width=30)
    f.write_text("Est-ce que le kit 318 est autorisé sur une Pulse 22 ?")
    assert "\x00" not in f.getvalue() and not any(x.strip().startswith("?") for x in f.getvalue().splitlines())


def test_wrapped_output_keeps_the_french_punctuation_with_its_word(monkeypatch):
    """F30: at a terminal, a verify line broke before "; règles" and a notice after "«"."""
    from stager.cli import output

    line = (
        "OK    WBAC_OCPP318_KIP124W_FR.tar.gz [wbac, kit 318, terminal 124, pack FR, kit OCPP + terminal"
        " ; règles : autorisé] (ajoutez trusted_keys aux réglages : voir « stager config show »)."
    )
    for cols in range(40, 101):
        monkeypatch.setattr(output, "width", lambda stream=None, cols=cols: cols)
        lines = output.wrapped([line])
        assert " ".join(x.strip() for x in lines) == line
        assert not [x for x in lines if ORPHAN.search(x)], (cols, lines)
