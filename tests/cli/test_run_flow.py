"""The technician's run without a card (issue 13): targets, --clean's order, verify's
one-firmware-set rule, and the pieces of readable output."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from stager.card import prepare as lib
from stager.card.media import fs_name
from stager.card.media._linux import decode_blkid, parse_blkid
from stager.card.staging import FileOps
from stager.card.targets import CardTarget, format_command, resolve_targets
from stager.catalog.demo import build_demo_catalog
from stager.cli.commands.prepare import parse_pick
from stager.cli.progress import bar_label
from stager.cli.render import wrapped
from stager.errors import MediaError
from stager.quoting import command, quote_arg, quote_windows
from stager.rules.engine import Query
from stager.units import exact_bytes, human_bytes

BUNDLE = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
OLD = "OCPP212_KIP241A_FR.bin"


@dataclass(frozen=True)
class FakeMedium:
    mountpoint: str
    device: str = "/dev/sdb1"
    label: str | None = "PULSECARD"
    fstype: str = "vfat"
    size_bytes: int | None = 128_000_000
    free_bytes: int | None = 100_000_000
    removable: bool = True
    why: str = "removable flag"
    read_only: bool = False
    is_system: bool = False
    uuid: str | None = "B03D-8939"
    fs_version: str | None = "FAT32"
    firmware_files: tuple = ()

    def to_json(self):
        return {"mountpoint": self.mountpoint, "device": self.device}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


# ----------------------------------------------------------------- targets
def test_a_folder_inside_a_card_is_refused_naming_the_root(tmp_path):
    card = FakeMedium(str(tmp_path))
    (tmp_path / "UPDATE").mkdir()
    with pytest.raises(MediaError) as e:
        resolve_targets([tmp_path / "UPDATE"], detect=lambda: [], medium_for_path=lambda p: card)
    assert e.value.code == "not-card-root" and e.value.exit_code == 5 and str(tmp_path) in e.value.message


def test_two_targets_on_one_card_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    media = {tmp_path / "a": FakeMedium(str(tmp_path / "a")), tmp_path / "b": FakeMedium(str(tmp_path / "b"))}
    with pytest.raises(MediaError) as e:
        resolve_targets(list(media), detect=lambda: [], medium_for_path=lambda p: media[Path(p)])
    assert e.value.code == "same-card-twice"


def test_a_fixed_folder_stands_for_the_card_root_and_needs_no_allow_any_fs(tmp_path):
    fixed = FakeMedium("/", device="/dev/vda1", fstype="ext4", removable=False, uuid=None, fs_version=None)
    (tmp_path / "sub").mkdir()
    (plan,) = resolve_targets([tmp_path / "sub"], allow_fixed=True, detect=lambda: [], medium_for_path=lambda p: fixed)
    assert plan.filesystem == "ext4" and not plan.removable


@pytest.mark.parametrize("fstype,shown", [("ext4", "ext4"), ("ntfs", "NTFS"), ("hfsplus", "HFS+")])
def test_a_card_of_another_file_system_is_refused_unless_allowed(tmp_path, fstype, shown):
    card = FakeMedium(str(tmp_path), fstype=fstype, fs_version=None)
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=lambda: [card], medium_for_path=lambda p: None)
    assert e.value.code == "wrong-filesystem" and f"formatted {shown}" in e.value.message
    assert "--allow-any-fs" in e.value.message
    (plan,) = resolve_targets([], detect=lambda: [card], medium_for_path=lambda p: None, allow_any_fs=True)
    assert plan.filesystem == shown


def test_an_unknown_file_system_is_never_refused(tmp_path):
    card = FakeMedium(str(tmp_path), fstype="unknown", fs_version=None)
    (plan,) = resolve_targets([], detect=lambda: [card], medium_for_path=lambda p: None)
    assert plan.filesystem == "unknown"


def test_several_cards_go_to_the_picker(tmp_path):
    a, b = FakeMedium(str(tmp_path / "a")), FakeMedium(str(tmp_path / "b"), device="/dev/sdc1")
    for m in (a, b):
        os.makedirs(m.mountpoint)
    plans = resolve_targets([], detect=lambda: [a, b], medium_for_path=lambda p: None, choose=lambda found: found[1:])
    assert [p.device for p in plans] == ["/dev/sdc1"]


def test_no_card_lists_the_cards_not_mounted():
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=lambda: [], medium_for_path=lambda p: None, unmounted=lambda: ["/dev/sdb1 (FAT32)"])
    assert e.value.code == "no-media" and "Inserted but not mounted: /dev/sdb1 (FAT32)" in e.value.message


@pytest.mark.parametrize(
    "platform,expected",
    [
        ("linux", "sudo umount '/media/t/PULSE CARD' && sudo mkfs.vfat -F 32 -n 'PULSE CARD' /dev/sdb1"),
        ("darwin", "diskutil eraseVolume FAT32 'PULSE CARD' /dev/sdb1"),
    ],
)
def test_how_to_format_a_card_quotes_its_paths(platform, expected):
    plan = CardTarget(path=Path("/media/t/PULSE CARD"), device="/dev/sdb1", label="PULSE CARD", removable=True)
    assert format_command(plan, platform) == expected
    assert format_command(CardTarget(path=Path("E:\\"), label="x"), "win32").startswith("format E: /FS:FAT32 /V:X")


def test_a_card_identity_names_serial_label_and_size():
    plan = CardTarget(path=Path("/m"), label="PULSECARD", uuid="B03D-8939", size_bytes=64 * 1024 * 1024)
    assert plan.identity() == "volume B03D-8939, label 'PULSECARD', 64.0 MiB"
    assert CardTarget(path=Path("/m")).identity() == "no volume serial, no label, size unknown"


# ----------------------------------------------------------------- --clean never loses a card
def _plan(demo, card: Path):
    return lib.make_plan(
        Query("p22", 318), catalog_dir=demo, lang="FR", targets=[card], allow_fixed=True, detect=lambda: []
    )


class LockedOld(FileOps):
    def remove(self, pin, name):
        if name == OLD:
            raise PermissionError(errno.EACCES, "Permission denied", name)
        super().remove(pin, name)


def test_old_firmware_that_cannot_be_removed_takes_the_new_file_back_off(demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    (card / OLD).write_bytes(b"old firmware")
    plan = _plan(demo, card)
    lib.check_files(plan)
    checks = lib.check_cards(plan, clean=True)
    assert checks[0].removes == [OLD] and checks[0].holds_both is True
    assert sorted(os.listdir(card)) == [".stager-lock", OLD]  # the checks removed nothing; the card is locked
    (r,) = lib.run(plan, checks=checks, clean=True, history_path=tmp_path / "h.jsonl", ops=LockedOld())
    assert r.error is not None and r.error.code == "clean-failed" and not r.ok
    assert sorted(os.listdir(card)) == [OLD] and (card / OLD).read_bytes() == b"old firmware"


def test_old_firmware_goes_only_after_the_new_file_is_verified(demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    (card / OLD).write_bytes(b"old firmware")
    seen = []

    def stage(sources, targets, progress_factory=None):
        from stager.card.staging import stage as real

        seen.append(sorted(n for n in os.listdir(card) if n != ".stager-lock"))  # the old firmware is still there
        return real(sources, targets, progress_factory=progress_factory)

    plan = _plan(demo, card)
    (r,) = lib.run(plan, clean=True, stage=stage, history_path=tmp_path / "h.jsonl")
    assert r.ok and r.removed == [OLD] and seen == [[OLD]]
    assert sorted(os.listdir(card)) == [BUNDLE, f"{BUNDLE}.sha256"]


def test_a_failed_copy_leaves_the_old_firmware(demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    (card / OLD).write_bytes(b"old firmware")

    def failing(sources, targets, progress_factory=None):
        from stager.card.staging import TargetResult

        return [
            TargetResult(path=t.path, error=MediaError("the card went away.", code="media-vanished")) for t in targets
        ]

    (r,) = lib.run(_plan(demo, card), clean=True, stage=failing, history_path=tmp_path / "h.jsonl")
    assert r.error.code == "media-vanished" and "still on the card, untouched" in r.error.message
    assert os.listdir(card) == [OLD]


# ----------------------------------------------------------------- verify without a card
def _sidecar(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)
    (folder / f"{name}.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  {name}\n")


def test_verify_the_bundle_and_its_own_hex_is_one_set(tmp_path, run_stager):
    _sidecar(tmp_path, BUNDLE, b"bundle")
    _sidecar(tmp_path, "KIP313A_FR.hex", b"hex")
    r = run_stager("verify", "--target", tmp_path, "--json")
    assert r.code == 0 and r.json()["one_firmware_set"] is True, r
    _sidecar(tmp_path, "KIP312A_FR.hex", b"other hex")
    r = run_stager("verify", "--target", tmp_path, "--json")
    assert r.code == 5 and any("terminal 312" in p for p in r.json()["set_problems"]), r


def test_verify_needs_model_and_kit_together(tmp_path, run_stager):
    _sidecar(tmp_path, BUNDLE, b"bundle")
    r = run_stager("verify", "--target", tmp_path, "--model", "p22")
    assert r.code == 2 and "--model and --kit go together" in r.err, r
    r = run_stager("verify", "--target", tmp_path, "--model", "p22", "--kit", "318", "--terminal", "312")
    assert r.code == 3 and "NOT FOR THIS CHARGER" in r.out, r


# ----------------------------------------------------------------- readable output
def test_sizes_have_one_format():
    assert human_bytes(8_391_753) == "8.0 MiB" and human_bytes(512) == "512 B" and human_bytes(None) == "unknown"
    assert (
        exact_bytes(8_391_753) == "8.0 MiB (8,391,753 bytes)" and exact_bytes(4_177_920) == "4.0 MiB (4,177,920 bytes)"
    )
    assert exact_bytes(1000) == "1,000 bytes"


@pytest.mark.parametrize(
    "raw,typed",
    [
        (r"PULSE\ CARD", "PULSE CARD"),
        (r"PULSE\x20CARD", "PULSE CARD"),
        (r"MM-CM-\ J\ M-CM-)tM-CM-)", "MàJ été"),
        ("MàJ\\x20été", "MàJ été"),
        ("PLAIN", "PLAIN"),
    ],
)
def test_blkid_labels_are_decoded_as_typed(raw, typed):
    assert decode_blkid(raw) == typed


def test_blkid_udev_output_is_read():
    text = (
        "ID_FS_LABEL=M_J\nID_FS_LABEL_ENC=MàJ\\x20été\nID_FS_UUID_ENC=EB4F-6B03\nID_FS_VERSION=FAT32\nID_FS_TYPE=vfat\n"
    )
    facts = parse_blkid(text)
    assert facts == {"LABEL": "MàJ été", "UUID": "EB4F-6B03", "VERSION": "FAT32", "TYPE": "vfat"}
    assert fs_name(facts["TYPE"], facts["VERSION"]) == "FAT32"
    assert fs_name("vfat", "FAT16") == "FAT16" and fs_name("exfat") == "exFAT" and fs_name("fuseblk") == "unknown"


@pytest.mark.parametrize(
    "arg,posix,windows",
    [
        ("/media/PULSE CARD", "'/media/PULSE CARD'", '"/media/PULSE CARD"'),
        ("E:\\", "'E:\\'", "E:\\"),
        ("C:\\Pulse cards\\", "'C:\\Pulse cards\\'", '"C:\\Pulse cards\\\\"'),
        ("/media/tech/PULSECARD", "/media/tech/PULSECARD", "/media/tech/PULSECARD"),
        ("it's", "'it'\"'\"'s'", '"it\'s"'),
    ],
)
def test_paths_are_quoted_for_both_shells(arg, posix, windows):
    assert quote_arg(arg, "posix") == posix and quote_windows(arg) == windows
    assert command("stager", "verify", "--target", arg, system="posix") == f"stager verify --target {posix}"


def test_the_picker_reads_numbers_or_all():
    assert parse_pick("all", 3) == [0, 1, 2] and parse_pick("1,3", 3) == [0, 2] and parse_pick(" 2 ", 3) == [1]
    assert parse_pick("4", 3) == [] and parse_pick("x", 3) == [] and parse_pick("", 3) == []


class Tty:
    def isatty(self):
        return True


def test_text_is_wrapped_to_the_terminal_and_sizes_stay_whole(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    line = "Target /media/tech/PULSECARD (PULSECARD, /dev/sdb1, FAT32): 4.0 MiB (4,177,920 bytes) free"
    out = wrapped([line], Tty())
    assert all(len(x) < 60 for x in out) and len(out) > 1
    assert any("4.0 MiB" in x for x in out) and any("(4,177,920 bytes)" in x for x in out)  # never cut
    assert " ".join(x.strip() for x in out) == line
    with open(os.devnull, "w") as not_a_terminal:
        assert wrapped([line], not_a_terminal) == [line]


def test_bar_labels_keep_the_device():
    label = bar_label("read back PULSECARD loop12 with a long name sdb1")
    assert len(label) == 34 and label.endswith("sdb1")
    assert bar_label("copy CARDA sdb1") == "copy CARDA sdb1".ljust(34)


def test_history_time_is_local_with_its_offset(demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    history = tmp_path / "h.jsonl"
    lib.run(_plan(demo, card), history_path=history)
    import json

    (entry,) = [json.loads(x) for x in history.read_text().splitlines()]
    when = dt.datetime.fromisoformat(entry["time"])
    assert when.utcoffset() is not None and when.utcoffset() == dt.datetime.now().astimezone().utcoffset()


def test_a_card_that_fails_while_checked_is_that_card_s_failure(demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()

    def dead_mount(*args, **kw):
        raise OSError(errno.ENOTCONN, "Transport endpoint is not connected", str(card))

    (check,) = lib.check_cards(_plan(demo, card), preflight=dead_mount)
    assert check.error is not None and check.error.code == "media-vanished" and check.error.exit_code == 5


@pytest.mark.parametrize("err", [errno.EIO, errno.ENOENT])
def test_a_lock_the_failing_card_kept_is_named(demo, tmp_path, monkeypatch, err):
    """Acceptance of issue 12, a failing medium under a failed staging: exFAT refused the
    lock's removal with EIO, fusefat answered ENOENT and kept it; neither was named. EIO:
    listed with what is left and why; ENOENT: no proof of removal, listed as maybe still
    on the card."""
    from stager.card.pin import CardPin
    from stager.card.staging import TargetResult
    from stager.errors import MediaError

    card = tmp_path / "card"
    card.mkdir()
    real_unlink = CardPin.unlink

    def unlink(self, name, *args, **kwargs):
        if name == ".stager-lock":
            raise OSError(err, os.strerror(err))
        return real_unlink(self, name, *args, **kwargs)

    monkeypatch.setattr(CardPin, "unlink", unlink)

    def stage(sources, targets, progress_factory=None):
        return [TargetResult.failed(t.path, MediaError("the card failed", code="io-error")) for t in targets]

    (r,) = lib.run(_plan(demo, card), stage=stage, history_path=tmp_path / "h.jsonl")
    assert not r.ok
    if err == errno.EIO:
        assert [x for x in r.left if ".stager-lock" in x and "lock on the card" in x], r.left
    else:
        assert r.unconfirmed == [".stager-lock"] and r.extra_json()["removal_unconfirmed"] == [".stager-lock"]
