"""Every way of stopping a run: Ctrl-C, SIGTERM, SIGHUP and, on Windows, Ctrl-Break.

:func:`install` makes each of them act like Ctrl-C: the first one sets :data:`STATE`'s
event (the copy and read-back loops stop at their next chunk) and raises
``KeyboardInterrupt`` in the main thread, whose waits all have timeouts (so it is acted on
within a second even on Windows, where a console Ctrl-C cannot interrupt a bare wait before
Python 3.14, and even when a card hangs); the staging then removes what it wrote and the run
exits ``128 + n`` (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP, 149 for Ctrl-Break).

A second one exits at once (``os._exit``, the same exit code) and says exactly what this
run left where. :data:`STATE` keeps the list: every file a run creates on a card (its
temporary files, the card's lock) is registered until it is removed or verified, and a
removal counts only once the medium confirmed it (the folder and, for a FUSE card, its
block device flushed: a hung card acknowledges an unlink it never stores). Every closing
message (:func:`closing_message`, :func:`second_stop_message`) is built from that list,
so it says what was removed, what could not be confirmed, and where what is left lies.
The cleanup after a stop has :data:`CLEANUP_SECONDS` for every card together
(:meth:`StopState.remaining`): a card that hangs never holds the run longer.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from stager.errors import signal_exit
from stager.i18n import N_, _, ngettext

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, name)
)
CLEANUP_SECONDS = 2.0  # after a stop: the removals and their confirmation, every card together

#: What a registered file is, as the closing messages name it (the keys are the kinds).
KINDS = {
    "temporary": N_("temporary file"),
    "lock": N_("this run's lock on the card"),
    "firmware, verified": N_("firmware file whose run did not finish"),
    "sidecar": N_("checksum sidecar whose run did not finish"),
}


class StopState:
    def __init__(self):
        self.event = threading.Event()
        self.signum: int | None = None
        self.count = 0
        self.busy = False  # files are being written or removed (the first stop says it is cleaning up)
        self.left: dict[str, str] = {}  # path -> kind: on the card, not removed
        self.unconfirmed: dict[str, str] = {}  # removed by the file system, not yet confirmed by the medium
        self.refused: dict[str, str] = {}  # path -> kind: the system refused to remove it
        self.why: dict[str, str] = {}  # path -> why it could not be removed
        self.removed: dict[str, str] = {}  # removed, and the medium confirmed it
        self.stopped_at: float | None = None
        self.lock = threading.Lock()

    def reset(self) -> None:
        self.event.clear()
        self.signum, self.count, self.busy, self.stopped_at = None, 0, False, None
        with self.lock:
            for d in (self.left, self.unconfirmed, self.refused, self.why, self.removed):
                d.clear()

    def begin_run(self) -> None:
        """A run starts writing on cards: forget an earlier run's files and cleanup time (the
        library may run several in one process), unless a stop is already asked for."""
        if self.event.is_set():
            return
        with self.lock:
            for d in (self.left, self.unconfirmed, self.refused, self.why, self.removed):
                d.clear()
        self.stopped_at = None

    def exit_code(self) -> int:
        return signal_exit(self.signum)

    def name(self) -> str:
        if self.signum in (None, signal.SIGINT):
            return "Ctrl-C"
        if self.signum == getattr(signal, "SIGBREAK", None):
            return "Ctrl-Break"
        return signal.Signals(self.signum).name

    # ---- the files a run wrote on a card
    def wrote(self, path: str, kind: str) -> None:
        with self.lock:
            self._forget(path)
            self.left[path] = kind

    def gone(self, path: str) -> None:
        """No longer this run's to remove: verified and kept, or never created."""
        with self.lock:
            self._forget(path)

    def unlinked(self, path: str) -> None:
        """The file system removed it; the medium has not confirmed it yet."""
        with self.lock:
            kind = self._forget(path)
            if kind is not None:
                self.unconfirmed[path] = kind

    def confirmed(self, paths) -> None:
        """The medium holds these removals (the folder and the device were flushed)."""
        with self.lock:
            for path in paths:
                kind = self.unconfirmed.pop(path, None)
                if kind is not None:
                    self.removed[path] = kind

    def not_removed(self, path: str, why: str) -> None:
        with self.lock:
            kind = self._forget(path)
            if kind is not None:
                self.refused[path], self.why[path] = kind, why

    def _forget(self, path: str) -> str | None:
        kind = None
        for d in (self.left, self.unconfirmed, self.refused, self.removed):
            kind = d.pop(path, None) or kind
        self.why.pop(path, None)
        return kind

    def leftovers(self) -> list[tuple[str, str]]:
        """(path, kind) of everything this run wrote that may still be on a card."""
        with self.lock:
            return sorted({**self.left, **self.unconfirmed, **self.refused}.items())

    # ---- the time the cleanup after a stop may take
    def started_cleanup(self) -> None:
        if self.stopped_at is None:
            self.stopped_at = time.monotonic()

    def remaining(self, otherwise: float = 10.0) -> float:
        """Seconds left for the cleanup after the stop (``otherwise`` before any stop: a
        slow card's lock removal at the end of a run)."""
        if self.stopped_at is None:
            return otherwise
        return max(0.0, self.stopped_at + CLEANUP_SECONDS - time.monotonic())


