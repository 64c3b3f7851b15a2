"""Every way of stopping (issue 12 item 6, issue 14 item 4): SIGTERM and SIGHUP act like
Ctrl-C (exit 128+n, the same cleanup and a true message), the stop event is acted on from
any wait (the form that works on Windows, where no POSIX signal reaches a process), and
nothing after a verified staging turns it into exit 1 (a folder name that is not UTF-8)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers.proof import read_until

from stager.card import stop
from stager.card.staging import FileOps, Source, Target, stage
from stager.catalog.index import INDEX_NAME, format_index_line
from stager.errors import StagerError

NAME = "OCPP212_KIP241A_FR.bin"


def catalog(tmp_path, size=96 * 1024 * 1024) -> tuple[Path, bytes]:
    cat = tmp_path / "cat"
    cat.mkdir()
    block = os.urandom(1024 * 1024)
    data = b"".join(i.to_bytes(4, "little") + block[4:] for i in range(size // len(block)))
    (cat / NAME).write_bytes(data)
    (cat / INDEX_NAME).write_bytes(format_index_line(hashlib.sha256(data).hexdigest(), NAME))
    return cat, data


def start(stager_exe, tmp_path, cat, card):
    env = {**os.environ, "STAGER_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    args = ["prepare", "-m", "p22", "-k", "212", "--lang", "FR", "--catalog", cat, "--target", card]
    return subprocess.Popen(
        [stager_exe, *map(str, args), "--allow-fixed", "--yes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals (the stop event is tested below on every system)")
@pytest.mark.parametrize("sig,code,name", [("SIGTERM", 143, "SIGTERM"), ("SIGHUP", 129, "SIGHUP")])
def test_sigterm_and_sighup_clean_up_like_ctrl_c(tmp_path, stager_exe, sig, code, name):
    cat, _data = catalog(tmp_path)
    card = tmp_path / "card"
    card.mkdir()
    (card / "notes.txt").write_text("keep")
    proc = start(stager_exe, tmp_path, cat, card)
    deadline = time.monotonic() + 30
    while not any(p.name.startswith(".stager-" + NAME) for p in card.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, "the copy never started"
        time.sleep(0.002)
    proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, (out, err)
    assert f"Interrupted ({name})" in err and "nothing half-written is left" in err, err
    assert sorted(p.name for p in card.iterdir()) == ["notes.txt"]


class SlowOps(FileOps):
    """Writes that take their time, and a hook when the first one starts."""

    def __init__(self, started: threading.Event):
        self.started = started

    def open_temp(self, pin, name):
        f = super().open_temp(pin, name)
        started = self.started

        class Slow:
            def write(self, data):
                started.set()
                time.sleep(0.02)
                return f.write(data)

            def __getattr__(self, n):
                return getattr(f, n)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                f.close()

        return Slow()


def source(tmp_path, size=16 * 1024 * 1024) -> Source:
    cat, data = catalog(tmp_path, size)
    return Source(cat / NAME, NAME, hashlib.sha256(data).hexdigest(), len(data))


def test_the_stop_event_stops_a_staging_from_any_thread(tmp_path, monkeypatch):
    """What a console control handler does on Windows: set the event from another thread.
    The staging's waits see it, clean up and raise Interrupted (no POSIX signal involved)."""
    from stager.card import staging

    monkeypatch.setattr(staging, "CHUNK", 256 * 1024)
    src = source(tmp_path)
    card = tmp_path / "card"
    card.mkdir()
    started, event = threading.Event(), threading.Event()
    threading.Thread(target=lambda: started.wait(30) and event.set(), daemon=True).start()
    with pytest.raises(StagerError) as e:
        stage([src], [Target(card)], ops=SlowOps(started), stop=event)
    assert e.value.code == "interrupted" and e.value.exit_code == 130
    assert "nothing half-written is left" in e.value.message
    assert list(card.iterdir()) == []


