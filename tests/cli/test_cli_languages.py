"""The whole command line in French and in English, through the installed ``stager``
(issue 16): with ``LANG=fr_FR.UTF-8`` (and, separately, ``STAGER_UI_LANG=fr``) the demo,
every command's ``--help``, check/prepare/verify/plan in their main success and refusal
cases and every bad-input case of tests/bad_inputs/ print no English sentence; with
``LANG=C`` the same runs print no French. Exit codes do not change with the language, and
every ``--json`` document says which language its messages are in.

The check is a list of words one language uses and the other never does. What is not
interface is left out of it first: the paths of the test's folders, the reason codes in
brackets, the example command lines of ``--help``, the note's own sentences quoted in
reasons (they stay as the note says them, in French, in both languages) and the JSON
documents' keys (only their messages are read).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.bad_inputs import all_cases, load_case, run_case
from helpers.lib_french import ENGLISH as FRENCH_TESTS_ENGLISH

from stager.catalog.demo import build_demo_catalog
from stager.cli import COMMANDS
from stager.plan.site import COLUMNS

ROOT = Path(__file__).resolve().parents[2]

#: The language variables a test sets; every other one is cleared (empty means unset).
CLEARED = {"STAGER_UI_LANG": "", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}
LANGS = {
    "LANG_fr_FR": ({"LANG": "fr_FR.UTF-8"}, "fr"),
    "STAGER_UI_LANG_fr": ({"STAGER_UI_LANG": "fr", "LANG": "C"}, "fr"),
    "LANG_C": ({"LANG": "C"}, "en"),
}

#: English French text never holds (case matters: "Error" is not "erreur"): stager's words
#: (the one list, helpers.lib_french.ENGLISH, as whole words) and click's marks. Not the
#: words French also writes on a command line: the commands (stager check), the site
#: file's columns (router, to) and --to.
_SAID_AS_TYPED = set(COMMANDS) | set(COLUMNS)
ENGLISH = (
    *(f" {w} " for w in sorted(FRENCH_TESTS_ENGLISH - _SAID_AS_TYPED)),
    "card",
    "file",
    "Error",
    "Usage",
    "Warning",
    "Options:",
    "Commands",
    "Example",
    "Exit codes",
    "must",
    "cannot",
    "Show this",
    "newest",
    "ALLOWED",
    "REFUSED",
)
#: French words and letters English text never holds.
FRENCH = (
    " le ",
    " la ",
    " les ",
    " est ",
    " une ",
    " des ",
    " du ",
    " pas ",
    " à ",
    "carte",
    "fichier",
    "Erreur",
    "Utilisation",
    "é",
    "è",
    "ê",
)


def _not_interface(text: str, tmp: Path) -> str:
    """The text without what is not interface (see the module's documentation)."""
    text = text.replace(str(tmp), "<tmp>")
    text = re.sub(r"<tmp>\S*", "<path>", text)
    text = re.sub(r"/tmp/\S*", "<path>", text)  # a demo's own temporary folder
    text = re.sub(r"[\w.-]*/[\w./-]*", "<path>", text)  # a relative path the case gave (plainfile/sub)
    text = re.sub(r"\[[a-z0-9-]+\]", "[code]", text)
    text = re.sub(r'"[^"\n]*"', '"..."', text)  # the note's sentences, quoted
    lines = [
        line
        for line in text.splitlines()
        if not re.match(r"\s*(stager|minisign|STAGER_\w+=\S+ stager)\s", line)  # an example command
    ]
    return "\n".join(lines)


def _messages(doc) -> list[str]:
    """The messages of a JSON document (every "message", "why", "brief", "title", "description",
    "after", "site_visit" string and every "steps" item in it)."""
    found = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in ("message", "why", "brief", "title", "description", "after", "site_visit") and isinstance(
                value, str
            ):
                found.append(value)
            elif key == "steps" and isinstance(value, list):
                found += [step for step in value if isinstance(step, str)]
            else:
                found += _messages(value)
    elif isinstance(doc, list):
        for value in doc:
            found += _messages(value)
    return found


def words_of_the_other_language(result, language: str, tmp: Path, as_json: bool) -> list[str]:
    """The lines of ``result`` that hold a word of the language it must not speak."""
    shown = result.err
    if as_json and result.out.strip():
        doc = json.loads(result.out)
        assert doc.get("lang") == language, f"the JSON document says lang={doc.get('lang')!r}"
        shown += "\n" + "\n".join(_messages(doc))
    else:
        shown = result.out + "\n" + shown
    words = ENGLISH if language == "fr" else FRENCH
    return [line for line in _not_interface(shown, tmp).splitlines() if any(w in f" {line} " for w in words)]


# --------------------------------------------------------------------------- the cases
def _catalog_and_card(tmp: Path, run_stager=None) -> tuple[Path, Path]:
    catalog, card = tmp / "cat", tmp / "sd"
    if not catalog.exists():
        build_demo_catalog(catalog)
        card.mkdir()
    return catalog, card


def _empty_catalog(tmp: Path, run_stager) -> tuple[Path, Path]:
    """A catalog folder with an empty index: every file a plan needs is missing from it."""
    catalog = tmp / "empty"
    catalog.mkdir()
    (catalog / "SHA256SUMS").write_text("")
    return catalog, tmp / "sd"


def _staged(tmp: Path, run_stager) -> tuple[Path, Path]:
    """A card folder staged for a Pulse WB-AC, kit 318 (in English: the setup, not the case)."""
    catalog, card = _catalog_and_card(tmp)
    args = ("prepare", "-m", "wbac", "-k", "318", "--catalog", catalog, "--target", card, "--allow-fixed", "--yes")
    r = run_stager(*args, env={**CLEARED, "STAGER_UI_LANG": "en"})
    assert r.code == 0, r
    return catalog, card


def _damaged(tmp: Path, run_stager) -> tuple[Path, Path]:
    catalog, card = _staged(tmp, run_stager)
    (firmware,) = card.glob("*.tar.gz")
    firmware.write_bytes(b"not the file the sidecar names")
    return catalog, card


def _prepare(model, kit, *more):
    return lambda c, d: ("prepare", "-m", model, "-k", kit, "--catalog", c, "--target", d, "--allow-fixed", *more)


#: id -> (setup, command from (catalog, card), exit code)
RUNS = {
    "demo": (None, lambda c, d: ("demo", d.parent / "demo"), 0),
    "check-allowed": (None, lambda c, d: ("check", "-m", "p22", "-k", "318"), 0),
    "check-allowed-json": (None, lambda c, d: ("check", "-m", "p22", "-k", "318", "--json"), 0),
    "check-refused": (None, lambda c, d: ("check", "-m", "wbac", "-k", "314"), 3),
    "check-refused-master-sd": (None, lambda c, d: ("check", "-m", "p50", "-k", "400", "--from-kit", "212"), 3),
    "check-bad-kit": (None, lambda c, d: ("check", "-m", "p22", "-k", "abc"), 2),
    "check-bad-option": (None, lambda c, d: ("check", "-m", "p22", "--nope"), 2),
    "check-missing-option": (None, lambda c, d: ("check", "-m", "p22"), 2),
    "prepare-dry-run": (_catalog_and_card, _prepare("wbac", "318", "--dry-run"), 0),
    "prepare-dry-run-json": (_catalog_and_card, _prepare("wbac", "318", "--dry-run", "--json"), 0),
    "prepare-refused": (_catalog_and_card, _prepare("wbac", "314", "--dry-run"), 3),
    "prepare-which-pack": (_catalog_and_card, _prepare("p22", "318", "--dry-run"), 4),
    "prepare-replay-alone": (_catalog_and_card, _prepare("wbac", "318", "--replay", "machine.json"), 2),
    "verify-right": (_staged, lambda c, d: ("verify", "--target", d), 0),
    "verify-right-catalog": (_staged, lambda c, d: ("verify", "--target", d, "--catalog", c), 0),
    "verify-for-the-charger": (_staged, lambda c, d: ("verify", "--target", d, "-m", "wbac", "-k", "318"), 0),
    "verify-not-the-charger": (_staged, lambda c, d: ("verify", "--target", d, "-m", "p22", "-k", "318"), 3),
    "verify-damaged": (_damaged, lambda c, d: ("verify", "--target", d), 6),
    "verify-damaged-json": (_damaged, lambda c, d: ("verify", "--target", d, "--json"), 6),
    "verify-model-alone": (None, lambda c, d: ("verify", "--target", d, "-m", "p22"), 2),
    "plan-one": (None, lambda c, d: ("plan", "-m", "p50", "-k", "212", "-t", "220", "--router", "f3426:7"), 0),
    "plan-one-json": (None, lambda c, d: ("plan", "-m", "p50", "-k", "212", "-t", "220", "--json"), 0),
    "plan-site": (None, lambda c, d: ("plan", "--site", ROOT / "docs" / "site-example.csv"), 0),
    "plan-refused": (
        None,
        lambda c, d: ("plan", "-m", "p22", "-k", "212", "-t", "241", "--mid", "--to", "212"),
        3,
    ),
    "plan-ruled-out": (
        None,
        lambda c, d: ("plan", "-m", "p50", "-k", "212", "-t", "220", "--built", "2023-05"),
        3,
    ),
    "plan-no-charger": (None, lambda c, d: ("plan",), 2),
    "matrix": (None, lambda c, d: ("matrix",), 0),
    "matrix-wbac": (None, lambda c, d: ("matrix", "-m", "wbac"), 0),
    "matrix-json": (None, lambda c, d: ("matrix", "--json"), 0),
    "plan-catalog-missing": (
        _empty_catalog,
        lambda c, d: ("plan", "-m", "p22", "-k", "316", "--to", "318", "--catalog", c),
        4,
    ),
}


def _help_paths() -> list[tuple[str, ...]]:
    import click

    from stager.cli import cli

    paths: list[tuple[str, ...]] = [()]
    ctx = click.Context(cli)
    for name in COMMANDS:
        paths.append((name,))
        cmd = cli.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            paths += [(name, sub) for sub in cmd.list_commands(ctx)]
    return paths


def _params(ids):
    return [
        pytest.param(case_id, env, language, id=f"{case_id}-{lang}")
        for case_id in ids
        for lang, (env, language) in LANGS.items()
    ]


def _assert_one_language(r, language, tmp, as_json):
    assert "Traceback" not in r.err and "internal error" not in r.err, r
    wrong = words_of_the_other_language(r, language, tmp, as_json)
    assert not wrong, "words of the other language:\n" + "\n".join(wrong) + f"\n{r}"


@pytest.mark.parametrize(("case_id", "env", "language"), _params(RUNS))
def test_a_run_speaks_one_language(case_id, env, language, run_stager, tmp_path):
    setup, command, code = RUNS[case_id]
    catalog, card = setup(tmp_path, run_stager) if setup else (tmp_path / "cat", tmp_path / "sd")
    args = command(catalog, card)
    r = run_stager(*args, env={**CLEARED, **env}, cwd=tmp_path)
    assert r.code == code, r
    _assert_one_language(r, language, tmp_path, "--json" in args)


@pytest.mark.parametrize(("case_id", "env", "language"), _params(" ".join(p) or "stager" for p in _help_paths()))
def test_every_help_speaks_one_language(case_id, env, language, run_stager, tmp_path):
    path = [] if case_id == "stager" else case_id.split()
    r = run_stager(*path, "--help", env={**CLEARED, **env})
    assert r.code == 0, r
    heading = "Utilisation :" if language == "fr" else "Usage:"
    assert r.out.startswith(heading), r
    _assert_one_language(r, language, tmp_path, False)


@pytest.mark.parametrize(("case_id", "env", "language"), _params(p.stem for p in all_cases()))
def test_a_bad_input_speaks_one_language(case_id, env, language, run_stager, tmp_path):
    case = load_case(Path(__file__).resolve().parents[1] / "bad_inputs" / f"{case_id}.toml")
    r = run_case(case, case_id, run_stager, tmp_path, env={**CLEARED, **env})
    assert r.code == case["exit"], r
    args = case["command"]
    _assert_one_language(r, language, tmp_path, "--json" in args)


# --------------------------------------------------------------------------- the source
def _calls_inside_f_strings(tree) -> list[int]:
    import ast

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Name)
                    and sub.func.id in ("_", "ngettext")
                    and any(isinstance(arg, ast.Constant) for arg in sub.args)
                ):
                    found.append(sub.lineno)  # a literal message: `_(step)` of a data text is translated, not extracted
    return found


