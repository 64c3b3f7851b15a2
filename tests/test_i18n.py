"""The interface language (stager.i18n), the formats (stager.i18n_format) and the
catalogs (scripts/i18n.py): chosen as the system chooses, written as CLDR writes, and
every message extracted from the source translated, reviewed and compiled."""

from __future__ import annotations

import datetime as dt
import gettext
import importlib.util
import os
import random
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel import units as babel_units
from babel.messages.pofile import read_po
from click.testing import CliRunner

from stager import i18n
from stager.i18n_format import (
    NBSP,
    NNBSP,
    fit,
    format_date,
    format_datetime,
    format_int,
    format_month,
    format_size,
    short_size,
)

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "stager" / "locale"


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def english_after():
    """Each test that installs a language leaves the process in English, as it found it."""
    yield
    i18n.install("en")


# --- choosing the language -------------------------------------------------------------

POSIX_CASES = [
    ({}, "en"),  # nothing set: the C locale
    ({"LANG": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "fr_CA.UTF-8"}, "fr"),
    ({"LANG": "fr_BE@euro"}, "fr"),
    ({"LANG": "fr"}, "fr"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "en_GB.UTF-8"}, "en"),
    ({"LANG": "de_DE.UTF-8"}, "en"),  # a language stager does not speak
    ({"LANG": "C"}, "en"),
    ({"LANG": "POSIX"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "fr"),  # LC_MESSAGES before LANG
    ({"LANG": "fr_FR.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"),
    ({"LC_MESSAGES": "fr_FR.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),  # LC_ALL before LC_MESSAGES
    ({"LANG": "en_US.UTF-8", "LC_ALL": "fr_FR.UTF-8"}, "fr"),
    ({"LANG": "fr_FR.UTF-8", "LC_ALL": ""}, "fr"),  # empty is unset
    ({"LANG": "fr_FR.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "fr"}, "fr"),  # LANGUAGE before the locale...
    ({"LANG": "fr_FR.UTF-8", "LANGUAGE": "en"}, "en"),
    ({"LANGUAGE": "fr"}, "en"),  # ... but ignored when the locale is C (nothing set)
    ({"LANG": "C", "LANGUAGE": "fr"}, "en"),
    ({"LANG": "POSIX", "LANGUAGE": "fr"}, "en"),
    ({"LC_ALL": "C.UTF-8", "LANGUAGE": "fr"}, "en"),
    ({"LANG": "fr_FR.UTF-8", "LC_ALL": "C", "LANGUAGE": "fr"}, "en"),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "de:fr:en"}, "fr"),  # the first language stager speaks
    ({"LANG": "fr_FR.UTF-8", "LANGUAGE": "de:en:fr"}, "en"),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "::fr_CA"}, "fr"),
    ({"LANG": "fr_FR.UTF-8", "LANGUAGE": "de"}, "en"),  # as gettext: LANGUAGE's list only
    ({"LANG": "fr_FR.UTF-8", "LANGUAGE": ""}, "fr"),
    ({"LANG": "en_US.UTF-8", "STAGER_UI_LANG": "fr"}, "fr"),  # the override
    ({"LANG": "fr_FR.UTF-8", "STAGER_UI_LANG": "en"}, "en"),
    ({"LANG": "C", "STAGER_UI_LANG": "fr"}, "fr"),
    ({"LC_ALL": "en_US.UTF-8", "LANGUAGE": "en", "STAGER_UI_LANG": "FR"}, "fr"),
    ({"LANG": "fr_FR.UTF-8", "STAGER_UI_LANG": " fr "}, "fr"),
    ({"LANG": "fr_FR.UTF-8", "STAGER_UI_LANG": "de"}, "en"),  # an unknown override: English
    ({"LANG": "fr_FR.UTF-8", "STAGER_UI_LANG": ""}, "fr"),  # empty is unset
]


@pytest.mark.parametrize(("environ", "expected"), POSIX_CASES, ids=lambda v: repr(v) if isinstance(v, dict) else v)
@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_the_language_on_linux_and_macos(environ, expected, platform):
    def no_windows():
        raise AssertionError("GetUserDefaultUILanguage is not asked outside Windows")

    assert i18n.choose(environ, platform=platform, ui_language=no_windows) == expected


WINDOWS_CASES = [
    (0x040C, "fr"),  # fr-FR
    (0x080C, "fr"),  # fr-BE
    (0x0C0C, "fr"),  # fr-CA
    (0x100C, "fr"),  # fr-CH
    (0x0409, "en"),  # en-US
    (0x0809, "en"),  # en-GB
    (0x0407, "en"),  # de-DE: a language stager does not speak
    (0x0413, "en"),  # nl-NL
    (0x1400, "en"),  # LOCALE_CUSTOM_UI_DEFAULT (a Language Interface Pack)
    (0x0000, "en"),
]


@pytest.mark.parametrize(("langid", "expected"), WINDOWS_CASES, ids=lambda v: hex(v) if isinstance(v, int) else v)
def test_the_language_on_windows_is_the_display_language(langid, expected):
    # The environment is not read on Windows (Git Bash sets LANG of its own).
    env = {"LANG": "de_DE.UTF-8", "LANGUAGE": "de", "LC_ALL": "de_DE"}
    assert i18n.choose(env, platform="win32", ui_language=lambda: langid) == expected
    assert i18n.choose({"LANG": "fr_FR.UTF-8"}, platform="win32", ui_language=lambda: langid) == expected


def test_the_override_wins_on_windows_without_asking():
    def asked():
        raise AssertionError("STAGER_UI_LANG decides alone")

    assert i18n.choose({"STAGER_UI_LANG": "fr"}, platform="win32", ui_language=asked) == "fr"
    assert i18n.choose({"STAGER_UI_LANG": "en"}, platform="win32", ui_language=asked) == "en"


@pytest.mark.parametrize("error", [OSError("no kernel32"), AttributeError("windll")])
def test_a_failing_windows_call_is_english(error):
    def failing():
        raise error

    assert i18n.choose({}, platform="win32", ui_language=failing) == "en"


@pytest.mark.skipif(sys.platform == "win32", reason="the real call exists on Windows")
def test_the_real_windows_call_outside_windows_is_english():
    with pytest.raises(OSError):
        i18n._user_default_ui_language()
    assert i18n.choose({}, platform="win32") == "en"


def test_choose_reads_the_process_environment(monkeypatch):
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "STAGER_UI_LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert i18n.choose() == "fr"
    monkeypatch.setenv("STAGER_UI_LANG", "en")
    assert i18n.choose() == "en"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("fr_FR.UTF-8", "fr"),
        ("fr-CA", "fr"),
        ("FR", "fr"),
        ("fr@euro", "fr"),
        ("en", "en"),
        ("de_DE", None),
        ("", None),
    ],
)
def test_language_of_a_tag(tag, expected):
    assert i18n.language_of(tag) == expected