STATE = StopState()


def _listing(items) -> str:
    return "; ".join(
        _("{path} ({what})").format(path=path, what=_(KINDS[kind]) if kind in KINDS else kind) for path, kind in items
    )


def _refused_listing(state: StopState) -> str:
    return "; ".join(
        _("{path} ({what}: {why})").format(
            path=path, what=_(KINDS[kind]) if kind in KINDS else kind, why=state.why.get(path, "")
        )
        for path, kind in sorted(state.refused.items())
    )


def _what_to_do() -> str:
    return _(
        "None of these files is under a firmware name and none is proved. Before the card goes to a charger, "
        "insert it again and run 'stager prepare' again: it removes its own .stager-*.part files and replaces "
        "a lock left by a run that is over. Or delete these files by hand."
    )


def closing_message(state: StopState = STATE) -> str:
    """The message of a run that stopped: what was removed, what the card did not confirm,
    what is still there (full paths), and what to do. True at the moment it is built."""
    how = state.name()
    with state.lock:
        removed = sorted(state.removed.items())
        unconfirmed = sorted(state.unconfirmed.items())
        left = sorted(state.left.items())
        refused = bool(state.refused)
        refused_text = _refused_listing(state)
    parts = []
    if not (unconfirmed or left or refused):
        parts.append(_("Interrupted ({how}): nothing half-written is left on the card.").format(how=how))
    else:
        parts.append(_("Interrupted ({how}): not everything this run wrote could be removed.").format(how=how))
    if removed:
        parts.append(
            ngettext(
                "Removed, and the card confirmed it: {files}.",
                "Removed, and the card confirmed it: {files}.",
                len(removed),
            ).format(files=_listing(removed))
        )
    if unconfirmed:
        parts.append(
            _(
                "Removed by the file system, but the card did not confirm it (it stopped answering), so these may "
                "still be on the card: {files}."
            ).format(files=_listing(unconfirmed))
        )
    if left:
        parts.append(_("Still on the card (the card did not answer in time): {files}.").format(files=_listing(left)))
    if refused:
        parts.append(_("Still on the card (the system refused to remove them): {files}.").format(files=refused_text))
    if unconfirmed or left or refused:
        parts.append(_what_to_do())
    return " ".join(parts)


def second_stop_message(state: StopState = STATE) -> str:
    left = state.leftovers()
    if not left:
        return _("Stopped at once ({how} again): nothing this run wrote is left on the cards.").format(how=state.name())
    return " ".join(
        (
            _(
                "Stopped at once ({how} again): these files this run wrote are still on the card, or their "
                "removal was not confirmed by the card: {files}."
            ).format(how=state.name(), files=_listing(left)),
            _what_to_do(),
        )
    )


def _say(text: str) -> None:
    try:
        sys.stderr.write("\n" + text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _handler(signum, frame) -> None:
    STATE.count += 1
    if STATE.signum is None:
        STATE.signum = signum
    STATE.event.set()
    if STATE.count >= 2:  # a second stop: at once, whatever the first one is still doing
        try:
            _say(second_stop_message())
        finally:
            os._exit(STATE.exit_code())
    STATE.started_cleanup()
    if STATE.busy and STATE.leftovers():
        _say(_("Stopping ({how}): removing what this run wrote on the card...").format(how=STATE.name()))
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


def closing(state: StopState = STATE):
    """The Interrupted error of a stopped run, its message and details built from what
    :data:`STATE` knows now (call it again once more was removed or confirmed)."""
    with state.lock:
        details = {
            "cleaned": sorted(state.removed),
            "unconfirmed": sorted(state.unconfirmed),
            "left": sorted([*state.left, *state.refused]),
        }
    return interrupted(closing_message(state), details=details)


def read_only_stopped():
    """The Interrupted error of a command that only reads the card (``stager verify``)."""
    return interrupted(
        _("Interrupted ({how}): 'stager verify' only reads the card; nothing on it was changed.").format(
            how=STATE.name()
        )
    )
