"""The command-line contract of `stager check` and `stager matrix` (installed stager, subprocess)."""

import pytest
from helpers.note_tables import TABLES

CHECK_KEYS = {"allowed", "model", "kit", "terminal", "compatible_terminals", "refusals", "conditions", "warnings"}


def test_allowed_exit_0_and_json_keys(run_stager):
    r = run_stager("check", "--model", "p22", "--kit", "318", "--json")
    assert r.code == 0, r
    doc = r.json()
    assert set(doc) >= CHECK_KEYS
    assert doc["allowed"] is True and doc["model"] == "p22" and doc["kit"] == 318
    assert doc["terminal"] == 313 and doc["compatible_terminals"] == [312, 313]
    assert doc["refusals"] == []
    for w in doc["warnings"]:
        assert set(w) == {"code", "message"}


def test_refused_exit_3_with_json(run_stager):
    r = run_stager("check", "--model", "wbac", "--kit", "314", "--terminal", "123", "--json")
    assert r.code == 3, r
    doc = r.json()
    assert doc["allowed"] is False
    assert [x["code"] for x in doc["refusals"]] == ["forbidden-version"]


@pytest.mark.parametrize(
    "model,kit,terminal,ok",
    [
        ("p22", 318, 313, True),
        ("p22", 318, 311, False),
        ("p50", 317, 310, True),
        ("p50", 212, 307, False),
        ("wbac", 400, 200, True),
        ("wbac", 316, 124, False),
    ],
)
def test_cells_through_the_cli(run_stager, model, kit, terminal, ok):
    r = run_stager("check", "-m", model, "-k", kit, "-t", terminal, "--json")
    assert r.code == (0 if ok else 3), r
    assert r.json()["allowed"] is ok


def test_human_output(run_stager):
    r = run_stager("check", "--model", "Pulse-50", "--kit", "318", "--from-kit", "212", "--router", "f3426:9")
    assert r.code == 3
    assert r.out.startswith("REFUSED")
    assert "master-sd-required" in r.out and "17806385" in r.out
    assert "LAN_StaticIP" in r.out  # note 1 in full
    assert "\x1b[" not in r.out  # no colour when piped


def test_conditions_in_json(run_stager):
    r = run_stager("check", "-m", "p22", "-k", "318", "--router", "f3x26q:8", "--json")
    assert r.code == 0
    assert [c["code"] for c in r.json()["conditions"]] == ["multi-operator-sim"]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--model", "p23", "--kit", "318"], "Valid models"),
        (["--model", "p22", "--kit", "abc"], "3-digit"),
        (["--model", "p22", "--kit", "318", "--terminal", "31"], "3-digit"),
        (["--model", "p22", "--kit", "318", "--built", "2023-13"], "month"),
        (["--model", "p22", "--kit", "318", "--ocpp", "2.0"], "1.5"),
        (["--model", "p22", "--kit", "318", "--router", "f3426"], "no firmware version"),
        (["--model", "p22", "--kit", "318", "--router", "tplink:9"], "unknown router"),
        (["--model", "p22"], "Missing option"),
    ],
)
def test_bad_input_exit_2_one_line(run_stager, args, needle):
    r = run_stager("check", *args)
    assert r.code == 2, r
    assert needle in r.err
    assert "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert r.out == ""


def test_bad_input_with_json_gives_the_failure_envelope(run_stager):
    r = run_stager("check", "--model", "p22", "--kit", "abc", "--json")
    assert r.code == 2
    assert r.json() == {
        "ok": False,
        "error": {"code": "bad-input", "message": r.json()["error"]["message"]},
        "lang": "en",
    }


def test_matrix_json_matches_the_note(run_stager):
    r = run_stager("matrix", "--json")
    assert r.code == 0
    doc = r.json()
    for model in doc["models"]:
        terminals, ok = TABLES[model["model"]]
        assert model["terminals"] == terminals
        for row in model["kits"]:
            assert set(row["compatible_terminals"]) == ok[row["kit"]]
    assert doc["forbidden_kits"] == [314]
    assert {r["router"] for r in doc["routers"]} == {"f3426", "f3x26q"}


def test_matrix_human_is_plain_when_piped(run_stager):
    r = run_stager("matrix", "--model", "wbac")
    assert r.code == 0
    assert "Pulse WB-AC" in r.out and "Pulse 50" not in r.out
    assert "\x1b[" not in r.out
    assert "F3426" in r.out and "note 1" in r.out


def test_matrix_unknown_model(run_stager):
    r = run_stager("matrix", "--model", "p99")
    assert r.code == 2 and "Valid models" in r.err


def test_version(run_stager):
    r = run_stager("--version")
    assert r.code == 0 and "stager" in r.out


def test_a_refused_terminal_is_never_called_allowed(run_stager):
    r = run_stager("check", "-m", "p22", "-k", "212", "--built", "2023-04")
    assert r.code == 3 and "terminal-hardware" in r.out
    assert "newest allowed" not in r.out and "terminal 241 (newest of the table for this kit)" in r.out
