"""`stager plan` for one charger, through the library: each step kind, each router cell,
each reading of the current state. Expected values come from my own reading of the
note (sections 2, 3, 4-6 and 7), written out here, not from the rules data."""

from __future__ import annotations

import re

import pytest

from stager.plan.charger import Charger, plan_charger
from stager.rules.inputs import RouterSpec


def plan(**kw):
    kw.setdefault("id", "1")
    if isinstance(kw.get("router"), str):
        name, version = kw["router"].split(":")
        kw["router"] = RouterSpec(name, int(version))
    return plan_charger(Charger(**kw))


def steps(p):
    return p.to_json()["steps"]


def card_files(p):
    """What the card `stager prepare` makes for this plan holds (bundle first)."""
    return [f.name for f in p.files]


def codes(p):
    return [s["code"] for s in steps(p)]


def step(p, code):
    (s,) = [s for s in steps(p) if s["code"] == code]
    return s


def warning_codes(p):
    return [w.code for w in p.warnings]


def refusal_codes(p):
    return [r.code for r in p.refusals]


# --------------------------------------------------------------------------- kit migration (section 2)
def test_2xx_to_400_goes_through_the_master_sd_then_the_bundle():
    p = plan(model="p50", kit=212, terminal=220, built=(2022, 6), lang="FR")
    assert (p.to_kit, p.to_terminal) == (400, 400)
    assert codes(p) == ["master-sd", "stage-bundle"]
    master = step(p, "master-sd")["message"]
    assert "17806385" in master and "NT-23006" in master and "MASTER SD" in master
    bundle = step(p, "stage-bundle")
    assert bundle["file"] == "PULSE50_OCPP400_KIP400B_FR.tar.gz"
    assert "after the MASTER SD" in bundle["message"]
    assert p.refusals == [] and "master-sd-reminder" not in warning_codes(p)


def test_2xx_to_3xx_also_needs_the_master_sd():
    p = plan(model="p22", kit=212, terminal=241, to=318, lang="FR")
    assert codes(p) == ["master-sd", "stage-bundle"]
    assert (p.to_kit, p.to_terminal) == (318, 313)  # 318 row: 312 and 313, the newest
    assert step(p, "stage-bundle")["file"] == "PULSE22_OCPP318_KIP313A_FR.tar.gz"


def test_1xx_to_2xx_needs_no_master_sd_and_is_not_impossible():
    # The tables start at 2XX: a 1XX kit has no row, but the note knows 1XX kits
    # ("1XX vers 2XX sans aucun problème"), so the plan is made, with a warning that the
    # installed pairing cannot be checked, and no refusal.
    p = plan(model="p22", kit=105, terminal=150, to=212, lang="FR")
    assert codes(p) == ["stage-bundle"]
    assert step(p, "stage-bundle")["file"] == "OCPP212_KIP241A_FR.bin"
    assert (p.to_kit, p.to_terminal) == (212, 241)
    assert p.refusals == []
    assert {"kit-older-than-table", "terminal-older-than-table"} <= set(warning_codes(p))


def test_1xx_to_2xx_pulse_50():
    p = plan(model="p50", kit=110, to=212, lang="EN")
    assert codes(p) == ["stage-bundle"]
    assert step(p, "stage-bundle")["file"] == "OCPP212_KIP220B_EN.bin"


def test_1xx_to_latest_needs_the_master_sd():
    p = plan(model="p22", kit=105, lang="FR")
    assert codes(p) == ["master-sd", "stage-bundle"] and p.to_kit == 400


def test_1xx_terminal_built_from_april_2023_is_impossible():
    p = plan(model="p22", kit=105, terminal=150, built=(2023, 5), to=212)
    assert "terminal-hardware" in refusal_codes(p)


# --------------------------------------------------------------------------- nothing to do, downgrade
def test_already_up_to_date():
    p = plan(model="p22", kit=400, terminal=400, router="f3426:8")
    assert codes(p) == ["nothing-to-do"] and p.files == [] and p.refusals == []
    assert card_files(p) == []


def test_already_up_to_date_wbac():
    p = plan(model="wbac", kit=400, terminal=200)
    assert codes(p) == ["nothing-to-do"]


