"""The note's special rules (sections 2, 6 NB, end of note) and their combinations."""

import pytest

from stager.rules.engine import Query, decide
from stager.rules.inputs import RouterSpec


def refusals(d):
    return [r.code for r in d.refusals]


def warnings(d):
    return [w.code for w in d.warnings]


# --- forbidden kit 314 (section 6 NB), whatever the model --------------------------
@pytest.mark.parametrize(
    "model,terminal", [("p22", 311), ("p22", 312), ("p50", 308), ("p50", 309), ("wbac", 123), ("wbac", 124)]
)
def test_kit_314_refused_even_with_a_compatible_looking_terminal(model, terminal):
    d = decide(Query(model, 314, terminal))
    assert "forbidden-version" in refusals(d)
    assert not d.allowed
    assert "314" in d.refusals[0].message and "ne doit pas" in d.refusals[0].message


@pytest.mark.parametrize("model", ["p22", "p50", "wbac"])
def test_kit_314_refused_without_terminal(model):
    d = decide(Query(model, 314))
    assert refusals(d) == ["forbidden-version"]
    assert d.compatible_terminals == ()


# --- unknown kit / terminal ---------------------------------------------------------
@pytest.mark.parametrize("model,kit", [("p22", 999), ("p22", 100), ("p50", 310), ("wbac", 212), ("wbac", 310)])
def test_kit_not_in_the_model_table_is_unknown(model, kit):
    d = decide(Query(model, kit))
    assert refusals(d) == ["unknown-kit"]
    assert d.terminal is None


@pytest.mark.parametrize("model,terminal", [("p22", 220), ("p50", 241), ("wbac", 313), ("p22", 999)])
def test_terminal_not_in_the_model_table_is_unknown(model, terminal):
    d = decide(Query(model, 400, terminal))
    assert refusals(d) == ["unknown-terminal"]


# --- MASTER SD migration barrier (section 2) -----------------------------------------
@pytest.mark.parametrize(
    "from_kit,kit,refused",
    [
        (212, 310, True),
        (212, 318, True),
        (212, 400, True),
        (105, 311, True),
        (199, 400, True),
        (105, 212, False),
        (212, 212, False),
        (310, 318, False),
        (318, 400, False),
        (400, 318, False),
    ],
)
def test_master_sd_barrier(from_kit, kit, refused):
    d = decide(Query("p22", kit, from_kit=from_kit))
    assert ("master-sd-required" in refusals(d)) is refused
    if refused:
        msg = d.refusals[0].message
        assert "17806385" in msg and "NT-23006" in msg


def test_master_sd_reminder_without_from_kit_for_3xx_and_later():
    assert "master-sd-reminder" in warnings(decide(Query("p22", 318)))
    assert "master-sd-reminder" in warnings(decide(Query("p22", 400)))
    assert "master-sd-reminder" not in warnings(decide(Query("p22", 212)))
    assert "master-sd-reminder" not in warnings(decide(Query("p22", 318, from_kit=316)))


def test_same_version_is_said():
    d = decide(Query("p22", 318, from_kit=318))
    assert d.allowed and "same-version" in warnings(d) and "downgrade" not in warnings(d)


def test_downgrade_is_warned_not_refused():
    d = decide(Query("p22", 316, from_kit=318))
    assert d.allowed and "downgrade" in warnings(d)
    assert "downgrade" not in warnings(decide(Query("p22", 318, from_kit=316)))


# --- April-2023 terminals (section 2 NB) ---------------------------------------------
@pytest.mark.parametrize("model,kit,terminal", [("p22", 212, 241), ("p50", 212, 220)])
@pytest.mark.parametrize(
    "built,refused", [((2023, 3), False), ((2023, 4), True), ((2025, 1), True), ((2019, 12), False)]
)
def test_april_2023_blocks_2xx_terminals(model, kit, terminal, built, refused):
    d = decide(Query(model, kit, terminal, built=built))
    assert ("terminal-hardware" in refusals(d)) is refused


@pytest.mark.parametrize("model,kit,terminal", [("p22", 318, 313), ("p22", 310, 309), ("p50", 311, 307)])
def test_april_2023_allows_3xx_terminals(model, kit, terminal):
    assert decide(Query(model, kit, terminal, built=(2024, 6))).allowed


