"""The faulty-medium fixture itself, on real loop devices, without stager: every fault really
happens on a FAT32 (fusefat), exFAT (exfat-fuse) and ext4 (kernel) card, the read counter
counts, and everything is detached afterwards."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from faulty.medium import drop_writes, flip_byte, hang, io_error, mounted

pytestmark = pytest.mark.cards
FILESYSTEMS = ["fat32", "exfat", "ext4"]
KiB, MiB = 1024, 1024 * 1024
NAME = "FIRMWARE.BIN"


def put(card, data: bytes, name: str = NAME) -> int:
    """Write a file through the card's file system, flushed to the medium; its image offset."""
    path = card.mountpoint / name
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    card.remount()  # fusefat passes no fsync down: unmounting is what flushes it
    (where,) = card.medium.locate(data[256 * KiB : 257 * KiB])
    return where - 256 * KiB


def raw(card) -> None:
    """Unmounted, nothing left to write back: the device is the test's alone."""
    card.unmount()
    card.flush_device()


def overwrite(card, data: bytes, name: str = NAME) -> None:
    with open(card.mountpoint / name, "r+b") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@pytest.mark.parametrize("fs", FILESYSTEMS)
def test_a_medium_without_faults_is_faithful_and_the_read_counter_counts(make_faulty_card, fs):
    card = make_faulty_card(fs)
    data = os.urandom(2 * MiB)
    put(card, data)
    before = card.stats()["read_bytes"]
    with card.count_reads() as reads:
        assert (card.mountpoint / NAME).read_bytes() == data
    assert reads.bytes >= len(data), "a read after a remount reads the device"
    assert card.stats()["read_bytes"] - before >= len(data), "and the device reads the medium"
    assert card.sectors_read() >= reads.end  # the counter never goes back
    card.eject()
    card.fsck()
    assert card.read(NAME) == data
    assert NAME in card.files()


@pytest.mark.parametrize("fs", FILESYSTEMS)
def test_dropped_writes_are_acknowledged_and_lost(make_faulty_card, fs):
    card = make_faulty_card(fs)
    old, new = os.urandom(MiB), os.urandom(MiB)
    at = put(card, old)
    card.set_faults(drop_writes(start=at + 512 * KiB, end=at + 516 * KiB))
    overwrite(card, new)  # every write succeeds
    card.remount()
    got = (card.mountpoint / NAME).read_bytes()
    assert got != new
    assert got[512 * KiB : 516 * KiB] == old[512 * KiB : 516 * KiB]  # the 4 KiB never reached the medium
    assert got[: 512 * KiB] == new[: 512 * KiB] and got[516 * KiB :] == new[516 * KiB :]
    assert card.stats()["dropped_bytes"] >= 4 * KiB
    card.clear()
    card.eject()
    assert card.read(NAME) == got