# --- the words -------------------------------------------------------------------------


def test_install_takes_the_chosen_language(monkeypatch, english_after):
    monkeypatch.setenv("STAGER_UI_LANG", "fr")
    assert i18n.install() == "fr"
    assert i18n.lang() == "fr"
    assert i18n._("Usage:") == "Utilisation :"
    monkeypatch.setenv("STAGER_UI_LANG", "en")
    assert i18n.install() == "en"
    assert i18n.lang() == "en"
    assert i18n._("Usage:") == "Usage:"


def test_an_unknown_language_is_english(english_after):
    assert i18n.install("de") == "en"
    assert i18n.lang() == "en"
    assert i18n._("Show this message and exit.") == "Show this message and exit."


def test_a_language_without_a_catalog_gives_the_messages_as_written():
    words = i18n.catalog("xx")
    assert words.gettext("Usage:") == "Usage:"
    assert words.ngettext("{n} byte", "{n} bytes", 2) == "{n} bytes"


def test_the_french_plural_rule(english_after):
    i18n.install("fr")
    forms = {n: i18n.ngettext("{n} byte", "{n} bytes", n) for n in (0, 1, 2, 1000)}
    assert forms == {0: "{n}\xa0octet", 1: "{n}\xa0octet", 2: "{n}\xa0octets", 1000: "{n}\xa0octets"}
    i18n.install("en")
    assert [i18n.ngettext("{n} byte", "{n} bytes", n) for n in (0, 1, 2)] == ["{n} bytes", "{n} byte", "{n} bytes"]


