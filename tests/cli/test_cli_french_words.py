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
