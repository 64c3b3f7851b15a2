"""The catalog on real folders: scan statuses, SHA256SUMS lines good and bad, selection,
index, verify, symlinks out of the catalog, and the demo catalog (checked with the real
sha256sum)."""

from __future__ import annotations

import io
import os
import shutil
import tarfile

import pytest
from helpers.catalog import content, files_of, make_catalog, sha, sha256sum_accepts
from intelhex import IntelHex

from stager.catalog import folder as catalog_mod
from stager.catalog import index as index_mod
from stager.catalog.demo import MARKER, build_demo_catalog, demo_files
from stager.catalog.folder import Catalog, open_catalog
from stager.catalog.index import INDEX_NAME, check_content, format_index_line, hash_file, parse_index
from stager.catalog.select import select
from stager.errors import BadInput, CatalogError, Refused
from stager.fileio import CHUNK
from stager.rules import names
from stager.rules.engine import Query, decide
from stager.rules.loader import rules

SHA256SUM = shutil.which("sha256sum")


def d(model, kit, terminal=None):
    return decide(Query(model=model, kit=kit, terminal=terminal))


def status_of(cat: Catalog, relpath: str) -> str:
    return next(e.status for e in cat.entries if e.relpath == relpath)


# --------------------------------------------------------------------------- opening
def test_no_catalog_given_is_bad_input():
    with pytest.raises(BadInput) as e:
        open_catalog(None, environ={})
    assert e.value.exit_code == 2 and "STAGER_CATALOG" in e.value.message


def test_catalog_from_the_environment(tmp_path):
    make_catalog(tmp_path / "c", files_of("KIP241A.hex"))
    cat = open_catalog(None, environ={"STAGER_CATALOG": str(tmp_path / "c")})
    assert [e.relpath for e in cat.entries] == ["KIP241A.hex"]


def test_missing_catalog_folder_is_exit_4(tmp_path):
    with pytest.raises(CatalogError) as e:
        open_catalog(tmp_path / "nope")
    assert e.value.exit_code == 4 and e.value.code == "catalog-not-found"
    assert "\n" not in e.value.message
    (tmp_path / "file").write_text("x")
    with pytest.raises(CatalogError, match="not a folder"):
        open_catalog(tmp_path / "file")


# --------------------------------------------------------------------------- scan
def test_scan_statuses(tmp_path):
    root = make_catalog(
        tmp_path / "c",
        {
            **files_of(
                "PULSE22_OCPP318_KIP313A_FR.tar.gz",
                "sub/deeper/OCPP212_KIP241A_FR.bin",
                "PULSE22_OCPP318_KIP313A_FR.bin",
                "notes.txt",
                "KIP313A_EN.hex",
            ),
        },
        indexed=[
            "PULSE22_OCPP318_KIP313A_FR.tar.gz",
            "sub/deeper/OCPP212_KIP241A_FR.bin",
            "PULSE22_OCPP318_KIP313A_FR.bin",
        ],
    )
    cat = open_catalog(root)
    assert {e.relpath: e.status for e in cat.entries} == {
        "PULSE22_OCPP318_KIP313A_FR.tar.gz": "usable",
        "sub/deeper/OCPP212_KIP241A_FR.bin": "usable",
        "PULSE22_OCPP318_KIP313A_FR.bin": "inconsistent",
        "notes.txt": "unrecognised",
        "KIP313A_EN.hex": "not-indexed",
    }
    e = next(e for e in cat.entries if e.relpath == "sub/deeper/OCPP212_KIP241A_FR.bin")
    assert e.size == len(content(e.relpath)) and e.line == 2
    assert cat.counts() == {"usable": 2, "inconsistent": 1, "unrecognised": 1, "not-indexed": 1}


def test_a_listing_asks_the_rules_once_per_table_cell(tmp_path, monkeypatch):
    """Each file's "rules" is its table cell; many files of one cell ask the rules once."""
    from stager.catalog import model as model_mod
    from stager.rules.engine import table_cell

    names_ = [f"batch{i}/PULSE22_OCPP318_KIP313A_FR.tar.gz" for i in range(6)]
    names_ += [f"old{i}/OCPP212_KIP241A_FR.bin" for i in range(4)] + ["PULSE22_OCPP318_KIP241A_FR.tar.gz"]
    root = make_catalog(tmp_path / "c", files_of(*names_))
    asked = []
    monkeypatch.setattr(model_mod, "table_cell", lambda *key: asked.append(key) or table_cell(*key))
    doc = open_catalog(root).to_json()
    cells = {f["path"]: f["rules"] for m in doc["models"] for f in m["files"]}
    assert cells == {
        n: table_cell("p22", *((318, 313) if "313" in n else (212, 241) if "212" in n else (318, 241))) for n in names_
    }
    assert sorted(asked) == [("p22", 212, 241), ("p22", 318, 241), ("p22", 318, 313)]