def test_already_on_the_kit_without_a_terminal_says_to_check_it():
    p = plan(model="p50", kit=400)
    assert codes(p) == ["nothing-to-do"]
    assert "terminal was not given" in step(p, "nothing-to-do")["message"]


def test_same_kit_older_terminal_stages_the_newest_terminal():
    p = plan(model="p22", kit=318, terminal=312, to=318, lang="FR")
    assert codes(p) == ["stage-bundle"] and p.to_terminal == 313


def test_downgrade_is_allowed_and_warned():
    p = plan(model="p22", kit=318, terminal=313, to=316, lang="FR")
    assert codes(p) == ["stage-bundle"] and p.refusals == []
    assert "downgrade" in warning_codes(p)
    assert p.to_terminal == 311  # the 316 row: 311 only
    assert step(p, "stage-bundle")["file"] == "PULSE22_OCPP316_KIP311A_FR.tar.gz"


def test_upgrade_is_not_a_downgrade():
    assert "downgrade" not in warning_codes(plan(model="p22", kit=316, terminal=311, to=318))


# --------------------------------------------------------------------------- target: MID, protocol, 314, hardware
def test_mid_meter_refuses_a_target_below_310():
    p = plan(model="p22", kit=212, terminal=241, mid=True, to=212)
    assert refusal_codes(p) == ["mid-meter"] and p.steps == []


def test_mid_meter_accepts_310_and_latest():
    assert plan(model="p22", kit=212, terminal=241, mid=True, to=310).refusals == []
    p = plan(model="p50", kit=212, terminal=220, mid=True)
    assert p.to_kit == 400 and p.refusals == []


def test_ocpp_16_refuses_a_2xx_target():
    assert refusal_codes(plan(model="p22", kit=212, terminal=241, ocpp="1.6", to=212)) == ["ocpp-protocol"]


def test_314_is_never_a_target():
    assert refusal_codes(plan(model="p22", kit=313, terminal=310, to=314)) == ["forbidden-version"]


def test_installed_314_is_a_state_the_note_rules_out_and_is_still_replaced():
    # Section 6 NB: 314 "ne doit pas être utilisée": a charger running it is reported (exit 3)
    p = plan(model="p22", kit=314, lang="FR")
    assert refusal_codes(p) == ["forbidden-version"] and p.ruled_out == p.refusals
    assert "Installed now, kit 314" in p.refusals[0].message
    assert p.to_kit == 400 and codes(p) == ["stage-bundle"]


def test_latest_takes_the_hardware_into_account():
    # built from April 2023: no 1XX/2XX terminal, so 212 is no target; 400 is.
    p = plan(model="p22", kit=310, terminal=309, built=(2024, 1))
    assert (p.to_kit, p.to_terminal) == (400, 400) and p.refusals == []


def test_a_target_2xx_on_april_2023_hardware_is_refused():
    p = plan(model="p50", kit=311, terminal=307, built=(2023, 4), to=212)
    assert "terminal-hardware" in refusal_codes(p) and p.steps == []


# --------------------------------------------------------------------------- impossible current states
def test_april_2023_terminal_running_2xx_is_impossible_but_still_planned():
    p = plan(model="p22", kit=212, terminal=241, built=(2023, 6))
    assert "terminal-hardware" in refusal_codes(p)
    assert any("Installed now" in r.message for r in p.refusals)
    assert p.to_kit == 400 and codes(p) == ["master-sd", "stage-bundle"]


def test_installed_pair_ko_in_the_table_is_impossible():
    p = plan(model="p22", kit=318, terminal=241)
    assert "incompatible-terminal" in refusal_codes(p)
    assert "stage-bundle" in codes(p)


def test_unknown_installed_kit_is_impossible():
    p = plan(model="p22", kit=205)  # a 2XX the table (which has 212) does not know
    assert refusal_codes(p) == ["unknown-kit"]
    assert codes(p) == ["master-sd", "stage-bundle"]


def test_unknown_installed_terminal_is_impossible():
    assert "unknown-terminal" in refusal_codes(plan(model="p50", kit=318, terminal=312))