def test_n_marks_without_translating(english_after):
    i18n.install("fr")
    assert i18n.N_("Usage:") == "Usage:"
    assert i18n._(i18n.N_("Usage:")) == "Utilisation :"


def test_the_catalog_is_the_packaged_one():
    words = i18n.catalog("fr")
    assert isinstance(words, gettext.GNUTranslations)
    assert words.info()["language"] == "fr"


# --- click's own words -----------------------------------------------------------------


def _small_cli():
    """A group and a command defined after install(), as stager.cli will be."""

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option("1.2.3", prog_name="stager")
    def cli():
        """The test group."""

    @cli.command()
    @click.option("--model", required=True, help="The charger model.")
    @click.option("--count", type=int, default=1, show_default=True)
    def check(model, count):
        """The test command."""
        click.echo(f"{model} {count}")

    return cli


def test_click_speaks_french_after_install(english_after):
    i18n.install("fr")
    cli, runner = _small_cli(), CliRunner()
    top = runner.invoke(cli, ["--help"], prog_name="stager")
    assert top.exit_code == 0
    assert "Utilisation : stager [OPTIONS] COMMAND [ARGS]..." in top.output
    assert "Options :" in top.output
    assert "Commandes :" in top.output
    assert "Afficher la version et quitter." in top.output
    assert "Afficher ce message et quitter." in top.output
    sub = runner.invoke(cli, ["check", "--help"], prog_name="stager")
    assert "[par défaut : 1]" in sub.output
    assert "[obligatoire]" in sub.output
    for english in ("Usage:", "Options:", "Commands:", "Show this message", "Show the version", "required"):
        assert english not in top.output + sub.output


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (
            ["check", "--nope"],
            ["Erreur : l'option « --nope » n'existe pas.", "Essayez « stager check --help » pour obtenir de l'aide."],
        ),
        (["check"], ["Erreur : option manquante '--model'."]),  # click alone: its own quotes
        (["check", "--model", "p22", "--count", "x"], ["Erreur : valeur incorrecte pour '--count' : 'x' n'est pas"]),
        (["nope"], ["Erreur : la commande « nope » n'existe pas."]),
        (["check", "--model"], ["Erreur : l'option « --model » demande un argument."]),
    ],
)
def test_click_errors_in_french(english_after, args, lines):
    i18n.install("fr")
    result = CliRunner().invoke(_small_cli(), args, prog_name="stager")
    assert result.exit_code == 2
    for line in lines:
        assert line in result.output, result.output
    assert "Error" not in result.output and "Try " not in result.output


def test_click_back_in_english_after_installing_english(english_after):
    i18n.install("fr")
    i18n.install("en")
    result = CliRunner().invoke(_small_cli(), ["check", "--nope"], prog_name="stager")
    assert "Error: No such option '--nope'." in result.output
    assert "Try 'stager check --help' for help." in result.output


def test_click_modules_imported_late_are_in_french_too(english_after):
    i18n.install("fr")
    completion = sys.modules["click.shell_completion"]
    assert completion._("Repeat for confirmation") == "Répétez pour confirmer"
    assert sys.modules["click._termui_impl"]._("d") == "j"


def test_english_gives_click_its_words_without_importing_its_late_modules():
    """English is click's own language: the late modules keep gettext's lookups, so start-up
    need not import them (they cost every run about 5 ms)."""
    code = "import sys, stager.i18n; stager.i18n.install('en'); print(sorted(set(%r) & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code % (i18n._CLICK_LATE,)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr
    french = code.replace("'en'", "'fr'")
    out = subprocess.run(
        [sys.executable, "-c", french % (i18n._CLICK_LATE,)], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == repr(sorted(i18n._CLICK_LATE)), out.stderr


PROBE = textwrap.dedent(
    """
    import stager.i18n
    stager.i18n.install()
    import click

    @click.command()
    @click.option("--model", required=True)
    def check(model):
        pass

    print(stager.i18n.lang())
    check(["--help"], prog_name="stager", standalone_mode=False)
    check(["--nope"], prog_name="stager")
    """
)


def _probe(env_update):
    env = {
        k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "STAGER_UI_LANG")
    }
    env.update(env_update)
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX variables are not read on Windows")
@pytest.mark.parametrize(
    "env", [{"STAGER_UI_LANG": "fr"}, {"LANG": "fr_FR.UTF-8"}, {"LANG": "en_US.UTF-8", "LANGUAGE": "fr"}]
)
def test_a_fresh_process_in_french(env):
    proc = _probe(env)
    assert proc.returncode == 2
    assert proc.stdout.startswith("fr\nUtilisation : stager [OPTIONS]\n")
    assert "Options :" in proc.stdout and "[obligatoire]" in proc.stdout
    assert "Erreur : l'option « --nope » n'existe pas." in proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX variables are not read on Windows")
