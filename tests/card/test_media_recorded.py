"""Recorded Windows and macOS machines (tests/data/media/{windows,macos}/, the record
format of docs/media-record.md) replayed through the same probe code a real machine
runs: only the system calls are the record's. Each scenario has the verdict a
technician expects, and no system volume is ever a target."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stager.card.media import candidates, replay
from stager.card.targets import resolve_targets
from stager.errors import MediaError

DATA = Path(__file__).parents[1] / "data" / "media"

# machine -> ({mount point: verdict}, what detection does: the one card, or the error code)
EXPECT = {
    "windows/sd_in_laptop_reader": ({"C:\\": "system", "D:\\": "optical", "E:\\": "card"}, "E:\\"),
    "windows/sd_lock_switch_on": ({"C:\\": "system", "E:\\": "card"}, "read-only"),
    "windows/built_in_slot_empty": ({"C:\\": "system", "E:\\": "empty-slot"}, "no-media"),
    "windows/usb_reader_4_slots_one_card": (
        {"C:\\": "system", "E:\\": "empty-slot", "F:\\": "card", "G:\\": "empty-slot", "H:\\": "empty-slot"},
        "F:\\",
    ),
    "windows/usb_stick_reporting_fixed": ({"C:\\": "system", "E:\\": "card"}, "E:\\"),
    "windows/usb_ssd": ({"C:\\": "system", "E:\\": "card"}, "E:\\"),
    "windows/network_drive_and_vhd": ({"C:\\": "system", "Z:\\": "network", "V:\\": "disk-image"}, "no-media"),
    "windows/system_disk_partitions_and_windows_to_go": (
        {"C:\\": "system", "D:\\": "system", "W:\\": "system"},
        "no-media",
    ),
    "windows/bitlocker_stick_locked": ({"C:\\": "system", "E:\\": "locked"}, "no-media"),
    "windows/bitlocker_stick_unlocked": ({"C:\\": "system", "E:\\": "card"}, "E:\\"),
    "windows/card_with_two_partitions": ({"C:\\": "system", "E:\\": "card", "F:\\": "card"}, "several-media"),
    "macos/sd_in_builtin_reader": (
        {"/": "system", "/System/Volumes/Data": "system", "/System/Volumes/VM": "system", "/Volumes/PULSECARD": "card"},
        "/Volumes/PULSECARD",
    ),
    "macos/usb_stick": (
        {"/": "system", "/System/Volumes/Data": "system", "/System/Volumes/VM": "system", "/Volumes/PULSECARD": "card"},
        "/Volumes/PULSECARD",
    ),
    "macos/mounted_dmg_alone": ({"/Volumes/Installer": "disk-image", "/": "system"}, "no-media"),
    "macos/usb_stick_and_dmg": (
        {"/Volumes/PULSECARD": "card", "/Volumes/Installer": "disk-image", "/": "system"},
        "/Volumes/PULSECARD",
    ),
    "macos/apfs_system_and_data": (
        {"/": "system", "/System/Volumes/Data": "system", "/System/Volumes/VM": "system"},
        "no-media",
    ),
    "macos/booted_from_usb_ssd": (
        {"/": "system", "/System/Volumes/Data": "system", "/Volumes/Media": "system", "/Volumes/PULSECARD": "card"},
        "/Volumes/PULSECARD",
    ),
}


def test_every_recorded_machine_has_its_expectation():
    on_disk = {f"{p.parent.name}/{p.stem}" for p in DATA.glob("*/*.json")}
    assert on_disk == set(EXPECT)


def test_every_fixture_names_where_its_form_comes_from():
    for p in DATA.glob("*/*.json"):
        doc = json.loads(p.read_text())
        assert "make_media_fixtures.py" in doc["source"] and "not captured" in doc["source"], p


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_each_volume_gets_the_verdict_a_technician_expects(name):
    verdicts, _ = EXPECT[name]
    machine = replay(DATA / f"{name}.json")
    got = {v.mountpoint: v.verdict for v in machine.volumes}
    for mountpoint, verdict in verdicts.items():
        assert got.get(mountpoint) == verdict, (mountpoint, got)
    for v in machine.volumes:
        assert (v.verdict == "card") == v.removable
        if v.verdict == "system":
            assert v.is_system and v not in candidates(machine.volumes)


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_detection_picks_the_one_card_or_says_why_not(name):
    _, picked = EXPECT[name]
    machine = replay(DATA / f"{name}.json")
    if "/" in picked or ":\\" in picked:  # a mount point, else an error code
        (plan,) = resolve_targets([], detect=machine.detect, medium_for_path=machine.medium_for_path, local=False)
        assert str(plan.path) == picked and plan.removable
    else:
        with pytest.raises(MediaError) as e:
            resolve_targets([], detect=machine.detect, medium_for_path=machine.medium_for_path, local=False)
        assert e.value.code == picked


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_no_system_volume_is_ever_a_target(name):
    machine = replay(DATA / f"{name}.json")
    for v in machine.volumes:
        if not v.is_system:
            continue
        for path in (v.mountpoint, v.mountpoint.rstrip("\\/") + ("\\firmware" if ":" in v.mountpoint else "/fw")):
            with pytest.raises(MediaError) as e:
                resolve_targets(
                    [path],
                    allow_fixed=True,
                    detect=machine.detect,
                    medium_for_path=machine.medium_for_path,
                    local=False,
                )
            assert e.value.code == "system-disk"


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_a_target_on_a_system_volume_is_known_by_its_device_id(name):
    """On the real machine --target is matched by st_dev: every system volume carries
    its own, so the system disk's root is refused even with --allow-fixed."""
    from stager.card.media import medium_for_path

    machine = replay(DATA / f"{name}.json")
    for v in machine.volumes:
        if v.is_system:
            assert v.dev is not None, v.mountpoint
            found = medium_for_path(
                v.mountpoint, machine.volumes, stat=lambda p, d=v.dev: os.stat_result((0,) * 2 + (d,) + (0,) * 7)
            )
            assert found is not None and found.is_system