def test_a_stop_during_the_read_back_stops_it(tmp_path):
    src = source(tmp_path, 4 * 1024 * 1024)
    card = tmp_path / "card"
    card.mkdir()
    event = threading.Event()

    class StopInReadBack(FileOps):
        def read_back(self, pin, name, **kw):
            event.set()  # Ctrl-C arrives while the card is being read back
            return super().read_back(pin, name, **kw)

    with pytest.raises(StagerError) as e:
        stage([src], [Target(card)], ops=StopInReadBack(), stop=event)
    assert e.value.code == "interrupted"
    assert list(card.iterdir()) == []  # never renamed to its firmware name, and removed


def test_the_second_stop_message_names_what_is_left():
    state = stop.StopState()
    state.signum = signal.SIGINT
    state.wrote("/media/tech/CARD/.stager-FW.BIN.1234abcd.part", "temporary")
    text = stop.second_stop_message(state)
    assert "Stopped at once (Ctrl-C again)" in text
    assert "/media/tech/CARD/.stager-FW.BIN.1234abcd.part (temporary file)" in text
    state.gone("/media/tech/CARD/.stager-FW.BIN.1234abcd.part")
    assert "nothing this run wrote is left" in stop.second_stop_message(state)


def test_exit_codes_are_128_plus_the_signal():
    state = stop.StopState()
    assert state.exit_code() == 130 and state.name() == "Ctrl-C"
    state.signum = signal.SIGTERM
    assert state.exit_code() == 143 and state.name() == "SIGTERM"


@pytest.mark.skipif(sys.platform != "linux", reason="a folder name of raw bytes (Linux file systems)")
def test_a_folder_name_that_is_not_utf8_is_staged_and_reported(tmp_path, stager_exe):
    cat, _data = catalog(tmp_path, 2 * 1024 * 1024)
    raw = os.fsencode(tmp_path) + b"/carte-\xe9t\xe9"  # Latin-1 bytes: not UTF-8
    os.mkdir(raw)
    env = {**os.environ, "STAGER_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    args = [b"prepare", b"-m", b"p22", b"-k", b"212", b"--lang", b"FR", b"--catalog", os.fsencode(cat)]
    for extra in ([b"--json"], []):
        for name in os.listdir(raw):
            os.unlink(os.path.join(raw, os.fsencode(name)))
        proc = subprocess.run(
            [os.fsencode(stager_exe), *args, b"--target", raw, b"--allow-fixed", b"--yes", *extra],
            env=env,
            capture_output=True,
        )
        assert proc.returncode == 0, proc
        if extra:
            doc = json.loads(proc.stdout)
            assert doc["ok"] is True and doc["targets"][0]["verified"] is True
        else:
            assert b"READY" in proc.stdout  # the summary's verdict
    history = (tmp_path / "home" / "history.jsonl").read_bytes().decode("utf-8").splitlines()
    assert len(history) == 2 and all(json.loads(line)["result"] == "ok" for line in history)


# ---- the stops, wherever the main thread is (a child process each: real signals)
PART = "/media/tech/CARD/.stager-FW.BIN.1234abcd.part"
CHILD_SETUP = f"""
import os, signal, sys, time
from stager.card import stop
PART = {PART!r}
def wait(seconds):  # as stager's main thread waits: in short steps (a stop goes to the watcher thread)
    for _ in range(int(seconds * 100)):
        time.sleep(0.01)
"""


def child(body: str, windows_pair: bool = False) -> subprocess.Popen:
    pair = "stop._WATCHER.start(windows=True)\n" if windows_pair else ""
    code = CHILD_SETUP + pair + "previous = stop.install()\n" + body
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
    )


