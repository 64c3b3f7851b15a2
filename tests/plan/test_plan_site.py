"""`stager plan --site`: reading site.csv (library) and whole sites through the installed
stager: bad lines named, the rest planned, the bring list, the cards, the exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.site import write_catalog

from stager.errors import BadInput
from stager.plan.site import read_site

HEADER = "id,model,kit,terminal,built,router,mid,ocpp,lang,to\n"


def write(tmp_path, text, name="site.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return p


# --------------------------------------------------------------------------- ten chargers, end to end
TEN = (
    HEADER
    + """\
1,p50,212,220,2022-06,f3426:7,no,1.5,FR,latest
2,pulse-50,212,220,2021-11,f3426:7,no,,fr,
3,p22,316,311,2023-09,f3426:9,yes,1.6,FR,318
4,p22,318,313,2024-02,f3x26q:8,no,1.6,FR,318
5,wbac,316,123,,f3x26q:8,no,,,latest
6,p22,abc,311,,,,,FR,
7,p50,212,220,2023-13,,,,FR,
8,p22,316,311,,f3426,,,FR,
9,p22,318,313,,,maybe,,FR,
10,pulse-22,400,400,2024-05,f3426:8,yes,1.6,EN,latest
"""
)


def test_ten_chargers_with_bad_lines_end_to_end(run_stager, tmp_path):
    r = run_stager("plan", "--site", write(tmp_path, TEN), "--json")
    assert r.code == 2, r  # bad lines come first in the exit code order
    doc = r.json()
    assert set(doc) == {"chargers", "bring", "errors", "lang"}
    assert [c["id"] for c in doc["chargers"]] == ["1", "2", "3", "4", "5", "10"]
    errors = {e["line"]: e["message"] for e in doc["errors"]}
    assert sorted(errors) == [7, 8, 9, 10]  # the file's lines (the header is line 1)
    assert "kit" in errors[7] and "month" in errors[8] and "version" in errors[9] and "mid" in errors[10]

    bring = doc["bring"]
    assert bring["master_sd"] == 2  # chargers 1 and 2: 212 -> 400
    files = {f["name"]: f["chargers"] for f in bring["files"]}
    assert files == {
        "PULSE50_OCPP400_KIP400B_FR.tar.gz": ["1", "2"],
        "PULSE22_OCPP318_KIP313A_FR.tar.gz": ["3"],
        "WBAC_OCPP400_KIP200W_<LANG>.tar.gz": ["5"],
    }
    assert all(f["found"] is None for f in bring["files"])  # no catalog given
    cards = {c["files"][0]: c for c in bring["cards"]}
    assert len(bring["cards"]) == 3
    shared = cards["PULSE50_OCPP400_KIP400B_FR.tar.gz"]
    assert shared["chargers"] == ["1", "2"] and shared["files"] == ["PULSE50_OCPP400_KIP400B_FR.tar.gz"]
    assert shared["command"] == "stager prepare --model p50 --kit 400 --terminal 400 --lang FR"
    assert (
        cards["PULSE22_OCPP318_KIP313A_FR.tar.gz"]["command"]
        == "stager prepare --model p22 --kit 318 --terminal 313 --lang FR"
    )
    assert (
        cards["WBAC_OCPP400_KIP200W_<LANG>.tar.gz"]["command"] == "stager prepare --model wbac --kit 400 --terminal 200"
    )  # any pack on a WB-AC

    by_id = {c["id"]: c for c in doc["chargers"]}
    assert [s["code"] for s in by_id["1"]["steps"]] == ["master-sd", "stage-bundle", "router-update"]
    assert {k: by_id["1"]["steps"][2][k] for k in ("router", "from", "to")} == {"router": "f3426", "from": 7, "to": 8}
    assert [s["code"] for s in by_id["3"]["steps"]] == ["stage-bundle", "router-config"]
    assert by_id["3"]["steps"][1]["condition"] == "static-lan-ip"
    assert [s["code"] for s in by_id["4"]["steps"]] == ["router-config"]  # already on 318 + 313: note 2
    assert by_id["4"]["steps"][0]["condition"] == "multi-operator-sim"
    assert [s["code"] for s in by_id["10"]["steps"]] == ["nothing-to-do"]
    assert by_id["10"]["model"] == "p22" and by_id["2"]["model"] == "p50"


def test_mixed_models_two_chargers_share_one_card(run_stager, tmp_path):
    site = HEADER + (
        "a,p22,316,311,,,,,FR,318\n"
        "b,p22,317,312,,,,,FR,318\n"
        "c,p50,316,309,,,,,FR,318\n"
        "d,wbac,317,124,,,,,,\n"
        "e,p22,400,400,,,,,FR,\n"
    )
    r = run_stager("plan", "--site", write(tmp_path, site), "--json")
    assert r.code == 0, r
    bring = r.json()["bring"]
    assert bring["master_sd"] == 0
    cards = {tuple(c["chargers"]): (c["files"], c["command"]) for c in bring["cards"]}
    assert cards == {
        ("a", "b"): (
            ["PULSE22_OCPP318_KIP313A_FR.tar.gz"],
            "stager prepare --model p22 --kit 318 --terminal 313 --lang FR",
        ),
        ("c",): (
            ["PULSE50_OCPP318_KIP313B_FR.tar.gz"],
            "stager prepare --model p50 --kit 318 --terminal 313 --lang FR",
        ),
        ("d",): (["WBAC_OCPP400_KIP200W_<LANG>.tar.gz"], "stager prepare --model wbac --kit 400 --terminal 200"),
    }


def test_a_card_shared_with_a_hex_takes_the_hex(tmp_path):
    from stager.plan.charger import Charger, plan_charger
    from stager.plan.site import SitePlan

    a = plan_charger(Charger("a", "p22", 316, 311, to=318, lang="FR"))
    b = plan_charger(Charger("b", "p22", 318, 312, to=318, lang="FR", with_hex=True))
    (card,) = SitePlan(plans=[a, b]).bring()["cards"]
    assert card["files"] == ["PULSE22_OCPP318_KIP313A_FR.tar.gz", "KIP313A_FR.hex"]
    assert card["chargers"] == ["a", "b"]
    assert card["command"].endswith("--lang FR --hex")


def test_master_sd_count_is_one_a_migrated_charger(run_stager, tmp_path):
    site = HEADER + "a,p22,212,241,,,,,FR,\nb,p50,212,220,,,,,FR,318\nc,p22,105,,,,,,FR,212\nd,p22,310,309,,,,,FR,\n"
    r = run_stager("plan", "--site", write(tmp_path, site), "--json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["bring"]["master_sd"] == 2  # a and b; c goes 1XX -> 2XX, d is on 3XX already
    assert [s["code"] for s in doc["chargers"][2]["steps"]] == ["stage-bundle"]


# --------------------------------------------------------------------------- with a catalog
def test_catalog_found_and_missing(run_stager, tmp_path):
    have = write_catalog(tmp_path / "cat", ["PULSE22_OCPP318_KIP313A_FR.tar.gz", "PULSE22_OCPP318_KIP313A_EN.tar.gz"])
    site = HEADER + "a,p22,316,311,,,,,FR,318\nb,p50,318,313,,,,,FR,400\n"
    r = run_stager("plan", "--site", write(tmp_path, site), "--catalog", tmp_path / "cat", "--json")
    assert r.code == 4, r
    files = {f["name"]: f for f in r.json()["bring"]["files"]}
    found = files["PULSE22_OCPP318_KIP313A_FR.tar.gz"]
    assert found["found"] is True
    assert (found["bytes"], found["sha256"]) == have["PULSE22_OCPP318_KIP313A_FR.tar.gz"]
    assert files["PULSE50_OCPP400_KIP400B_FR.tar.gz"]["found"] is False
    cmd = next(c["command"] for c in r.json()["bring"]["cards"] if c["chargers"] == ["a"])
    assert cmd == f"stager prepare --model p22 --kit 318 --terminal 313 --lang FR --catalog {tmp_path / 'cat'}"


def test_catalog_gives_the_only_pack(run_stager, tmp_path):
    write_catalog(tmp_path / "cat", ["PULSE22_OCPP318_KIP313A_EN.tar.gz"])
    site = HEADER + "a,p22,316,311,,,,,,318\n"
    r = run_stager("plan", "--site", write(tmp_path, site), "--json", env={"STAGER_CATALOG": str(tmp_path / "cat")})
    assert r.code == 0, r
    (card,) = r.json()["bring"]["cards"]
    assert card["files"] == ["PULSE22_OCPP318_KIP313A_EN.tar.gz"]
    assert "--lang EN" in card["command"]


# --------------------------------------------------------------------------- exit code order
@pytest.mark.parametrize(
    "lines,with_catalog,code",
    [
        (["a,p22,318,241,,,,,FR,", "b,p22,xyz,,,,,,,"], False, 2),  # a refused (KO pair), b bad: 2 first
        (["a,p22,318,241,,,,,FR,", "b,p50,318,313,,,,,FR,400"], True, 3),  # refused and missing: 3 first
        (["b,p50,318,313,,,,,FR,400"], True, 4),
        (["a,p22,316,311,,,,,FR,318"], True, 0),
    ],
)
def test_exit_code_order(run_stager, tmp_path, lines, with_catalog, code):
    write_catalog(tmp_path / "cat", ["PULSE22_OCPP318_KIP313A_FR.tar.gz", "PULSE22_OCPP400_KIP400A_FR.tar.gz"])
    args = ["--catalog", tmp_path / "cat"] if with_catalog else []
    r = run_stager("plan", "--site", write(tmp_path, HEADER + "\n".join(lines) + "\n"), *args, "--json")
    assert r.code == code, r
    assert set(r.json()) == {"chargers", "bring", "errors", "lang"}


def test_refused_charger_is_exit_3_and_still_planned(run_stager, tmp_path):
    r = run_stager("plan", "--site", write(tmp_path, HEADER + "a,p22,212,241,2023-06,,,,FR,\n"), "--json")
    assert r.code == 3, r
    (c,) = r.json()["chargers"]
    assert [x["code"] for x in c["refusals"]] == ["terminal-hardware"]
    assert [s["code"] for s in c["steps"]] == ["master-sd", "stage-bundle"]


# --------------------------------------------------------------------------- reading the file (library)
def errors_of(tmp_path, text):
    chargers, errors = read_site(write(tmp_path, text))
    return [line for line, _ in chargers], {e["line"]: e["message"] for e in errors}


@pytest.mark.parametrize(
    "row,needle",
    [
        ("a,p23,318", "model"),
        ("a,p22,31", "kit"),
        ("a,p22,318,,,f3426,", "router"),
        ("a,p22,318,,,f3426:x,", "router version"),
        ("a,p22,318,,2023-4,", "month"),
        ("a,p22,318,,2023-13,", "month"),
        ("a,p22,318,,,,maybe", "mid"),
        ("a,p22,318,,,,,1.7", "OCPP"),
        ("a,p22,318,,,,,,French", "language"),
        ("a,p22,318,,,,,,,4000", "target kit"),
        ("a,,318", "model"),
        (",p22,318", "id"),
        ("a,p22,318,313,,,,,,,extra", "cells"),
    ],
)
def test_each_bad_value_names_its_line(tmp_path, row, needle):
    good, errors = errors_of(tmp_path, HEADER + "ok,p22,318,313\n" + row + "\nok2,p50,318\n")
    assert good == [2, 4]
    assert list(errors) == [3] and needle in errors[3]


def test_not_utf8_line_is_named_and_the_others_planned(tmp_path):
    chargers, errors = read_site(write(tmp_path, b"id,model,kit\n1,p22,318\n2,caf\xe9,318\n3,p50,400\n"))
    assert [line for line, _ in chargers] == [2, 4]
    assert [e["line"] for e in errors] == [3] and "UTF-8" in errors[0]["message"]


def test_duplicate_ids_and_unknown_columns(tmp_path):
    good, errors = errors_of(tmp_path, "id,model,kit,colour\n1,p22,318,red\n1,p50,318,blue\n")
    assert good == [2] and "already on line 2" in errors[3] and "colour" in errors[1]


def test_bom_crlf_spaces_and_case_are_read(tmp_path):
    text = "\ufeffID , Model,KIT,mid\r\n 1 , Pulse 22 , 318 , YES\r\n\r\n2,p50,318,no\r\n"
    chargers, errors = read_site(write(tmp_path, text))
    assert errors == []
    assert [(line, c.id, c.model, c.kit, c.mid) for line, c in chargers] == [
        (2, "1", "p22", 318, True),
        (4, "2", "p50", 318, False),
    ]


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_site_file_with_lines_ended_by_cr_alone_is_read(tmp_path, delimiter):
    """Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR: refused before, with the
    csv module's English advice about newline modes."""
    text = 'id,model,kit\r1,p22,318\r\r2,"wbac",318\r'.replace(",", delimiter)
    chargers, errors = read_site(write(tmp_path, text))
    assert errors == []
    assert [(line, c.id, c.model, c.kit) for line, c in chargers] == [(2, "1", "p22", 318), (4, "2", "wbac", 318)]


