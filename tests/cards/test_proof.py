"""Issue 12 on real cards over a faulty medium: the proof is a proof.

For each fault (dropped writes, a flipped byte, EIO, a hang, a fake capacity) on FAT32
(fusefat), exFAT (exfat-fuse) and ext4 (kernel) cards: prepare fails with exit 6 or 5 and
nothing is left under a firmware name; a sound card is read back from its medium (the loop
device's read counter grows by the file's size during the read-back). Then the card
unmounted at the prompt, pulled during the copy, lazily unmounted during the read-back, a
second run during the first, and Ctrl-C on a hung card.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import signal
import subprocess
import time

import pytest
from faulty.medium import drop_writes, flip_byte, hang, io_error
from helpers.proof import NAME, MiB, make_catalog, prepare, read_until, start

from stager.card.staging import FileOps, Source, Target, stage
from stager.rules.names import is_firmware_name

pytestmark = pytest.mark.cards
FS = ["fat32", "exfat", "ext4"]


@pytest.fixture
def firmware(tmp_path):
    """A catalog holding one 4 MiB p22/212 firmware file: (catalog, its bytes)."""
    return make_catalog(tmp_path / "catalog", 4 * MiB)


def no_firmware_left(card) -> list[str]:
    card.clear()
    card.eject()
    return [n for n in card.files() if is_firmware_name(n) or n.lower().endswith(".sha256")]


def error_of(out: str) -> dict:
    return json.loads(out)["error"]


# ------------------------------------------------------------------ faults: never STAGED
@pytest.mark.parametrize("fs", FS)
def test_dropped_writes_are_caught(run_stager, make_faulty_card, firmware, fs):
    catalog, data = firmware
    card = make_faulty_card(fs)
    card.set_faults(drop_writes(match=data[MiB : MiB + 512]))  # the write carrying these bytes is lost
    r = prepare(run_stager, catalog)
    assert card.medium.faults()[0]["hits"] >= 1, card.stats()  # the medium really dropped it
    assert r.code == 6, r
    assert r.json()["error"]["code"] == "verification-failed"
    assert "first differing byte at offset" in r.json()["error"]["message"]
    assert no_firmware_left(card) == []


@pytest.mark.parametrize("fs", FS)
def test_a_flipped_byte_is_named(run_stager, make_faulty_card, firmware, fs):
    catalog, data = firmware
    card = make_faulty_card(fs)
    card.set_faults(flip_byte(match=data[2 * MiB : 2 * MiB + 512], at=100))
    r = prepare(run_stager, catalog)
    assert r.code == 6, r
    err = r.json()["error"]
    assert err["details"]["first_difference"] == 2 * MiB + 100, err
    assert no_firmware_left(card) == []


@pytest.mark.parametrize("fs", ["fat32", "ext4"])
def test_eio_on_read_back_is_a_media_error(run_stager, make_faulty_card, firmware, fs):
    catalog, data = firmware
    card = make_faulty_card(fs)
    card.set_faults(io_error(op="read", match=data[3 * MiB : 3 * MiB + 512]))
    r = prepare(run_stager, catalog)
    assert r.code == 5, r
    assert no_firmware_left(card) == []


def test_eio_on_an_exfat_card(run_stager, make_faulty_card, firmware):
    """exFAT: the layers under stager retry the failed read (the medium saw the EIO) and
    the bytes then read from the medium are right. Either way no wrong file is STAGED."""
    catalog, data = firmware
    card = make_faulty_card("exfat")
    card.set_faults(io_error(op="read", match=data[3 * MiB : 3 * MiB + 512]))
    r = prepare(run_stager, catalog)
    assert r.code in (0, 5), r
    if r.code == 0:
        assert r.json()["targets"][0]["read_back"] == "direct"
        card.clear()
        card.eject()
        assert card.read(NAME) == data
    else:
        assert no_firmware_left(card) == []


@pytest.mark.parametrize("fs", ["fat32", "ext4"])
def test_a_fake_capacity_card_is_caught(run_stager, make_faulty_card, tmp_path, fs):
    catalog, _data = make_catalog(tmp_path / "big", 24 * MiB)
    card = make_faulty_card(fs, size_mb=16, apparent_mb=64, beyond="drop")  # claims 64 MiB, holds 16
    r = prepare(run_stager, catalog)
    assert r.code in (5, 6), r
    assert no_firmware_left(card) == []


# ------------------------------------------------------------------ a sound card: read from its medium
class CountingReadBack(FileOps):
    """Counts the loop device's reads during each read-back (the copy's reads excluded)."""

    def __init__(self, card):
        self.card, self.counted = card, {}

    def read_back(self, pin, name, **kw):
        before = self.card.sectors_read()
        rb = super().read_back(pin, name, **kw)
        self.counted[name] = (self.card.sectors_read() - before) * 512
        return rb


@pytest.mark.parametrize("fs", FS)
def test_the_read_back_reads_the_medium(make_faulty_card, firmware, fs):
    catalog, data = firmware
    card = make_faulty_card(fs)
    src = Source(catalog / NAME, NAME, hashlib.sha256(data).hexdigest(), len(data))
    ops = CountingReadBack(card)
    (r,) = stage([src], [Target(card.mountpoint)], ops=ops)
    assert r.ok, r.error
    assert r.read_back[NAME] == "direct", r.read_back_why
    (temp,) = [n for n in ops.counted if ".sha256" not in n]  # read back under its temporary name
    assert ops.counted[temp] >= len(data), ops.counted
    card.eject()
    assert card.read(NAME) == data


@pytest.mark.parametrize("fs", FS)
def test_prepare_reports_the_method_everywhere(run_stager, make_faulty_card, firmware, fs):
    catalog, _data = firmware
    card = make_faulty_card(fs)
    r = prepare(run_stager, catalog)
    assert r.code == 0, r
    assert r.json()["targets"][0]["read_back"] == "direct"
    v = run_stager("verify", "--target", card.mountpoint, "--json", "--allow-any-fs")  # ext4 cards too
    assert v.code == 0 and v.json()["read_back"] == "direct", v
    h = run_stager("history", "--json")
    assert [e.get("read_back") for e in h.json()["entries"]][-1] == "direct", h


# ------------------------------------------------------------------ the card goes away
def test_card_unmounted_at_the_prompt(make_faulty_card, firmware, stager_exe, tmp_path):
    catalog, _data = firmware
    card = make_faulty_card("fat32")
    master, slave = pty.openpty()
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, stdin=slave)
    os.close(slave)
    seen = ""
    deadline = time.monotonic() + 60
    while "Write " not in seen and time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            seen += os.read(proc.stderr.fileno(), 4096).decode(errors="replace")
    assert "Write " in seen, seen
    card.unmount()  # the mount point is a plain folder on the system disk again
    os.write(master, b"y\n")
    out, err = proc.communicate(timeout=60)
    os.close(master)
    assert proc.returncode == 5, (out, err)
    assert error_of(out)["code"] == "card-gone", out
    assert os.listdir(card.mountpoint) == []  # nothing written to the system disk


def test_card_pulled_during_the_copy(make_faulty_card, tmp_path, stager_exe):
    catalog, data = make_catalog(tmp_path / "cat", 8 * MiB)
    card = make_faulty_card("fat32")
    card.set_faults(hang(op="write", match=data[5 * MiB : 5 * MiB + 512], timeout=60))
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    card.medium.wait_for("hanging", timeout=60)
    subprocess.run(["umount", "-l", str(card.mountpoint)], check=True)
    card.set_faults(io_error(op="any"))  # the card is gone: every request fails
    card.release()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, (out, err)
    assert os.listdir(card.mountpoint) == []  # nothing on the system disk
    card.mounted = False
    assert no_firmware_left(card) == []


@pytest.mark.parametrize("fs", ["fat32", "ext4"])
def test_card_lazily_unmounted_during_the_read_back(make_faulty_card, firmware, stager_exe, tmp_path, fs):
    catalog, data = firmware
    card = make_faulty_card(fs)
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    # the read-back of the last MiB waits; meanwhile the card is lazily unmounted
    card.set_faults(hang(op="read", match=data[3 * MiB : 3 * MiB + 512], timeout=60, then="pass"))
    card.medium.wait_for("hanging", timeout=60)
    subprocess.run(["umount", "-l", str(card.mountpoint)], check=True)
    card.release()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, (out, err)
    assert error_of(out)["code"] == "card-gone", out
    assert os.listdir(card.mountpoint) == []  # the sidecar never went to the system disk
    card.mounted = False
    time.sleep(0.5)  # the detached file system ends once its last descriptor is closed
    assert no_firmware_left(card) == []


def test_a_second_run_on_the_same_card_is_refused(make_faulty_card, firmware, stager_exe, tmp_path, run_stager):
    """ext4: while the first run's read-back waits for the medium, the file system still
    answers the second run (fusefat would block every request behind the hung one)."""
    catalog, data = firmware
    card = make_faulty_card("ext4")
    card.set_faults(hang(op="read", match=data[2 * MiB : 2 * MiB + 512], timeout=60, then="pass"))
    first = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    card.medium.wait_for("hanging", timeout=60)
    second = prepare(run_stager, catalog, "--target", card.mountpoint, "--clean")
    assert second.code == 5, second
    err = second.json()["error"]  # refused before its targets: the first run holds the card here too
    assert err["code"] == "card-busy" and f"process {first.pid}" in err["message"], err
    card.release()
    out, err_text = first.communicate(timeout=60)
    assert first.returncode == 0, (out, err_text)
    card.eject()
    assert NAME in card.files() and f"{NAME}.sha256" in card.files()
    assert not [n for n in card.files() if n.startswith(".stager") or n.upper().startswith(".STAGER")]
    assert card.read(NAME) == data


# ------------------------------------------------------------------ stopping on a hung card
def test_ctrl_c_on_a_hung_card(make_faulty_card, firmware, stager_exe, tmp_path):
    """The interrupt is acted on while the card still hangs: cleanup done and said. (The
    process itself ends when the kernel gives back the thread stuck in the card's driver.)"""
    catalog, data = firmware
    card = make_faulty_card("exfat")
    card.set_faults(hang(op="read", match=data[2 * MiB : 2 * MiB + 512], timeout=120))
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    card.medium.wait_for("hanging", timeout=60)
    proc.send_signal(signal.SIGINT)
    said = read_until(proc.stderr, "Interrupted (Ctrl-C)", 30)  # long before the hang's own 120 s
    assert "Interrupted (Ctrl-C)" in said, said
    assert card.stats()["hanging"] >= 1  # said while the card still hangs: it did not wait for it
    if "nothing half-written" not in said:
        assert ".part" in said  # what is left is named
    card.release()
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert no_firmware_left(card) == []


def test_second_ctrl_c_exits_at_once_and_names_what_is_left(make_faulty_card, firmware, stager_exe, tmp_path):
    catalog, data = firmware
    card = make_faulty_card("fat32")
    card.set_faults(hang(op="read", match=data[2 * MiB : 2 * MiB + 512], timeout=120))
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    card.medium.wait_for("hanging", timeout=60)
    card.set_faults(hang(op="read", match=data[2 * MiB : 2 * MiB + 512], timeout=120), hang(op="write", timeout=120))
    proc.send_signal(signal.SIGINT)  # its cleanup now waits for the card (every write hangs)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    said = read_until(proc.stderr, "Stopped at once", 30)
    assert "Stopped at once (Ctrl-C again)" in said or "Interrupted (Ctrl-C)" in said, said
    if "Stopped at once" in said:
        assert str(card.mountpoint) in said and ".part" in said  # exactly what is left, and where
    card.release()
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    card.clear()
    card.eject()
    assert [n for n in card.files() if is_firmware_name(n)] == []  # a .part may stay: it is named
