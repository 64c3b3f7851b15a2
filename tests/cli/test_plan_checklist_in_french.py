"""`stager plan`'s checklist and summary in French (issue 16): the counts agree with the
chargers named, the headings have no article, and the lines not planned are joined with a
French semicolon."""

from __future__ import annotations

import pytest
from helpers.lib_french import in_french

from stager.cli.commands.plan import checklist, summary, unplanned
from stager.plan.site import plan_site


@pytest.fixture
def french():
    yield from in_french()


def _site(tmp_path, text: str):
    path = tmp_path / "site.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _checklist(tmp_path, text: str) -> list[str]:
    return checklist(plan_site(_site(tmp_path, text)), None)


def test_the_checklist_agrees_with_the_number_of_chargers(french, tmp_path):
    rows = "A1,p50,212,220,FR\nA2,p50,212,220,FR\nB1,p22,318,313,FR\n"
    lines = _checklist(tmp_path, "id,model,kit,terminal,lang\n" + rows)
    assert "Borne A1 : Pulse 50, kit 212 + terminal 220 -> kit 400 + terminal 400" in lines
    assert "  [ ] une carte avec PULSE50_OCPP400_KIP400B_FR.tar.gz pour les bornes A1, A2" in lines
    assert "  [ ] la MASTER SD (réf. MADIC 17806385, procédure NT-23006) : 2 migrations, bornes A1, A2" in lines
    assert "  [ ] une carte avec PULSE22_OCPP400_KIP400A_FR.tar.gz pour la borne B1" in lines


def test_nothing_to_bring_is_one_french_sentence(french, tmp_path):
    lines = _checklist(tmp_path, "id,model,kit,terminal\nD,p22,400,400\n")
    assert "  rien : ni carte ni MASTER SD n'est nécessaire." in lines


def test_the_refused_chargers_agree_with_their_count(french, tmp_path):
    one = summary(plan_site(_site(tmp_path, "id,model,kit,terminal,to\nX,p22,318,313,314\n")))
    assert one[0].startswith("Refusée : la borne X, dont le plan est refusé par les règles ou dont l'état actuel ")
    two = summary(plan_site(_site(tmp_path, "id,model,kit,terminal,to\nX,p22,318,313,314\nY,p22,318,313,314\n")))
    assert two[0].startswith("Refusées : les bornes X, Y, dont le plan est refusé par les règles ")


def test_the_unplanned_lines_are_joined_with_a_french_semicolon(french, tmp_path):
    error = unplanned(plan_site(_site(tmp_path, "id,model,kit\nX,p99,318\nY,p22,31\nZ,p22,318\n")))
    assert error is not None
    assert error.message.startswith("2 lignes du fichier du site non planifiées : ligne 2 : colonne model : ")
    assert "(Pulse WB-AC) ; ligne 3 : colonne kit : " in error.message
    assert ".;" not in error.message and ". ;" not in error.message
