"""Where the staging history is kept: the same place as the workshop's settings say
(stager.catalog.settings.history_dir, tests/catalog/test_settings.py): STAGER_HOME, else the
user's data folder."""

from __future__ import annotations

from pathlib import Path

from stager.card.history import FILE, data_home, history_file
from stager.catalog.settings import history_dir


def test_history_comes_from_the_same_place(tmp_path, monkeypatch):
    assert data_home({"STAGER_HOME": "/x/y"}) == Path("/x/y")
    assert history_file({"STAGER_HOME": "/x/y"}) == Path("/x/y") / FILE
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert data_home({}, "linux") == history_dir({}, "linux") == tmp_path / "data" / "stager"


def test_the_file_holds_no_language_and_the_reader_sees_his(run_stager, tmp_path):
    """Acceptance of issue 16 (F15): a staging made in French wrote the card's identity as a
    French sentence (with a decimal comma) into history.jsonl; the file now holds its parts
    only, and `stager history` says the identity in the reader's language."""
    import json

    from stager.catalog.demo import build_demo_catalog

    catalog, card = build_demo_catalog(tmp_path / "cat"), tmp_path / "sd"
    card.mkdir()
    args = ("prepare", "-m", "wbac", "-k", "318", "--catalog", catalog, "--target", card, "--allow-fixed", "--yes")
    assert run_stager(*args, env={"STAGER_UI_LANG": "fr"}).code == 0
    (written,) = (tmp_path / "stager-home").rglob("history.jsonl")
    records = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert records and all("identity" not in r and "size_bytes" in r for r in records), records
    assert "sans" not in written.read_text(encoding="utf-8")
    french = run_stager("history", "--json", env={"STAGER_UI_LANG": "fr"}).json()["entries"]
    english = run_stager("history", "--json", env={"STAGER_UI_LANG": "en"}).json()["entries"]
    assert french[0]["identity"].startswith("sans numéro de série de volume"), french[0]
    assert english[0]["identity"].startswith("no volume serial"), english[0]


def test_the_table_says_the_result_in_words(run_stager, tmp_path):
    from stager.catalog.demo import build_demo_catalog

    catalog, card = build_demo_catalog(tmp_path / "cat"), tmp_path / "sd"
    card.mkdir()
    args = ("prepare", "-m", "wbac", "-k", "318", "--catalog", catalog, "--target", card, "--allow-fixed", "--yes")
    assert run_stager(*args).code == 0
    french = run_stager("history", env={"STAGER_UI_LANG": "fr"}).out
    assert "  réussie " in french and "  ok " not in french, french
    assert "  ok " in run_stager("history").out
