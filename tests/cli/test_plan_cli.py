"""`stager plan` for one charger through the installed stager: the JSON contract of
plan.md, the printable checklist, the catalog look-up and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers.site import write_catalog

CHARGER_KEYS = {"id", "model", "from", "to", "steps", "warnings", "refusals"}


def only_charger(r):
    doc = r.json()
    assert set(doc) == {"chargers", "bring", "errors", "lang"} and doc["errors"] == []
    (c,) = doc["chargers"]
    assert set(c) == CHARGER_KEYS and c["id"] == "1"
    for item in c["steps"] + c["warnings"] + c["refusals"]:
        assert isinstance(item["code"], str) and isinstance(item["message"], str) and item["message"]
    return c


def step_codes(c):
    return [s["code"] for s in c["steps"]]


def test_2xx_to_latest_with_an_old_router(run_stager):
    r = run_stager(
        "plan",
        "--model",
        "p50",
        "--kit",
        "212",
        "--terminal",
        "220",
        "--built",
        "2022-06",
        "--router",
        "f3426:7",
        "--lang",
        "FR",
        "--json",
    )
    assert r.code == 0, r
    json.loads(r.out)  # stdout is exactly one JSON document
    c = only_charger(r)
    assert c["model"] == "p50"
    assert c["from"] == {"kit": 212, "terminal": 220} and c["to"] == {"kit": 400, "terminal": 400}
    assert step_codes(c) == ["master-sd", "stage-bundle", "router-update"]
    assert c["steps"][1]["file"] == "PULSE50_OCPP400_KIP400B_FR.tar.gz"
    update = c["steps"][2]
    assert (update["router"], update["from"], update["to"]) == ("f3426", 7, 8)
    bring = r.json()["bring"]
    assert bring["master_sd"] == 1
    assert bring["files"][0]["name"] == "PULSE50_OCPP400_KIP400B_FR.tar.gz" and bring["files"][0]["chargers"] == ["1"]
    assert bring["cards"] == [
        {
            "files": ["PULSE50_OCPP400_KIP400B_FR.tar.gz"],
            "chargers": ["1"],
            "command": "stager prepare --model p50 --kit 400 --terminal 400 --lang FR",
            "missing": [],
        }
    ]


def test_1xx_to_212_through_the_cli(run_stager):
    r = run_stager("plan", "--model", "pulse22", "--kit", "105", "--to", "212", "--lang", "fr", "--hex", "--json")
    assert r.code == 0, r
    c = only_charger(r)
    assert step_codes(c) == ["stage-bundle", "stlink-hex"]
    assert [s["file"] for s in c["steps"]] == ["OCPP212_KIP241A_FR.bin", "KIP241A.hex"]
    assert "kit-older-than-table" in [w["code"] for w in c["warnings"]]


def test_downgrade_is_exit_0_with_a_warning(run_stager):
    r = run_stager("plan", "-m", "p22", "-k", "318", "-t", "313", "--to", "316", "--json")
    assert r.code == 0, r
    assert "downgrade" in [w["code"] for w in only_charger(r)["warnings"]]


def test_to_latest_is_the_default(run_stager):
    a = run_stager("plan", "-m", "p22", "-k", "316", "--to", "latest", "--json")
    b = run_stager("plan", "-m", "p22", "-k", "316", "--json")
    assert a.code == b.code == 0 and a.json() == b.json()
    assert only_charger(a)["to"] == {"kit": 400, "terminal": 400}


def test_mid_below_310_is_refused_exit_3(run_stager):
    r = run_stager("plan", "-m", "p22", "-k", "212", "-t", "241", "--mid", "--to", "212", "--json")
    assert r.code == 3, r
    c = only_charger(r)
    assert [x["code"] for x in c["refusals"]] == ["mid-meter"] and c["steps"] == []


def test_impossible_state_is_exit_3_and_still_planned(run_stager):
    r = run_stager("plan", "-m", "p50", "-k", "212", "-t", "220", "--built", "2023-05", "--json")
    assert r.code == 3, r
    c = only_charger(r)
    assert [x["code"] for x in c["refusals"]] == ["terminal-hardware"]
    assert step_codes(c) == ["master-sd", "stage-bundle"]
    human = run_stager("plan", "-m", "p50", "-k", "212", "-t", "220", "--built", "2023-05")
    assert human.code == 3 and "RULED OUT as installed now [terminal-hardware]" in human.out and "Refused" in human.err


def test_checklist_for_a_router_at_9_shows_note_1_in_full(run_stager):
    r = run_stager("plan", "-m", "p22", "-k", "316", "-t", "311", "--router", "f3426:9", "--to", "318", "--lang", "FR")
    assert r.code == 0, r
    out = r.out
    assert "Charger 1: Pulse 22" in out and "kit 316 + terminal 311 -> kit 318 + terminal 313" in out
    assert "  [ ] 1. Update kit and terminal to 318 + 313" in out
    assert "  [ ] 2. Static LAN IP" in out
    for line in (
        "192.168.1.254:5000",
        "LAN_Mode to true",
        "LAN_DHCP to false",
        "LAN_StaticIP to 192.168.1.254",
        "ICCID",
        "site visit",
    ):
        assert line in out
    assert (
        "Bring:\n  [ ] a card with PULSE22_OCPP318_KIP313A_FR.tar.gz for charger(s) 1\n"
        "      make it with: stager prepare --model p22 --kit 318 --terminal 313 --lang FR" in out
    )


def test_nothing_to_do_checklist(run_stager):
    r = run_stager("plan", "-m", "wbac", "-k", "400", "-t", "200", "--router", "f3x26q:9")
    assert r.code == 0, r
    assert "nothing to do" in r.out and "Bring:\n  nothing" in r.out


def test_catalog_found(run_stager, tmp_path):
    have = write_catalog(tmp_path / "cat", ["PULSE22_OCPP318_KIP313A_FR.tar.gz", "KIP313A_FR.hex"])
    r = run_stager(
        "plan",
        "-m",
        "p22",
        "-k",
        "316",
        "-t",
        "311",
        "--to",
        "318",
        "--lang",
        "FR",
        "--hex",
        "--catalog",
        tmp_path / "cat",
        "--json",
    )
    assert r.code == 0, r
    files = {f["name"]: f for f in r.json()["bring"]["files"]}
    assert set(files) == set(have)
    for name, (size, digest) in have.items():
        assert (files[name]["found"], files[name]["bytes"], files[name]["sha256"]) == (True, size, digest)
    human = run_stager(
        "plan", "-m", "p22", "-k", "316", "-t", "311", "--to", "318", "--lang", "FR", "--catalog", tmp_path / "cat"
    )
    assert "in the catalog" in human.out


def test_catalog_missing_is_exit_4(run_stager, tmp_path):
    write_catalog(tmp_path / "cat", ["PULSE22_OCPP318_KIP313A_EN.tar.gz"])
    r = run_stager(
        "plan", "-m", "p22", "-k", "316", "--to", "318", "--lang", "FR", "--catalog", tmp_path / "cat", "--json"
    )
    assert r.code == 4, r
    (f,) = r.json()["bring"]["files"]
    assert f["found"] is False and f["name"] == "PULSE22_OCPP318_KIP313A_FR.tar.gz"
    human = run_stager("plan", "-m", "p22", "-k", "316", "--to", "318", "--lang", "FR", "--catalog", tmp_path / "cat")
    assert human.code == 4 and "MISSING" in human.out and "Catalog: 1 file(s) missing" in human.err


def test_catalog_folder_that_does_not_exist(run_stager, tmp_path):
    r = run_stager("plan", "-m", "p22", "-k", "316", "--catalog", tmp_path / "none")
    assert r.code == 4 and len(r.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args,needle",
    [
        ([], "--site"),
        (["-m", "p22"], "--site"),
        (["-m", "p23", "-k", "318"], "model"),
        (["-m", "p22", "-k", "31"], "kit"),
        (["-m", "p22", "-k", "318", "--to", "newest"], "target kit"),
        (["-m", "p22", "-k", "318", "--router", "f3426"], "version"),
        (["-m", "p22", "-k", "318", "--built", "2023-13"], "month"),
        (["-m", "p22", "-k", "318", "--from-kit", "212"], "--from-kit"),
        (["-m", "p22", "-k", "318", "--site", "x.csv"], "--site"),
    ],
)
def test_bad_input_is_exit_2_without_a_traceback(run_stager, args, needle):
    r = run_stager("plan", *args)
    assert r.code == 2, r
    assert needle in r.err and "Traceback" not in r.err


PROBE = """
import sys, json
sys.argv = ["stager", "plan", "--model", "p22", "--kit", "212", "--router", "f3426:7", "--json"]
from stager.cli import main
try:
    main()