@pytest.mark.parametrize(
    "env", [{"LANG": "C"}, {"LANG": "C", "LANGUAGE": "fr"}, {"LANG": "fr_FR.UTF-8", "STAGER_UI_LANG": "en"}]
)
def test_a_fresh_process_in_english(env):
    proc = _probe(env)
    assert proc.returncode == 2
    assert proc.stdout.startswith("en\nUsage: stager [OPTIONS]\n")
    assert "Error: No such option '--nope'." in proc.stderr


# --- formats ---------------------------------------------------------------------------


def test_the_issue_s_examples():
    assert format_size(8391753, "fr") == f"8,0{NBSP}Mio (8{NNBSP}391{NNBSP}753{NBSP}octets)"
    assert format_size(8391753, "en") == "8.0 MiB (8,391,753 bytes)"
    moment = dt.datetime(2026, 12, 1, 18, 15, tzinfo=dt.UTC)
    paris = ZoneInfo("Europe/Paris")
    assert format_datetime(moment, "fr", tz=paris) == "1er décembre 2026 19:15"
    assert format_datetime(moment, "en", tz=paris) == "1 December 2026 19:15"


@pytest.mark.parametrize(
    ("n", "fr", "en"),
    [
        (0, f"0{NBSP}octet", "0 bytes"),
        (1, f"1{NBSP}octet", "1 byte"),
        (2, f"2{NBSP}octets", "2 bytes"),
        (1023, f"1{NNBSP}023{NBSP}octets", "1,023 bytes"),
        (1024, f"1,0{NBSP}Kio (1{NNBSP}024{NBSP}octets)", "1.0 KiB (1,024 bytes)"),
        (1536, f"1,5{NBSP}Kio (1{NNBSP}536{NBSP}octets)", "1.5 KiB (1,536 bytes)"),
        (1048575, f"1,0{NBSP}Mio (1{NNBSP}048{NNBSP}575{NBSP}octets)", "1.0 MiB (1,048,575 bytes)"),
        (5 * 1024**3, f"5,0{NBSP}Gio (5{NNBSP}368{NNBSP}709{NNBSP}120{NBSP}octets)", "5.0 GiB (5,368,709,120 bytes)"),
        (3 * 1024**5, f"3{NNBSP}072,0{NBSP}Tio (3{NNBSP}377{NNBSP}699{NNBSP}720{NNBSP}527{NNBSP}872{NBSP}octets)",
         "3,072.0 TiB (3,377,699,720,527,872 bytes)"),
    ],
)  # fmt: skip
def test_sizes(n, fr, en):
    assert format_size(n, "fr") == fr
    assert format_size(n, "en") == en


def test_formats_follow_the_installed_language(english_after):
    assert format_int(1234567) == "1,234,567"
    i18n.install("fr")
    assert format_int(1234567) == f"1{NNBSP}234{NNBSP}567"
    assert format_size(2048) == f"2,0{NBSP}Kio (2{NNBSP}048{NBSP}octets)"
    assert format_size(2048, "en") == "2.0 KiB (2,048 bytes)"
    assert format_date(dt.date(2026, 12, 1)) == "1er décembre 2026"
    assert format_int(5, "de") == "5"  # a language stager does not speak: English


def _integers():
    rng = random.Random(16)
    values = [0, 1, 9, 10, 999, 1000, 9999, 10000, 999999, 1000000, 2**31, 2**63]
    values += [rng.randrange(10 ** rng.randint(1, 18)) for _ in range(400)]
    return values + [-v for v in values[:100]]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_integers_are_cldr_s(language):
    for n in _integers():
        assert format_int(n, language) == babel_numbers.format_decimal(n, locale=language), n


