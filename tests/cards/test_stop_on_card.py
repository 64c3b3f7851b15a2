"""Issue 12, stopping on a real card that hangs (FAT32 through fusefat, over the faulty
medium): every closing message is true, and a second stop exits at once.

fusefat writes to the block device's page cache, so an unlink on a card whose writes hang
is acknowledged at once and never reaches the medium: the message must not call it removed.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from faulty.medium import hang
from helpers.proof import NAME, MiB, make_catalog, read_until, start

from stager.rules.names import is_firmware_name

pytestmark = pytest.mark.cards
LOCK = ".stager-lock"


def hung_during_the_flush(make_faulty_card, tmp_path, stager_exe):
    """A FAT32 card whose medium stops storing anything while the copy is flushed to it:
    (card, the running stager)."""
    catalog, data = make_catalog(tmp_path / "cat", 8 * MiB)
    card = make_faulty_card("fat32")
    card.set_faults(hang(op="write", match=data[5 * MiB : 5 * MiB + 512], timeout=120))
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    card.medium.wait_for("hanging", timeout=60)
    card.set_faults(hang(op="write", match=data[5 * MiB : 5 * MiB + 512], timeout=120), hang(op="write", timeout=120))
    return card, proc


def test_ctrl_c_on_a_hung_fat32_card_says_what_the_card_did_not_confirm(make_faulty_card, tmp_path, stager_exe):
    card, proc = hung_during_the_flush(make_faulty_card, tmp_path, stager_exe)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    first = read_until(proc.stderr, "Stopping (Ctrl-C)", 10)
    noticed = time.monotonic() - sent
    said = first + read_until(proc.stderr, "by hand.", 20)
    closed = time.monotonic() - sent
    assert "Stopping (Ctrl-C)" in first and noticed < 1.0, (noticed, first)  # acted on within a second
    assert "Interrupted (Ctrl-C)" in said and closed < 5.0, (closed, said)
    assert card.stats()["hanging"] >= 1  # all said while the card still hangs
    assert "nothing half-written" not in said, said
    assert "did not confirm" in said, said  # fusefat acknowledged the unlinks; the medium did not store them
    assert f"{card.mountpoint}/.stager-{NAME}." in said and ".part (temporary file)" in said, said
    assert f"{card.mountpoint}/{LOCK} (this run's lock on the card)" in said, said
    card.release()
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    card.clear()
    card.eject()
    assert [n for n in card.files() if is_firmware_name(n)] == []


@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM")])
def test_a_second_stop_exits_at_once_naming_what_is_left(make_faulty_card, tmp_path, stager_exe, sig, code, name):
    card, proc = hung_during_the_flush(make_faulty_card, tmp_path, stager_exe)
    proc.send_signal(sig)
    read_until(proc.stderr, f"Stopping ({name})", 10)
    sent = time.monotonic()
    proc.send_signal(sig)
    said = read_until(proc.stderr, "by hand.", 10)
    assert time.monotonic() - sent < 1.0, said
    assert f"Stopped at once ({name} again)" in said, said
    assert f"{card.mountpoint}/.stager-{NAME}." in said and ".part (temporary file)" in said, said
    assert f"{card.mountpoint}/{LOCK} (this run's lock on the card)" in said, said
    card.release()  # a thread stuck in the kernel on the card ends the process only once the card answers
    proc.communicate(timeout=120)
    assert proc.returncode == code
    card.clear()
    card.eject()
    assert [n for n in card.files() if is_firmware_name(n)] == []


def test_a_sound_card_confirms_every_removal(make_faulty_card, tmp_path, stager_exe):
    """Ctrl-C during the read-back of a card that answers: everything removed and confirmed."""
    catalog, data = make_catalog(tmp_path / "cat", 8 * MiB)
    card = make_faulty_card("fat32")
    card.set_faults(hang(op="read", match=data[6 * MiB : 6 * MiB + 512], timeout=60, then="pass"))
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    card.medium.wait_for("hanging", timeout=60)
    proc.send_signal(signal.SIGINT)
    card.release()  # the card answers again: the cleanup can be confirmed
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted (Ctrl-C): nothing half-written is left on the card." in err, err
    assert "Removed, and the card confirmed it:" in err and f"{card.mountpoint}/{LOCK}" in err, err
    card.clear()
    card.eject()
    assert [n for n in card.files() if n.upper().startswith(".STAGER") or is_firmware_name(n)] == []


def _stuck_with_stops_blocked(pid: int) -> bool:
    """Is the process's main thread waiting in the kernel (state D) after stager's stop
    handling was installed (SIGINT in its blocked mask)? The card hanging is not enough:
    with the caches dropped, another reader (the kernel, udev) can hang on the card while
    stager is still importing click, which a Ctrl-C then interrupts as Python would."""
    try:
        with open(f"/proc/{pid}/task/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except FileNotFoundError:
        return False
    blocked = int(fields["SigBlk"].strip(), 16) & (1 << (signal.SIGINT - 1))
    return fields["State"].strip().startswith("D") and bool(blocked)


def test_ctrl_c_while_the_main_thread_waits_in_the_kernel_on_a_hung_card(make_faulty_card, tmp_path, stager_exe):
    """An ext4 card whose medium stops answering reads, its caches dropped: the run's main
    thread waits in the kernel (state D) on its first look at the card, where no signal
    handler can run. The stops go to stager's stop thread: the first is explained within
    a second or two, the second ends the run at once, saying what is left (nothing yet)."""
    catalog, _data = make_catalog(tmp_path / "cat", MiB)
    card = make_faulty_card("ext4")
    subprocess.run(["sync"], check=True)
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")
    card.set_faults(hang(op="read", timeout=120))
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    try:
        card.medium.wait_for("hanging", timeout=60)
        deadline, since = time.monotonic() + 60, None
        while since is None or time.monotonic() - since < 0.3:  # stuck, not a moment's disk read
            assert time.monotonic() < deadline and proc.poll() is None, "stager never waited on the card"
            stuck = _stuck_with_stops_blocked(proc.pid)
            since = (since or time.monotonic()) if stuck else None
            time.sleep(0.02)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        said = read_until(proc.stderr, "left where.", 10)
        assert "Stopping (Ctrl-C): the system has not answered for a second" in said, said
        assert time.monotonic() - sent < 3.0, said
        assert proc.poll() is None and card.stats()["hanging"] >= 1  # still stuck on the card
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        said = read_until(proc.stderr, "left on the cards.", 10)
        assert time.monotonic() - sent < 1.0, said
        assert "Stopped at once (Ctrl-C again): nothing this run wrote is left on the cards." in said, said
    finally:
        card.release()  # the stuck thread ends the process once the card answers
        proc.communicate(timeout=120)
    assert proc.returncode == 130
    card.clear()
    card.eject()
    assert [n for n in card.files() if is_firmware_name(n)] == []


@pytest.mark.parametrize("fs", ["exfat", "fat32"])
def test_a_slow_card_that_answers_gets_its_cleanup_done(make_faulty_card, tmp_path, stager_exe, fs):
    """Issue-12 acceptance: a card that takes 50 ms a write (about 2.5 MB/s) was stopped
    0.1 s into the copy and kept its .part and lock: the two seconds of cleanup ran out
    behind the copy's writes still going to it. While the card's device is seen moving
    data the cleanup waits longer (at most 30 s), so the card ends as it was."""
    catalog, _data = make_catalog(tmp_path / "cat", 6 * MiB)
    card = make_faulty_card(fs)
    card.set_faults(hang(op="write", timeout=0.05, then="pass"))
    proc = start(stager_exe, tmp_path, catalog, "--target", card.mountpoint, "--yes")
    card.medium.wait_for("hanging", timeout=60)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Interrupted (Ctrl-C): nothing half-written is left on the card." in err, err
    card.clear()
    card.eject()
    assert [n for n in card.files() if n.upper().startswith(".STAGER") or is_firmware_name(n)] == []