def test_writes_past_n_bytes_are_dropped_on_the_device(make_faulty_card):
    card = make_faulty_card()
    raw(card)
    offset = 40 * MiB  # far from the file system's structures
    card.set_faults(drop_writes(after=8 * KiB, start=offset, end=offset + MiB))  # counts this MiB only
    fd = os.open(card.loop, os.O_WRONLY)
    try:
        os.pwrite(fd, b"k" * 16 * KiB, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    card.flush_device()
    assert card.read_device(offset, 16 * KiB) == b"k" * 8 * KiB + bytes(8 * KiB)


@pytest.mark.parametrize("fs", FILESYSTEMS)
def test_a_flipped_byte_is_read_while_the_medium_holds_the_right_one(make_faulty_card, fs):
    card = make_faulty_card(fs)
    data = os.urandom(MiB)
    at = put(card, data)
    card.set_faults(flip_byte(offset=at + 300 * KiB + 7, mask=0x80))
    card.remount()
    got = (card.mountpoint / NAME).read_bytes()
    diff = [i for i in range(len(data)) if got[i] != data[i]]
    assert diff == [300 * KiB + 7] and got[diff[0]] == data[diff[0]] ^ 0x80
    assert card.stats()["flipped"] >= 1
    card.clear()
    card.eject()
    assert card.read(NAME) == data  # the stored byte never changed


def test_a_flipped_byte_is_visible_through_o_direct_on_the_device(make_faulty_card):
    card = make_faulty_card()
    raw(card)
    offset = 40 * MiB
    payload = os.urandom(4 * KiB)
    fd = os.open(card.loop, os.O_WRONLY)
    try:
        os.pwrite(fd, payload, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    card.set_faults(flip_byte(match=payload[100:132], at=5))
    got = card.read_device(offset, 4 * KiB)  # O_DIRECT: no page cache in between
    assert got[105] == payload[105] ^ 1 and got[:105] == payload[:105] and got[106:] == payload[106:]


@pytest.mark.parametrize("fs", FILESYSTEMS)
def test_eio_on_read_surfaces_through_the_file_system(make_faulty_card, fs):
    card = make_faulty_card(fs)
    data = os.urandom(MiB)
    at = put(card, data)
    card.set_faults(io_error(op="read", start=at + 600 * KiB, end=at + 601 * KiB))
    card.remount()
    with pytest.raises(OSError) as err:
        (card.mountpoint / NAME).read_bytes()
    # fusefat turns the device's EIO into EPERM; exfat-fuse and the kernel pass EIO on
    assert err.value.errno == (errno.EPERM if fs == "fat32" else errno.EIO), err.value
    assert card.stats()["eio"] >= 1


def test_eio_on_write_surfaces_on_the_device(make_faulty_card):
    card = make_faulty_card()
    raw(card)
    card.set_faults(io_error(op="write", start=40 * MiB, end=41 * MiB))
    fd = os.open(card.loop, os.O_WRONLY | os.O_DIRECT)
    buf = card.aligned(b"w" * 4 * KiB)
    try:
        with pytest.raises(OSError) as err:
            os.pwritev(fd, [buf], 40 * MiB)
        assert err.value.errno == errno.EIO
        assert os.pwritev(fd, [buf], 42 * MiB) == 4 * KiB  # outside the range, writes go on
    finally:
        os.close(fd)
        buf.close()


def test_a_hang_blocks_until_released(make_faulty_card):
    card = make_faulty_card()
    raw(card)
    card.set_faults(hang(op="read", start=40 * MiB, end=40 * MiB + 4 * KiB, timeout=120))
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(card.read_device(40 * MiB, 4 * KiB)))
    reader.start()
    try:
        card.medium.wait_for("hanging")
        assert out == [] and reader.is_alive()
    finally:
        card.release()
        reader.join(60)
    assert out == [bytes(4 * KiB)]
    stats = card.stats()
    assert stats["released"] == 1 and stats["hanging"] == 0 and stats["timed_out"] == 0


def test_a_hang_ends_with_its_safety_timeout(make_faulty_card):
    card = make_faulty_card()
    raw(card)
    card.set_faults(hang(op="read", start=40 * MiB, end=40 * MiB + 4 * KiB, timeout=0.2))
    with pytest.raises(OSError) as err:
        card.read_device(40 * MiB, 4 * KiB)
    assert err.value.errno == errno.EIO
    assert card.stats()["timed_out"] == 1


@pytest.mark.parametrize("beyond", ["wrap", "drop"])
def test_a_fake_capacity_card_loses_what_it_cannot_hold(make_faulty_card, beyond):
    card = make_faulty_card("fat32", size_mb=24, apparent_mb=96, beyond=beyond)
    assert int(card_sh("blockdev", "--getsize64", card.loop)) == 96 * MiB
    data = os.urandom(40 * MiB)
    (card.mountpoint / "BIG.BIN").write_bytes(data)  # accepted: the card says it has room
    try:
        card.remount()
        got = (card.mountpoint / "BIG.BIN").read_bytes()
    except (OSError, subprocess.CalledProcessError):  # wrapping may overwrite the FAT: no file, or no mount
        got = None
    assert got != data


def test_the_medium_tells_a_read_back_from_a_read_modify_write(make_faulty_card):
    card = make_faulty_card("fat32")
    data = os.urandom(2 * MiB)
    with card.count_reads() as writing:
        (card.mountpoint / NAME).write_bytes(data)
        card.flush_device()  # fusefat wrote 512-byte sectors: the page cache read each page first
    assert writing.reread_bytes < len(data) // 4, "reads before a block is written are no read-back"
    card.remount()
    with card.count_reads() as reading:
        assert (card.mountpoint / NAME).read_bytes() == data
    assert reading.reread_bytes >= len(data) and reading.medium_bytes >= len(data)


def test_a_partitioned_faulty_card_counts_and_is_fully_detached(make_faulty_card):
    card = make_faulty_card("exfat", partitioned=True)
    loop, medium = card.loop, card.medium
    assert card.device == loop + "p1" and os.path.exists(card.device)
    data = os.urandom(MiB)
    (card.mountpoint / "A.BIN").write_bytes(data)
    card.remount()
    with card.count_reads() as reads:
        assert (card.mountpoint / "A.BIN").read_bytes() == data
    assert reads.bytes >= len(data)  # the whole disk's counter includes its partitions
    card.close()
    assert not os.path.exists(loop + "p1")
    assert str(medium.served) not in card_sh("losetup", "-a")
    assert not os.path.ismount(medium.mountpoint) and medium.proc is None
    assert not os.path.ismount(card.mountpoint)


def test_a_hang_left_armed_is_released_when_the_card_is_closed(make_faulty_card):
    card = make_faulty_card()
    raw(card)
    card.set_faults(hang(op="read", timeout=300))
    out: list[bytes] = []
    reader = threading.Thread(target=lambda: out.append(card.read_device(40 * MiB, 4 * KiB)))
    reader.start()
    card.medium.wait_for("hanging")
    loop = card.loop
    card.close()
    reader.join(60)
    assert out == [bytes(4 * KiB)] and not reader.is_alive()
    assert loop not in card_sh("losetup", "-a")


def test_a_dead_server_is_still_cleaned_up(make_faulty_card):
    card = make_faulty_card("exfat")
    loop, medium = card.loop, card.medium
    assert medium.proc is not None
    medium.proc.kill()
    medium.proc.wait()
    with pytest.raises(OSError):  # the medium is gone: the device fails
        card.read_device(0, 4 * KiB)
    card.close()
    assert loop not in card_sh("losetup", "-a")
    assert not mounted(medium.mountpoint) and not mounted(card.mountpoint)


def test_a_pulled_card_fails_and_leaves_a_plain_folder(make_faulty_card):
    card = make_faulty_card("fat32")
    (card.mountpoint / "A.TXT").write_bytes(b"before")
    card.pull()
    assert not mounted(card.mountpoint)
    assert not (card.mountpoint / "A.TXT").exists()  # the folder under the mount is empty
    with pytest.raises(OSError) as err:
        card.read_device(0, 4 * KiB)
    assert err.value.errno == errno.EIO


def test_a_killed_test_run_leaves_nothing_attached(faulty_namespace, tmp_path):
    """The server notices that the process that started it is gone and detaches on its own."""
    script = tmp_path / "run.py"
    script.write_text(
        "import subprocess, sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from faulty.medium import FaultyMedium\n"
        f"m = FaultyMedium({str(tmp_path / 'medium')!r}, size_mb=32)\n"
        "loop = subprocess.run(['losetup', '-f', '--show', str(m.served)], capture_output=True, text=True,"
        " check=True).stdout.strip()\n"
        "subprocess.run(['mkfs.vfat', '-F', '32', loop], check=True, capture_output=True)\n"
        f"mnt = {str(tmp_path / 'mnt')!r}\n"
        "subprocess.run(['mkdir', '-p', mnt], check=True)\n"
        "subprocess.run(['fusefat', '-o', 'rw+,blkdev,fsname=' + loop, loop, mnt], check=True)\n"
        "print(loop, m.proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    run = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        loop, server = run.stdout.readline().split()
        assert loop in card_sh("losetup", "-a")
    finally:
        run.kill()
        run.wait()
    deadline = time.monotonic() + 60
    while (loop in card_sh("losetup", "-a") or os.path.exists(f"/proc/{server}")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert loop not in card_sh("losetup", "-a")
    assert not os.path.exists(f"/proc/{server}") or "zombie" in Path(f"/proc/{server}/status").read_text()
    assert not mounted(tmp_path / "mnt") and not mounted(tmp_path / "medium" / "served")


def test_the_control_file_refuses_a_bad_fault(make_faulty_card):
    card = make_faulty_card()
    card.set_faults(flip_byte(offset=0))
    with pytest.raises(OSError) as err:
        card.set_faults({"kind": "melt"})
    assert err.value.errno == errno.EINVAL
    assert [f["kind"] for f in card.medium.faults()] == ["flip"]  # unchanged


def card_sh(*cmd) -> str:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=True).stdout.strip()


def test_a_plain_ext4_card(make_card):
    card = make_card("ext4", label="PULSECARD")
    assert card_sh("blkid", "-o", "value", "-s", "TYPE", card.device) == "ext4"
    (card.mountpoint / "A.BIN").write_bytes(b"ext4 bytes")
    card.eject()
    card.fsck()
    assert card.files() == ["A.BIN"] and card.read("A.BIN") == b"ext4 bytes"