def test_listing_never_reads_contents(tmp_path, monkeypatch):
    root = make_catalog(tmp_path / "c", files_of("KIP241A.hex", "OCPP212_KIP241A_FR.bin"))
    for module in (index_mod, catalog_mod):
        for name in ("hash_file", "hash_many"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("listing hashed a file"))
    real_open = io.open

    def no_firmware_open(path, *a, **k):
        assert not str(path).endswith((".bin", ".hex")), f"listing opened {path}"
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", no_firmware_open)
    monkeypatch.setattr("io.open", no_firmware_open)  # pathlib's way in
    cat = open_catalog(root)
    cat.to_json()
    select(cat, d("p22", 212), "FR", with_hex=True)


def test_five_thousand_files_are_listed_with_one_parse_each_and_the_rules_resolved_once(tmp_path, monkeypatch):
    """The work of a big listing, counted (its speed is measured in scripts/bench_stage.py):
    each name parsed once, the rules' data folder resolved at most once."""
    from stager.rules import loader

    root = tmp_path / "many"
    for i in range(50):
        (root / f"batch{i:02d}").mkdir(parents=True)
    for i in range(5000):
        (root / f"batch{i % 50:02d}" / f"PULSE22_OCPP318_KIP313A_L{i:04d}.tar.gz").write_bytes(b"x")
    (root / "batch00" / "PULSE22_OCPP318_KIP313A_FR.tar.gz").write_bytes(b"y")
    names.convention()  # loaded once per process (it parses its own examples)
    parses, resolves = [], []
    real_parse, real_dir = names.parse, loader.data_dir
    monkeypatch.setattr(names, "parse", lambda *a, **k: parses.append(1) or real_parse(*a, **k))
    monkeypatch.setattr(loader, "data_dir", lambda: resolves.append(1) or real_dir())
    monkeypatch.setattr(loader, "_current", {})
    cat = open_catalog(root)
    doc = cat.to_json()
    assert len(cat.entries) == 5001 and doc["counts"]["unrecognised"] == 5000
    assert len(parses) == 5001
    assert len(resolves) <= 1


def test_unreadable_folder_is_reported_and_the_scan_goes_on(tmp_path, monkeypatch):
    root = make_catalog(tmp_path / "c", files_of("locked/KIP241A.hex", "open/OCPP212_KIP241A_FR.bin"))
    locked = str(root / "locked")
    os.chmod(locked, 0)
    real = os.scandir

    def scandir(path):  # root ignores permissions: make the kernel's answer explicit
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real(path)

    monkeypatch.setattr(catalog_mod.os, "scandir", scandir)
    try:
        cat = open_catalog(root)
    finally:
        os.chmod(locked, 0o755)
    assert [p.path for p in cat.skipped if "cannot read this folder" in p.why] == ["locked"]
    assert status_of(cat, "open/OCPP212_KIP241A_FR.bin") == "usable"
    assert select(cat, d("p22", 212), "FR").bundle.relpath == "open/OCPP212_KIP241A_FR.bin"
    # the file of the locked folder is indexed but cannot be seen: reported, never used
    assert [p.path for p in cat.skipped if p.line] == ["locked/KIP241A.hex"]


