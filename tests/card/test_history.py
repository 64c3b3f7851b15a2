"""Where the staging history is kept: the same place as the workshop's settings say
(stager.catalog.settings.data_dir, tests/catalog/test_settings.py): STAGER_HOME, else the
user's data folder."""

from __future__ import annotations

from pathlib import Path

from stager.card.history import FILE, data_home, history_file
from stager.catalog.settings import data_dir


def test_history_comes_from_the_same_place(tmp_path, monkeypatch):
    assert data_home({"STAGER_HOME": "/x/y"}) == Path("/x/y")
    assert history_file({"STAGER_HOME": "/x/y"}) == Path("/x/y") / FILE
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert data_home({}, "linux") == data_dir({}, "linux") == tmp_path / "data" / "stager"
