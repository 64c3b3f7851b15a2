"""`stager prepare --dry-run`: the whole plan, nothing written (installed stager, real catalogs)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from stager.catalog.demo import build_demo_catalog
from stager.catalog.index import INDEX_NAME, format_index_line

PREPARE_KEYS = {"ok", "dry_run", "decision", "files", "targets"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_catalog(root: Path, files: dict, indexed=None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    names = list(files) if indexed is None else indexed
    (root / INDEX_NAME).write_bytes(b"".join(format_index_line(sha(files[r]), r) for r in names))
    return root


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


def dry(run_stager, catalog, *args, target=None):
    if target is not None and Path(catalog).resolve().is_relative_to(Path(target).resolve()):
        target = Path(target) / "card"  # a card is never the folder holding the catalog
        target.mkdir(exist_ok=True)
    target_args = ["--target", target, "--allow-fixed"] if target else []
    return run_stager("prepare", *args, "--catalog", catalog, *target_args, "--dry-run", "--json")


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_dry_run_plan(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    r = dry(run_stager, demo, "-m", "p22", "-k", "318", "--lang", "FR", target=card)
    assert r.code == 0, r
    doc = r.json()
    assert set(doc) >= PREPARE_KEYS
    assert doc["ok"] is True and doc["dry_run"] is True
    assert doc["decision"]["allowed"] is True and doc["decision"]["terminal"] == 313
    (f,) = doc["files"]
    assert f["name"] == "PULSE22_OCPP318_KIP313A_FR.tar.gz" and f["role"] == "bundle"
    data = (demo / "p22" / f["name"]).read_bytes()
    assert f["bytes"] == len(data) and f["sha256"] == sha(data)
    assert doc["targets"] == [
        {
            "path": str(card.resolve()),
            "staged": [],
            "verified": False,
            "device": doc["targets"][0]["device"],
            "label": doc["targets"][0]["label"],
            "fstype": doc["targets"][0]["fstype"],
            "filesystem": doc["targets"][0]["filesystem"],
            "uuid": doc["targets"][0]["uuid"],
            "size_bytes": doc["targets"][0]["size_bytes"],
            "identity": doc["targets"][0]["identity"],
            "already_staged": [],
            "would_remove": [],
        }
    ]
    assert list(card.iterdir()) == []  # nothing written


def test_dry_run_checks_the_card_as_the_real_run_would(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    (card / "OCPP212_KIP241A_FR.bin").write_bytes(b"old firmware")
    (card / "photo.jpg").write_bytes(b"not firmware")
    before = snapshot(card)
    r = dry(run_stager, demo, "-m", "p22", "-k", "318", "--lang", "FR", target=card)
    assert r.code == 5, r  # the real run would stop on the old firmware: so does the dry run
    doc = r.json()
    assert doc["ok"] is False and doc["error"]["code"] == "firmware-present"
    assert doc["targets"][0]["error"]["code"] == "firmware-present"
    r = dry(run_stager, demo, "-m", "p22", "-k", "318", "--lang", "FR", "--clean", target=card)
    assert r.code == 0, r
    assert r.json()["targets"][0]["would_remove"] == ["OCPP212_KIP241A_FR.bin"]
    assert snapshot(card) == before  # nothing removed, nothing written


def test_dry_run_with_hex(run_stager, demo, tmp_path):
    r = dry(run_stager, demo, "-m", "p50", "-k", "318", "-t", "311", "--lang", "EN", "--hex", target=tmp_path)
    assert r.code == 0, r
    assert [(f["name"], f["role"]) for f in r.json()["files"]] == [
        ("PULSE50_OCPP318_KIP311B_EN.tar.gz", "bundle"),
        ("KIP311B_EN.hex", "hex"),
    ]


def test_dry_run_2xx_hex_has_no_pack(run_stager, demo, tmp_path):
    r = dry(run_stager, demo, "-m", "p22", "-k", "212", "--lang", "FR", "--hex", target=tmp_path)
    assert r.code == 0, r
    assert [f["name"] for f in r.json()["files"]] == ["OCPP212_KIP241A_FR.bin", "KIP241A.hex"]


def test_wbac_any_pack(run_stager, demo, tmp_path):
    r = dry(run_stager, demo, "-m", "wbac", "-k", "318", target=tmp_path)
    assert r.code == 0, r
    assert r.json()["files"][0]["name"].startswith("WBAC_OCPP318_KIP124W_")


def test_refused_is_exit_3_with_the_decision(run_stager, demo, tmp_path):
    r = dry(run_stager, demo, "-m", "p22", "-k", "314", target=tmp_path)
    assert r.code == 3, r
    doc = r.json()
    assert doc["ok"] is False and doc["error"]["code"] == "forbidden-version"
    assert doc["decision"]["allowed"] is False


def test_several_packs_exit_4(run_stager, demo, tmp_path):
    r = dry(run_stager, demo, "-m", "p22", "-k", "318", target=tmp_path)
    assert r.code == 4, r
    assert r.json()["error"]["code"] == "several-files"
    assert "--lang" in r.json()["error"]["message"]


def test_tampered_file_exit_4_in_dry_run(run_stager, tmp_path):
    name = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
    cat = write_catalog(tmp_path / "cat", {name: b"original bytes"})
    (cat / name).write_bytes(b"tampered bytes")
    r = dry(run_stager, cat, "-m", "p22", "-k", "318", target=tmp_path)
    assert r.code == 4, r
    assert r.json()["error"]["code"] == "damaged"


def test_not_indexed_exit_4(run_stager, tmp_path):
    name = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
    cat = write_catalog(tmp_path / "cat", {name: b"bytes"}, indexed=[])
    r = dry(run_stager, cat, "-m", "p22", "-k", "318", target=tmp_path)
    assert r.code == 4 and r.json()["error"]["code"] == "not-indexed"


def test_no_matching_file_says_what_exists(run_stager, tmp_path):
    cat = write_catalog(tmp_path / "cat", {"PULSE22_OCPP318_KIP312A_FR.tar.gz": b"x"})
    r = dry(run_stager, cat, "-m", "p22", "-k", "318", target=tmp_path)
    assert r.code == 4
    assert "KIP312A" in r.json()["error"]["message"]


def test_no_catalog_is_exit_2(run_stager, tmp_path):
    r = run_stager("prepare", "-m", "p22", "-k", "318", "--dry-run")
    assert r.code == 2 and "STAGER_CATALOG" in r.err


def test_catalog_from_the_environment(run_stager, demo, tmp_path):
    r = run_stager(
        "prepare",
        "-m",
        "p22",
        "-k",
        "318",
        "--lang",
        "fr",
        "--target",
        tmp_path,
        "--allow-fixed",
        "--dry-run",
        "--json",
        env={"STAGER_CATALOG": str(demo)},
    )
    assert r.code == 0, r


def test_fixed_target_refused_without_allow_fixed(run_stager, demo, tmp_path):
    r = run_stager(
        "prepare",
        "-m",
        "p22",
        "-k",
        "318",
        "--lang",
        "FR",
        "--catalog",
        demo,
        "--target",
        tmp_path,
        "--dry-run",
        "--json",
    )
    assert r.code == 5, r
    assert r.json()["error"]["code"] == "not-removable"


def test_dry_run_human_output_and_nothing_written(run_stager, demo, tmp_path):
    before = snapshot(demo)
    r = run_stager(
        "prepare",
        "-m",
        "p22",
        "-k",
        "318",
        "--lang",
        "FR",
        "--catalog",
        demo,
        "--target",
        tmp_path,
        "--allow-fixed",
        "--dry-run",
    )
    assert r.code == 0, r
    assert r.out.startswith("ALLOWED") and "PULSE22_OCPP318_KIP313A_FR.tar.gz" in r.out
    assert "nothing was written" in r.out
    assert snapshot(demo) == before and list(tmp_path.iterdir()) == []
