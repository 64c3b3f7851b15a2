"""`stager verify` is interruptible on Windows (issue 12): Ctrl-C during a NO_BUFFERING
read-back, the card hanging in ReadFile, is acted on at once (the stop event checked
between chunks and while the read waits). Windows' kernel32 injected at the seam."""

from __future__ import annotations

import hashlib
import threading
import time

from helpers.kernel32 import Kernel32

from stager.card import readback, stop
from stager.cli import run

NAME = "OCPP212_KIP241A_FR.bin"


def test_ctrl_c_during_a_windows_verify_read_back(tmp_path, monkeypatch, capsys):
    data = b"firmware" * 512
    (tmp_path / NAME).write_bytes(data)
    (tmp_path / f"{NAME}.sha256").write_bytes(f"{hashlib.sha256(data).hexdigest()}  {NAME}\n".encode())
    card_answers = threading.Event()
    k32 = Kernel32(data, on_read=lambda i: card_answers.wait(20))  # the card hangs in ReadFile
    monkeypatch.setattr(readback.System, "platform", "win32")
    monkeypatch.setattr(readback.System, "kernel32", lambda self: k32)
    threading.Timer(0.5, stop.STATE.event.set).start()  # what Windows' console handler does on Ctrl-C
    started = time.monotonic()
    try:
        code = run(["verify", "--target", str(tmp_path)])
    finally:
        card_answers.set()
        stop.STATE.reset()  # the stop was this test's only
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 130, err
    assert took < 3.0, took  # not the 20 s the card hangs
    assert "'stager verify' only reads the card; nothing on it was changed." in err, err
