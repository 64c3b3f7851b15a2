"""A few of the command line's key messages in French, in this process (``stager.i18n.install("fr")``,
English again after each test): the words are the note's, the formats French, no English left."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from stager import i18n
from stager.cli import output, render
from stager.cli.commands import catalog, history, plan, prepare, verify
from stager.cli.progress import short_size
from stager.rules.engine import Query, decide


@pytest.fixture
def french():
    i18n.install("fr")
    yield
    i18n.install("en")


def test_a_decision_in_french(french):
    lines = render.decision_lines(decide(Query("wbac", 318)), explain=False)
    assert lines[0] == "AUTORISÉ  Pulse WB-AC : kit 318 + terminal 124 (le plus récent autorisé)"
    assert lines[1] == "  Terminaux que le tableau autorise avec le kit 318 : 124"
    refused = render.decision_lines(decide(Query("wbac", 314)))
    assert refused[0] == "REFUSÉ  Pulse WB-AC : kit 314" and refused[1] == "Refusé parce que :"


def test_the_same_decision_in_english():
    lines = render.decision_lines(decide(Query("wbac", 318)), explain=False)
    assert lines[0] == "ALLOWED  Pulse WB-AC: kit 318 + terminal 124 (newest allowed)"


def test_sizes_in_french(french):
    assert render.size_text(8_391_753) == "8,0\u00a0Mio (8\u202f391\u202f753\u00a0octets)"
    assert render.size_text(None) == "inconnue"
    assert short_size(176_160_768) == "168,0\u00a0Mio" and short_size(512) == "512\u00a0o"


def test_sizes_in_english():
    assert render.size_text(8_391_753) == "8.0 MiB (8,391,753 bytes)"
    assert short_size(176_160_768) == "168.0 MiB" and short_size(512) == "512 B"


def test_a_history_time_is_local_and_french(french, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    import time

    time.tzset()
    try:
        assert history.when_text("2026-12-01T18:15:00+00:00") == "1er décembre 2026 19:15"
        assert history.when_text("not a time") == "not a time"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_signature_time_is_french(french, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        assert catalog.when(1_764_612_900) == "1er décembre 2025 18:15"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_the_error_line_and_the_question_in_french(french):
    assert output.error_line("x") == "Erreur : x"
    assert render.question(None, []) == "Écrire cette carte comme indiqué ci-dessus ?"
    assert output.colon("Pulse 22", "kit 318") == "Pulse 22 : kit 318"


def test_the_verdicts_of_verify_in_french(french):
    class Report:
        exit_code, read_back = 6, "direct"

    assert verify._verdict(Report(), None) == "La carte n'est PAS bonne : préparez-la de nouveau."


def test_the_picker_takes_the_french_word_for_all():
    assert prepare.parse_pick("tout", 3) == [0, 1, 2] and prepare.parse_pick("Tous", 2) == [0, 1]


def test_a_plan_s_refusal_summary_in_french(french):
    site = SimpleNamespace(errors=[{"line": 2, "message": "m"}], plans=[], bring=lambda: {"cards": [], "master_sd": 0})
    assert plan.unplanned(site).message == "1 ligne du fichier du site non planifiée : ligne 2 : m"
    assert plan.summary(site) == []  # the lines not planned are the one error line, not the summary


def test_every_json_document_says_its_language(french, capsys):
    output.emit_json({"ok": True})
    assert capsys.readouterr().out.strip() == '{"ok": true, "lang": "fr"}'
    i18n.install("en")
    output.emit_json({"ok": True})
    assert capsys.readouterr().out.strip() == '{"ok": true, "lang": "en"}'


def test_a_moment_is_written_as_the_history_records_it():
    moment = dt.datetime(2026, 12, 1, 18, 15, tzinfo=dt.UTC).isoformat()
    assert history.when_text(moment).endswith(
        "2026 " + dt.datetime.fromisoformat(moment).astimezone().strftime("%H:%M")
    )


def test_a_heading_s_colon_is_followed_by_lower_case_in_french(french):
    from stager.i18n_format import after_colon

    assert output.error_line("La cible /x est sur un disque fixe.") == "Erreur : la cible /x est sur un disque fixe."
    assert after_colon("Un kit plus récent existe") == "un kit plus récent existe"
    assert after_colon("À partir du kit 310") == "à partir du kit 310"
    for name in ("Pulse 22 GL / WL : kit 318", "MASTER SD requise", "SHA256SUMS est signé", "L"):
        assert after_colon(name) == name


def test_a_heading_s_colon_keeps_the_english_capital():
    from stager.i18n_format import after_colon

    assert output.error_line("The target /x is on a fixed disk.") == "Error: The target /x is on a fixed disk."
    assert after_colon("A newer kit exists") == "A newer kit exists"


def test_a_list_ends_with_the_language_s_or_and_and(french):
    from stager.i18n_format import format_list

    assert format_list([312]) == "312" and format_list([]) == ""
    assert format_list([312, 313], "or") == "312 ou 313"
    assert format_list([311, 312, 313], "or") == "311, 312 ou 313"
    assert format_list(["a", "b"]) == "a et b"
    i18n.install("en")
    assert format_list([311, 312, 313], "or") == "311, 312 or 313"


def _check(name, ready=True):
    target = SimpleNamespace(describe=lambda: f"/media/{name}")
    writes = [SimpleNamespace(name="WBAC_OCPP318_KIP124W_FR.tar.gz", size=60_009_376)]
    return SimpleNamespace(ready=ready, target=target, writes=lambda plan: writes, removes=[], holds_both=None)


def test_the_cards_to_write_agree_with_their_count_in_french(french):
    nb, nnb = "\u00a0", "\u202f"
    lines = render.card_plan_lines(None, [_check("A"), _check("B"), _check("C", ready=False)], None)
    assert lines[0] == "Prêt à écrire 2 cartes sur 3 :"
    assert lines[2] == (
        f"     écrire WBAC_OCPP318_KIP124W_FR.tar.gz, de 57,2{nb}Mio (60{nnb}009{nnb}376{nb}octets), "
        "puis WBAC_OCPP318_KIP124W_FR.tar.gz.sha256"
    )
    lines = render.card_plan_lines(None, [_check("A"), _check("C", ready=False)], None, dry_run=True)
    assert lines[0] == "L'exécution écrirait 1 carte sur 2 :"


def test_a_cached_read_back_says_why_without_nested_parentheses(french):
    why = i18n._("the card's folder could only be listed from a cache, not from its medium, because {why}").format(
        why=i18n._("the program serving {device} at {path} was not found, so it cannot be started again").format(
            device="/dev/loop0", path="/mnt"
        )
    )
    line = render.file_line("F.tar.gz", "copié", "cached", why, "/mnt")
    assert line == (
        "  F.tar.gz : copié ; son SHA-256 est celui du catalogue, mais il n'a pu être relu que dans le cache du "
        "système, pas sur la carte : le dossier de la carte n'a pu être lu que dans un cache, pas sur son support, "
        "car le programme qui sert /dev/loop0 sur /mnt est introuvable et ne peut donc pas être relancé. La carte "
        "n'est pas prouvée. Pour la prouver, éjectez la carte, réinsérez-la, puis lancez : stager verify --target /mnt"
    )
    assert "))" not in line


def test_the_summary_and_the_catalog_check_agree_with_their_counts(french):
    summary = "Summary: {ok} of {total} card(s) ready."
    said = [i18n.ngettext(summary, summary, ok).format(ok=ok, total=2) for ok in (0, 1, 2)]
    assert said == ["Bilan : 0 carte prête sur 2.", "Bilan : 1 carte prête sur 2.", "Bilan : 2 cartes prêtes sur 2."]
    bad = [i18n.ngettext("{bad} do not.", "{bad} do not.", n).format(bad=n) for n in (1, 2)]
    assert bad == ["1 ne correspond pas.", "2 ne correspondent pas."]