def test_no_message_is_marked_inside_an_f_string():
    """The extractor does not read inside an f-string: a `_("...")` there is never in the
    catalog, and its text stays English (found: `{style(_('Error:'), ...)}`)."""
    import ast

    bad = []
    for path in sorted((ROOT / "stager").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad += [f"{path.relative_to(ROOT)}:{line}" for line in _calls_inside_f_strings(tree)]
    assert not bad, "a message marked inside an f-string is never extracted: " + ", ".join(bad)


def test_the_check_finds_a_mark_inside_an_f_string():
    import ast

    assert _calls_inside_f_strings(ast.parse("x = f\"{style(_('Error:'))} {m}\"")) == [1]
    assert _calls_inside_f_strings(ast.parse("x = style(_('Error:')) + f' {m}'")) == []
    assert _calls_inside_f_strings(ast.parse("x = f'  {i}. {_(step)}'")) == []  # a data text, extracted from its file


def test_the_word_check_finds_either_language(tmp_path):
    from types import SimpleNamespace

    french = SimpleNamespace(out="La carte est bonne : un seul jeu de mise à jour.\n", err="")
    english = SimpleNamespace(out="", err="Error: the card is not right.\n")
    assert words_of_the_other_language(french, "en", tmp_path, False) == [french.out.strip()]
    assert words_of_the_other_language(english, "fr", tmp_path, False) == [english.err.strip()]
    # what is not interface is not read: paths, codes, the note's quoted sentences, example commands
    quoted = SimpleNamespace(out=f'[card-x] {tmp_path}/card/file "La version ne doit pas être utilisée"\n', err="")
    assert words_of_the_other_language(quoted, "fr", tmp_path, False) == []
    assert words_of_the_other_language(quoted, "en", tmp_path, False) == []
    example = SimpleNamespace(out="    stager verify --target /media/tech/card --json\n", err="")
    assert words_of_the_other_language(example, "fr", tmp_path, False) == []
