"""stager media --record / --replay and prepare --dry-run --replay, through the installed
command (the acceptance path: a recorded machine replayed on any system)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stager.catalog.demo import build_demo_catalog

DATA = Path(__file__).parents[1] / "data" / "media"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


def dry_run(run_stager, demo, record, *extra):
    return run_stager(
        "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", demo, "--dry-run", "--replay", record,
        "--json", *extra,
    )  # fmt: skip


def test_media_replay_json_names_every_volume_and_its_verdict(run_stager):
    r = run_stager("media", "--replay", DATA / "windows/usb_reader_4_slots_one_card.json", "--json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["system"] == "windows"
    assert [m["mountpoint"] for m in doc["media"]] == ["F:\\"]
    assert {v["mountpoint"]: v["verdict"] for v in doc["volumes"]} == {
        "C:\\": "system",
        "E:\\": "empty-slot",
        "F:\\": "card",
        "G:\\": "empty-slot",
        "H:\\": "empty-slot",
    }


def test_media_replay_human_says_why_a_volume_is_not_a_target(run_stager):
    r = run_stager("media", "--replay", DATA / "macos/usb_stick_and_dmg.json")
    assert r.code == 0, r
    assert "/Volumes/PULSECARD" in r.out
    assert "Not a target: /Volumes/Installer is a mounted disk image" in r.out


def test_prepare_dry_run_replay_picks_the_card_of_the_recorded_machine(run_stager, demo):
    r = dry_run(run_stager, demo, DATA / "windows/usb_stick_reporting_fixed.json")
    assert r.code == 0, r
    doc = r.json()
    assert doc["dry_run"] and [t["path"] for t in doc["targets"]] == ["E:\\"]
    assert doc["targets"][0]["label"] == "SANDISK"
    assert "card's own checks" in r.err


def test_prepare_dry_run_replay_several_cards_lists_them(run_stager, demo):
    r = dry_run(run_stager, demo, DATA / "windows/card_with_two_partitions.json")
    assert r.code == 0, r  # a dry run without --target still shows the plan
    doc = r.json()
    assert doc["targets"] == [] and doc["target_problem"]["code"] == "several-media"
    r = dry_run(run_stager, demo, DATA / "windows/card_with_two_partitions.json", "--target", "F:\\")
    assert r.code == 0 and [t["path"] for t in r.json()["targets"]] == ["F:\\"], r


def test_prepare_dry_run_replay_refuses_a_system_volume(run_stager, demo):
    r = dry_run(
        run_stager, demo, DATA / "macos/booted_from_usb_ssd.json", "--target", "/Volumes/Media", "--allow-fixed"
    )
    assert r.code == 5, r
    assert r.json()["error"]["code"] == "system-disk"


def test_replay_needs_a_dry_run(run_stager, demo):
    r = run_stager(
        "prepare", "-m", "p22", "-k", "318", "--catalog", demo, "--yes", "--replay", DATA / "windows/usb_ssd.json"
    )
    assert r.code == 2 and "--dry-run" in r.err, r


def test_a_file_that_is_not_a_record_is_bad_input(run_stager, tmp_path):
    (tmp_path / "x.json").write_text('{"format": "something else"}')
    (tmp_path / "y.json").write_text("not json")
    for name in ("x.json", "y.json", "missing.json"):
        r = run_stager("media", "--replay", tmp_path / name, "--json")
        assert r.code == 2 and r.json()["error"]["code"] == "bad-record", r
        assert "Traceback" not in r.err


def test_record_writes_one_documented_file_and_replays_to_the_same_listing(run_stager, tmp_path):
    record = tmp_path / "this-machine.json"
    r = run_stager("media", "--record", record, "--json")
    assert r.code == 0, r
    doc = json.loads(record.read_text())
    assert doc["format"] == "stager-media-record" and doc["version"] == 1 and "calls" in doc
    again = run_stager("media", "--replay", record, "--json")
    assert again.code == 0, again
    assert [m["mountpoint"] for m in again.json()["media"]] == [m["mountpoint"] for m in r.json()["media"]]
    assert [v["verdict"] for v in again.json()["volumes"]] == [v["verdict"] for v in r.json()["volumes"]]


def test_record_and_replay_exclude_each_other(run_stager, tmp_path):
    r = run_stager("media", "--record", tmp_path / "a.json", "--replay", DATA / "windows/usb_ssd.json")
    assert r.code == 2, r


def _mutated(tmp_path, fixture: str, change) -> Path:
    doc = json.loads((DATA / fixture).read_text())
    change(doc["calls"])
    out = tmp_path / f"bad-{len(list(tmp_path.iterdir()))}.json"
    out.write_text(json.dumps(doc))
    return out


@pytest.mark.parametrize(
    "fixture,change",
    [
        ("windows/sd_in_laptop_reader.json", lambda c: c.__setitem__("partitions", "C:\\")),
        ("windows/sd_in_laptop_reader.json", lambda c: c.__setitem__("partitions", [None])),
        ("windows/sd_in_laptop_reader.json", lambda c: c.__setitem__("partitions", [[1, 2, 3, 4]])),
        ("windows/sd_in_laptop_reader.json", lambda c: c.__setitem__("system_drive", 3)),
        ("macos/usb_stick.json", lambda c: c.__setitem__("partitions", [["/dev/disk4s1"]])),
    ],
)
def test_a_record_with_answers_of_the_wrong_shape_is_bad_input(run_stager, demo, tmp_path, fixture, change):
    """A record is a user's file (attached to a bug report, edited by hand): an answer of
    the wrong shape is exit 2 with the format's page named, never a traceback."""
    record = _mutated(tmp_path, fixture, change)
    for r in (run_stager("media", "--replay", record, "--json"), dry_run(run_stager, demo, record)):
        assert r.code == 2 and r.json()["error"]["code"] == "bad-record", r
        assert "docs/media-record.md" in r.json()["error"]["message"]
        assert "Traceback" not in r.err


def test_media_in_french_says_why_in_french_and_json_keeps_the_fact(run_stager):
    """Acceptance of issue 16 (F11): the reason a volume counts as removable is translated
    in the text (JSON keeps the recorded English fact), and "aucune" agrees with "mises à jour"."""
    record = DATA / "windows/sd_in_laptop_reader.json"
    r = run_stager("media", "--replay", record, env={"STAGER_UI_LANG": "fr"})
    assert r.code == 0, r
    assert "amovible : SD card" not in r.out and "amovible : carte SD" in r.out, r.out
    assert "mises à jour présentes : aucune" in r.out, r.out
    doc = run_stager("media", "--replay", record, "--json", env={"STAGER_UI_LANG": "fr"}).json()
    assert [m["why"] for m in doc["media"]] == ["SD card"]
    english = run_stager("media", "--replay", record)
    assert "removable: SD card" in english.out and "firmware on it: none" in english.out, english.out