def test_unknown_router_version_is_impossible_and_the_update_planned():
    p = plan(model="p22", kit=318, terminal=313, router="f3426:6", to=318)
    assert refusal_codes(p) == ["router-unknown"]
    s = step(p, "router-update")
    assert (s["from"], s["to"]) == (6, 8)


def test_router_ko_with_the_installed_kit_is_a_warning():
    p = plan(model="p22", kit=212, terminal=241, router="f3426:8")
    assert "router-ko-now" in warning_codes(p) and p.refusals == []
    assert "router-update" not in codes(p)  # 8 suits the target 400


# --------------------------------------------------------------------------- ST-LINK .hex (section 3.2)
def test_hex_step_after_the_bundle_3xx_terminal_has_its_pack():
    p = plan(model="p22", kit=316, terminal=311, to=318, lang="FR", with_hex=True)
    assert codes(p) == ["stage-bundle", "stlink-hex"]
    s = step(p, "stlink-hex")
    assert s["file"] == "KIP313A_FR.hex"
    assert "4.6" in s["message"] and "NT-23017" in s["message"] and "ST-LINK" in s["message"]
    assert card_files(p) == ["PULSE22_OCPP318_KIP313A_FR.tar.gz", "KIP313A_FR.hex"]


def test_hex_of_a_2xx_terminal_has_no_pack():
    p = plan(model="p50", kit=105, to=212, lang="FR", with_hex=True)
    assert step(p, "stlink-hex")["file"] == "KIP220B.hex"


def test_hex_alone_still_makes_a_card():
    p = plan(model="p22", kit=400, terminal=400, lang="FR", with_hex=True)
    assert codes(p) == ["stlink-hex"]
    assert card_files(p) == ["PULSE22_OCPP400_KIP400A_FR.tar.gz", "KIP400A_FR.hex"]


def test_every_step_kind_in_site_order():
    p = plan(model="p22", kit=212, terminal=241, router="f3426:7", lang="FR", with_hex=True)
    assert codes(p) == ["master-sd", "stage-bundle", "stlink-hex", "router-update"]
    p = plan(model="p22", kit=212, terminal=241, router="f3426:9", lang="FR", with_hex=True)
    assert codes(p) == ["master-sd", "stage-bundle", "stlink-hex", "router-config"]


# --------------------------------------------------------------------------- routers (section 7)
def test_f3426_at_9_moving_to_316_plus_stays_with_note_1_in_full():
    p = plan(model="p22", kit=316, terminal=311, router="f3426:9", to=318)
    assert codes(p) == ["stage-bundle", "router-config"]
    s = step(p, "router-config")
    assert s["condition"] == "static-lan-ip" and s["router"] == "f3426"
    text = s["message"]
    # Note 1, every line of it.
    for pattern in (
        r"192\.168\.1\.254:5000",
        r"Read Configuration",
        r"Network",
        r"LAN_Mode\D+true",
        r"LAN_DHCP\D+false",
        r"DNS 1\D+192\.168\.1\.1\b",
        r"LAN_Gateway\D+192\.168\.1\.1\b",
        r"LAN_NetMask\D+255\.255\.255\.0",
        r"LAN_Network\D+192\.168\.1\.0",
        r"LAN_StaticIP\D+192\.168\.1\.254",
        r"\bUpdate\b",
        r"ICCID",
        r"site visit",
    ):
        assert re.search(pattern, text), pattern


def test_f3x26q_at_8_moving_to_316_plus_stays_with_note_2():
    p = plan(model="p50", kit=316, terminal=309, router="f3x26q:8", to=400)
    assert codes(p) == ["stage-bundle", "router-config"]
    s = step(p, "router-config")
    assert s["condition"] == "multi-operator-sim"
    assert "multi-operator" in s["message"] and "version 9" in s["message"]


def test_f3x26q_at_9_moving_to_3xx_stays_with_note_3():
    p = plan(model="p22", kit=212, terminal=241, router="f3x26q:9", to=313)
    s = step(p, "router-config")
    assert s["condition"] == "dhcp-4g" and "NT23013" in s["message"]