def test_april_2023_with_no_terminal_given_and_no_runnable_terminal():
    d = decide(Query("p22", 212, built=(2023, 4)))
    assert refusals(d) == ["terminal-hardware"]
    assert d.terminal == 241


def test_april_2023_with_no_terminal_given_chooses_a_runnable_one():
    d = decide(Query("p50", 318, built=(2023, 9)))
    assert d.allowed and d.terminal == 313


def test_april_2023_on_wbac_is_a_note_not_a_refusal():
    d = decide(Query("wbac", 312, 123, built=(2024, 2)))
    assert d.allowed
    assert "terminal-hardware-not-applicable" in warnings(d)
    assert "terminal-hardware-not-applicable" not in warnings(decide(Query("wbac", 312, built=(2022, 2))))


# --- OCPP protocol (section 2) ------------------------------------------------------
@pytest.mark.parametrize(
    "kit,ocpp,refused",
    [(212, "1.6", True), (212, "1.5", False), (310, "1.6", False), (318, "1.5", False), (400, "1.6", False)],
)
def test_ocpp_protocol(kit, ocpp, refused):
    d = decide(Query("p22", kit, ocpp=ocpp))
    assert ("ocpp-protocol" in refusals(d)) is refused


# --- MID meters (section 2 NB) -------------------------------------------------------
@pytest.mark.parametrize(
    "model,kit,refused",
    [("p22", 212, True), ("p22", 310, False), ("p50", 212, True), ("p50", 311, False), ("wbac", 311, False)],
)
def test_mid_meter_from_kit_310(model, kit, refused):
    d = decide(Query(model, kit, mid=True))
    assert ("mid-meter" in refusals(d)) is refused


# --- latest version (end of the note) ------------------------------------------------
def test_newer_kit_available():
    d = decide(Query("p50", 318))
    assert "newer-kit-available" in warnings(d)
    assert "400" in next(w.message for w in d.warnings if w.code == "newer-kit-available")
    assert "newer-kit-available" not in warnings(decide(Query("p50", 400)))


# --- combinations -------------------------------------------------------------------
def test_master_sd_jump_with_a_router_condition():
    d = decide(Query("p50", 318, from_kit=212, router=RouterSpec("f3426", 9)))
    assert refusals(d) == ["master-sd-required"]
    assert [c.code for c in d.conditions] == ["static-lan-ip"]


def test_master_sd_jump_with_an_incompatible_router():
    d = decide(Query("p22", 318, from_kit=212, router=RouterSpec("f3426", 7)))
    assert refusals(d) == ["master-sd-required", "router-incompatible"]


def test_many_refusals_at_once():
    d = decide(Query("p22", 212, 241, built=(2023, 5), ocpp="1.6", mid=True, router=RouterSpec("f3426", 8)))
    assert set(refusals(d)) == {"terminal-hardware", "ocpp-protocol", "mid-meter", "router-incompatible"}


def test_forbidden_kit_with_router_and_mid():
    d = decide(Query("p22", 314, 311, mid=True, router=RouterSpec("f3426", 8)))
    assert "forbidden-version" in refusals(d)


def test_allowed_is_false_exactly_when_refusals():
    for q in (Query("p22", 318), Query("p22", 314), Query("p22", 318, 241)):
        d = decide(q)
        assert d.allowed is (len(d.refusals) == 0)
        assert d.to_json()["allowed"] is d.allowed


def test_no_advice_noise_on_a_forbidden_or_unknown_kit():
    for d in (decide(Query("wbac", 314)), decide(Query("p22", 999))):
        assert warnings(d) == []


@pytest.mark.parametrize(
    "router,version,kit,advice",
    [
        ("f3426", 7, 318, "Update the router to version 8"),
        ("f3426", 9, 212, "Put the router back on version 7"),  # going down is said as such
        ("f3x26q", 8, 212, "Put the router back on version 7"),
    ],
)
def test_router_advice_says_which_way(router, version, kit, advice):
    d = decide(Query("p22", kit, router=RouterSpec(router, version)))
    (r,) = [r for r in d.refusals if r.code == "router-incompatible"]
    assert advice in r.message
