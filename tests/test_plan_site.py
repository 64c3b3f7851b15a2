"""`stager plan --site`: a whole site through the installed stager."""

from __future__ import annotations

from pathlib import Path

import pytest

from stager.demo_catalog import build_demo_catalog

HEADER = "id,model,kit,terminal,built,router,mid,ocpp,lang,to\n"
TEN = HEADER + """\
1,p50,212,220,2022-06,f3426:7,no,1.5,FR,latest
2,p50,212,220,2021-11,f3426:7,no,,FR,latest
3,p22,316,311,2023-09,f3426:9,yes,1.6,FR,318
4,p22,318,313,2024-02,f3x26q:8,no,1.6,FR,318
5,wbac,316,123,,f3x26q:8,no,,,latest
6,p22,abc,311,,,,,FR,
7,p50,212,220,2023-13,,,,FR,
8,p22,316,311,,f3426,,,FR,
9,p22,318,313,,,maybe,,FR,
10,pulse-22,400,400,2024-05,f3426:8,yes,1.6,EN,latest
"""


def write(tmp_path, text, name="site.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def test_ten_chargers_with_bad_lines(run_stager, tmp_path):
    r = run_stager("plan", "--site", write(tmp_path, TEN), "--json")
    assert r.code == 2, r
    doc = r.json()
    assert [c["id"] for c in doc["chargers"]] == ["1", "2", "3", "4", "5", "10"]
    assert [e["line"] for e in doc["errors"]] == [7, 8, 9, 10]
    messages = {e["line"]: e["message"] for e in doc["errors"]}
    assert "kit" in messages[7] and "month" in messages[8] and "version" in messages[9] and "mid" in messages[10]
    bring = doc["bring"]
    assert bring["master_sd"] == 2  # chargers 1 and 2, both 212 -> 400
    shared = next(c for c in bring["cards"] if c["files"] == ["PULSE50_OCPP400_KIP400B_FR.tar.gz"])
    assert shared["chargers"] == ["1", "2"]
    assert shared["command"] == "stager prepare --model p50 --kit 400 --terminal 400 --lang FR"
    files = {f["name"]: f["chargers"] for f in bring["files"]}
    assert files["PULSE50_OCPP400_KIP400B_FR.tar.gz"] == ["1", "2"]
    assert files["PULSE22_OCPP318_KIP313A_FR.tar.gz"] == ["3"]
    assert not any("10" in chargers for chargers in files.values())  # already on 400 + 400
    c10 = next(c for c in doc["chargers"] if c["id"] == "10")
    assert [s["code"] for s in c10["steps"]] == ["nothing-to-do"]
    c4 = next(c for c in doc["chargers"] if c["id"] == "4")
    assert [s["code"] for s in c4["steps"]] == ["router-config"]  # already on 318, router note 2


def test_mixed_models_share_a_card_only_for_the_same_bundle(run_stager, tmp_path):
    site = HEADER + "a,p22,316,311,,,,,FR,318\nb,p22,317,312,,,,,FR,318\nc,p50,316,309,,,,,FR,318\n"
    r = run_stager("plan", "--site", write(tmp_path, site), "--json")
    assert r.code == 0, r
    cards = {tuple(c["chargers"]): c["files"] for c in r.json()["bring"]["cards"]}
    assert cards == {("a", "b"): ["PULSE22_OCPP318_KIP313A_FR.tar.gz"],
                     ("c",): ["PULSE50_OCPP318_KIP313B_FR.tar.gz"]}


def test_with_a_catalog_found_and_missing(run_stager, tmp_path):
    cat = build_demo_catalog(tmp_path / "cat")
    (cat / "p50" / "PULSE50_OCPP400_KIP400B_FR.tar.gz").unlink()
    site = HEADER + "a,p22,316,311,,,,,FR,318\nb,p50,318,313,,,,,FR,400\n"
    r = run_stager("plan", "--site", write(tmp_path, site), "--catalog", cat, "--json")
    assert r.code == 4, r
    files = {f["name"]: f for f in r.json()["bring"]["files"]}
    assert files["PULSE22_OCPP318_KIP313A_FR.tar.gz"]["found"] is True
    assert len(files["PULSE22_OCPP318_KIP313A_FR.tar.gz"]["sha256"]) == 64
    assert files["PULSE50_OCPP400_KIP400B_FR.tar.gz"]["found"] is False


def test_refused_charger_is_exit_3(run_stager, tmp_path):
    site = HEADER + "a,p22,212,241,2023-06,,,,FR,\n"
    r = run_stager("plan", "--site", write(tmp_path, site), "--json")
    assert r.code == 3, r
    assert r.json()["chargers"][0]["refusals"][0]["code"] == "terminal-hardware"


@pytest.mark.parametrize("content,needle", [
    ("", "empty"),
    ("model,kit\np22,318\n", "missing: id"),
    (b"id,model,kit\n1,p22,318\n2,caf\xe9,318\n", "UTF-8"),
])
def test_unreadable_site_files(run_stager, tmp_path, content, needle):
    r = run_stager("plan", "--site", write(tmp_path, content))
    assert r.code == 2, r
    assert needle in r.err and len(r.err.strip().splitlines()) == 1


def test_missing_site_file(run_stager, tmp_path):
    r = run_stager("plan", "--site", tmp_path / "nope.csv")
    assert r.code == 2 and "does not exist" in r.err


def test_the_shipped_example_plans(run_stager):
    example = Path(__file__).resolve().parent.parent / "catalog" / "site-example.csv"
    r = run_stager("plan", "--site", example)
    assert r.code == 0, r
    assert "Bring:" in r.out and "MASTER SD" in r.out and "[ ]" in r.out
    assert "stager prepare --model wbac --kit 400 --terminal 200\n" in r.out  # any pack will do on a WB-AC


def test_one_charger_json(run_stager):
    r = run_stager("plan", "--model", "p50", "--kit", "212", "--terminal", "220", "--router", "f3426:7", "--json")
    assert r.code == 0, r
    (c,) = r.json()["chargers"]
    assert c["id"] == "1" and c["from"] == {"kit": 212, "terminal": 220} and c["to"] == {"kit": 400, "terminal": 400}
    assert [s["code"] for s in c["steps"]] == ["master-sd", "stage-bundle", "router-update"]
    assert set(r.json()) == {"chargers", "bring", "errors"}


def test_plan_needs_model_and_kit_or_site(run_stager):
    r = run_stager("plan", "--model", "p22")
    assert r.code == 2 and "--site" in r.err