def test_a_line_that_is_not_utf8_is_named_in_a_cr_only_file_too(tmp_path):
    raw = b"id,model,kit\r1,p22,318\r2,caf\xe9,318\r3,p50,318\r"
    path = tmp_path / "site.csv"
    path.write_bytes(raw)
    chargers, errors = read_site(path)
    assert [e["line"] for e in errors] == [3]
    assert [(line, c.id) for line, c in chargers] == [(2, "1"), (4, "3")]


@pytest.mark.parametrize(
    "content,needle",
    [
        ("", "empty"),
        ("\n\n", "empty"),
        ("model,kit\np22,318\n", "missing: id"),
        ("1,p22,318\n2,p50,318\n", "header"),  # no header: line 1 is a charger
        ("id,model,kit\n", "no charger line"),
        (b"id,mod\xe8le,kit\n1,p22,318\n", "line 1"),
        ("id,model,kit\n1,p22,318\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_unreadable_site_files(tmp_path, content, needle):
    with pytest.raises(BadInput) as e:
        read_site(write(tmp_path, content))
    assert needle in e.value.message


@pytest.mark.parametrize("content", ["", "model,kit\np22,318\n", "id,model,kit\n".encode("utf-16")])
def test_unreadable_site_file_is_exit_2_one_line(run_stager, tmp_path, content):
    r = run_stager("plan", "--site", write(tmp_path, content))
    assert r.code == 2, r
    assert r.out == "" and len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err


def test_unreadable_site_file_json_is_the_failure_envelope(run_stager, tmp_path):
    r = run_stager("plan", "--site", write(tmp_path, ""), "--json")
    assert r.code == 2 and r.json()["ok"] is False


def test_missing_site_file(run_stager, tmp_path):
    r = run_stager("plan", "--site", tmp_path / "nope.csv")
    assert r.code == 2 and "does not exist" in r.err and len(r.err.strip().splitlines()) == 1


def test_bad_lines_human_output_names_them(run_stager, tmp_path):
    r = run_stager("plan", "--site", write(tmp_path, HEADER + "a,p22,318,313,,,,,FR,\nb,p22,318,,,,perhaps,,,\n"))
    assert r.code == 2, r
    assert "line 3" in r.out and "Charger a" in r.out
    assert "line 3" in r.err
    # one Error: line, in the one shape every command's errors have (stager.cli.output)
    errors = [line for line in r.err.splitlines() if line.startswith("Error:")]
    assert errors == [errors[0]] and errors[0].startswith("Error: 1 line(s) of the site file not planned: line 3: ")


# --------------------------------------------------------------------------- the shipped example
def test_the_shipped_example_plans(run_stager):
    example = Path(__file__).resolve().parents[2] / "docs" / "site-example.csv"
    r = run_stager("plan", "--site", example)
    assert r.code == 0, r
    assert (
        "Bring:" in r.out
        and "[ ] the MASTER SD (MADIC ref. 17806385, procedure NT-23006): 2 migration(s), charger(s) A1, A2" in r.out
        and "[ ] 1." in r.out
    )
    assert "make it with: stager prepare --model p50 --kit 400 --terminal 400 --lang FR\n" in r.out
    assert "stager prepare --model wbac --kit 400 --terminal 200\n" in r.out  # any pack will do on a WB-AC
    r = run_stager("plan", "--site", example, "--json")
    assert r.code == 0 and r.json()["bring"]["master_sd"] == 2


def test_wbac_language_given_or_not(run_stager, tmp_path):
    # Section 3.1 NB: the WB-AC terminal is LEDs only, its language does not matter.
    site = HEADER + "w1,wbac,316,123,,,,,FR,\nw2,wbac,316,123,,,,,,\n"
    r = run_stager("plan", "--site", write(tmp_path, site), "--json")
    assert r.code == 0, r
    # Any pack will do: one file, one card for both, named by the pack that was given.
    (f,) = r.json()["bring"]["files"]
    assert f["name"] == "WBAC_OCPP400_KIP200W_FR.tar.gz" and f["chargers"] == ["w1", "w2"]
    cards = [(c["chargers"], c["files"], c["command"]) for c in r.json()["bring"]["cards"]]
    assert cards == [
        (
            ["w1", "w2"],
            ["WBAC_OCPP400_KIP200W_FR.tar.gz"],
            "stager prepare --model wbac --kit 400 --terminal 200 --lang FR",
        )
    ]
    # The pack does matter on a Pulse 22: two packs, two cards.
    p22 = HEADER + "a,p22,318,313,,,,,FR,\nb,p22,318,313,,,,,EN,\n"
    r = run_stager("plan", "--site", write(tmp_path, p22), "--json")
    assert [c["chargers"] for c in r.json()["bring"]["cards"]] == [["a"], ["b"]]
    # With a catalog holding another pack only, that pack will do, for both.
    have = write_catalog(tmp_path / "cat", ["WBAC_OCPP400_KIP200W_EN.tar.gz"])
    r = run_stager("plan", "--site", write(tmp_path, site), "--catalog", tmp_path / "cat", "--json")
    assert r.code == 0, r
    (f,) = r.json()["bring"]["files"]
    assert f["name"] == "WBAC_OCPP400_KIP200W_EN.tar.gz" and f["chargers"] == ["w1", "w2"]
    assert (f["bytes"], f["sha256"]) == have["WBAC_OCPP400_KIP200W_EN.tar.gz"]
    (card,) = r.json()["bring"]["cards"]
    assert card["chargers"] == ["w1", "w2"] and "--lang EN" in card["command"]


def test_a_shared_wbac_card_is_named_by_a_file_found_not_by_row_order(run_stager, tmp_path):
    # w1 asks FR, whose file is damaged; w2 asks DE, which is good: any pack will do on a
    # WB-AC, so the one card is made from DE, whatever the order of the lines.
    write_catalog(tmp_path / "cat", ["WBAC_OCPP400_KIP200W_FR.tar.gz", "WBAC_OCPP400_KIP200W_DE.tar.gz"])
    (tmp_path / "cat" / "fw" / "WBAC_OCPP400_KIP200W_FR.tar.gz").write_bytes(b"damaged")
    for rows in (
        ["w1,wbac,316,123,,,,,FR,", "w2,wbac,316,123,,,,,DE,"],
        ["w2,wbac,316,123,,,,,DE,", "w1,wbac,316,123,,,,,FR,"],
    ):
        r = run_stager(
            "plan", "--site", write(tmp_path, HEADER + "\n".join(rows) + "\n"), "--catalog", tmp_path / "cat", "--json"
        )
        assert r.code == 0, r  # the card can be made
        (card,) = r.json()["bring"]["cards"]
        assert card["files"] == ["WBAC_OCPP400_KIP200W_DE.tar.gz"] and card["missing"] == []
        assert "--lang DE" in card["command"] and sorted(card["chargers"]) == ["w1", "w2"]
        (f,) = r.json()["bring"]["files"]
        assert f["found"] is True and "plan" not in f


def test_a_semicolon_csv_from_a_french_spreadsheet_is_read(run_stager, tmp_path):
    site = "id;model;kit;terminal;built;router;mid;ocpp;lang;to\nA1;p50;212;220;2022-06;f3426:7;non;1.5;FR;latest\n"
    r = run_stager("plan", "--site", write(tmp_path, site), "--json")
    assert r.code == 0, r
    (c,) = r.json()["chargers"]
    assert (c["id"], c["from"], c["to"]) == ("A1", {"kit": 212, "terminal": 220}, {"kit": 400, "terminal": 400})
