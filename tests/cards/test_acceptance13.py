"""What the independent acceptance pass of issue 13 found, on real cards: a full card
keeps no lock, verify applies prepare's file-system rule, firmware-like names that are
not plain files are reported and never removed blindly, a dead mount is listed as
unusable, the suggested format command works."""

from __future__ import annotations

import os
import shutil

import pytest

from stager.catalog.demo import build_demo_catalog

pytestmark = pytest.mark.cards
BUNDLE = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
LOCK = ".stager-lock"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


def prepare(run_stager, catalog, target, *extra):
    args = ["prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", catalog, "--yes", "--target", target]
    return run_stager(*args, *extra)


def fill(path) -> None:
    """Fill the card to its last byte, as `dd if=/dev/zero of=FILE bs=1M` does."""
    block = b"\0" * (1024 * 1024)
    with open(path, "wb") as f:
        try:
            while True:
                f.write(block)
                f.flush()
        except OSError:
            pass
        try:
            f.close()
        except OSError:
            pass
    while True:  # the last partial block too, byte by byte in small steps
        try:
            with open(path, "ab") as f:
                f.write(b"\0" * 512)
        except OSError:
            return


# ----------------------------------------------------------------- 1. a full card keeps no lock
def test_a_card_full_to_the_last_byte_keeps_no_lock_and_is_usable_once_freed(run_stager, make_card, demo):
    card = make_card(size_mb=40)
    fill(card.mountpoint / "filler.bin")
    r = prepare(run_stager, demo, card.mountpoint)
    assert r.code == 5, r
    assert "full" in r.out + r.err, r
    assert LOCK not in os.listdir(card.mountpoint), os.listdir(card.mountpoint)
    (card.mountpoint / "filler.bin").unlink()
    r = prepare(run_stager, demo, card.mountpoint)
    assert r.code == 0, r
    assert BUNDLE in os.listdir(card.mountpoint) and LOCK not in os.listdir(card.mountpoint)


# ----------------------------------------------------------------- 3. verify: prepare's file-system rule
@pytest.mark.parametrize("fs,shown", [("ext4", "ext4"), ("ntfs", "NTFS")])
def test_verify_refuses_a_card_prepare_refuses_unless_allow_any_fs(run_stager, make_card, demo, fs, shown):
    if fs == "ntfs" and not (shutil.which("mkfs.ntfs") and shutil.which("ntfs-3g")):
        pytest.skip("NTFS needs mkfs.ntfs and ntfs-3g (apt-get install ntfs-3g)")
    card = make_card(fs)
    assert prepare(run_stager, demo, card.mountpoint, "--allow-any-fs").code == 0
    r = run_stager("verify", "--target", card.mountpoint, "--json")
    assert r.code == 5, r
    err = r.json()["error"]
    assert err["code"] == "wrong-filesystem" and f"formatted {shown}" in err["message"], err
    assert "The card is right" not in r.out + r.err
    r = run_stager("verify", "--target", card.mountpoint, "--allow-any-fs")
    assert r.code == 0 and "The card is right" in r.out, r


# ----------------------------------------------------------------- 7. firmware-like names that are not files
ODD = "PULSE22_OCPP317_KIP312A_FR.tar.gz"


@pytest.mark.parametrize("fs,kind", [("exfat", "folder"), ("ext4", "fifo")])
def test_a_folder_or_fifo_under_a_firmware_name_is_reported_and_never_removed(run_stager, make_card, demo, fs, kind):
    card = make_card(fs)
    extra = ["--allow-any-fs"] if fs == "ext4" else []
    assert prepare(run_stager, demo, card.mountpoint, *extra).code == 0
    odd = card.mountpoint / ODD
    if kind == "folder":
        odd.mkdir()
    else:
        os.mkfifo(odd)
    r = run_stager("verify", "--target", card.mountpoint, "--json", *extra, timeout=30)
    assert r.code == 5, r
    doc = r.json()
    assert not doc["ok"] and not doc["one_firmware_set"], doc
    assert any(ODD in p and "not a firmware file" in p for p in doc["set_problems"]), doc
    r = run_stager(
        "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", demo, "--target", card.mountpoint,
        "--clean", "--dry-run", *extra, timeout=30,
    )  # fmt: skip
    assert r.code == 5, r
    assert "under a firmware name" in r.out + r.err and "--clean" in r.out + r.err, r
    r = prepare(run_stager, demo, card.mountpoint, "--clean", *extra)
    assert r.code == 5 and "Write" not in r.out, r
    assert os.path.lexists(odd) and BUNDLE in os.listdir(card.mountpoint)
    r = prepare(run_stager, demo, card.mountpoint, "--clean", "--json", *extra)
    assert r.code == 5 and r.json()["error"]["code"] == "firmware-not-a-file", r
    assert r.json()["error"]["details"] == {"entries": [ODD]}, r


# ----------------------------------------------------------------- 9. a dead mount is listed as unusable
def test_a_dead_mount_is_listed_as_unusable_with_why(run_stager, make_card):
    import errno
    import signal
    import time

    from helpers.fuse_driver import driver_pid as _driver_pid

    good, dead = make_card("fat32", label="GOODCARD"), make_card("fat32", label="DEADCARD")
    os.kill(_driver_pid(dead.mountpoint), signal.SIGKILL)
    for _ in range(200):  # until the kernel's attribute cache no longer answers for it
        try:
            os.stat(dead.mountpoint)
        except OSError as e:
            assert e.errno in (errno.ENOTCONN, errno.ECONNABORTED), e
            break
        time.sleep(0.05)
    r = run_stager("media")
    assert r.code == 0, r
    assert f"Not a target: {dead.mountpoint} no longer answers" in r.out, r.out
    assert str(good.mountpoint) in r.out
    doc = run_stager("media", "--json").json()
    assert [m["mountpoint"] for m in doc["media"]] == [str(good.mountpoint)], doc["media"]
    (gone,) = [v for v in doc["volumes"] if v["mountpoint"] == str(dead.mountpoint)]
    assert gone["verdict"] == "gone", gone