def ready(proc: subprocess.Popen) -> None:
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", proc.communicate(timeout=10)


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals sent to a child process")
def test_a_second_stop_while_the_main_thread_holds_the_state_lock_exits_at_once():
    """What the card suite caught once in CI: the second Ctrl-C came while the main thread
    was building the closing message under the state's lock; the handler, run in that
    same thread, waited for that lock forever. Now no reader of the state waits."""
    proc = child(
        "stop.STATE.busy = True\n"
        "stop.STATE.wrote(PART, 'temporary')\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    wait(30)\n"
        "except KeyboardInterrupt:\n"
        "    with stop.STATE.lock:\n"
        "        print('ready', flush=True)\n"
        "        wait(30)\n"
        "sys.exit(3)\n"
    )
    ready(proc)
    proc.send_signal(signal.SIGINT)
    ready(proc)  # the cleanup runs, holding the lock
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert time.monotonic() - sent < 5.0, err  # at once (not the 30 s sleep, not a deadlock)
    assert proc.returncode == 130, err
    assert "Stopping (Ctrl-C): removing what this run wrote on the card..." in err, err
    assert "Stopped at once (Ctrl-C again): these files this run wrote are still on the card" in err, err
    assert f"{PART} (temporary file)" in err, err


STUCK_IN_THE_KERNEL = (
    "import ctypes\n"
    "stop.STATE.busy = True\n"
    "stop.STATE.wrote(PART, 'temporary')\n"
    # the main thread sleeps in C: cut short by nothing, as a request to a card that hangs
    # (install() blocked the stops there: the system gives them to the watcher thread)
    # 'ready' once the main thread sleeps in the kernel (clock_nanosleep or nanosleep on
    # x86_64 and aarch64): a signal sent before would be acted on between two steps
    "import threading\n"
    "def say_ready(main=threading.get_native_id()):\n"
    "    while open(f'/proc/self/task/{main}/syscall').read().split()[0] not in ('230', '35', '115', '101'):\n"
    "        time.sleep(0.01)\n"
    "    print('ready', flush=True)\n"
    "threading.Thread(target=say_ready, daemon=True).start()\n"
    "ctypes.CDLL(None).sleep(30)\n"
    "sys.exit(3)\n"
)


@pytest.mark.skipif(sys.platform != "linux", reason="a main thread held in C with the signal going elsewhere")
@pytest.mark.parametrize("windows_pair", [False, True], ids=["pipe", "socket pair (as on Windows)"])
def test_stops_are_acted_on_while_the_main_thread_is_stuck_in_the_system(windows_pair):
    """The main thread cannot run Python while it waits in the kernel: the watcher thread
    says so after a second, and the second Ctrl-C ends the run at once naming what is left.
    The socket pair is the wakeup descriptor Windows needs, tested here for real."""
    proc = child(STUCK_IN_THE_KERNEL, windows_pair)
    ready(proc)
    proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None
    said = read_until(proc.stderr, "left where.", 10)
    assert "Stopping (Ctrl-C): removing what this run wrote on the card..." in said, said
    assert "Stopping (Ctrl-C): the system has not answered for a second" in said, said
    assert "Press Ctrl-C again to stop at once" in said, said
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=20)
    assert time.monotonic() - sent < 5.0 and proc.returncode == 130, (proc.returncode, err)
    assert "Stopped at once (Ctrl-C again)" in err and PART in err