IEC = {"fr": ("Kio", "Mio", "Gio", "Tio"), "en": ("KiB", "MiB", "GiB", "TiB")}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_sizes_are_cldr_s_numbers_and_units(language):
    space = NBSP if language == "fr" else " "
    rng = random.Random(8391753)
    for n in range(1024):
        assert format_size(n, language) == babel_units.format_unit(n, "digital-byte", locale=language), n
    ties = [n for n in range(1024, 1024 * 64) if (n * 10) % 1024 == 512]  # x.x5 exactly: half to even
    assert len(ties) > 100
    for n in [*ties, *(rng.randrange(1024, 1024 ** rng.randint(2, 5)) for _ in range(400))]:
        power = max(p for p in range(1, 5) if n >= 1024**p)
        value = Decimal(n) / Decimal(1024**power)
        if value.quantize(Decimal("0.1")) >= 1024 and power < 4:
            power, value = power + 1, Decimal(n) / Decimal(1024 ** (power + 1))
        number = babel_numbers.format_decimal(value, format="#,##0.0", locale=language)
        count = babel_units.format_unit(n, "digital-byte", locale=language)
        assert format_size(n, language) == f"{number}{space}{IEC[language][power - 1]} ({count})", n


@pytest.mark.parametrize("language", ["fr", "en"])
def test_short_sizes_are_cldr_s_numbers_and_units(language):
    """The one short form of a size (a card's, a progress bar's): one decimal, half to even
    on the exact value, and 1023.96 KiB written 1.0 MiB."""
    space = NBSP if language == "fr" else " "
    rng = random.Random(176160768)
    ties = [n for n in range(1024, 1024 * 64) if (n * 10) % 1024 == 512]
    near = [1024**p - d for p in (2, 3, 4) for d in (1, 51, 52, 53, 1024)]  # around the roll-over
    for n in [*ties, *near, *(rng.randrange(1024, 1024 ** rng.randint(2, 5)) for _ in range(400))]:
        power = max(p for p in range(1, 5) if n >= 1024**p)
        value = Decimal(n) / Decimal(1024**power)
        if value.quantize(Decimal("0.1")) >= 1024 and power < 4:
            power, value = power + 1, Decimal(n) / Decimal(1024 ** (power + 1))
        number = babel_numbers.format_decimal(value, format="#,##0.0", locale=language)
        assert short_size(n, language) == f"{number}{space}{IEC[language][power - 1]}", n
    assert short_size(512, language) == ("512\u00a0o" if language == "fr" else "512 B")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_dates_are_cldr_s(language):
    paris = ZoneInfo("Europe/Paris")
    start = dt.datetime(2026, 1, 1, 0, 7, tzinfo=dt.UTC)
    for hours in range(0, 24 * 731, 13):  # two years, every hour of the day, both DST changes
        moment = start + dt.timedelta(hours=hours)
        expected = babel_dates.format_datetime(moment, "d MMMM y HH:mm", tzinfo=paris, locale=language)
        if language == "fr" and moment.astimezone(paris).day == 1:
            expected = "1er" + expected[1:]  # the first of the month, as a French reader writes it
        assert format_datetime(moment, language, tz=paris) == expected, moment


@pytest.mark.parametrize("language", ["fr", "en"])
def test_months_are_cldr_s(language):
    for month in range(1, 13):
        assert format_month(2023, month, language) == babel_dates.format_date(
            dt.date(2023, month, 1), "MMMM y", locale=language
        )


def test_a_naive_moment_is_utc_and_shown_in_local_time():
    naive = dt.datetime(2026, 7, 1, 0, 30)
    assert format_datetime(naive, "fr", tz=ZoneInfo("Europe/Paris")) == "1er juillet 2026 02:30"
    assert format_datetime(naive, "en", tz=dt.UTC) == "1 July 2026 00:30"
    assert format_datetime(naive, "fr", tz=ZoneInfo("America/Martinique")) == "30 juin 2026 20:30"