def test_f3426_at_7_moving_to_3xx_is_updated_to_8_on_site():
    p = plan(model="p22", kit=212, terminal=241, router="f3426:7", to=313)
    assert codes(p) == ["master-sd", "stage-bundle", "router-update"]
    s = step(p, "router-update")
    assert (s["router"], s["from"], s["to"]) == ("f3426", 7, 8)
    assert "site visit" in s["message"]


# Every cell of sections 7.1 and 7.2 as I read them. For a target kit of each class the
# router stays (with the cell's note as a router-config step) or is updated to the
# version of that class's column that is OK with no note, the highest of those:
#   F3426   2XX: 7      3XX: 8      316+: 8, 9 (note 1)   -> 7, 8, 8
#   F3X26Q  2XX: 7      3XX: 8, 9 (note 3)   316+: 8 (note 2), 9   -> 7, 8, 9
ROUTER_CASES = {
    ("f3426", 7, "2XX"): ("stay", None),
    ("f3426", 7, "3XX"): ("update", 8),
    ("f3426", 7, "316+"): ("update", 8),
    ("f3426", 8, "2XX"): ("update", 7),
    ("f3426", 8, "3XX"): ("stay", None),
    ("f3426", 8, "316+"): ("stay", None),
    ("f3426", 9, "2XX"): ("update", 7),
    ("f3426", 9, "3XX"): ("update", 8),
    ("f3426", 9, "316+"): ("stay", "static-lan-ip"),
    ("f3x26q", 7, "2XX"): ("stay", None),
    ("f3x26q", 7, "3XX"): ("update", 8),
    ("f3x26q", 7, "316+"): ("update", 9),
    ("f3x26q", 8, "2XX"): ("update", 7),
    ("f3x26q", 8, "3XX"): ("stay", None),
    ("f3x26q", 8, "316+"): ("stay", "multi-operator-sim"),
    ("f3x26q", 9, "2XX"): ("update", 7),
    ("f3x26q", 9, "3XX"): ("stay", "dhcp-4g"),
    ("f3x26q", 9, "316+"): ("stay", None),
}
# An installed pair already on the target, one per class (so only the router can move).
CLASS_TARGET = {"2XX": ("p22", 212, 241), "3XX": ("p50", 315, 308), "316+": ("p22", 400, 400)}


@pytest.mark.parametrize("router,version,cls", list(ROUTER_CASES))
def test_every_router_cell(router, version, cls):
    kind, what = ROUTER_CASES[(router, version, cls)]
    model, kit, terminal = CLASS_TARGET[cls]
    p = plan(model=model, kit=kit, terminal=terminal, router=f"{router}:{version}", to=kit)
    if kind == "stay":
        assert "router-update" not in codes(p)
        assert [s.get("condition") for s in steps(p) if s["code"] == "router-config"] == ([what] if what else [])
        assert codes(p) == (["router-config"] if what else ["nothing-to-do"])
    else:
        s = step(p, "router-update")
        assert (s["router"], s["from"], s["to"]) == (router, version, what)
        assert codes(p) == ["router-update"]  # the version named has no condition
        assert "site visit" in s["message"]


@pytest.mark.parametrize("kit,cls", [(310, "3XX"), (315, "3XX"), (316, "316+"), (318, "316+"), (400, "316+")])
def test_class_edges(kit, cls):
    # "3XX" up to 315, "316 ou plus" from 316 (400 included): F3X26Q at 7 goes to 8 / 9.
    terminals = {310: 309, 315: 311, 316: 311, 318: 313, 400: 400}
    p = plan(model="p22", kit=kit, terminal=terminals[kit], router="f3x26q:7", to=kit)
    assert step(p, "router-update")["to"] == {"3XX": 8, "316+": 9}[cls]


def test_a_router_above_the_version_the_kit_needs_is_put_back_not_updated():
    # F3X26Q section 7.2: a 2XX kit works with version 7 only; version 9 is KO.
    p = plan(model="p22", kit=212, terminal=241, to=212, router="f3x26q:9", lang="FR")
    step = next(s for s in p.steps if s.code == "router-update")
    assert step.message.startswith("Put router F3X26Q back from version 9 to 7:"), step.message
    assert step.extra == {"router": "f3x26q", "from": 9, "to": 7}
