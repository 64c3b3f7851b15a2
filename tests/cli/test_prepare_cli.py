"""prepare, verify, history and demo through the installed stager (folders as cards)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from stager.catalog.demo import build_demo_catalog
from stager.errors import MediaError

SHA256SUM = shutil.which("sha256sum")
BUNDLE = "PULSE22_OCPP318_KIP313A_FR.tar.gz"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


def prep(run_stager, demo, *targets, extra=()):
    args = [
        "prepare",
        "-m",
        "p22",
        "-k",
        "318",
        "--lang",
        "FR",
        "--catalog",
        demo,
        "--allow-fixed",
        "--yes",
        "--json",
        *extra,
    ]
    for t in targets:
        args += ["--target", t]
    return run_stager(*args)


def test_prepare_stages_and_verifies(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    r = prep(run_stager, demo, card)
    assert r.code == 0, r
    doc = r.json()
    assert doc["ok"] is True and doc["dry_run"] is False
    assert doc["targets"][0]["staged"] == [BUNDLE] and doc["targets"][0]["verified"] is True
    assert sorted(p.name for p in card.iterdir()) == [BUNDLE, BUNDLE + ".sha256"]
    assert (card / BUNDLE).read_bytes() == (demo / "p22" / BUNDLE).read_bytes()
    if SHA256SUM:
        assert subprocess.run([SHA256SUM, "-c", BUNDLE + ".sha256"], cwd=card).returncode == 0


def test_several_targets_each_with_a_result(run_stager, demo, tmp_path):
    cards = [tmp_path / f"c{i}" for i in range(3)]
    for c in cards:
        c.mkdir()
    r = prep(run_stager, demo, *cards, extra=["--hex"])
    assert r.code == 0, r
    assert [t["verified"] for t in r.json()["targets"]] == [True, True, True]
    for c in cards:
        assert (c / "KIP313A_FR.hex").exists()


def test_firmware_on_the_card_exit_5_then_clean(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    (card / "OCPP212_KIP241A_FR.bin").write_text("old firmware")
    (card / "notes.txt").write_text("keep")
    r = prep(run_stager, demo, card)
    assert r.code == 5, r
    assert r.json()["targets"][0]["error"]["code"] == "firmware-present"
    assert r.json()["ok"] is False and r.json()["error"]["code"] == "firmware-present"
    assert (card / "OCPP212_KIP241A_FR.bin").exists()
    r = prep(run_stager, demo, card, extra=["--clean"])
    assert r.code == 0, r
    assert sorted(p.name for p in card.iterdir()) == [BUNDLE, BUNDLE + ".sha256", "notes.txt"]
    assert r.json()["targets"][0]["removed_by_clean"] == ["OCPP212_KIP241A_FR.bin"]


def test_clean_removes_nothing_when_the_card_is_refused_for_another_reason(tmp_path):
    # --clean acts only once every check has passed: a card too small keeps its old firmware.
    from stager.card.preflight import preflight
    from stager.card.staging import Source
    from stager.errors import MediaError

    card = tmp_path / "card"
    card.mkdir()
    (card / "OCPP212_KIP241A_FR.bin").write_bytes(b"x" * 1000)
    big = Source(path=tmp_path / "big", name=BUNDLE, sha256="0" * 64, size=10**9)
    with pytest.raises(MediaError) as e:
        preflight([big], card, free_bytes=5 * 10**8, clean=True)
    assert e.value.code == "media-full" and (card / "OCPP212_KIP241A_FR.bin").exists()
    # and the space it frees counts: 2 MiB free + the 3 MiB old file hold a 1 MiB file
    (card / "OCPP212_KIP241A_FR.bin").write_bytes(b"x" * 3 * 1024**2)
    small = Source(path=tmp_path / "small", name=BUNDLE, sha256="0" * 64, size=1024**2)
    pre = preflight([small], card, free_bytes=2 * 1024**2, clean=True)
    assert pre.removed == ["OCPP212_KIP241A_FR.bin"] and not (card / "OCPP212_KIP241A_FR.bin").exists()


def test_leftovers_are_counted_once_when_the_card_measures_its_own_free_space(tmp_path, monkeypatch):
    # A 30 MiB card whose free space the file system reports (free_bytes not given),
    # holding a 15 MiB leftover of an interrupted copy: a 29 MiB file does not fit.
    import shutil as _shutil

    from stager.card.preflight import preflight
    from stager.card.staging import Source
    from stager.errors import MediaError

    card = tmp_path / "card"
    card.mkdir()
    (card / f".stager-{BUNDLE}.1a2b3c4d.part").write_bytes(b"x" * 15 * 1024**2)
    capacity = 30 * 1024**2

    def usage(path):
        used = sum(p.stat().st_size for p in card.iterdir())
        return _shutil._ntuple_diskusage(capacity, used, capacity - used)

    monkeypatch.setattr("shutil.disk_usage", usage)
    big = Source(path=tmp_path / "big", name=BUNDLE, sha256="0" * 64, size=29 * 1024**2)
    for dry_run in (True, False):
        with pytest.raises(MediaError) as e:
            preflight([big], card, dry_run=dry_run)
        assert e.value.code == "media-full", dry_run


def test_dry_run_without_a_card_does_not_claim_one_was_checked(run_stager, demo, tmp_path):
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
        "--dry-run",
        env={"STAGER_HOME": str(tmp_path)},
    )
    if "Target: none yet" not in r.out:
        pytest.skip("a removable medium is mounted on this machine")
    assert r.code == 0 and "no card was checked" in r.out and "card passes" not in r.out


def test_prepare_twice_only_reverifies(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    assert prep(run_stager, demo, card).code == 0
    r = prep(run_stager, demo, card)
    assert r.code == 0, r
    assert r.json()["targets"][0]["already_staged"] == [BUNDLE]


def test_no_terminal_to_confirm(run_stager, demo, tmp_path):
    r = run_stager(
        "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", demo, "--target", tmp_path, "--allow-fixed"
    )
    assert r.code == 2, r
    assert "--yes" in r.err
    assert list(tmp_path.iterdir()) == []


def test_refused_writes_nothing(run_stager, demo, tmp_path):
    r = run_stager(
        "prepare",
        "-m",
        "p22",
        "-k",
        "318",
        "--from-kit",
        "212",
        "--lang",
        "FR",
        "--catalog",
        demo,
        "--target",
        tmp_path,
        "--allow-fixed",
        "--yes",
    )
    assert r.code == 3, r
    assert "master-sd-required" in r.out and "nothing was written" in r.err
    assert list(tmp_path.iterdir()) == []


def test_verify_good_then_damaged_then_no_sidecar(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    assert prep(run_stager, demo, card).code == 0
    r = run_stager("verify", "--target", card, "--json")
    assert r.code == 0, r
    (f,) = r.json()["files"]
    assert f["status"] == "ok" and f["rules"] == "ok" and f["name_says"]["kit"] == 318
    data = bytearray((card / BUNDLE).read_bytes())
    data[10] ^= 0xFF
    (card / BUNDLE).write_bytes(bytes(data))
    r = run_stager("verify", "--target", card)
    assert r.code == 6 and "NOT right" in r.out
    (card / (BUNDLE + ".sha256")).unlink()
    r = run_stager("verify", "--target", card, "--json")
    assert r.code == 6 and r.json()["files"][0]["status"] == "no-sidecar"


def test_verify_empty_card_exit_5(run_stager, tmp_path):
    r = run_stager("verify", "--target", tmp_path)
    assert r.code == 5 and "no firmware" in r.err and "leftovers" not in r.err


def test_verify_names_the_leftovers_of_an_interrupted_staging(run_stager, tmp_path):
    (tmp_path / ".stager-PULSE22_OCPP318_KIP313A_FR.tar.gz.1a2b3c4d.part").write_bytes(b"half a copy")
    r = run_stager("verify", "--target", tmp_path, "--json")
    assert r.code == 5
    err = r.json()["error"]
    assert err["code"] == "no-firmware" and "interrupted staging" in err["message"]
    assert err["details"]["leftovers"] == [".stager-PULSE22_OCPP318_KIP313A_FR.tar.gz.1a2b3c4d.part"]


def test_verify_flags_a_file_the_rules_refuse(run_stager, tmp_path):
    import hashlib

    name = "PULSE22_OCPP318_KIP241A_FR.tar.gz"  # kit 318 with terminal 241: KO
    (tmp_path / name).write_bytes(b"x")
    (tmp_path / f"{name}.sha256").write_text(f"{hashlib.sha256(b'x').hexdigest()}  {name}\n")
    r = run_stager("verify", "--target", tmp_path, "--json")
    assert r.code == 3, r
    assert r.json()["files"][0]["rules"] == "ko"


def test_history_records_each_staging(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    assert prep(run_stager, demo, card).code == 0
    r = run_stager("history", "--json")
    assert r.code == 0
    (e,) = r.json()["entries"]
    assert e["file"] == BUNDLE and e["result"] == "ok" and e["target"] == str(card.resolve())
    assert len(e["sha256"]) == 64 and e["decision"]["kit"] == 318
    r = run_stager("history")
    assert BUNDLE in r.out


def test_history_skips_a_damaged_line(run_stager, tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "history.jsonl").write_text('{"file": "A", "result": "ok"}\nnot json\n{"file": "B", "result": "ok"}\n')
    r = run_stager("history", "--json", env={"STAGER_HOME": str(home)})
    assert r.code == 0 and [e["file"] for e in r.json()["entries"]] == ["A", "B"]
    assert "line 2" in r.err


def test_demo(run_stager, tmp_path):
    home = tmp_path / "workshop-home"
    r = run_stager("demo", tmp_path / "d", env={"STAGER_HOME": str(home)})
    assert r.code == 0, r
    assert "DEMO" in r.out and "The card is right" in r.out
    card = tmp_path / "d" / "card"
    assert any(p.name.endswith(".tar.gz") for p in card.iterdir())
    # Nothing outside its folder: the demo's staging is not in the workshop's history.
    assert not home.exists()
    demo_history = (tmp_path / "d" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["result"] for line in demo_history] == ["ok"]
    r = run_stager("demo", tmp_path / "d")  # runs again in the same folder
    assert r.code == 0, r


def test_demo_refuses_a_foreign_card_folder(run_stager, tmp_path):
    (tmp_path / "d" / "card").mkdir(parents=True)
    (tmp_path / "d" / "card" / "precious.txt").write_text("x")
    r = run_stager("demo", tmp_path / "d")
    assert r.code == 2 and (tmp_path / "d" / "card" / "precious.txt").exists()


@pytest.mark.parametrize("where", ["root", "inside", "around"])
def test_the_catalog_is_never_a_target(run_stager, tmp_path, where):
    cat = build_demo_catalog(tmp_path / "shelf" / "catalog")
    target = {"root": cat, "inside": cat / "p22", "around": tmp_path / "shelf"}[where]
    before = sorted(p.name for p in target.iterdir())
    r = prep(run_stager, cat, target, extra=["--clean"])
    assert r.code == 5, r
    assert r.json()["error"]["code"] == "target-is-catalog"
    assert sorted(p.name for p in target.iterdir()) == before


def test_ctrl_c_mid_copy_through_the_cli(tmp_path, stager_exe):
    """SIGINT to the installed stager once its temporary file is on the card: exit 130,
    nothing half-written, the technician's other file untouched."""
    import hashlib
    import os
    import signal
    import time

    from stager.catalog.index import INDEX_NAME, format_index_line

    cat, card = tmp_path / "cat", tmp_path / "card"
    cat.mkdir()
    card.mkdir()
    (card / "notes.txt").write_text("keep")
    name = "OCPP212_KIP241A_FR.bin"
    block = os.urandom(1024 * 1024)
    h = hashlib.sha256()
    with open(cat / name, "wb") as f:
        for i in range(192):
            chunk = i.to_bytes(4, "little") + block[4:]
            f.write(chunk)
            h.update(chunk)
    (cat / INDEX_NAME).write_bytes(format_index_line(h.hexdigest(), name))
    env = {**os.environ, "STAGER_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [
            stager_exe,
            "prepare",
            "-m",
            "p22",
            "-k",
            "212",
            "--lang",
            "FR",
            "--catalog",
            cat,
            "--target",
            card,
            "--allow-fixed",
            "--yes",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not any(p.name.startswith(".stager-" + name) for p in card.iterdir()):  # the copy's temp file
        assert proc.poll() is None and time.monotonic() < deadline, "the copy never started"
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "nothing half-written" in err
    assert sorted(p.name for p in card.iterdir()) == ["notes.txt"]
    assert (card / "notes.txt").read_text() == "keep"


def test_a_card_held_by_a_run_on_this_computer_is_busy_even_as_a_plain_folder(run_stager, demo, tmp_path):
    """While a run has its card unmounted for a moment (to read its folder back from the
    medium), the mount point is a plain folder without the card's lock: another run, even
    with --allow-fixed, must find the card busy and write nothing there (issue 12)."""
    from stager.card.lock import hold_here

    card = tmp_path / "card"
    card.mkdir()
    here = hold_here(card)
    try:
        r = prep(run_stager, demo, card)
        assert r.code == 5, r
        assert r.json()["error"]["code"] == "card-busy"
        assert str(os.getpid()) in r.json()["error"]["message"]
        assert list(card.iterdir()) == []
        with pytest.raises(MediaError) as busy:
            hold_here(card / ".." / "card")  # the same folder, however it is named
        assert busy.value.code == "card-busy"
    finally:
        here.release()
    assert prep(run_stager, demo, card).code == 0
    hold_here(card).release()  # the run's own hold went with it
