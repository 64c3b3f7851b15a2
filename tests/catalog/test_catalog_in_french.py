"""The catalog's refusals and the names' reasons in French (issue 16); sizes and dates as
a French reader writes them; the base modules' error sentences."""

from __future__ import annotations

import errno

import pytest
from helpers.lib_french import assert_french, in_french

from stager.catalog.demo import build_demo_catalog
from stager.catalog.folder import open_catalog
from stager.catalog.select import select
from stager.catalog.trust import shown_time
from stager.errors import CatalogError, Refused
from stager.fileio import FileTooLarge, os_error_text
from stager.rules import names
from stager.rules.engine import Query, decide


@pytest.fixture
def french():
    yield from in_french()


@pytest.fixture
def demo(tmp_path):
    return open_catalog(build_demo_catalog(tmp_path / "cat"), environ={})


def test_a_pack_the_catalog_lacks_is_refused_in_french(french, demo):
    with pytest.raises(CatalogError) as e:
        select(demo, decide(Query("p22", 318, terminal=313)), lang="DE")
    message = e.value.message
    assert message.startswith("aucun pack de langues DE pour le kit 318 + terminal 313, borne Pulse 22 GL / WL : ")
    assert_french(message, demo.root)


def test_two_packs_ask_which_in_french(french, demo):
    with pytest.raises(CatalogError) as e:
        select(demo, decide(Query("p22", 318, terminal=313)))
    assert "existe en 2 packs de langues : EN, FR" in e.value.message
    assert "Précisez lequel avec --lang (par exemple --lang EN)." in e.value.message
    assert_french(e.value.message, demo.root)


def test_a_file_the_catalog_lacks_names_what_is_near_in_french(french, tmp_path):
    root = build_demo_catalog(tmp_path / "cat")
    for pack in ("EN", "FR"):
        (root / "p22" / f"PULSE22_OCPP318_KIP313A_{pack}.tar.gz").unlink()
    (root / "p22" / "OCPP318_KIP313A_FR.bin").write_bytes(b"a 3XX kit in a 1XX/2XX name")
    cat = open_catalog(root, environ={})
    with pytest.raises(CatalogError) as e:
        select(cat, decide(Query("p22", 318, terminal=313)), lang="FR")
    message = e.value.message
    assert message.startswith(
        f"aucun fichier dans le catalogue {root} pour la borne Pulse 22 GL / WL, le kit 318 + terminal 313 : "
    )
    assert "attendu PULSE22_OCPP318_KIP313A_FR.tar.gz. À proximité : autres terminaux pour le kit 318 : " in message
    assert "(les règles l'autorisent : indiquez --terminal 312 pour le prendre)" in message
    assert "p22/OCPP318_KIP313A_FR.bin n'est jamais utilisé (incohérent : le kit 318 est en 3XX et les kits" in message
    assert_french(message, root)


def test_a_refused_choice_takes_nothing_in_french(french, demo):
    with pytest.raises(Refused) as e:
        select(demo, decide(Query("p22", 314)))
    assert e.value.message == "les règles refusent ce choix (forbidden-version) : rien n'est pris dans le catalogue."


def test_a_missing_catalog_folder_is_said_in_french(french, tmp_path):
    with pytest.raises(CatalogError) as e:
        open_catalog(tmp_path / "nowhere", environ={})
    assert_french(e.value.message, tmp_path / "nowhere", "STAGER_CATALOG")
    assert "n'existe pas : vérifiez --catalog ou STAGER_CATALOG." in e.value.message


@pytest.mark.parametrize(
    ("name", "said"),
    [
        (
            "OCPP318_KIP313A_FR.bin",
            "les kits 3XX et suivants sont nommés TYPE_OCPPkkk_KIPtttL_LANG.tar.gz ; dans ce nom : ",
        ),
        ("KIP313A.hex", "le terminal 313 est en 3XX et les terminaux 3XX et suivants sont nommés KIPtttL_LANG.hex"),
        ("OCPP318_KIP313Z_FR.tar.gz", "la lettre du KIPX « Z » ne désigne aucune borne"),
        ("notes.txt", "pas un nom de fichier de mise à jour (.bin, .tar.gz ou .hex)"),
        (
            "PULSE22_OCPP318_KIP313\u212a_FR.tar.gz",
            "caractère non ASCII qui peut ressembler à une lettre ou à un chiffre",
        ),
        ("a\\b.bin", "le nom contient une barre oblique inverse"),
    ],
)
def test_why_a_name_is_not_used_is_french(french, name, said):
    got = names.parse(name)
    assert not got.ok
    assert said in got.why
    assert_french(got.why)


def test_an_os_error_is_worded_in_french(french):
    e = OSError(errno.EROFS, "Read-only file system", "/media/card")
    assert os_error_text(e) == (
        "/media/card : le système de fichiers est en lecture seule. "
        "Déverrouillez la carte (son curseur de verrouillage) ou remontez-la en lecture-écriture."
    )


def test_a_limit_is_a_french_number(french):
    assert "16\u202f777\u202f216 octets" in FileTooLarge("site.csv", 16 * 1024 * 1024).strerror


def test_a_signing_time_is_a_french_date(french):
    # 1 December 2026 12:00 UTC: the first of the month is "1er", whatever the local zone's hour
    assert shown_time(1796126400).startswith(("1er décembre 2026", "30 novembre 2026", "2 décembre 2026"))


def test_the_catalog_is_english_by_default(demo):
    with pytest.raises(Refused) as e:
        select(demo, decide(Query("p22", 314)))
    assert e.value.message == "the rules refuse this choice (forbidden-version): nothing is taken from the catalog."
