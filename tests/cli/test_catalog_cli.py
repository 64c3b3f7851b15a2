"""The command-line contract of `stager catalog list | index | verify` (installed stager)."""

import shutil
import subprocess

import pytest
from helpers.catalog import content, files_of, make_catalog, sha256sum_accepts

from stager.catalog.demo import build_demo_catalog
from stager.catalog.index import INDEX_NAME

LIST_KEYS = {"catalog", "index", "counts", "models", "inconsistent", "unrecognised", "bad_lines", "missing", "skipped"}
ROW_KEYS = {
    "path",
    "name",
    "bytes",
    "status",
    "why",
    "sha256",
    "line",
    "model",
    "kit",
    "terminal",
    "pack",
    "role",
    "format",
    "canonical",
    "rules",
    "duplicates",
}
VERIFY_KEYS = {
    "ok",
    "catalog",
    "checked",
    "bytes",
    "files",
    "damaged",
    "unreadable",
    "missing",
    "bad_lines",
    "not_indexed",
}
INDEX_KEYS = {
    "ok",
    "catalog",
    "written",
    "added",
    "checked",
    "damaged",
    "unreadable",
    "bad_lines",
    "missing",
    "excluded",
    "blocked",
}


@pytest.fixture
def trap(tmp_path):
    """A catalog with a bit of everything."""
    root = make_catalog(
        tmp_path / "cat",
        files_of(
            "p22/PULSE22_OCPP318_KIP313A_FR.tar.gz",
            "p22/PULSE22_OCPP318_KIP313A_EN.tar.gz",
            "p50/OCPP212_KIP220B_FR.bin",
            "p50/PULSE50_OCPP318_KIP313B_FR.bin",
            "readme.txt",
            "stray/firmware.bin",
            "KIP313A_FR.hex",
        ),
        indexed=[
            "p22/PULSE22_OCPP318_KIP313A_FR.tar.gz",
            "p22/PULSE22_OCPP318_KIP313A_EN.tar.gz",
            "p50/OCPP212_KIP220B_FR.bin",
        ],
        extra=b"not a line\n",
    )
    (root / "out").symlink_to(tmp_path)
    return root


def test_list_json(run_stager, trap):
    r = run_stager("catalog", "list", "--catalog", trap, "--json")
    assert r.code == 0, r
    doc = r.json()
    assert set(doc) >= LIST_KEYS
    assert [m["model"] for m in doc["models"]] == ["p22", "p50", "wbac"]
    rows = {f["path"]: f for m in doc["models"] for f in m["files"]}
    assert set(rows["p50/OCPP212_KIP220B_FR.bin"]) >= ROW_KEYS
    assert rows["p50/OCPP212_KIP220B_FR.bin"]["status"] == "usable"
    assert rows["KIP313A_FR.hex"]["status"] == "not-indexed"
    assert [f["path"] for f in doc["inconsistent"]] == ["p50/PULSE50_OCPP318_KIP313B_FR.bin"]
    assert {f["path"] for f in doc["unrecognised"]} == {"readme.txt", "stray/firmware.bin"}
    assert [(b["line"], b["code"]) for b in doc["bad_lines"]] == [(4, "malformed")]
    assert [p["path"] for p in doc["skipped"]] == ["out"]
    assert r.err == ""


def test_list_one_model(run_stager, trap):
    r = run_stager("catalog", "list", "--catalog", trap, "--model", "Pulse-50", "--json")
    assert r.code == 0, r
    doc = r.json()
    assert [m["model"] for m in doc["models"]] == ["p50"]
    assert doc["inconsistent"]  # problems are always listed


def test_list_human(run_stager, trap):
    r = run_stager("catalog", "list", env={"STAGER_CATALOG": str(trap)})
    assert r.code == 0, r
    for needle in (
        "Pulse 22 GL / WL (p22)",
        "Pulse 50 (p50)",
        "Kit  Term",
        "p22/PULSE22_OCPP318_KIP313A_FR.tar.gz",
        "not indexed",
        "Inconsistent names (never used)",
        "kit 318 is 3XX",
        "Unrecognised names (never used)",
        "stray/firmware.bin",
        "Other files (not firmware names, never used)",
        "readme.txt",
        "line 4 [malformed]",
        "out: a link to",
        "stager catalog index",
    ):
        assert needle in r.out, needle
    table = [line for line in r.out.splitlines() if line.startswith("  ") and line.split()[0] in ("Kit", "318", "212")]
    assert len(table) >= 4 and all(len(line) <= 80 for line in table), r.out  # tables fit 80 columns


@pytest.mark.parametrize("sub", ["list", "index", "verify"])
def test_no_catalog_is_exit_2_in_one_line(run_stager, sub):
    r = run_stager("catalog", sub)
    assert r.code == 2, r
    assert r.err.count("\n") == 1 and "--catalog" in r.err and "STAGER_CATALOG" in r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize("sub", ["list", "index", "verify"])
def test_missing_catalog_is_exit_4(run_stager, tmp_path, sub):
    r = run_stager("catalog", sub, "--catalog", tmp_path / "nope", "--json")
    assert r.code == 4, r
    assert r.json() == {
        "ok": False,
        "error": {"code": "catalog-not-found", "message": r.json()["error"]["message"]},
        "lang": "en",
    }
    assert "does not exist" in r.err and "Traceback" not in r.err


