"""The staging engine on real folders and files: copy, read-back, sidecar, pre-flight."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from helpers.staging import card, listing, make_source

from stager.card import staging
from stager.card.preflight import preflight
from stager.card.staging import FileOps, Source, Target, stage
from stager.errors import MediaError

SHA256SUM = shutil.which("sha256sum")


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(staging, "CHUNK", 1024 * 1024)  # several chunks per file


class CountingOps(FileOps):
    def __init__(self):
        self.sources_opened = 0

    def open_source(self, path):
        self.sources_opened += 1
        return super().open_source(path)


def test_one_target(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    (result,) = stage([src], [Target(c)])
    assert result.ok and result.staged == [src.name] and result.sha256[src.name] == src.sha256
    assert listing(c) == [src.name, src.name + ".sha256"]
    assert (c / src.name).read_bytes() == src.path.read_bytes()
    assert (c / f"{src.name}.sha256").read_text() == f"{src.sha256}  {src.name}\n"


@pytest.mark.skipif(not SHA256SUM, reason="sha256sum not installed")
def test_sidecar_is_checked_by_sha256sum(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    stage([src], [Target(c)])
    proc = subprocess.run([SHA256SUM, "-c", f"{src.name}.sha256"], cwd=c, capture_output=True, text=True)
    assert proc.returncode == 0 and ": OK" in proc.stdout


def test_three_targets_read_the_source_once(tmp_path):
    srcs = [make_source(tmp_path / "cat"), make_source(tmp_path / "cat", "KIP313A_FR.hex", 5000)]
    cards = [card(tmp_path, f"c{i}") for i in range(3)]
    ops = CountingOps()
    results = stage(srcs, [Target(c) for c in cards], ops=ops)
    assert all(r.ok for r in results)
    assert ops.sources_opened == len(srcs)  # once per file, whatever the number of cards
    for c in cards:
        for s in srcs:
            assert (c / s.name).read_bytes() == s.path.read_bytes()


def test_damaged_source_is_never_staged(tmp_path):
    src = make_source(tmp_path / "cat")
    src.path.write_bytes(b"changed since it was indexed")
    c = card(tmp_path)
    (keep := c / "notes.txt").write_text("mine")
    (r,) = stage([src], [Target(c)])
    assert r.error.code == "damaged" and r.error.exit_code == 4
    assert listing(c) == ["notes.txt"] and keep.read_text() == "mine"


# ------------------------------------------------------------------ pre-flight
def test_firmware_already_on_the_card_is_refused_and_listed(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    for n in ("OLD.BIN", "other.tar.gz", "KIP241A.hex", "notes.txt"):
        (c / n).write_text(n)
    with pytest.raises(MediaError) as e:
        preflight([src], c)
    assert e.value.code == "firmware-present" and e.value.exit_code == 5
    for n in ("OLD.BIN", "other.tar.gz", "KIP241A.hex"):
        assert n in e.value.message
    assert "--clean" in e.value.message
    assert len(listing(c)) == 4  # nothing touched


def test_clean_removes_exactly_the_firmware_and_its_sidecars(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    for n in ("OLD.BIN", "OLD.BIN.sha256", "KIP241A.hex", "notes.txt", "photo.jpg", "readme.sha256", "x.bin.bak"):
        (c / n).write_text(n)
    (c / "sub").mkdir()
    (c / "sub" / "deep.bin").write_text("kept: not on the root")
    pre = preflight([src], c, clean=True)
    assert sorted(pre.removed) == ["KIP241A.hex", "OLD.BIN", "OLD.BIN.sha256"]
    assert listing(c) == ["notes.txt", "photo.jpg", "readme.sha256", "sub", "x.bin.bak"]
    assert (c / "sub" / "deep.bin").exists()


def test_identical_file_already_staged_is_only_reverified(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    stage([src], [Target(c)])
    before = os.stat(c / src.name)
    pre = preflight([src], c)
    assert pre.already == [src.name]
    ops = CountingOps()
    (r,) = stage([src], [Target(c, preflight=pre)], ops=ops)
    assert r.ok and r.already == [src.name] and ops.sources_opened == 0
    after = os.stat(c / src.name)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_staged_file_that_changed_is_not_taken_as_staged(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    stage([src], [Target(c)])
    data = bytearray((c / src.name).read_bytes())
    data[100] ^= 1
    (c / src.name).write_bytes(bytes(data))
    with pytest.raises(MediaError, match="already holds firmware"):
        preflight([src], c)


def test_too_small_card_exits_before_writing(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    with pytest.raises(MediaError) as e:
        preflight([src], c, free_bytes=src.size)
    assert e.value.code == "media-full"
    assert listing(c) == []


def test_unknown_free_space_is_a_warning(tmp_path, monkeypatch):
    src = make_source(tmp_path / "cat")
    # a real folder's free space is known: no warning
    c = card(tmp_path)
    pre = preflight([src], c, fstype="vfat", free_bytes=None)
    assert not any("free space" in w for w in pre.warnings), pre.warnings
    # fusefat says 0 total bytes: the free space is unknown, and the run says so
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(0, 0, 0))
    pre = preflight([src], c, fstype="vfat", free_bytes=None)
    assert any("free space is unknown" in w for w in pre.warnings), pre.warnings


def test_fat32_file_limit(tmp_path):
    big = Source(path=tmp_path / "nowhere", name="PULSE22_OCPP318_KIP313A_FR.tar.gz", sha256="0" * 64, size=4 * 1024**3)
    with pytest.raises(MediaError) as e:
        preflight([big], card(tmp_path), fstype="vfat", free_bytes=64 * 1024**3)
    assert e.value.code == "file-too-large" and "exFAT" in e.value.message
    preflight([big], card(tmp_path, "ex"), fstype="exfat", free_bytes=64 * 1024**3)


def test_not_fat_is_a_warning(tmp_path):
    pre = preflight([make_source(tmp_path / "cat")], card(tmp_path), fstype="ext4")
    assert "FAT32" in pre.warnings[0]


def test_leftover_temporary_files_of_ours_are_removed(tmp_path):
    c = card(tmp_path)
    (c / ".stager-PULSE.tar.gz.abcd1234.part").write_text("half")
    (c / ".hidden-user-file").write_text("keep")
    preflight([make_source(tmp_path / "cat")], c)
    assert listing(c) == [".hidden-user-file"]


def test_unknown_free_space_but_card_too_small_for_the_file(tmp_path, monkeypatch):
    """fusefat reports 0 bytes in all: the partition's capacity still refuses a file
    that could never fit, before a byte is written."""
    src = make_source(tmp_path / "cat")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil_usage(0, 0, 0))
    with pytest.raises(MediaError) as e:
        preflight([src], card(tmp_path), fstype="vfat", free_bytes=None, size_bytes=src.size // 2)
    assert e.value.code == "media-full" and "in all" in e.value.message
    pre = preflight([src], card(tmp_path, "big"), fstype="vfat", free_bytes=None, size_bytes=src.size * 10)
    assert "unknown" in pre.warnings[0]


def shutil_usage(total, used, free):
    import collections

    return collections.namedtuple("usage", "total used free")(total, used, free)
