"""Item 8 and 9 of issue 13 through the installed stager: the April-2023 reminder, the
standing reminders in one line each (full text in check and with --explain, after the
cards' warnings in prepare), and --kit latest (the rules engine's newest_allowed)."""

from __future__ import annotations

import itertools

import pytest

from stager.catalog.demo import build_demo_catalog
from stager.rules.engine import Query, decide, newest_allowed
from stager.rules.inputs import RouterSpec
from stager.rules.loader import rules

FULL_MASTER = "it must first be migrated with the MASTER SD"
BRIEF_MASTER = "a charger still on a 1XX or 2XX kit needs the MASTER SD first"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


def codes(run_stager, *args):
    r = run_stager("check", *args, "--json")
    return r.code, r.json(), [w["code"] for w in r.json()["warnings"]]


@pytest.mark.parametrize(
    "args, expected",
    [
        (("-m", "p50", "-k", "212"), True),  # terminal 220, a 2XX version
        (("-m", "p22", "-k", "212", "-t", "241"), True),
        (("-m", "p22", "-k", "318"), False),  # terminal 313, a 3XX version
        (("-m", "p50", "-k", "212", "--built", "2022-06"), False),  # the build month is known: no reminder
        (("-m", "wbac", "-k", "311"), False),  # the WB-AC LED terminal: the rule is not stated for it
    ],
)
def test_april_2023_reminder_without_built(run_stager, args, expected):
    code, _, found = codes(run_stager, *args)
    assert code == 0
    assert ("april-2023-reminder" in found) is expected, found


def test_april_2023_after_the_month_is_a_refusal_not_a_reminder(run_stager):
    r = run_stager("check", "-m", "p50", "-k", "212", "--built", "2023-05", "--json")
    assert r.code == 3
    assert [x["code"] for x in r.json()["refusals"]] == ["terminal-hardware"]
    assert "april-2023-reminder" not in [w["code"] for w in r.json()["warnings"]]


def test_check_gives_the_full_text(run_stager):
    r = run_stager("check", "-m", "p50", "-k", "212")
    assert "give --built YYYY-MM to check" in r.out
    assert "MADIC INDUSTRIES recommends the latest OCPP version" in r.out


def test_prepare_reminders_one_line_each_after_the_card_warnings(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    args = ["prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", demo, "--allow-fixed", "--yes", "-q"]
    r = run_stager(*args, "--target", card)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert FULL_MASTER not in r.out
    head = lines.index("Reminders (--explain for the full text):")
    reminders = lines[head + 1 :]
    assert len(reminders) == 2 and BRIEF_MASTER in reminders[0] and "newer-kit-available" in reminders[1]
    staged = next(i for i, line in enumerate(lines) if line.startswith("READY"))  # the summary's verdict
    card_warning = next(i for i, line in enumerate(lines) if line.startswith(f"Warning: {card}"))
    assert card_warning < staged < head

    card2 = tmp_path / "card2"
    card2.mkdir()
    r = run_stager(*args, "--target", card2, "--explain")
    assert r.code == 0, r
    assert FULL_MASTER in r.out and "Reminders (--explain" not in r.out


def test_plan_reminders_one_line_then_full_with_explain(run_stager):
    r = run_stager("plan", "-m", "p50", "-k", "212", "-t", "220", "--to", "212")
    assert "Terminal 220 is 2XX" not in r.out  # the charger already runs 220: its hardware runs it
    r = run_stager("plan", "-m", "p50", "-k", "311", "-t", "307", "--to", "313")
    assert "warning: A newer kit exists for the Pulse 50: 400 (MADIC INDUSTRIES recommends the latest)." in r.out
    r = run_stager("plan", "-m", "p50", "-k", "311", "-t", "307", "--to", "313", "--explain")
    assert "MADIC INDUSTRIES recommends the latest OCPP version" in r.out


# --------------------------------------------------------------------------- --kit latest
def test_check_kit_latest(run_stager):
    code, doc, found = codes(run_stager, "-m", "p22", "-k", "latest")
    assert code == 0 and doc["kit"] == 400 and doc["kit_chosen"] is True
    assert "newer-kit-available" not in found
    code, doc, _ = codes(run_stager, "-m", "p22", "-k", "LATEST", "--router", "f3426:7")
    assert code == 0 and doc["kit"] == 212 and doc["allowed"]  # router 7 works with 2XX kits only
    code, doc, _ = codes(run_stager, "-m", "p22", "-k", "318")
    assert doc["kit_chosen"] is False


def test_check_kit_latest_when_no_kit_is_allowed(run_stager):
    # On 212 without the MASTER SD only 2XX kits, which speak OCPP 1.5 only.
    r = run_stager("check", "-m", "p22", "-k", "latest", "--from-kit", "212", "--ocpp", "1.6")
    assert r.code == 3, r
    assert "no kit of the table is allowed with these options" in r.out


def test_prepare_kit_latest_stages_the_newest(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    r = run_stager(
        "prepare", "-m", "p22", "-k", "latest", "--lang", "FR", "--catalog", demo, "--allow-fixed", "--yes",
        "--target", card, "--json",
    )  # fmt: skip
    assert r.code == 0, r
    assert (card / "PULSE22_OCPP400_KIP400A_FR.tar.gz").is_file()


def test_plan_kit_is_the_kit_installed_now(run_stager):
    r = run_stager("plan", "-m", "p22", "-k", "latest")
    assert r.code == 2
    assert "in plan, --kit is the kit installed now" in r.err


OPTIONS = {
    "built": [None, (2022, 6), (2023, 5)],
    "ocpp": [None, "1.6"],
    "mid": [False, True],
    "router": [None, RouterSpec("f3426", 7), RouterSpec("f3x26q", 9)],
    "from_kit": [None, 212],
}


@pytest.mark.parametrize("model", ["p22", "p50", "wbac"])
def test_newest_allowed_is_the_highest_kit_decide_allows(model):
    r = rules()
    for values in itertools.product(*OPTIONS.values()):
        opts = dict(zip(OPTIONS, values, strict=True))
        got = newest_allowed(Query(model, 0, **opts))
        allowed = [k for k in r.models[model].kits if decide(Query(model, k, **opts)).allowed]
        if allowed:
            assert got.allowed and got.kit == max(allowed), opts
        else:
            assert not got.allowed, opts
        assert got.query.kit_latest
