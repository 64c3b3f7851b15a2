"""Every cell of the note's tables, through the engine (sections 4, 5, 6, 7)."""

import pytest
from helpers.note_tables import CLASS_KITS, NOTE_CODES, ROUTERS, TABLES, all_cells

from stager.rules.engine import Query, decide
from stager.rules.inputs import RouterSpec
from stager.rules.loader import rules


def codes(decision):
    return decision.codes()


@pytest.mark.parametrize("model,kit,terminal,ok", list(all_cells()))
def test_every_cell(model, kit, terminal, ok):
    d = decide(Query(model, kit, terminal))
    assert d.allowed is ok
    assert d.terminal == terminal
    if ok:
        assert d.refusals == ()
    else:
        assert [r.code for r in d.refusals] == ["incompatible-terminal"]
        # the message names the terminals that would do
        for t in TABLES[model][1][kit]:
            assert str(t) in d.refusals[0].message


@pytest.mark.parametrize("model", list(TABLES))
def test_tables_have_exactly_the_note_rows_and_columns(model):
    terminals, ok = TABLES[model]
    m = rules().models[model]
    assert list(m.terminals) == terminals
    assert list(m.kits) == list(ok)


@pytest.mark.parametrize("model,kit", [(m, k) for m, (_, ok) in TABLES.items() for k in ok])
def test_compatible_terminals_and_newest_chosen(model, kit):
    expected = sorted(TABLES[model][1][kit])
    d = decide(Query(model, kit))
    assert list(d.compatible_terminals) == expected
    assert d.terminal == max(expected)
    assert d.terminal_chosen is True
    assert d.allowed


def _router_cells():
    for router, versions in ROUTERS.items():
        for version, classes in versions.items():
            for cls, (ok, note) in classes.items():
                for kit in CLASS_KITS[cls]:
                    yield router, version, cls, kit, ok, note


@pytest.mark.parametrize("router,version,cls,kit,ok,note", list(_router_cells()))
def test_every_router_cell(router, version, cls, kit, ok, note):
    d = decide(Query("p22", kit, router=RouterSpec(router, version)))
    refusal_codes = [r.code for r in d.refusals]
    if ok:
        assert "router-incompatible" not in refusal_codes and "router-unknown" not in refusal_codes
        assert d.allowed
        if note:
            assert [c.code for c in d.conditions] == [NOTE_CODES[note]]
        else:
            assert d.conditions == ()
    else:
        assert refusal_codes == ["router-incompatible"]
        assert "site visit" in d.refusals[0].message
        assert d.conditions == ()


def test_note_1_is_given_in_full():
    d = decide(Query("p22", 318, router=RouterSpec("f3426", 9)))
    (cond,) = d.conditions
    text = cond.message
    for needle in (
        "192.168.1.254:5000",
        "Read Configuration",
        "Network",
        "LAN_Mode to true",
        "LAN_DHCP to false",
        "DNS 1 to 192.168.1.1",
        "LAN_Gateway to 192.168.1.1",
        "LAN_NetMask to 255.255.255.0",
        "LAN_Network to 192.168.1.0",
        "LAN_StaticIP to 192.168.1.254",
        "Update",
        "ICCID",
        "BootNotification",
        "site visit",
    ):
        assert needle in text, needle


def test_note_2_and_3_texts():
    n2 = decide(Query("p22", 318, router=RouterSpec("f3x26q", 8))).conditions[0].message
    assert "multi-operator" in n2 and "version 9" in n2
    n3 = decide(Query("p22", 313, router=RouterSpec("f3x26q", 9))).conditions[0].message
    assert "NT23013" in n3 and "DHCP-4G" in n3


@pytest.mark.parametrize("router,best", [("f3426", 8), ("f3x26q", 8)])
def test_router_refusal_names_the_version_to_update_to_for_3xx(router, best):
    d = decide(Query("p22", 313, router=RouterSpec(router, 7)))
    assert f"version {best}" in d.refusals[0].message


def test_router_update_for_316_plus_prefers_a_cell_without_condition():
    assert "version 8" in decide(Query("p22", 318, router=RouterSpec("f3426", 7))).refusals[0].message
    assert "version 9" in decide(Query("p22", 318, router=RouterSpec("f3x26q", 7))).refusals[0].message
    assert "version 7" in decide(Query("p22", 212, router=RouterSpec("f3426", 9))).refusals[0].message


@pytest.mark.parametrize("version", [6, 10])
def test_router_version_not_in_the_table(version):
    d = decide(Query("p22", 318, router=RouterSpec("f3426", version)))
    assert [r.code for r in d.refusals] == ["router-unknown"]
