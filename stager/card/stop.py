"""Every way of stopping a run: Ctrl-C, SIGTERM, SIGHUP and, on Windows, Ctrl-Break.

:func:`install` makes each of them act like Ctrl-C: the first one sets :data:`STATE`'s
event (the copy and read-back loops stop at their next chunk) and raises
``KeyboardInterrupt`` in the main thread, whose waits all have timeouts (so it is acted on
within a second even on Windows, where a console Ctrl-C cannot interrupt a bare wait before
Python 3.14, and even when a card hangs); the staging then removes what it wrote and the run
exits ``128 + n`` (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP, 149 for Ctrl-Break).

A second one while files are being written or removed exits at once and says exactly what
this run left where (:data:`STATE` keeps the list: every file the staging creates is
registered until it is removed or verified).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from stager.i18n import _

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, name)
)


class StopState:
    def __init__(self):
        self.event = threading.Event()
        self.signum: int | None = None
        self.count = 0
        self.busy = False  # files are being written or removed: a second signal exits at once
        self.left: dict[str, str] = {}  # path -> what it is ("temporary", "verified", ...)
        self.lock = threading.Lock()

    def reset(self) -> None:
        self.event.clear()
        self.signum, self.count, self.busy = None, 0, False
        with self.lock:
            self.left.clear()

    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def name(self) -> str:
        if self.signum in (None, signal.SIGINT):
            return "Ctrl-C"
        if self.signum == getattr(signal, "SIGBREAK", None):
            return "Ctrl-Break"
        return signal.Signals(self.signum).name

    def wrote(self, path: str, kind: str) -> None:
        with self.lock:
            self.left[path] = kind

    def gone(self, path: str) -> None:
        with self.lock:
            self.left.pop(path, None)

    def leftovers(self) -> list[tuple[str, str]]:
        with self.lock:
            return sorted(self.left.items())


STATE = StopState()


def second_stop_message(state: StopState = STATE) -> str:
    left = state.leftovers()
    if not left:
        return _("Stopped at once ({signal} again): nothing this run wrote is left on the cards.").format(
            signal=state.name()
        )
    # TRANSLATORS: a file left on the card and what it is ("temporary", "sidecar"...).
    listing = "; ".join(_("{path} ({kind})").format(path=path, kind=_(kind)) for path, kind in left)
    return _(
        "Stopped at once ({signal} again): these files this run wrote are still on the card: {files}. "
        "None of them is proved: 'stager prepare' removes its temporary .stager-*.part files on its next run; "
        "delete any other file listed, or run prepare again with --clean."
    ).format(signal=state.name(), files=listing)


def _handler(signum, frame) -> None:
    STATE.count += 1
    if STATE.signum is None:
        STATE.signum = signum
    STATE.event.set()
    if STATE.count >= 2 and STATE.busy:
        try:
            sys.stderr.write("\n" + second_stop_message() + "\n")
            sys.stderr.flush()
        finally:
            os._exit(STATE.exit_code())
    raise KeyboardInterrupt


def install() -> dict:
    """Route every stop signal to :func:`_handler`; returns the previous handlers."""
    STATE.reset()
    previous = {}
    for sig in STOP_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, _handler)
        except (ValueError, OSError):  # not the main thread, or not allowed here
            pass
    return previous


def ignore() -> None:
    """Once every card's outcome is settled: no signal may contradict the printed result."""
    for sig in STOP_SIGNALS:
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (ValueError, OSError):
            pass


def restore(previous: dict) -> None:
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError, TypeError):
            pass


def interrupted(message: str, *, details=None):
    """The Interrupted error of the stop that happened (exit 128 + its signal's number)."""
    from stager.errors import Interrupted

    err = Interrupted(message, details=details)
    err.exit_code = STATE.exit_code()
    return err
