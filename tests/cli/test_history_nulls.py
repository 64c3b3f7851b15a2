"""A history line whose fields are null shows what it records, never Python's None."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(
    "entry",
    [
        {"time": "2026-01-01T10:00:00+00:00", "result": None, "target": None, "decision": None, "file": "a.bin"},
        {"time": None, "result": "ok", "file": "a.bin", "decision": {"model": None, "kit": None, "terminal": None}},
        {"result": "ok", "file": "a.bin", "decision": {"model": "p22", "kit": 318, "terminal": None}, "sha256": None},
    ],
)
def test_null_fields_never_show_none(run_stager, tmp_path, entry):
    home = tmp_path / "home"
    home.mkdir()
    (home / "history.jsonl").write_text(json.dumps(entry) + "\n", encoding="utf-8")
    r = run_stager("history", env={"STAGER_HOME": str(home)})
    assert r.code == 0, r
    assert "a.bin" in r.out and "None" not in r.out, r.out
    if entry.get("decision") and entry["decision"].get("kit"):
        assert "[p22 kit 318]" in r.out, r.out
