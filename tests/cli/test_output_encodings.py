"""Output in an encoding that cannot carry French typography (acceptance of issue 16, F24):
a Windows code page (cp1252, when the output is redirected) or Latin-1 has no U+202F, so
the digit groups were written as a literal ``\\u202f``. The output layer now writes what
the stream can carry (:func:`stager.i18n_format.fit`), on standard output and error alike."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from stager.catalog.demo import build_demo_catalog
from stager.cli.output import _fit_error


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_sizes_in_a_code_page_keep_their_digits_together(stager_exe, tmp_path, encoding):
    catalog, card = build_demo_catalog(tmp_path / "cat"), tmp_path / "sd"
    card.mkdir()
    env = {**os.environ, "STAGER_UI_LANG": "fr", "PYTHONIOENCODING": encoding, "NO_COLOR": "1"}
    env["STAGER_HOME"] = str(tmp_path / "home")
    args = ["prepare", "-m", "wbac", "-k", "318", "--catalog", catalog, "--target", card, "--allow-fixed", "--dry-run"]
    proc = subprocess.run([stager_exe, *map(str, args)], capture_output=True, env=env, timeout=60)
    assert proc.returncode == 0, proc
    for raw in (proc.stdout, proc.stderr):
        text = raw.decode(encoding)
        assert "\\u202f" not in text and "\\xa0" not in text, text
    shown = proc.stdout.decode(encoding) + proc.stderr.decode(encoding)
    assert "\u00a0octets" in shown and re.search(r"\d\u00a0\d{3}\u00a0octets", shown), shown


def _encoded(text: str, encoding: str) -> bytes:
    import codecs

    codecs.register_error("test-fit", _fit_error)
    return text.encode(encoding, errors="test-fit")


def test_the_handler_narrows_then_escapes():
    assert _encoded("8\u202f391\u00a0octets", "cp1252") == b"8\xa0391\xa0octets"
    assert _encoded("8\u202f391\u00a0octets", "ascii") == b"8 391 octets"
    assert _encoded("\u2192 \udcff", "cp1252") == b"\\u2192 \\udcff"  # no near form: escaped, never a traceback
