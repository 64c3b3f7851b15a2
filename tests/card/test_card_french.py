"""stager/card in French (issue 16): the refusals, warnings and reports of the card layer
read as a French technician reads them, with no English word left, and the read-back
words as precise as the English ones (a cache is never said to be the card)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers.lib_french import english_words

from stager import i18n
from stager.card import eject, lock, readback, stop, targets
from stager.card.media import Medium, short_size, unmounted_line, verdict_text
from stager.card.pin import pin_card
from stager.card.preflight import preflight
from stager.card.staging import Source, media_error
from stager.card.targets import CardTarget, card_folder, medium_identity, resolve_targets
from stager.card.verify import CardFile, charger_match, set_problems
from stager.errors import MediaError
from stager.i18n_format import NBSP, NNBSP


@pytest.fixture
def french():
    i18n.install("fr")
    try:
        yield
    finally:
        i18n.install("en")


def source(folder: Path, size: int = 2 * 1024 * 1024 + 5) -> Source:
    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    name = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
    (folder / name).write_bytes(data)
    return Source(path=folder / name, name=name, sha256=hashlib.sha256(data).hexdigest(), size=size)


def card(tmp_path: Path, name: str = "carte") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def test_the_card_layer_is_english_by_default(tmp_path):
    with pytest.raises(MediaError) as e:
        card_folder(tmp_path / "missing")
    assert "does not exist" in e.value.message


def test_a_missing_target_is_refused_in_french(french, tmp_path):
    missing = tmp_path / "absente"
    with pytest.raises(MediaError) as e:
        card_folder(missing)
    assert e.value.code == "target-missing" and e.value.exit_code == 5
    assert e.value.message.startswith(f"La cible {missing} n'existe pas : la carte est-elle insérée")
    assert not english_words(e.value.message, missing)


def test_no_card_names_the_cards_not_mounted_in_french(french):
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=list, medium_for_path=lambda p: None, unmounted=lambda: ["/dev/sdc1"])
    message = e.value.message
    assert message.startswith("Aucune carte amovible ni clé USB n'est montée.")
    assert "Insérées mais non montées : /dev/sdc1." in message
    assert "--target" in message  # the option keeps its name
    assert not english_words(message)


def test_a_fixed_disk_and_a_wrong_file_system_are_refused_in_french(french, tmp_path):
    folder = card(tmp_path)
    fixed = Medium(mountpoint=str(folder), device="/dev/sda2", fstype="ext4", removable=False)
    with pytest.raises(MediaError) as e:
        resolve_targets([folder], medium_for_path=lambda p: fixed, detect=list)
    assert e.value.code == "not-removable"
    assert "disque fixe (/dev/sda2)" in e.value.message and "--allow-fixed" in e.value.message
    assert not english_words(e.value.message, folder)
    ntfs = CardTarget(path=folder, device="/dev/sdb1", fstype="ntfs", removable=True, label="PULSE")
    with pytest.raises(MediaError) as e:
        targets._check_filesystem(ntfs)
    message = e.value.message
    assert "est formatée en NTFS : les bornes ne lisent que les cartes FAT32 ou exFAT" in message
    command = targets.format_command(ntfs)
    assert not english_words(message, ntfs.describe(), command)


def test_a_read_only_card_says_how_to_unlock_it_in_french(french, tmp_path):
    plan = CardTarget(path=card(tmp_path), read_only=True, removable=True)
    with pytest.raises(MediaError) as e:
        targets._check_writable(plan)
    assert e.value.code == "read-only" and "taquet de protection" in e.value.message
    assert not english_words(e.value.message, plan.describe())


def test_a_card_identity_and_listing_are_written_the_french_way(french):
    assert medium_identity("B03D-8939", "PULSE", 64 * 1024 * 1024) == f"volume B03D-8939, nom « PULSE », 64,0{NBSP}Mio"
    assert medium_identity(None, None, None) == "sans numéro de série de volume, sans nom, taille inconnue"
    assert short_size(7_900_000_000) == f"7,4{NBSP}Gio"
    m = Medium(
        mountpoint="/media/PULSE", device="/dev/sdb1", label="PULSE", fstype="vfat", fs_version="FAT32",
        size_bytes=7_900_000_000, uuid="B03D-8939", removable=True, why="USB bus",
        firmware_files=("PULSE22_OCPP318_KIP313A_FR.tar.gz",),
    )  # fmt: skip
    line = targets.medium_line(m)
    assert line == (
        f"/media/PULSE (/dev/sdb1, « PULSE », FAT32, 7,4{NBSP}Gio, volume B03D-8939 ; "
        "contient PULSE22_OCPP318_KIP313A_FR.tar.gz)"
    )
    assert m.why_text() == "bus USB" and m.why == "USB bus"  # the record keeps its words
    waiting = {"device": "/dev/sdc1", "filesystem": "FAT32", "label": None, "size_bytes": 512, "how": "udisksctl"}
    assert unmounted_line(waiting) == f"/dev/sdc1 (FAT32, sans nom, 512{NBSP}octets) : montez-la avec udisksctl"


def test_volumes_that_are_not_cards_are_named_in_french(french):
    assert verdict_text("network") == "un lecteur réseau"
    assert verdict_text("no-such-verdict") == "no-such-verdict"
    slot = Medium(mountpoint="F:\\", device="F:", verdict="empty-slot")
    assert slot.advice() == "F:\\ est un emplacement de lecteur de cartes sans carte."


def test_preflight_refusals_and_sizes_in_french(french, tmp_path):
    src = source(tmp_path / "catalogue")
    folder = card(tmp_path)
    (folder / "PULSE22_OCPP300_KIP300A_FR.tar.gz").write_text("ancien")
    with pytest.raises(MediaError) as e:
        preflight([src], folder)
    message = e.value.message
    assert e.value.code == "firmware-present"
    assert "contient déjà des fichiers de mise à jour" in message and "--clean" in message
    assert not english_words(message, folder, "PULSE22_OCPP300_KIP300A_FR.tar.gz")
    other = card(tmp_path, "petite")
    with pytest.raises(MediaError) as e:
        preflight([src], other, free_bytes=1536)
    message = e.value.message
    assert e.value.code == "media-full"
    assert f"1,5{NBSP}Kio (1{NNBSP}536{NBSP}octets) de libre" in message  # CLDR's French figures
    assert not english_words(message, other)


def test_the_old_firmware_and_a_full_card_are_reported_in_french(french, tmp_path):
    err = OSError(28, "No space left on device")  # what the C library says, in English whatever the locale
    text = media_error(err, tmp_path, i18n._("writing {name}").format(name="PULSE.bin")).message
    assert text == (
        f"{tmp_path} : la carte est pleine (plus d'espace libre sur le support) pendant l'écriture "
        "de PULSE.bin. Utilisez une carte plus grande, ou supprimez-en d'autres fichiers."
    )


def test_read_back_words_never_claim_the_card_when_a_cache_answered(french):
    method, why = readback._judge("direct", "", "vfat", 100, 150, 4096)
    assert method == "cached"
    assert why == f"le périphérique de la carte a lu 50 octets alors que le fichier en fait 4{NNBSP}096 : " + (
        "les octets venaient d'un cache"
    )
    method, why = readback._judge("direct", "", "tmpfs", None, None, 10)
    assert (method, why) == ("cached", "le dossier est sur tmpfs : de la mémoire, pas une carte")
    method, why = readback._judge("direct", "", "vfat", 0, 8192, 4096)
    assert method == "direct" and "a lu 8" in why and "cache" not in why


def test_a_copy_that_differs_is_named_in_french(french, tmp_path):
    from stager.card.staging import _mismatch

    src = source(tmp_path / "catalogue", size=3000)
    rb = readback.ReadBack(sha256="f" * 64, method="direct", size=2048)
    err = _mismatch(tmp_path, src, rb, None)
    assert err.code == "verification-failed"
    assert f"{src.name} relu sur la carte n'est pas le fichier du catalogue" in err.message
    assert f"2{NNBSP}048 octets lus sur 3{NNBSP}000" in err.message
    assert not english_words(err.message, tmp_path, src.name, src.sha256[:16], rb.sha256[:16])  # hex has "be"


def test_the_one_firmware_set_rule_in_french(french):
    def bundle(name, terminal):
        parsed = {"role": "bundle", "model": "p22", "kit": "318", "terminal": terminal}
        return CardFile(name, 10, "ok", "0" * 64, "0" * 64, parsed)

    files = [bundle("A.tar.gz", "313A"), bundle("B.tar.gz", "313A"), CardFile("._A.tar.gz", 4, "ok", None, None)]
    problems = set_problems(files)
    assert problems[0].startswith("La carte contient 2 fichiers de mise à jour kit OCPP + terminal (A.tar.gz, B.tar")
    assert "« stager prepare --clean »" in problems[0]
    assert "un fichier caché ; macOS écrit des copies « ._ » sur les cartes" in problems[1]
    for problem in problems:
        assert not english_words(problem, "A.tar.gz", "B.tar.gz", "._A.tar.gz", "stager prepare --clean")
    decision = SimpleNamespace(query=SimpleNamespace(model="p22", kit="318"), terminal="313A", model_name="Pulse 22")
    why = charger_match(files[:1], decision)["why"]
    assert (
        why == "La carte contient le kit 318 + terminal 313A pour la borne Pulse 22, comme les règles le choisissent."
    )


def test_a_lock_held_elsewhere_names_its_start_the_french_way(french, tmp_path):
    folder = card(tmp_path)
    started = "2026-12-01T18:15:00+00:00"
    (folder / lock.LOCK_NAME).write_text(f'{{"host": "atelier-2", "pid": 1, "started": "{started}"}}')
    pin = pin_card(folder)
    try:
        with pytest.raises(MediaError) as e:
            lock.take(pin)
    finally:
        pin.close()
    message = e.value.message
    assert e.value.code == "card-busy"
    assert "une autre exécution de stager (ordinateur atelier-2, processus 1, démarrée le 1er décembre 2026" in message
    assert not english_words(message, folder, lock.LOCK_NAME)


def test_a_second_stop_lists_what_is_left_in_french(french):
    state = stop.StopState()
    state.wrote("/media/PULSE/.stager-x.part", "temporary")
    message = stop.second_stop_message(state)
    assert message.startswith("Arrêt immédiat (Ctrl-C de nouveau) : ces fichiers écrits par cette exécution")
    assert "/media/PULSE/.stager-x.part (fichier temporaire)" in message
    assert not english_words(message, "/media/PULSE/.stager-x.part", "stager prepare", "--clean")


def test_eject_says_when_the_card_can_be_pulled_in_french(french, tmp_path):
    plan = CardTarget(path=tmp_path, device="/dev/sdb1", removable=True, label="PULSE")
    ok, message = eject.eject(plan, platform="linux", run=lambda cmd: (True, ""), which=lambda name: None)
    assert not ok and "Impossible d'éjecter" in message  # no eject command on this system
    ok, message = eject.eject(plan, platform="linux", run=lambda cmd: (True, ""), which=lambda name: "/bin/" + name)
    assert ok and message.endswith(
        "la carte peut maintenant être retirée sans risque. Le lecteur est mis hors tension."
    )
    assert not english_words(message, plan.describe())


def test_a_card_for_another_charger_lists_what_it_holds_with_et(french):
    def bundle(model, terminal):
        parsed = {"role": "bundle", "model": model, "kit": "318", "terminal": terminal}
        return CardFile(f"{model}.tar.gz", 10, "ok", "0" * 64, "0" * 64, parsed)

    decision = SimpleNamespace(query=SimpleNamespace(model="wbac", kit="400"), terminal="200", model_name="Pulse WB-AC")
    why = charger_match([bundle("p22", "313"), bundle("wbac", "124")], decision)["why"]
    assert why.startswith(
        "La carte contient p22 kit 318 + terminal 313 et wbac kit 318 + terminal 124 ; pour la borne Pulse WB-AC, "
    )
    assert why.endswith(
        "les règles choisissent le kit 400 + terminal 200. Ce n'est pas la carte de cette borne : "
        "préparez-en une avec « stager prepare »."
    )
    assert "313;" not in why
