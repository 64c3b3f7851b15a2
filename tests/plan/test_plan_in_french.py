"""`stager plan`'s steps, warnings and refusals, and the site file's errors, in French (issue 16)."""

from __future__ import annotations

import pytest
from helpers.lib_french import assert_french, in_french

from stager.errors import BadInput
from stager.plan.charger import Charger, plan_charger
from stager.plan.site import COLUMNS, read_site
from stager.rules.inputs import parse_router


@pytest.fixture
def french():
    yield from in_french()


CHARGERS = [
    Charger("migrates", "p22", 212, terminal=241, router=parse_router("f3426:7"), with_hex=True, lang="FR"),
    Charger("note-1", "p22", 316, terminal=311, router=parse_router("f3426:8"), to=318),
    Charger("back", "p22", 318, terminal=313, router=parse_router("f3426:9"), to=212),
    Charger("done", "p22", 400, terminal=400),
    Charger("done-no-terminal", "p22", 400, router=parse_router("f3426:8")),
    Charger("ruled-out", "p22", 318, terminal=241, built=(2023, 6)),
    Charger("old", "p22", 150, terminal=150),
    Charger("router-unknown", "p22", 318, terminal=313, router=parse_router("f3426:6")),
    Charger("router-ko-now", "p22", 212, terminal=241, router=parse_router("f3426:8"), to=310),
    Charger("downgrade", "p22", 318, terminal=313, to=317),
]


@pytest.mark.parametrize("charger", CHARGERS, ids=lambda c: c.id)
def test_every_step_warning_and_refusal_is_french(french, charger):
    p = plan_charger(charger)
    said = [s.message for s in p.steps] + [r.message for r in p.warnings + p.refusals]
    assert said
    for text in said:
        assert_french(text)


def test_the_checklist_of_a_migration_reads_as_the_note(french):
    p = plan_charger(CHARGERS[0])
    steps = {s.code: s.message for s in p.ordered_steps()}
    assert steps["master-sd"].startswith(
        "Migrez d'abord le kit depuis 212 (2XX) avec la MASTER SD (réf. MADIC 17806385"
    )
    assert steps["stage-bundle"] == (
        "Après la migration par la MASTER SD, mettez à jour le kit et le terminal en 400 + 400 à partir d'une carte "
        "contenant PULSE22_OCPP400_KIP400A_FR.tar.gz."
    )
    assert steps["stlink-hex"].startswith("Mettez à jour le terminal 400 avec la sonde ST-LINK (STM32 ST-LINK Utility")
    assert steps["router-update"].startswith("Mettez à jour le routeur F3426 de la version 7 à la version 8 : ")
    assert "nécessite un déplacement sur site" in steps["router-update"]


def test_a_charger_on_its_target_has_nothing_to_do(french):
    (step,) = plan_charger(CHARGERS[3]).steps
    assert step.message == "Déjà en kit 400 + terminal 400 : rien à faire."
    (step,) = plan_charger(CHARGERS[4]).steps
    assert step.message == (
        "Déjà en kit 400 + terminal 400 avec le routeur F3426 8 : rien à faire "
        "(le terminal n'a pas été indiqué : vérifiez qu'il est bien en 400)."
    )


def test_a_state_the_note_rules_out_is_said_in_french(french):
    p = plan_charger(CHARGERS[5])
    assert p.ruled_out
    said = {r.code: r.message for r in p.ruled_out}
    head = "Le kit 318 + terminal 241 installé aujourd'hui est un état que la note exclut : "
    assert said["incompatible-terminal"].startswith(head + "le kit 318 et le terminal 241 sont KO dans le tableau")
    assert said["terminal-hardware"] == (
        head + "ce terminal a été fabriqué en juin 2023, donc après le changement de composant d'avril 2023 : il ne "
        "peut pas fonctionner avec la version de terminal 241, une version 1XX/2XX (note du fabricant, section 2 "
        "PREAMBULE, NB). Avec ce kit, utilisez l'un des terminaux 312 ou 313."
    )


def test_the_plan_is_english_by_default():
    (step,) = plan_charger(CHARGERS[3]).steps
    assert step.message == "Already on kit 400 + terminal 400: nothing to do."


def _site(tmp_path, text: str):
    path = tmp_path / "site.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_site_file_s_bad_lines_are_named_in_french(french, tmp_path):
    path = _site(
        tmp_path,
        "id,model,kit,colour\nA,p22,318\nB,p22,31\nA,p22,318\nC,p22,318,x,y\nD,p22,318,,,,maybe\n",
    )
    chargers, errors = read_site(path)
    assert [line for line, _ch in chargers] == [2]
    said = {e["line"]: e["message"] for e in errors}
    assert said[1] == "colonne inconnue colour : les colonnes sont id,model,kit,terminal,built,router,mid,ocpp,lang,to"
    assert said[3].startswith("colonne kit : la version de kit « 31 » n'est pas un nombre à 3 chiffres")
    assert said[4] == "l'identifiant de borne « A » figure déjà sur la ligne 2"
    for text in said.values():
        assert_french(text, ",".join(COLUMNS))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "est vide : il lui faut une ligne d'en-tête"),
        ("id,model\n", "la ligne 1 doit être un en-tête nommant au moins id, model, kit (manquant : kit)"),
        ("id,model,kit\n", "a un en-tête mais aucune ligne de borne"),
    ],
)
def test_a_site_file_that_cannot_be_planned_is_refused_in_french(french, tmp_path, text, said):
    path = _site(tmp_path, text)
    with pytest.raises(BadInput) as e:
        read_site(path)
    assert said in e.value.message
    assert_french(e.value.message, path, ",".join(COLUMNS))  # the columns are the file's own words


def test_a_missing_site_file_is_said_in_french(french, tmp_path):
    with pytest.raises(BadInput) as e:
        read_site(tmp_path / "none.csv")
    assert e.value.message == f"le fichier de site {tmp_path / 'none.csv'} n'existe pas."