@pytest.mark.skipif(not hasattr(__import__("time"), "tzset"), reason="time.tzset is POSIX")
def test_local_time_is_the_system_s(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        moment = dt.datetime(2026, 12, 1, 18, 15, tzinfo=dt.UTC)
        assert format_datetime(moment, "fr") == "1er décembre 2026 19:15"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", f"8{NNBSP}391{NNBSP}753{NBSP}octets"),
        ("cp1252", f"8{NBSP}391{NBSP}753{NBSP}octets"),  # Windows, output redirected to a file
        ("cp850", f"8{NBSP}391{NBSP}753{NBSP}octets"),  # a French Windows console's OEM page
        ("ascii", "8 391 753 octets"),
        (None, f"8{NNBSP}391{NNBSP}753{NBSP}octets"),
        ("no-such-codec", "8 391 753 octets"),
    ],
)
def test_fit_to_the_stream_s_encoding(encoding, expected):
    text = format_size(8391753, "fr").split("(")[1].rstrip(")")
    assert fit(text, encoding) == expected
    if encoding and encoding != "no-such-codec":
        expected.encode(encoding)


# --- the catalogs ----------------------------------------------------------------------


def test_every_message_is_translated_reviewed_and_compiled():
    problems = _tool().problems()
    assert not problems, "\n".join(problems)


def test_the_check_finds_what_it_must(tmp_path, monkeypatch):
    """The guard itself: an untranslated, a fuzzy and a stale entry, a stale .mo, are each found."""
    tool = _tool()
    locale = tmp_path / "locale"
    (locale / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (locale / "stager.pot").write_bytes(tool.POT.read_bytes())
    po = tool.po_path("fr").read_text(encoding="utf-8")
    po = po.replace('msgid "Usage:"\nmsgstr "Utilisation :"', 'msgid "Usage:"\nmsgstr ""')
    po = po.replace(
        '#: click/core.py\nmsgid "Missing command."', '#, fuzzy\n#: click/core.py\nmsgid "Missing command."'
    )
    po += '\nmsgid "A message nobody marks any more"\nmsgstr "Un message que plus personne ne marque"\n'
    (locale / "fr" / "LC_MESSAGES" / "stager.po").write_text(po, encoding="utf-8")
    (locale / "fr" / "LC_MESSAGES" / "stager.mo").write_bytes(tool.po_path("fr").with_suffix(".mo").read_bytes())
    monkeypatch.setattr(tool, "LOCALE", locale)
    monkeypatch.setattr(tool, "POT", locale / "stager.pot")
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    found = "\n".join(tool.problems())
    assert "'Usage:' has no translation" in found
    assert "'Missing command.' is fuzzy" in found
    assert "stale entry 'A message nobody marks any more'" in found
    assert "stager.mo is not the compiled stager.po" in found


def test_a_message_marked_in_the_source_without_a_translation_is_found(tmp_path, monkeypatch):
    tool = _tool()
    source = tmp_path / "stager"
    source.mkdir()
    (source / "new.py").write_text('from stager.i18n import _\nMESSAGE = _("{card} holds {n} files")\n')
    monkeypatch.setattr(tool, "SOURCE", source)
    template = tool.extract()
    assert template.get("{card} holds {n} files") is not None
    assert template.get("Show this message and exit.") is not None  # click's, always
    found = "\n".join(tool.problems())
    assert "no entry for '{card} holds {n} files'" in found
    assert "stager.pot is not the extraction of the source" in found


def test_the_mo_holds_what_the_po_says():
    with (LOCALE / "fr" / "LC_MESSAGES" / "stager.po").open("rb") as fp:
        catalog = read_po(fp, locale="fr")
    words = i18n.catalog("fr")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for n, form in ((1, message.string[0]), (2, message.string[1])):
                assert words.ngettext(message.id[0], message.id[1], n) == form
        elif message.context:
            assert words.pgettext(message.context, message.id) == message.string
        else:
            assert words.gettext(message.id) == message.string


def test_french_catalog_header_has_gettext_s_plural_rule():
    info = i18n.catalog("fr").info()
    assert info["plural-forms"] == "nplurals=2; plural=(n > 1);"
    assert info["content-type"] == "text/plain; charset=utf-8"


def test_the_locale_folder_is_a_real_package_and_its_catalogs_are_package_data():
    assert (LOCALE / "__init__.py").is_file()
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"stager.locale" = ["*/LC_MESSAGES/*.mo"]' in text
    assert sorted(p.relative_to(LOCALE).as_posix() for p in LOCALE.glob("*/LC_MESSAGES/*.mo")) == [
        "fr/LC_MESSAGES/stager.mo"
    ]
