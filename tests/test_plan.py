"""`stager plan` for one charger: each step kind and each router cell, from my own
reading of the note (sections 2, 4-7), through the library."""

from __future__ import annotations

import pytest

from stager.inputs import RouterSpec
from stager.plan import Charger, plan_charger


def plan(**kw):
    kw.setdefault("id", "1")
    return plan_charger(Charger(**kw))


def codes(p):
    return [s["code"] for s in p.to_json()["steps"]]


def test_2xx_to_400_through_the_master_sd():
    p = plan(model="p50", kit=212, terminal=220, built=(2022, 6))
    assert (p.to_kit, p.to_terminal) == (400, 400)
    assert codes(p) == ["master-sd", "stage-bundle"]
    master = p.to_json()["steps"][0]["message"]
    assert "17806385" in master and "NT-23006" in master
    assert p.to_json()["steps"][1]["file"] == "PULSE50_OCPP400_KIP400B_<LANG>.tar.gz"


def test_1xx_to_2xx_without_master_sd():
    p = plan(model="p22", kit=105, to=212, lang="FR")
    assert codes(p) == ["stage-bundle"] and p.refusals == []
    assert p.to_json()["steps"][0]["file"] == "OCPP212_KIP241A_FR.bin"
    assert "kit-older-than-tables" in [w.code for w in p.warnings]


def test_already_up_to_date():
    p = plan(model="p22", kit=400, terminal=400, router=RouterSpec("f3426", 8))
    assert codes(p) == ["nothing-to-do"] and p.files == []


def test_downgrade_is_warned():
    p = plan(model="p22", kit=318, terminal=313, to=316)
    assert codes(p) == ["stage-bundle"] and "downgrade" in [w.code for w in p.warnings]
    assert p.to_terminal == 311


def test_f3426_at_9_moving_to_316_plus_stays_with_note_1_in_full():
    p = plan(model="p22", kit=316, terminal=311, router=RouterSpec("f3426", 9), to=318)
    assert codes(p) == ["stage-bundle", "router-config"]
    step = p.to_json()["steps"][1]
    assert step["condition"] == "static-lan-ip"
    for needle in ("192.168.1.254:5000", "LAN_Mode to true", "LAN_DHCP to false", "DNS 1 to 192.168.1.1",
                   "LAN_Gateway", "LAN_NetMask to 255.255.255.0", "LAN_Network to 192.168.1.0",
                   "LAN_StaticIP to 192.168.1.254", "Update", "ICCID", "site visit"):
        assert needle in step["message"]


def test_f3x26q_at_8_moving_to_316_plus_stays_with_note_2():
    p = plan(model="p50", kit=316, terminal=309, router=RouterSpec("f3x26q", 8), to=400)
    assert codes(p) == ["stage-bundle", "router-config"]
    assert p.to_json()["steps"][1]["condition"] == "multi-operator-sim"
    assert "version 9" in p.to_json()["steps"][1]["message"]


def test_f3426_at_7_moving_to_3xx_updates_to_8():
    p = plan(model="p22", kit=212, terminal=241, router=RouterSpec("f3426", 7), to=313)
    assert codes(p) == ["master-sd", "stage-bundle", "router-update"]
    step = p.to_json()["steps"][2]
    assert (step["router"], step["from"], step["to"]) == ("f3426", 7, 8)
    assert "site visit" in step["message"]


def test_mid_meter_refuses_a_kit_below_310():
    p = plan(model="p22", kit=212, terminal=241, mid=True, to=212)
    assert [r.code for r in p.refusals] == ["mid-meter"]


def test_mid_meter_with_latest_is_at_least_310():
    p = plan(model="p50", kit=212, terminal=220, mid=True, ocpp="1.6")
    assert p.to_kit >= 310 and p.refusals == []


def test_april_2023_terminal_on_2xx_is_an_impossible_state_but_still_planned():
    p = plan(model="p22", kit=212, terminal=241, built=(2023, 6))
    assert "terminal-hardware" in [r.code for r in p.refusals]
    assert p.to_kit == 400 and "stage-bundle" in codes(p)


def test_latest_respects_the_april_2023_hardware():
    p = plan(model="p22", kit=310, terminal=309, built=(2024, 1), to=None)
    assert p.to_terminal == 400 and p.refusals == []


def test_current_pair_ko_is_impossible():
    p = plan(model="p22", kit=318, terminal=241)
    assert "incompatible-terminal" in [r.code for r in p.refusals]


def test_hex_step_after_the_bundle():
    p = plan(model="p22", kit=316, terminal=311, to=318, lang="FR", hex=True)
    assert codes(p) == ["stage-bundle", "stlink-hex"]
    assert p.to_json()["steps"][1]["file"] == "KIP313A_FR.hex"
    assert "4.6" in p.to_json()["steps"][1]["message"] and "NT-23017" in p.to_json()["steps"][1]["message"]


# Every router cell, from sections 7.1 and 7.2 as I read them: for a target kit of
# each class, the router stays (maybe with a note) or is updated to the version named.
ROUTER_CASES = {
    # (router, version, class): ("stay", note code or None) | ("update", to)
    ("f3426", 7, "2XX"): ("stay", None), ("f3426", 7, "3XX"): ("update", 8), ("f3426", 7, "316+"): ("update", 8),
    ("f3426", 8, "2XX"): ("update", 7), ("f3426", 8, "3XX"): ("stay", None), ("f3426", 8, "316+"): ("stay", None),
    ("f3426", 9, "2XX"): ("update", 7), ("f3426", 9, "3XX"): ("update", 8),
    ("f3426", 9, "316+"): ("stay", "static-lan-ip"),
    ("f3x26q", 7, "2XX"): ("stay", None), ("f3x26q", 7, "3XX"): ("update", 8), ("f3x26q", 7, "316+"): ("update", 9),
    ("f3x26q", 8, "2XX"): ("update", 7), ("f3x26q", 8, "3XX"): ("stay", None),
    ("f3x26q", 8, "316+"): ("stay", "multi-operator-sim"),
    ("f3x26q", 9, "2XX"): ("update", 7), ("f3x26q", 9, "3XX"): ("stay", "dhcp-4g"), ("f3x26q", 9, "316+"): ("stay", None),
}
CLASS_TARGET = {"2XX": (212, 241), "3XX": (315, 311), "316+": (318, 313)}


@pytest.mark.parametrize("router,version,cls", list(ROUTER_CASES))
def test_every_router_cell(router, version, cls):
    kind, what = ROUTER_CASES[(router, version, cls)]
    to_kit, terminal = CLASS_TARGET[cls]
    p = plan(model="p22", kit=to_kit, terminal=terminal, router=RouterSpec(router, version), to=to_kit)
    steps = p.to_json()["steps"]
    if kind == "stay":
        assert not any(s["code"] == "router-update" for s in steps)
        configs = [s["condition"] for s in steps if s["code"] == "router-config"]
        assert configs == ([what] if what else [])
        if not what:
            assert [s["code"] for s in steps] == ["nothing-to-do"]
    else:
        (update,) = [s for s in steps if s["code"] == "router-update"]
        assert (update["from"], update["to"]) == (version, what)