def test_unreadable_file_is_listed_and_never_used(tmp_path, monkeypatch):
    root = make_catalog(tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin", "OCPP212_KIP241A_EN.bin"))
    locked = str(root / "OCPP212_KIP241A_FR.bin")
    real = os.access
    monkeypatch.setattr(catalog_mod.os, "access", lambda p, mode: False if str(p) == locked else real(p, mode))
    cat = open_catalog(root)
    assert status_of(cat, "OCPP212_KIP241A_FR.bin") == "unreadable"
    with pytest.raises(CatalogError) as e:
        select(cat, d("p22", 212), "FR")
    assert e.value.code == "unreadable" and e.value.exit_code == 4
    assert select(cat, d("p22", 212), "EN").bundle.name == "OCPP212_KIP241A_EN.bin"


def test_hidden_folders_and_odd_files_are_not_used(tmp_path):
    root = make_catalog(tmp_path / "c", files_of(".Trash-1000/OCPP212_KIP241A_FR.bin"), indexed=[])
    os.mkfifo(root / "OCPP212_KIP241A_EN.bin")
    cat = open_catalog(root)
    assert cat.entries == ()
    assert {p.path: p.why for p in cat.skipped} == {
        ".Trash-1000": "a hidden folder: not scanned",
        "OCPP212_KIP241A_EN.bin": "not a regular file",
    }


# --------------------------------------------------------------------------- symlinks
def test_symlinks_out_of_the_catalog_are_never_used(tmp_path):
    outside = make_catalog(tmp_path / "elsewhere", files_of("PULSE22_OCPP318_KIP313A_FR.tar.gz", "d/KIP313A_FR.hex"))
    root = make_catalog(tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin"))
    (root / "PULSE22_OCPP318_KIP313A_FR.tar.gz").symlink_to(outside / "PULSE22_OCPP318_KIP313A_FR.tar.gz")
    (root / "linked").symlink_to(outside / "d")
    lines = (
        (root / INDEX_NAME).read_bytes()
        + format_index_line(sha(content("PULSE22_OCPP318_KIP313A_FR.tar.gz")), "PULSE22_OCPP318_KIP313A_FR.tar.gz")
        + format_index_line(sha(content("d/KIP313A_FR.hex")), "linked/KIP313A_FR.hex")
    )
    (root / INDEX_NAME).write_bytes(lines)
    cat = open_catalog(root)
    assert [e.relpath for e in cat.entries] == ["OCPP212_KIP241A_FR.bin"]
    assert {p.path for p in cat.skipped} == {"PULSE22_OCPP318_KIP313A_FR.tar.gz", "linked"}
    assert all("outside the catalog" in p.why for p in cat.skipped)
    assert [(b.line, b.code) for b in cat.bad_lines] == [(2, "outside-catalog"), (3, "outside-catalog")]
    with pytest.raises(CatalogError) as e:
        select(cat, d("p22", 318, 313), "FR")
    assert e.value.code == "no-matching-file"
    assert "PULSE22_OCPP318_KIP313A_FR.tar.gz is never used (a link to" in e.value.message
    # verify does not read through them either, and says the index is not sound
    report = cat.verify()
    assert [c.path for c in report.checks] == ["OCPP212_KIP241A_FR.bin"]
    assert report.error().code == "bad-index-line"


def test_a_link_inside_the_catalog_is_a_file_like_any_other(tmp_path):
    root = make_catalog(tmp_path / "c", files_of("store/OCPP212_KIP241A_FR.bin"))
    (root / "OCPP212_KIP241A_EN.bin").symlink_to("store/OCPP212_KIP241A_FR.bin")
    (root / "alias").symlink_to("store")
    Catalog(root).index()
    cat = open_catalog(root)
    assert status_of(cat, "OCPP212_KIP241A_EN.bin") == "usable"
    assert [p.path for p in cat.skipped] == ["alias"]
    assert sha256sum_accepts(root).returncode == 0


# --------------------------------------------------------------------------- SHA256SUMS
GOOD = "OCPP212_KIP241A_FR.bin"


@pytest.mark.parametrize(
    "line,code,blocked",
    [
        (b"this is not an index line\n", "malformed", None),
        (b"0123  OCPP212_KIP241A_EN.bin\n", "bad-hash", "OCPP212_KIP241A_EN.bin"),
        (b"z" * 64 + b"  OCPP212_KIP241A_EN.bin\n", "bad-hash", "OCPP212_KIP241A_EN.bin"),
        (b"/" * 0 + sha(b"x").encode() + b"  /etc/OCPP212_KIP241A_EN.bin\n", "absolute-path", None),
        (sha(b"x").encode() + b"  ../c/OCPP212_KIP241A_EN.bin\n", "unsafe-path", None),
        (sha(b"x").encode() + b"  sub/../OCPP212_KIP241A_EN.bin\n", "unsafe-path", None),
        (
            sha(content("OCPP212_KIP241A_EN.bin")).encode()
            + b"  OCPP212_KIP241A_EN.bin\n"
            + sha(content("OCPP212_KIP241A_EN.bin")).encode()
            + b"  ./OCPP212_KIP241A_EN.bin\n",
            "duplicate-path",
            "OCPP212_KIP241A_EN.bin",
        ),
        (sha(b"x").encode() + b"  SHA256SUMS\n", "index-itself", None),
        # one space: malformed, and the file it names is blocked (not "not indexed", never re-indexed)
        (sha(b"x").encode() + b" OCPP212_KIP241A_EN.bin\n", "malformed", "OCPP212_KIP241A_EN.bin"),
    ],
)
def test_each_bad_index_line_is_named_and_the_rest_still_works(tmp_path, line, code, blocked):
    root = make_catalog(tmp_path / "c", files_of(GOOD, "OCPP212_KIP241A_EN.bin"), indexed=[GOOD], extra=line)
    cat = open_catalog(root)
    bad = [b for b in cat.bad_lines if b.code == code]
    assert len(bad) == 1, cat.bad_lines
    assert bad[0].line == len(line.splitlines()) + 1  # after the good line
    # the line names the file it blocks (the index's own line blocks nothing)
    assert bad[0].relpath == (INDEX_NAME if code == "index-itself" else blocked)
    # the rest of the index works
    assert status_of(cat, GOOD) == "usable"
    assert select(cat, d("p22", 212), "FR").bundle.relpath == GOOD
    # the file on the bad line is never selected
    with pytest.raises(CatalogError) as e:
        select(cat, d("p22", 212), "EN")
    assert e.value.exit_code == 4
    assert e.value.code == ("bad-index-line" if blocked else "not-indexed")
    # index never adds a second line for a blocked file, and keeps the bad line as it was
    before = (root / INDEX_NAME).read_bytes()
    report = Catalog(root).index()
    after = (root / INDEX_NAME).read_bytes()
    assert after.startswith(before)
    if blocked:
        assert after == before and report.blocked == (blocked,)
        assert select(open_catalog(root), d("p22", 212), "FR").bundle.relpath == GOOD
    else:
        assert [c.path for c in report.added] == ["OCPP212_KIP241A_EN.bin"]


def test_index_formats_that_sha256sum_accepts_are_read(tmp_path):
    data = content("x")
    root = make_catalog(
        tmp_path / "c",
        {"OCPP212_KIP241A_FR.bin": data, "sub/KIP241A.hex": data, "back\\slash/KIP220B.hex": data},
        indexed=[],
    )
    h = sha(data)
    (root / INDEX_NAME).write_bytes(
        b"# made by hand\r\n\r\n"
        + h.upper().encode()
        + b" *OCPP212_KIP241A_FR.bin\r\n"  # binary marker, CRLF, capitals
        + h.encode()
        + b"  ./sub/KIP241A.hex\n"
        + b"\\"
        + h.encode()
        + b"  back\\\\slash/KIP220B.hex"
    )  # escaped name, no final newline
    assert sha256sum_accepts(root).returncode == 0
    cat = open_catalog(root)
    assert cat.bad_lines == [] and cat.counts() == {"usable": 3}
    assert cat.lines["sub/KIP241A.hex"].line == 4


def test_sha256sum_tag_lines_are_read(tmp_path):
    data = content("x")
    root = make_catalog(tmp_path / "c", {"OCPP212_KIP241A_FR.bin": data, "sub/KIP241A.hex": data}, indexed=[])
    (root / INDEX_NAME).write_bytes(  # `sha256sum --tag`, which `sha256sum -c` reads too
        b"SHA256 (OCPP212_KIP241A_FR.bin) = "
        + sha(data).encode()
        + b"\n"
        + b"SHA256 (sub/KIP241A.hex) = "
        + sha(data).encode()
        + b"\n"
    )
    assert sha256sum_accepts(root).returncode == 0
    cat = open_catalog(root)
    assert cat.bad_lines == [] and cat.counts() == {"usable": 2}


def test_a_look_alike_character_is_named():
    from stager.rules.names import parse

    bad = parse("PULSE22_OCPP318_\u212aIP313A_FR.tar.gz")  # KELVIN SIGN for the K of KIP
    assert bad.status == "unrecognised" and "U+212A KELVIN SIGN" in bad.why and "rename the file" in bad.why


def test_parse_index_of_garbage_bytes():
    good, bad = parse_index(b"\xff\xfe\x00garbage\n" + sha(b"a").encode() + b"  ok.bin\n")
    assert [g.relpath for g in good] == ["ok.bin"] and [b.line for b in bad] == [1]


def test_unreadable_index_leaves_every_file_unused(tmp_path):
    root = make_catalog(tmp_path / "c", files_of(GOOD))
    (root / INDEX_NAME).unlink()
    (root / INDEX_NAME).mkdir()
    cat = open_catalog(root)
    assert cat.index_error and status_of(cat, GOOD) == "index-unreadable"
    with pytest.raises(CatalogError) as e:
        cat.index()  # never replaces an index it cannot read
    assert e.value.code == "index-unreadable" and (root / INDEX_NAME).is_dir()
    with pytest.raises(CatalogError) as e:
        cat.verify()  # nothing could be verified: a failure, not "all match"
    assert e.value.code == "index-unreadable"


def test_verify_without_an_index_is_a_failure(tmp_path):
    root = make_catalog(tmp_path / "c", files_of(GOOD))
    (root / INDEX_NAME).unlink()
    with pytest.raises(CatalogError) as e:
        open_catalog(root).verify()
    assert e.value.code == "no-index" and "stager catalog index --catalog" in e.value.message


def test_an_index_linked_from_outside_is_neither_read_nor_replaced(tmp_path):
    elsewhere = make_catalog(tmp_path / "elsewhere", files_of(GOOD))
    root = tmp_path / "c"
    root.mkdir()
    (root / GOOD).write_bytes(content(GOOD))
    (root / INDEX_NAME).symlink_to(elsewhere / INDEX_NAME)
    cat = open_catalog(root)
    assert "outside the catalog" in cat.index_error and status_of(cat, GOOD) == "index-unreadable"
    with pytest.raises(CatalogError):
        cat.index()
    assert (root / INDEX_NAME).is_symlink()


# --------------------------------------------------------------------------- selection
def test_odd_case_file_is_selected_under_its_own_name(tmp_path):
    root = make_catalog(tmp_path / "c", files_of("pulse22_ocpp318_kip313a_fr.TAR.GZ"))
    sel = select(open_catalog(root), d("p22", 318))
    assert [f.name for f in sel] == ["pulse22_ocpp318_kip313a_fr.TAR.GZ"]
    assert sel.bundle.parsed.name == "PULSE22_OCPP318_KIP313A_FR.tar.gz"


def test_selection_gives_the_contract_fields(tmp_path):
    root = make_catalog(tmp_path / "c", files_of("a/b/PULSE50_OCPP318_KIP313B_EN.tar.gz"))
    sel = select(open_catalog(root), d("p50", 318, 313))
    f = sel.bundle
    assert (f.name, f.relpath, f.role, f.size) == (
        "PULSE50_OCPP318_KIP313B_EN.tar.gz",
        "a/b/PULSE50_OCPP318_KIP313B_EN.tar.gz",
        "bundle",
        f.path.stat().st_size,
    )
    assert f.sha256 == sha(f.path.read_bytes()) and f.path == root / "a" / "b" / f.name
    assert sel.pack == "EN" and sel.notes == ()
    assert {"name", "role", "bytes", "sha256"} <= set(f.to_json())
    assert list(sel) == [f] and len(sel) == 1 and sel[0] is f


def test_a_look_alike_for_another_model_or_format_is_never_taken(tmp_path):
    root = make_catalog(
        tmp_path / "c",
        files_of(
            "PULSE22_OCPP318_KIP313A_FR.tar.gz",  # Pulse 22, not 50
            "PULSE50_OCPP318_KIP313B_FR.bin",  # wrong format for a 3XX kit
            "PULSE50_OCPP318_KIP313A_FR.tar.gz",  # TYPE and letter disagree
            "PULSE50_OCPP318_KIP311B_FR.tar.gz",  # another terminal
        ),
    )
    with pytest.raises(CatalogError) as e:
        select(open_catalog(root), d("p50", 318, 313), "FR")
    msg = e.value.message
    assert e.value.code == "no-matching-file" and e.value.exit_code == 4
    assert "expected PULSE50_OCPP318_KIP313B_FR.tar.gz" in msg
    assert "other terminals for kit 318: PULSE50_OCPP318_KIP311B_FR.tar.gz (terminal 311)" in msg
    assert "PULSE22_OCPP318_KIP313A_FR.tar.gz (for the Pulse 22" in msg
    assert "PULSE50_OCPP318_KIP313B_FR.bin is never used (inconsistent" in msg
    assert "PULSE50_OCPP318_KIP313A_FR.tar.gz is never used (inconsistent" in msg


def test_newest_terminal_missing_points_at_the_older_one_the_rules_allow(tmp_path):
    root = make_catalog(tmp_path / "c", files_of("PULSE22_OCPP318_KIP312A_FR.tar.gz"))
    with pytest.raises(CatalogError) as e:
        select(open_catalog(root), d("p22", 318))  # the rules choose terminal 313
    assert "give --terminal 312 to take it" in e.value.message
    assert e.value.details["expected"] == "PULSE22_OCPP318_KIP313A_<LANG>.tar.gz"


def test_several_packs_without_lang(tmp_path):
    root = make_catalog(
        tmp_path / "c",
        files_of(
            "PULSE22_OCPP318_KIP313A_FR.tar.gz",
            "x/PULSE22_OCPP318_KIP313A_EN.tar.gz",
            "PULSE22_OCPP318_KIP313A_FR-EN-DE.tar.gz",
        ),
    )
    cat = open_catalog(root)
    with pytest.raises(CatalogError) as e:
        select(cat, d("p22", 318))
    assert e.value.code == "several-files" and e.value.exit_code == 4
    assert e.value.details["packs"] == ["EN", "FR", "FR-EN-DE"]
    assert "--lang" in e.value.message
    assert select(cat, d("p22", 318), "fr-en-de").bundle.name == "PULSE22_OCPP318_KIP313A_FR-EN-DE.tar.gz"
    assert select(cat, d("p22", 318), "EN").bundle.relpath == "x/PULSE22_OCPP318_KIP313A_EN.tar.gz"


def test_asked_pack_missing_lists_what_exists(tmp_path):
    root = make_catalog(
        tmp_path / "c", files_of("PULSE22_OCPP318_KIP313A_FR-DE.tar.gz", "PULSE22_OCPP318_KIP313A_EN.tar.gz")
    )
    with pytest.raises(CatalogError) as e:
        select(open_catalog(root), d("p22", 318), "DE")
    assert e.value.code == "no-matching-file"
    assert "the catalog has EN, FR-DE" in e.value.message and "use --lang FR-DE" in e.value.message


def test_wbac_any_pack_will_do_and_says_which(tmp_path):
    root = make_catalog(
        tmp_path / "c", files_of("WBAC_OCPP318_KIP124W_FR.tar.gz", "WBAC_OCPP318_KIP124W_EN.tar.gz", "KIP124W.hex")
    )
    cat = open_catalog(root)
    sel = select(cat, d("wbac", 318), with_hex=True)
    assert [f.name for f in sel] == ["WBAC_OCPP318_KIP124W_EN.tar.gz", "KIP124W.hex"]
    assert sel.pack == "EN"
    assert [n.code for n in sel.notes] == ["any-pack"]
    assert "took EN" in sel.notes[0].message and "also has FR" in sel.notes[0].message
    assert select(cat, d("wbac", 318), "FR").pack == "FR"  # an existing pack asked for is taken
    sel = select(cat, d("wbac", 318), "DE")  # none in DE: the language does not matter
    assert sel.pack == "EN" and "no DE pack" in sel.notes[0].message


def test_wbac_prefers_a_usable_pack(tmp_path):
    root = make_catalog(
        tmp_path / "c",
        files_of("WBAC_OCPP318_KIP124W_FR.tar.gz", "WBAC_OCPP318_KIP124W_EN.tar.gz"),
        indexed=["WBAC_OCPP318_KIP124W_FR.tar.gz"],
    )
    assert select(open_catalog(root), d("wbac", 318)).pack == "FR"


def test_hex_for_a_2xx_terminal(tmp_path):
    root = make_catalog(
        tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin", "hex/KIP241A.hex", "hex/KIP241A_FR.hex", "hex/KIP220B.hex")
    )
    sel = select(open_catalog(root), d("p22", 212), "FR", with_hex=True)
    assert [(f.relpath, f.role) for f in sel] == [("OCPP212_KIP241A_FR.bin", "bundle"), ("hex/KIP241A.hex", "hex")]
    assert sel.hex.relpath == "hex/KIP241A.hex"


def test_hex_for_a_3xx_terminal_takes_the_same_pack(tmp_path):
    root = make_catalog(
        tmp_path / "c",
        files_of(
            "PULSE50_OCPP318_KIP313B_FR.tar.gz", "KIP313B_EN.hex", "KIP313B_FR.hex", "KIP313B.hex", "KIP313A_FR.hex"
        ),
    )
    sel = select(open_catalog(root), d("p50", 318, 313), with_hex=True)
    assert [f.name for f in sel] == ["PULSE50_OCPP318_KIP313B_FR.tar.gz", "KIP313B_FR.hex"]


def test_hex_missing_says_what_exists(tmp_path):
    root = make_catalog(
        tmp_path / "c", files_of("PULSE22_OCPP318_KIP313A_FR.tar.gz", "KIP313A_EN.hex", "KIP312A_FR.hex", "KIP313A.hex")
    )
    cat = open_catalog(root)
    with pytest.raises(CatalogError) as e:
        select(cat, d("p22", 318, 313), "FR", with_hex=True)
    msg = e.value.message
    assert e.value.code == "no-matching-file" and "expected KIP313A_FR.hex" in msg
    assert "terminal 313 in other packs: KIP313A_EN.hex" in msg
    assert "other terminals for kit 318: KIP312A_FR.hex" in msg
    assert "KIP313A.hex is never used (inconsistent" in msg
    assert [f.name for f in select(cat, d("p22", 318, 313), "FR")] == ["PULSE22_OCPP318_KIP313A_FR.tar.gz"]


def test_not_indexed_file_is_not_used_until_indexed(tmp_path):
    root = make_catalog(tmp_path / "c", files_of("deep/er/PULSE22_OCPP400_KIP400A_FR.tar.gz"), indexed=[])
    with pytest.raises(CatalogError) as e:
        select(open_catalog(root), d("p22", 400))
    assert e.value.code == "not-indexed" and e.value.exit_code == 4
    assert "stager catalog index" in e.value.message
    Catalog(root).index()
    assert select(open_catalog(root), d("p22", 400)).bundle.relpath == "deep/er/PULSE22_OCPP400_KIP400A_FR.tar.gz"


def test_same_name_twice_identical_content_is_taken_with_a_note(tmp_path):
    data = b"the same bytes"
    root = make_catalog(
        tmp_path / "c", {"b/KIP241A.hex": data, "a/KIP241A.hex": data, "OCPP212_KIP241A_FR.bin": b"bundle"}
    )
    cat = open_catalog(root)
    assert status_of(cat, "a/KIP241A.hex") == "usable"
    sel = select(cat, d("p22", 212), with_hex=True)
    assert sel.hex.relpath == "a/KIP241A.hex"
    assert [n.code for n in sel.notes] == ["identical-copies"]


@pytest.mark.parametrize("second,indexed", [(b"other bytes", True), (b"the same bytes", False)])
def test_same_name_twice_otherwise_is_ambiguous(tmp_path, second, indexed):
    files = {"a/KIP241A.hex": b"the same bytes", "b/kip241a.HEX": second, "OCPP212_KIP241A_FR.bin": b"bundle"}
    root = make_catalog(
        tmp_path / "c", files, indexed=list(files) if indexed else ["a/KIP241A.hex", "OCPP212_KIP241A_FR.bin"]
    )
    cat = open_catalog(root)
    assert status_of(cat, "a/KIP241A.hex") == "ambiguous"
    with pytest.raises(CatalogError) as e:
        select(cat, d("p22", 212), with_hex=True)
    assert e.value.code == "several-files"
    assert "a/KIP241A.hex" in e.value.message and "b/kip241a.HEX" in e.value.message


def test_a_refused_decision_selects_nothing(tmp_path):
    root = make_catalog(tmp_path / "c", files_of("WBAC_OCPP314_KIP123W_FR.tar.gz"))
    with pytest.raises(Refused) as e:
        select(open_catalog(root), d("wbac", 314, 123))
    assert e.value.code == "forbidden-version" and e.value.exit_code == 3


# --------------------------------------------------------------------------- content
def test_hash_file_streams_big_files_with_progress(tmp_path):
    data = os.urandom(1024) * (2 * CHUNK // 1024 + 3)  # crosses the buffer twice
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    seen = []
    assert hash_file(p, seen.append) == sha(data)
    assert sum(seen) == len(data) and len(seen) == 3
    assert hash_file(tmp_path / "big.bin") == sha(data)  # the reused buffer leaves no trace


def test_tampered_file_is_selected_by_name_but_never_passes_the_content_check(tmp_path):
    root = make_catalog(tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin"))
    (root / "OCPP212_KIP241A_FR.bin").write_bytes(b"tampered")
    cat = open_catalog(root)
    f = select(cat, d("p22", 212)).bundle  # select does not read the file
    with pytest.raises(CatalogError) as e:
        check_content(f)
    assert e.value.code == "damaged" and e.value.exit_code == 4
    assert "line 1 of SHA256SUMS" in e.value.message
    assert f"run: stager catalog index --catalog {root})" in e.value.message  # a command that runs as it is
    (root / "OCPP212_KIP241A_FR.bin").write_bytes(content("OCPP212_KIP241A_FR.bin"))
    assert check_content(f) == f.sha256


# --------------------------------------------------------------------------- index
def test_index_appends_sorted_lines_and_keeps_existing_ones_byte_for_byte(tmp_path):
    root = make_catalog(
        tmp_path / "c",
        files_of(
            "OCPP212_KIP241A_FR.bin",
            "z/KIP241A.hex",
            "a/KIP313A_FR.hex",
            "a file with spaces.txt",
            "back\\slash.hex",
            ".hidden",
            "OCPP212_KIP241A_FR.bin.sha256",
            "dl/KIP309A_FR.hex.part",
        ),
        indexed=[],
    )
    existing = b"# kept\n" + sha(content("OCPP212_KIP241A_FR.bin")).upper().encode() + b" *OCPP212_KIP241A_FR.bin"
    (root / INDEX_NAME).write_bytes(existing)  # odd but valid, no final newline
    report = Catalog(root).index()
    after = (root / INDEX_NAME).read_bytes()
    assert after.startswith(existing + b"\n")
    added = [c.path for c in report.added]
    assert added == sorted(added) == ["a file with spaces.txt", "a/KIP313A_FR.hex", "back\\slash.hex", "z/KIP241A.hex"]
    assert set(report.excluded) == {".hidden", "OCPP212_KIP241A_FR.bin.sha256", "dl/KIP309A_FR.hex.part"}
    assert report.written and report.error() is None
    assert [p.name for p in root.iterdir() if p.name.startswith(".SHA")] == []  # no temporary left
    assert sha256sum_accepts(root).returncode == 0
    # a second run adds nothing and leaves the file untouched
    again = Catalog(root).index()
    assert again.added == () and not again.written and (root / INDEX_NAME).read_bytes() == after


def test_index_creates_the_index_when_there_is_none(tmp_path):
    root = tmp_path / "c"
    make_catalog(root, files_of("sub/OCPP212_KIP220B_FR.bin"), indexed=[])
    (root / INDEX_NAME).unlink()
    Catalog(root).index()
    assert (root / INDEX_NAME).read_bytes() == format_index_line(
        sha(content("sub/OCPP212_KIP220B_FR.bin")), "sub/OCPP212_KIP220B_FR.bin"
    )
    assert sha256sum_accepts(root).returncode == 0


def test_index_reports_a_damaged_file_and_does_not_reindex_it(tmp_path):
    root = make_catalog(
        tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin", "new/KIP241A.hex"), indexed=["OCPP212_KIP241A_FR.bin"]
    )
    (root / "OCPP212_KIP241A_FR.bin").write_bytes(b"changed")
    before = (root / INDEX_NAME).read_bytes()
    report = Catalog(root).index()
    assert [c.path for c in report.damaged] == ["OCPP212_KIP241A_FR.bin"]
    err = report.error()
    assert err.code == "damaged" and err.exit_code == 4
    after = (root / INDEX_NAME).read_bytes()
    assert after.startswith(before) and after.count(b"OCPP212_KIP241A_FR.bin") == 1
    assert [c.path for c in report.added] == ["new/KIP241A.hex"]


def test_index_refuses_when_the_index_changed_meanwhile(tmp_path, monkeypatch):
    root = make_catalog(tmp_path / "c", files_of("OCPP212_KIP241A_FR.bin"), indexed=[])
    cat = Catalog(root)
    (root / INDEX_NAME).write_bytes(b"# someone else\n")
    with pytest.raises(CatalogError) as e:
        cat.index()
    assert e.value.code == "index-changed"
    assert (root / INDEX_NAME).read_bytes() == b"# someone else\n"


# --------------------------------------------------------------------------- verify
def test_verify_reports_damaged_missing_and_not_indexed(tmp_path):
    root = make_catalog(
        tmp_path / "c",
        files_of("OCPP212_KIP241A_FR.bin", "KIP241A.hex", "gone.hex", "KIP220B.hex"),
        indexed=["OCPP212_KIP241A_FR.bin", "KIP241A.hex", "gone.hex"],
    )
    assert Catalog(root).verify().error() is None
    (root / "KIP241A.hex").write_bytes(b"bit rot")
    (root / "gone.hex").unlink()
    progress = []
    report = Catalog(root).verify(progress.append)
    assert [c.path for c in report.damaged] == ["KIP241A.hex"]
    assert [p.path for p in report.missing] == ["gone.hex"]
    assert report.not_indexed == ("KIP220B.hex",)
    assert report.error().code == "damaged" and not report.ok
    assert sum(progress) == sum(c.size for c in report.checks)
    (root / "KIP241A.hex").write_bytes(content("KIP241A.hex"))
    assert Catalog(root).verify().error().code == "missing"


# --------------------------------------------------------------------------- demo catalog
def test_demo_catalog(tmp_path):
    root = build_demo_catalog(tmp_path / "demo")
    assert "DEMO" in (root / "README.txt").read_text() and "not real firmware" in (root / "README.txt").read_text()
    assert sha256sum_accepts(root).returncode == 0
    cat = open_catalog(root)
    assert cat.bad_lines == [] and cat.skipped == [] and cat.missing == ()
    assert cat.counts() == {"usable": len(cat.entries) - 1, "unrecognised": 1}  # README.txt
    for e in cat.entries:
        data = e.path.read_bytes()
        assert len(data) < 8192
        if e.relpath.endswith(".hex"):  # valid Intel HEX, the manifest as its data
            data = IntelHex(str(e.path)).tobinstr()
        assert MARKER.encode() in data, e.relpath
        if e.relpath.endswith(".tar.gz"):
            with tarfile.open(e.path) as tar:
                manifest = tar.extractfile("manifest.txt").read().decode()
            assert manifest.startswith(MARKER) and f"kit: {e.parsed.kit}" in manifest
    r = rules()
    for m in r.models.values():
        packs = ["EN", "FR"] if m.languages_matter else [None]
        for kit in m.kits:
            for t in m.compatible(kit):
                dec = d(m.id, kit, t)
                if not dec.allowed:
                    assert kit in r.forbidden_kits
                    assert not any(e.parsed.ok and e.parsed.kit == kit for e in cat.entries)
                    continue
                for pack in packs:
                    sel = select(cat, dec, pack, with_hex=True)
                    assert [f.role for f in sel] == ["bundle", "hex"]
                    for f in sel:
                        assert check_content(f) == f.sha256
    assert not any(e.parsed.ok and e.parsed.kit == 314 for e in cat.entries)


def test_demo_catalog_is_deterministic_and_rebuilds_in_place(tmp_path):
    a = build_demo_catalog(tmp_path / "a")
    b = build_demo_catalog(tmp_path / "b")
    assert (a / INDEX_NAME).read_bytes() == (b / INDEX_NAME).read_bytes()
    first = (a / INDEX_NAME).read_bytes()
    build_demo_catalog(a)  # an existing demo is rewritten
    assert (a / INDEX_NAME).read_bytes() == first
    assert [r for r, _ in demo_files()] == sorted(r for r, _ in demo_files())


def test_demo_catalog_refuses_a_folder_with_other_things(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.doc").write_text("precious")
    with pytest.raises(BadInput, match="not empty"):
        build_demo_catalog(tmp_path / "mine")
