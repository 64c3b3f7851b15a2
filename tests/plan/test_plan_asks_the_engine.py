"""The plan restates no rule: the router refusals and the reading of a state older than
the model's table are the engine's (stager.rules.engine), in the engine's words."""

from __future__ import annotations

from stager.plan.charger import Charger, plan_charger
from stager.rules.engine import Reason, installed_older_than_table, router_refusal, router_verdict
from stager.rules.inputs import RouterSpec
from stager.rules.loader import rules


def test_an_unknown_router_version_is_refused_in_the_engines_words():
    spec = RouterSpec("f3426", 6)
    p = plan_charger(Charger(id="1", model="p22", kit=318, terminal=313, router=spec, to=318))
    (r,) = p.refusals
    engine = router_refusal(rules(), router_verdict(rules(), spec, 318))
    assert r.code == engine.code == "router-unknown"
    assert r.message == f"Installed now, router F3426 at version 6: a state the note rules out. {engine.message}"


def test_a_kit_and_terminal_older_than_the_table_are_warnings_not_unknown_versions():
    r = rules()
    p22 = r.models["p22"]
    unknown_kit, unknown_terminal = Reason("unknown-kit", "..."), Reason("unknown-terminal", "...")
    kit = installed_older_than_table(r, p22, unknown_kit, 150, 150)
    assert kit is not None and kit.code == "kit-older-than-table" and "150" in kit.message
    terminal = installed_older_than_table(r, p22, unknown_terminal, 150, 150)
    assert terminal is not None and terminal.code == "terminal-older-than-table"
    # a 2XX kit the table (from 212) does not know is unknown, not older; other refusals stay
    assert installed_older_than_table(r, p22, unknown_kit, 205, None) is None
    assert installed_older_than_table(r, p22, unknown_terminal, 150, 313) is None
    assert installed_older_than_table(r, p22, Reason("incompatible-terminal", "..."), 150, 150) is None


def test_the_plan_reads_an_older_state_through_the_engine():
    p = plan_charger(Charger(id="1", model="p22", kit=150, terminal=150))
    older = [w for w in p.warnings if w.code.endswith("older-than-table")]
    r = rules()
    expected = [
        installed_older_than_table(r, r.models["p22"], Reason(code, ""), 150, 150)
        for code in ("unknown-kit", "unknown-terminal")
    ]
    assert older == expected
    assert not [x for x in p.refusals if x.code in ("unknown-kit", "unknown-terminal")]
