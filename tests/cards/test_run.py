"""The technician's run on real cards (issue 13): every check before the question,
nothing lost to --clean, the card's file system and root, verify's one-firmware-set
rule, several cards, and output a person can read."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from stager.catalog.demo import build_demo_catalog
from stager.catalog.index import INDEX_NAME, format_index_line

pytestmark = pytest.mark.cards
BUNDLE = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
OLD = "OCPP212_KIP241A_FR.bin"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare(run_stager, catalog, *extra, json_out=True):
    args = ["prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", catalog, "--yes"]
    return run_stager(*args, *(["--json"] if json_out else []), *extra)


def one_file_catalog(root: Path, name: str, size: int) -> Path:
    root.mkdir(parents=True)
    data = os.urandom(size)
    (root / name).write_bytes(data)
    (root / INDEX_NAME).write_bytes(format_index_line(sha(data), name))
    return root


# ----------------------------------------------------------------- 3. the card's file system
@pytest.mark.parametrize("fs,shown", [("ext4", "ext4"), ("ntfs", "NTFS")])
def test_a_card_not_fat_or_exfat_is_refused_with_how_to_format_it(run_stager, make_card, demo, fs, shown):
    if fs == "ntfs" and not (shutil.which("mkfs.ntfs") and shutil.which("ntfs-3g")):
        pytest.skip("NTFS needs mkfs.ntfs and ntfs-3g (apt-get install ntfs-3g)")
    card = make_card(fs)
    r = prepare(run_stager, demo)
    assert r.code == 5, r
    err = r.json()["error"]
    assert err["code"] == "wrong-filesystem" and f"formatted {shown}" in err["message"], err
    assert "mkfs.vfat -F 32" in err["message"] and card.device in err["message"] and "--allow-any-fs" in err["message"]
    assert BUNDLE not in os.listdir(card.mountpoint)
    r = prepare(run_stager, demo, "--allow-any-fs", json_out=False)
    assert r.code == 0, r
    assert f"file system is {shown}" in r.out or f"file system is {fs}" in r.out, r.out
    assert BUNDLE in os.listdir(card.mountpoint)


@pytest.mark.parametrize("fs,label,shown", [("fat32", "PULSE CARD", "FAT32"), ("exfat", "MàJ été", "exFAT")])
def test_media_shows_the_real_type_and_the_label_as_typed(run_stager, make_card, fs, label, shown):
    card = make_card(fs, label=label)
    r = run_stager("media")
    assert r.code == 0, r
    assert f"label {label}, file system {shown}" in r.out, r.out
    assert "vfat" not in r.out and "fuseblk" not in r.out and "\\" not in r.out
    (m,) = [m for m in run_stager("media", "--json").json()["media"] if m["mountpoint"] == str(card.mountpoint)]
    uuid = subprocess.run(["blkid", "-p", "-s", "UUID", "-o", "value", card.device], capture_output=True, text=True)
    assert m["label"] == label and m["filesystem"] == shown and m["uuid"] == uuid.stdout.strip() != ""


# ----------------------------------------------------------------- 4. the card is the card's root
def test_a_folder_inside_the_card_is_refused_naming_the_root(run_stager, make_card, demo):
    card = make_card()
    sub = card.mountpoint / "UPDATE"
    sub.mkdir()
    r = prepare(run_stager, demo, "--target", sub)
    assert r.code == 5, r
    assert r.json()["error"]["code"] == "not-card-root" and str(card.mountpoint) in r.json()["error"]["message"]
    assert os.listdir(sub) == [] and BUNDLE not in os.listdir(card.mountpoint)


def test_two_targets_on_one_card_are_refused(run_stager, make_card, demo, tmp_path):
    card = make_card()
    again = tmp_path / "same-card"
    again.mkdir()
    subprocess.run(["mount", "--bind", card.mountpoint, again], check=True)
    try:
        r = prepare(run_stager, demo, "--target", card.mountpoint, "--target", again)
        assert r.code == 5, r
        assert r.json()["error"]["code"] == "same-card-twice", r.json()
        assert BUNDLE not in os.listdir(card.mountpoint)
    finally:
        subprocess.run(["umount", again], check=False)


# ----------------------------------------------------------------- 1, 2. decide before asking, lose nothing
def test_clean_with_a_damaged_catalog_file_keeps_the_old_firmware(run_stager, make_card, demo, tmp_path):
    cat = tmp_path / "cat"
    shutil.copytree(demo, cat)
    path = cat / "p22" / BUNDLE
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    card = make_card()
    (card.mountpoint / OLD).write_bytes(b"old firmware")
    r = prepare(run_stager, cat, "--clean")
    assert r.code == 4 and r.json()["error"]["code"] == "damaged", r
    card.eject()
    assert OLD in card.files() and card.read(OLD) == b"old firmware" and BUNDLE not in card.files()


def test_a_full_card_keeps_its_old_firmware_and_says_it_may_be_full(run_stager, make_card, tmp_path):
    """fusefat does not say its free space; the copy meets a full card (EPERM): the run
    fails, the old firmware is still there, nothing half-written."""
    cat = one_file_catalog(tmp_path / "cat", "OCPP212_KIP241A_EN.bin", 20 * 1024 * 1024)
    card = make_card(size_mb=40)
    (card.mountpoint / "FILLER.DAT").write_bytes(os.urandom(24 * 1024 * 1024))
    (card.mountpoint / OLD).write_bytes(b"old firmware")
    r = run_stager("prepare", "-m", "p22", "-k", "212", "--lang", "EN", "--catalog", cat, "--yes", "--clean", "--json")
    assert r.code == 5, r
    err = r.json()["targets"][0]["error"]
    assert err["code"] in ("may-be-full", "media-full") and "full" in err["message"], err
    assert "still on the card, untouched" in err["message"]
    card.eject()
    files = card.files()
    assert OLD in files and "OCPP212_KIP241A_EN.bin" not in files
    assert not [n for n in files if n.upper().startswith(".STAGER")]


def test_a_card_that_cannot_hold_both_loses_the_old_firmware_only_for_a_proved_source(run_stager, make_card, tmp_path):
    cat = one_file_catalog(tmp_path / "cat", "OCPP212_KIP241A_EN.bin", 20 * 1024 * 1024)
    card = make_card("exfat", size_mb=40)  # exFAT says its free space
    (card.mountpoint / OLD).write_bytes(os.urandom(18 * 1024 * 1024))
    args = ["prepare", "-m", "p22", "-k", "212", "--lang", "EN", "--catalog", cat, "--clean", "--dry-run"]
    r = run_stager(*args)
    assert r.code == 0, r
    assert f"--clean removes: {OLD}" in r.out and "cannot hold both" in r.out, r.out
    r = run_stager(*args[:-1], "--yes", "--json")
    assert r.code == 0, r
    assert r.json()["targets"][0]["removed_by_clean"] == [OLD]
    card.eject()
    assert card.files() == ["OCPP212_KIP241A_EN.bin", "OCPP212_KIP241A_EN.bin.sha256"]


# ----------------------------------------------------------------- 5. verify: this card is right
def test_verify_one_firmware_set_and_the_charger(run_stager, make_card, demo):
    card = make_card()
    assert prepare(run_stager, demo).code == 0
    r = run_stager("verify", "--target", card.mountpoint, "--model", "p22", "--kit", "318")
    assert r.code == 0 and "FOR THIS CHARGER" in r.out and "The card is right" in r.out, r
    r = run_stager("verify", "--target", card.mountpoint, "--model", "p50", "--kit", "400", "--json")
    assert r.code == 3 and r.json()["charger"]["matches"] is False, r
    r = run_stager("verify", "--target", card.mountpoint, "--model", "p22", "--kit", "314")
    assert r.code == 3 and "[forbidden-version]" in r.out, r
    # A second bundle with a sidecar of its own: each file matches itself, the card is not right.
    other = "PULSE22_OCPP316_KIP311A_FR.tar.gz"
    data = (demo / "p22" / other).read_bytes()
    (card.mountpoint / other).write_bytes(data)
    (card.mountpoint / f"{other}.sha256").write_text(f"{sha(data)}  {other}\n")
    r = run_stager("verify", "--target", card.mountpoint, "--json")
    assert r.code == 5, r
    assert r.json()["one_firmware_set"] is False and "2 firmware bundles" in r.json()["set_problems"][0]
    r = run_stager("verify", "--target", card.mountpoint)
    assert "NOT ONE FIRMWARE SET" in r.out and "The card is right" not in r.out


def test_verify_sees_hidden_firmware_and_explains_a_forbidden_file(run_stager, make_card, demo):
    card = make_card()
    assert prepare(run_stager, demo).code == 0
    (card.mountpoint / f"._{BUNDLE}").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    r = run_stager("verify", "--target", card.mountpoint)
    # no sidecar of its own (exit 6), and it breaks the one-firmware-set rule: both said
    assert r.code == 6 and "NOT ONE FIRMWARE SET" in r.out and f"._{BUNDLE} is firmware-like" in r.out, r
    assert "hidden file" in r.out and "The card is right" not in r.out
    os.unlink(card.mountpoint / f"._{BUNDLE}")
    for name in (BUNDLE, f"{BUNDLE}.sha256"):
        os.unlink(card.mountpoint / name)
    forbidden = "PULSE22_OCPP314_KIP311A_FR.tar.gz"
    (card.mountpoint / forbidden).write_bytes(b"x")
    (card.mountpoint / f"{forbidden}.sha256").write_text(f"{sha(b'x')}  {forbidden}\n")
    r = run_stager("verify", "--target", card.mountpoint)
    assert r.code == 3 and "[forbidden-version]" in r.out and "314" in r.out, r


# ----------------------------------------------------------------- 6. several cards
def test_several_cards_named_by_their_identity_with_one_summary(run_stager, make_card, demo):
    a, b = make_card(), make_card("exfat")  # both labelled PULSECARD
    r = prepare(run_stager, demo, "--target", a.mountpoint, "--target", b.mountpoint, json_out=False)
    assert r.code == 0, r
    assert "Summary: 2 of 2 card(s) ready." in r.out
    assert r.out.count("READY") == 2 and a.device in r.out and b.device in r.out
    r = prepare(run_stager, demo, "--target", a.mountpoint, "--target", b.mountpoint)
    doc = r.json()
    ids = [t["identity"] for t in doc["targets"]]
    assert doc["summary"] == {"ready": 2, "cards": 2} and len(set(ids)) == 2 and all("volume " in i for i in ids)
    entries = run_stager("history", "--json").json()["entries"]
    assert {e["uuid"] for e in entries} == {t["uuid"] for t in doc["targets"]}
    assert all(e["time"][-6] in "+-" for e in entries)  # local time with its offset


def test_a_card_inserted_but_not_mounted_is_listed_with_how_to_mount_it(run_stager, make_card, demo):
    card = make_card(label="SLEEPY")
    card.unmount()
    r = run_stager("media")
    assert "Inserted but not mounted" in r.out and card.device in r.out and "mount" in r.out, r
    r = prepare(run_stager, demo)
    assert r.code == 5 and r.json()["error"]["code"] == "no-media", r
    assert card.device in r.json()["error"]["message"]
    waiting = run_stager("media", "--json").json()["unmounted"]
    assert [w["label"] for w in waiting if w["device"] == card.device] == ["SLEEPY"]
    assert json.dumps(waiting)