def test_windows_facts_come_from_the_storage_stack():
    machine = replay(DATA / "windows/usb_reader_4_slots_one_card.json")
    (card,) = machine.detect()
    assert (card.label, card.fstype, card.bus, card.disk) == ("PULSECARD", "exfat", "USB", "\\\\.\\PhysicalDrive2")
    assert card.vendor == "Generic-" and card.model == "Multi-Card" and card.dev == 0x6E21A9F4
    assert card.size_bytes == 63_847_792_640 and not card.read_only


def test_windows_lock_switch_is_read_only_and_said_so():
    machine = replay(DATA / "windows/sd_lock_switch_on.json")
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=machine.detect, medium_for_path=machine.medium_for_path, local=False)
    assert "lock switch" in e.value.message


def test_a_replayed_target_is_matched_case_insensitively_on_windows_and_macos():
    win = replay(DATA / "windows/usb_stick_reporting_fixed.json")
    assert win.medium_for_path("e:\\Firmware").mountpoint == "E:\\"
    mac = replay(DATA / "macos/usb_stick.json")
    assert mac.medium_for_path("/volumes/pulsecard/x").mountpoint == "/Volumes/PULSECARD"
    (plan,) = resolve_targets(["e:\\"], detect=win.detect, medium_for_path=win.medium_for_path, local=False)
    assert plan.removable and plan.label == "SANDISK"


def test_a_replayed_target_that_is_no_recorded_volume_is_refused():
    win = replay(DATA / "windows/usb_ssd.json")
    with pytest.raises(MediaError) as e:
        resolve_targets(["Q:\\"], detect=win.detect, medium_for_path=win.medium_for_path, local=False)
    assert e.value.code == "target-missing"


def test_a_replayed_network_drive_needs_allow_fixed():
    win = replay(DATA / "windows/network_drive_and_vhd.json")
    with pytest.raises(MediaError) as e:
        resolve_targets(["Z:\\"], detect=win.detect, medium_for_path=win.medium_for_path, local=False)
    assert e.value.code == "not-removable" and "network" in e.value.message


def test_a_locked_bitlocker_stick_is_named_with_what_to_do():
    machine = replay(DATA / "windows/bitlocker_stick_locked.json")
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=machine.all_volumes, medium_for_path=machine.medium_for_path, local=False)
    assert e.value.code == "no-media"
    assert "E:\\ is locked by BitLocker: unlock it" in e.value.message
    assert "C:\\" not in e.value.message  # the system drive is not "set aside": it is never a candidate


def test_empty_slots_do_not_crowd_the_message():
    machine = replay(DATA / "windows/built_in_slot_empty.json")
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=machine.all_volumes, medium_for_path=machine.medium_for_path, local=False)
    assert e.value.message.startswith("No removable card or USB stick is mounted. Insert the card")


