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