except SystemExit:
    pass
heavy = [m for m in ("psutil", "tqdm", "stager.card.staging", "stager.card.media") if m in sys.modules]
print(json.dumps(heavy), file=sys.stderr)
"""


def test_plan_imports_nothing_heavy():
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []
    assert json.loads(proc.stdout)["chargers"][0]["to"]["kit"] == 400


def test_a_file_whose_content_changed_is_not_found(run_stager, tmp_path):
    # names.md: a file whose content no longer matches its line is never staged, so the
    # plan never says "found" for it (prepare would refuse it, exit 4).
    write_catalog(tmp_path / "cat", ["PULSE22_OCPP318_KIP313A_FR.tar.gz"])
    (tmp_path / "cat" / "fw" / "PULSE22_OCPP318_KIP313A_FR.tar.gz").write_bytes(b"changed since it was indexed")
    r = run_stager(
        "plan",
        "-m",
        "p22",
        "-k",
        "316",
        "-t",
        "311",
        "--to",
        "318",
        "--lang",
        "FR",
        "--catalog",
        tmp_path / "cat",
        "--json",
    )
    assert r.code == 4, r
    (f,) = r.json()["bring"]["files"]
    assert f["found"] is False and f["name"] == "PULSE22_OCPP318_KIP313A_FR.tar.gz"
    assert r.json()["bring"]["cards"][0]["missing"] == ["PULSE22_OCPP318_KIP313A_FR.tar.gz"]
    human = run_stager(
        "plan", "-m", "p22", "-k", "316", "-t", "311", "--to", "318", "--lang", "FR", "--catalog", tmp_path / "cat"
    )
    assert "does not match line 1 of SHA256SUMS" in human.out and "cannot be made yet" in human.out


def test_each_file_is_looked_up_on_its_own(run_stager, tmp_path):
    # The .hex is in the catalog, the bundle is not: only the bundle is missing.
    have = write_catalog(tmp_path / "cat", ["KIP313A_FR.hex"])
    r = run_stager(
        "plan",
        "-m",
        "p22",
        "-k",
        "212",
        "-t",
        "241",
        "--to",
        "318",
        "--lang",
        "FR",
        "--hex",
        "--catalog",
        tmp_path / "cat",
        "--json",
    )
    assert r.code == 4, r
    files = {f["name"]: f for f in r.json()["bring"]["files"]}
    assert files["KIP313A_FR.hex"]["found"] is True
    assert files["KIP313A_FR.hex"]["sha256"] == have["KIP313A_FR.hex"][1]
    assert files["PULSE22_OCPP318_KIP313A_FR.tar.gz"]["found"] is False


def test_the_catalogs_pack_names_the_steps(run_stager, tmp_path):
    write_catalog(tmp_path / "cat", ["PULSE22_OCPP318_KIP313A_FR-EN.tar.gz", "KIP313A_FR-EN.hex"])
    r = run_stager(
        "plan", "-m", "p22", "-k", "316", "-t", "311", "--to", "318", "--hex", "--catalog", tmp_path / "cat", "--json"
    )
    assert r.code == 0, r
    steps = {s["code"]: s for s in only_charger(r)["steps"]}
    assert steps["stage-bundle"]["file"] == "PULSE22_OCPP318_KIP313A_FR-EN.tar.gz"
    assert steps["stlink-hex"]["file"] == "KIP313A_FR-EN.hex"
    assert "<LANG>" not in json.dumps(r.json())


def test_a_hex_alone_still_brings_the_bundle_prepare_puts_on_the_card(run_stager):
    r = run_stager("plan", "-m", "p22", "-k", "400", "-t", "400", "--lang", "FR", "--hex", "--json")
    assert r.code == 0, r
    assert step_codes(only_charger(r)) == ["stlink-hex"]
    bring = r.json()["bring"]
    (card,) = bring["cards"]
    assert card["files"] == ["PULSE22_OCPP400_KIP400A_FR.tar.gz", "KIP400A_FR.hex"]
    assert [f["name"] for f in bring["files"]] == card["files"] and card["command"].endswith("--lang FR --hex")


def test_no_terminal_none_in_the_checklist(run_stager):
    r = run_stager("plan", "-m", "p22", "-k", "318", "--to", "314")
    assert r.code == 3 and "None" not in r.out and "-> kit 314\n" in r.out