def test_a_record_written_by_hand_may_spell_drives_and_errors_its_own_way(tmp_path):
    """An independent record: drives keyed "E:" and "c:", the BitLocker HRESULT as the
    signed int ctypes gives, no windows_directory: the same verdicts."""
    doc = json.loads((DATA / "windows/bitlocker_stick_locked.json").read_text())
    calls = doc["calls"]
    for answers in list(calls.values()):
        if isinstance(answers, dict) and "E:\\" in answers:
            answers["E:"] = answers.pop("E:\\")
        if isinstance(answers, dict) and "C:\\" in answers:
            answers["c:"] = answers.pop("C:\\")
    calls["volume_information"]["E:"] = {"error": 0x80310000 - (1 << 32)}
    del calls["windows_directory"]
    (tmp_path / "m.json").write_text(json.dumps(doc))
    machine = replay(tmp_path / "m.json")
    assert {v.mountpoint: v.verdict for v in machine.volumes} == {"C:\\": "system", "E:\\": "locked"}


def test_macos_system_volumes_stay_system_without_the_root_plist(tmp_path):
    doc = json.loads((DATA / "macos/sd_in_builtin_reader.json").read_text())
    del doc["calls"]["diskutil"]["/"]
    (tmp_path / "m.json").write_text(json.dumps(doc))
    machine = replay(tmp_path / "m.json")
    verdicts = {v.mountpoint: v.verdict for v in machine.volumes}
    assert verdicts["/System/Volumes/Data"] == "system" and verdicts["/Volumes/PULSECARD"] == "card"
    assert verdicts["/"] == "system"


def test_a_windows_target_may_be_the_bare_drive():
    win = replay(DATA / "windows/usb_ssd.json")
    assert win.medium_for_path("E:").mountpoint == "E:\\"


def test_the_fixtures_are_what_their_script_writes():
    """tests/data/media/{windows,macos}/ are rewritten by scripts/make_media_fixtures.py:
    no hand edit drifts from the forms that script documents."""
    import runpy

    script = runpy.run_path(str(Path(__file__).parents[2] / "scripts" / "make_media_fixtures.py"))
    machines = {f"windows/{n}": w.calls for n, (_, w) in script["windows_machines"]().items()}
    machines |= {f"macos/{n}": calls for n, (_, calls) in script["macos_machines"]().items()}
    assert set(machines) == set(EXPECT)
    for name, calls in machines.items():
        assert json.loads((DATA / f"{name}.json").read_text())["calls"] == json.loads(json.dumps(calls)), name


def test_a_network_drive_is_asked_nothing_that_goes_over_the_wire():
    """A stale mapped drive can block GetVolumeInformationW for long: the probe asks a
    network letter its drive type only (psutil, all=False, does not list it)."""
    from stager.card.media import _windows
    from stager.card.media.record import Recorder, Replayer

    doc = json.loads((DATA / "windows/network_drive_and_vhd.json").read_text())
    assert "Z:\\" not in [row[1] for row in doc["calls"]["partitions"]]
    spy = Recorder(Replayer(doc["calls"]))
    vols = _windows.volumes(spy)
    assert {v.mountpoint: v.verdict for v in vols}["Z:\\"] == "network"
    asked = {name for name, answers in spy.calls.items() if isinstance(answers, dict) and "Z:\\" in answers}
    assert asked == {"drive_type"}


def test_a_system_disk_that_cannot_be_told_offers_no_usb_disk_as_a_card(tmp_path):
    """Fail closed: when the disk Windows runs from (C:'s disk extents) or the disk macOS
    boots from (diskutil info /) cannot be read, a volume that may sit on it is never
    offered as a card. Found by the issue-14 acceptance pass (a Windows To Go stick's
    second partition, a USB-booted Mac's other volume)."""
    name = "windows/usb_stick_reporting_fixed.json"
    assert {v.mountpoint: v.verdict for v in replay(DATA / name).volumes}["E:\\"] == "card"
    win = json.loads((DATA / name).read_text())
    win["calls"]["disk_extents"]["C:\\"] = {"error": 1}
    (tmp_path / "w.json").write_text(json.dumps(win))
    stick = next(v for v in replay(tmp_path / "w.json").volumes if v.mountpoint == "E:\\")
    assert stick.verdict == "fixed" and "could not be identified" in (stick.note or "")

    mac = json.loads((DATA / "macos/booted_from_usb_ssd.json").read_text())
    del mac["calls"]["diskutil"]["/"]
    (tmp_path / "m.json").write_text(json.dumps(mac))
    verdicts = {v.mountpoint: v.verdict for v in replay(tmp_path / "m.json").volumes}
    assert verdicts["/Volumes/Media"] == "fixed"  # may be the boot disk: not a card
    assert verdicts["/Volumes/PULSECARD"] == "card"  # a medium in a reader is never the boot disk