@pytest.mark.skipif(sys.platform != "linux", reason="a main thread held in C with the signal going elsewhere")
def test_sigterm_while_stuck_gets_no_hint_to_press_a_key():
    """Another program stopped the run: nobody is told to press a key; a second SIGTERM
    still exits at once with 143."""
    proc = child(STUCK_IN_THE_KERNEL)
    ready(proc)
    proc.send_signal(signal.SIGTERM)
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 143, err
    assert "Stopped at once (SIGTERM again)" in err and "Press" not in err, err


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals sent to a child process")
def test_a_stop_after_the_closing_message_changes_nothing():
    """Once a stopped run has said what it left, a further Ctrl-C neither cuts the message
    nor turns exit 130 into 'killed by SIGINT'."""
    proc = child(
        "try:\n"
        "    print('ready', flush=True)\n"
        "    wait(30)\n"
        "except KeyboardInterrupt:\n"
        "    stop.restore(previous, ending=True)\n"
        "    print('ready', flush=True)\n"
        "    wait(1.0)\n"
        "    print('closing message', flush=True)\n"
        "    sys.exit(130)\n"
        "sys.exit(3)\n"
    )
    ready(proc)
    proc.send_signal(signal.SIGINT)
    ready(proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and "closing message" in out, (proc.returncode, out, err)


def test_no_reader_of_the_stop_state_waits_for_its_lock():
    state = stop.StopState()
    state.signum = signal.SIGINT
    state.wrote("/c/.stager-a.part", "temporary")
    state.wrote("/c/.stager-lock", "lock")
    state.unlinked("/c/.stager-a.part")
    read: dict = {}

    def readers():  # in a thread: a reader that waited for the lock fails this test, not hangs it
        read["left"] = state.leftovers()
        read["second"] = stop.second_stop_message(state)
        read["closing"] = stop.closing_message(state)
        read["details"] = stop.closing(state).details

    with state.lock:  # held, as by the thread a stop interrupts
        reader = threading.Thread(target=readers, daemon=True)
        reader.start()
        reader.join(5)
    assert not reader.is_alive(), "a reader of the stop state waited for its lock"
    assert read["left"] == [("/c/.stager-a.part", "temporary"), ("/c/.stager-lock", "lock")]
    assert "/c/.stager-lock" in read["second"] and "did not confirm" in read["closing"]
    assert read["details"]["unconfirmed"] == ["/c/.stager-a.part"]


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="a signal mask (POSIX)")
def test_a_library_caller_gets_its_handlers_and_mask_back_even_after_a_stop():
    """Only the stager program keeps the stops ignored once stopped (restore(ending=True));
    a program calling the library gets its own handlers and its main thread's mask back."""
    before = signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, set())
    previous = stop.install()
    try:
        assert signal.getsignal(signal.SIGINT) is stop._handler
        assert signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())  # the watcher takes the stops
        stop.STATE.count = 1  # as after a stop
    finally:
        stop.restore(previous)
    assert (signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, set())) == before


def test_the_cards_io_counter_by_system(tmp_path, monkeypatch):
    """What the cleanup after a stop watches to tell a slow card from a hung one: Linux's
    sectors read and written (sysfs, a partition has its own), macOS's whole disk through
    psutil, nothing on Windows."""
    from stager.card.media import io_counter

    (tmp_path / "sdb1").mkdir()
    stat = tmp_path / "sdb1" / "stat"
    stat.write_text("   10 0  800 5   20 0 1600 9 0 12 14 0 0 0 0\n")
    count = io_counter(["/dev/sdb1", None], system="linux", sysfs=str(tmp_path))
    assert count() == 2400
    stat.write_text("   10 0  800 5   21 0 1608 9 1 12 14 0 0 0 0\n")
    assert count() == 2408
    assert io_counter(["/dev/sdz9"], system="linux", sysfs=str(tmp_path))() is None
    assert io_counter(["/dev/sdb1"], system="windows")() is None and io_counter([None], system="linux")() is None

    import psutil

    class Disk:
        def __init__(self, r, w):
            self.read_bytes, self.write_bytes = r, w

    monkeypatch.setattr(psutil, "disk_io_counters", lambda perdisk=False: {"disk4": Disk(5, 7), "disk0": Disk(1, 1)})
    assert io_counter(["/dev/disk4s1"], system="macos")() == 12


def test_the_cleanup_waits_longer_only_while_the_card_moves_data(monkeypatch):
    """Two seconds after the stop for a card that moves nothing (it hangs); extended, up to
    CLEANUP_MOVING_SECONDS, while its counter grows."""
    from stager.card.tasks import Task

    state = stop.StopState()
    state.started_cleanup()
    moved = iter(range(10**6))
    state.moving = lambda: next(moved)
    never = Task()  # work that never ends: a card that hangs
    start = time.monotonic()
    monkeypatch.setattr(stop, "CLEANUP_MOVING_SECONDS", 3.0)
    state.wait_cleanup([never])
    assert 2.8 < time.monotonic() - start < 5.0  # extended to the cap, not beyond
    still = stop.StopState()
    still.started_cleanup()
    still.moving = lambda: 7
    start = time.monotonic()
    still.wait_cleanup([never])
    assert 1.8 < time.monotonic() - start < 3.5
