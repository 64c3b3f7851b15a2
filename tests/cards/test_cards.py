"""stager on real FAT32 and exFAT cards (loop devices through FUSE, flagged removable);
after each test the image is unmounted and checked on its own."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from stager.catalog.demo import build_demo_catalog
from stager.catalog.index import INDEX_NAME, format_index_line

pytestmark = pytest.mark.cards
BUNDLE = "PULSE22_OCPP318_KIP313A_FR.tar.gz"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare(run_stager, catalog, *extra):
    return run_stager(
        "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", catalog, "--yes", "--json", *extra
    )


def assert_staged(card, catalog: Path, name: str = BUNDLE, sub: str = "p22"):
    card.eject()
    report = card.fsck()  # fsck exits 0 (checked in sh) and counts the bundle and its sidecar
    counts = [int(n) for n in re.findall(r"(\d+) files|files (\d+)", report)[0] if n]
    assert counts and counts[0] >= 2, report
    want = (catalog / sub / name).read_bytes()
    assert sha(card.read(name)) == sha(want)
    assert card.read(f"{name}.sha256").decode() == f"{sha(want)}  {name}\n"
    assert not any(n.startswith(".stager") or n.upper().startswith(".STAGER") for n in card.files())


@pytest.mark.parametrize("fs,fstype", [("fat32", "vfat"), ("exfat", "exfat")])
def test_media_finds_the_card(run_stager, make_card, fs, fstype):
    card = make_card(fs)
    r = run_stager("media", "--json")
    assert r.code == 0, r
    (m,) = [m for m in r.json()["media"] if m["mountpoint"] == str(card.mountpoint)]
    assert m["device"] == card.device and m["fstype"] == fstype and m["label"] == "PULSECARD"
    assert m["removable"] is True and m["why"] == "removable flag" and m["is_system"] is False
    assert all(x["mountpoint"] != "/" for x in r.json()["media"])


@pytest.mark.parametrize("fs", ["fat32", "exfat"])
def test_prepare_without_target_stages_onto_the_one_card(run_stager, make_card, demo, fs):
    card = make_card(fs)
    r = prepare(run_stager, demo)
    assert r.code == 0, r
    (t,) = r.json()["targets"]
    assert t["path"] == str(card.mountpoint) and t["verified"] is True and t["device"] == card.device
    v = run_stager("verify", "--target", card.mountpoint, "--json")
    assert v.code == 0, v
    assert_staged(card, demo)


def test_card_with_old_firmware(run_stager, make_card, demo):
    card = make_card()
    (card.mountpoint / "OCPP212_KIP241A_FR.bin").write_bytes(b"old firmware")
    (card.mountpoint / "NOTES.TXT").write_bytes(b"site notes")
    r = prepare(run_stager, demo)
    assert r.code == 5, r
    assert "OCPP212_KIP241A_FR.bin" in r.json()["targets"][0]["error"]["message"]
    r = prepare(run_stager, demo, "--clean")
    assert r.code == 0, r
    assert_staged(card, demo)
    assert card.read("NOTES.TXT") == b"site notes"
    assert "OCPP212_KIP241A_FR.bin" not in card.files()


def test_read_only_card(run_stager, make_card, demo):
    card = make_card(read_only=True)
    r = prepare(run_stager, demo)
    assert r.code == 5, r
    assert r.json()["error"]["code"] == "read-only"
    card.eject()
    assert BUNDLE not in card.files()


@pytest.mark.parametrize("fs", ["fat32", "exfat"])
def test_card_too_small(run_stager, make_card, tmp_path, fs):
    name = "OCPP212_KIP241A_FR.bin"
    cat = tmp_path / "big"
    cat.mkdir()
    data = os.urandom(48 * 1024 * 1024)
    (cat / name).write_bytes(data)
    (cat / INDEX_NAME).write_bytes(format_index_line(sha(data), name))
    card = make_card(fs, size_mb=40)
    r = run_stager("prepare", "-m", "p22", "-k", "212", "--lang", "FR", "--catalog", cat, "--yes", "--json")
    assert r.code == 5, r
    assert r.json()["targets"][0]["error"]["code"] == "media-full", r.json()["targets"][0]["error"]
    card.eject()
    card.fsck()
    assert [n for n in card.files() if n.lower().endswith((".bin", ".part"))] == []


def test_two_cards_at_once(run_stager, make_card, demo):
    a, b = make_card(label="CARDA"), make_card("exfat", label="CARDB")
    r = prepare(run_stager, demo)
    assert r.code == 5, r
    assert r.json()["error"]["code"] == "several-media"
    assert str(a.mountpoint) in r.json()["error"]["message"] and str(b.mountpoint) in r.json()["error"]["message"]
    r = prepare(run_stager, demo, "--target", a.mountpoint, "--target", b.mountpoint)
    assert r.code == 0, r
    assert [t["verified"] for t in r.json()["targets"]] == [True, True]
    assert_staged(a, demo)
    assert_staged(b, demo)


def test_partitioned_card(run_stager, make_card, demo):
    card = make_card(partitioned=True)
    r = run_stager("media", "--json")
    (m,) = [m for m in r.json()["media"] if m["mountpoint"] == str(card.mountpoint)]
    assert m["device"].endswith("p1") and m["disk"] == card.loop
    r = prepare(run_stager, demo)
    assert r.code == 0, r
    assert_staged(card, demo)


def test_verify_catches_damage_on_the_card(run_stager, make_card, demo):
    card = make_card()
    assert prepare(run_stager, demo).code == 0
    path = card.mountpoint / BUNDLE
    data = bytearray(path.read_bytes())
    data[20] ^= 0x01
    path.write_bytes(bytes(data))
    r = run_stager("verify", "--target", card.mountpoint, "--json")
    assert r.code == 6, r
    assert r.json()["files"][0]["status"] == "mismatch"


def test_prepare_with_eject_unmounts_the_card(run_stager, make_card, demo):
    card = make_card()
    r = run_stager("prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", demo, "--yes", "--eject")
    assert r.code == 0, r
    assert "safe to pull" in r.out + r.err
    assert not os.path.ismount(card.mountpoint)
    assert_staged(card, demo)


def test_prepare_with_eject_that_fails_exits_5_with_the_card_staged(run_stager, make_card, demo):
    """The card is held open (its root folder open in this process, nothing written):
    umount refuses, the technician is told why, the exit code is 5, and the card is still
    staged and verified."""
    card = make_card()
    holder = os.open(card.mountpoint, os.O_RDONLY)
    try:
        r = run_stager(
            "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", demo, "--yes", "--eject", "--json"
        )
    finally:
        os.close(holder)
    assert r.code == 5, r
    doc = r.json()
    assert doc["ok"] and doc["targets"][0]["verified"]
    assert "Could not eject" in r.err and "staged and verified" in r.err
    assert os.path.ismount(card.mountpoint)
    assert_staged(card, demo)