def test_bad_model_is_exit_2(run_stager, trap):
    r = run_stager("catalog", "list", "--catalog", trap, "--model", "p99")
    assert r.code == 2 and "Valid models" in r.err


def test_index_then_verify(run_stager, trap):
    r = run_stager("catalog", "index", "--catalog", trap, "--json")
    assert r.code == 0, r
    doc = r.json()
    assert set(doc) >= INDEX_KEYS and doc["ok"] is True and doc["written"] is True
    assert [a["path"] for a in doc["added"]] == [
        "KIP313A_FR.hex",
        "p50/PULSE50_OCPP318_KIP313B_FR.bin",
        "readme.txt",
        "stray/firmware.bin",
    ]
    assert doc["checked"] == 3 and [b["line"] for b in doc["bad_lines"]] == [4]
    # the malformed line stays as it was; sha256sum reads the rest
    proc = subprocess.run([shutil.which("sha256sum"), "-c", INDEX_NAME], cwd=trap, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "improperly formatted" in proc.stderr

    r = run_stager("catalog", "verify", "--catalog", trap, "--json")
    assert r.code == 4, r  # the bad line makes the index unsound
    doc = r.json()
    assert set(doc) >= VERIFY_KEYS and doc["ok"] is False and doc["error"]["code"] == "bad-index-line"
    assert doc["checked"] == 7 and doc["damaged"] == []


@pytest.mark.parametrize("index", ["absent", "a folder"])
def test_verify_without_a_readable_index_is_exit_4(run_stager, tmp_path, index):
    root = make_catalog(tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin"))
    (root / "SHA256SUMS").unlink()
    if index == "a folder":
        (root / "SHA256SUMS").mkdir()
    r = run_stager("catalog", "verify", "--catalog", root, "--json")
    assert r.code == 4, r
    assert r.json()["ok"] is False
    assert r.json()["error"]["code"] == ("no-index" if index == "absent" else "index-unreadable")
    assert "all match" not in run_stager("catalog", "verify", "--catalog", root).out


def test_verify_damaged_exit_4(run_stager, tmp_path):
    root = make_catalog(tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin", "sub/KIP241A.hex"))
    r = run_stager("catalog", "verify", "--catalog", root)
    assert r.code == 0, r
    assert "Verified 2 file(s)" in r.out and "all match" in r.out
    (root / "sub" / "KIP241A.hex").write_bytes(b"flipped")
    r = run_stager("catalog", "verify", "--catalog", root)
    assert r.code == 4, r
    assert "DAMAGED sub/KIP241A.hex" in r.out and "Error:" in r.err
    r = run_stager("catalog", "verify", "--catalog", root, "--json")
    assert r.code == 4
    doc = r.json()
    assert doc["ok"] is False and doc["error"]["code"] == "damaged" and doc["damaged"] == ["sub/KIP241A.hex"]
    # no progress bar when stderr is not a terminal
    assert "it/s" not in r.err and "B/s" not in r.err


def test_index_damaged_exit_4_and_line_kept(run_stager, tmp_path):
    root = make_catalog(tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin"))
    before = (root / INDEX_NAME).read_bytes()
    (root / "OCPP212_KIP241A_FR.bin").write_bytes(b"changed")
    r = run_stager("catalog", "index", "--catalog", root)
    assert r.code == 4, r
    assert "DAMAGED OCPP212_KIP241A_FR.bin" in r.out and "Nothing to add" in r.out
    assert (root / INDEX_NAME).read_bytes() == before
    (root / "OCPP212_KIP241A_FR.bin").write_bytes(content("OCPP212_KIP241A_FR.bin"))
    assert run_stager("catalog", "index", "--catalog", root).code == 0


def test_demo_catalog_through_the_cli(run_stager, tmp_path):
    root = build_demo_catalog(tmp_path / "demo")
    assert sha256sum_accepts(root).returncode == 0
    r = run_stager("catalog", "verify", "--catalog", root, "--json")
    assert r.code == 0, r
    assert (
        r.json()["ok"] is True and r.json()["checked"] == len([p for p in root.rglob("*") if p.is_file()]) - 1
    )  # all but SHA256SUMS
    r = run_stager("catalog", "index", "--catalog", root, "--json")
    assert r.code == 0 and r.json()["added"] == []


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ("unknown kit", "not indexed", "no line in SHA256SUMS")),
        ("fr", ("kit inconnu", "non indexé", "aucune ligne dans SHA256SUMS")),
    ],
)
def test_list_a_file_s_note_is_a_wrapped_paragraph_not_a_column_of_letters(run_stager, tmp_path, lang, words):
    """Acceptance of issue 16 (F17): an unindexed file's note was wrapped to a width below its
    indentation, one character per line; the table's columns show words, not codes."""
    from stager.catalog.demo import build_demo_catalog

    catalog = build_demo_catalog(tmp_path / "cat")
    (catalog / "p22" / "PULSE22_OCPP999_KIP313A_FR.tar.gz").write_bytes(b"x")
    r = run_stager("catalog", "list", "--catalog", catalog, "-m", "p22", env={"STAGER_UI_LANG": lang})
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert not [line for line in lines if len(line.strip()) == 1], r.out
    assert all(len(line) <= 80 for line in lines if line.startswith("  ")), r.out  # the tables and their notes
    assert all(word in r.out for word in words), r.out
    assert "-inconnu" not in r.out and "non-indexé" not in r.out and "unknown-kit" not in r.out, r.out
