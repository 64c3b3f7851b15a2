"""Every way of stopping a run: Ctrl-C, SIGTERM, SIGHUP and, on Windows, Ctrl-Break.

:func:`install` makes each of them act like Ctrl-C: the first one sets :data:`STATE`'s
event (the copy and read-back loops stop at their next chunk) and raises
``KeyboardInterrupt`` in the main thread, whose waits all have timeouts (so it is acted on
within a second even on Windows, where a console Ctrl-C cannot interrupt a bare wait before
Python 3.14, and even when a card hangs); the staging then removes what it wrote and the run
exits ``128 + n`` (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP, 149 for Ctrl-Break).

A second one exits at once (``os._exit``, the same exit code) and says exactly what this
run left where, even when the main thread is stuck in the kernel on a card that does not
answer: the stops are counted by a thread of their own (:class:`_Watcher`), from the
wakeup descriptor the system's signal handler writes to, and what the messages need is
read without waiting for any lock (:class:`StopState`). :data:`STATE` keeps the list:
every file a run creates on a card (its temporary files, the card's lock) is registered
until it is removed or verified, and a removal counts only once the medium confirmed it
(the folder and, for a FUSE card, its block device flushed: a hung card acknowledges an
unlink it never stores). Every closing message (:func:`closing_message`,
:func:`second_stop_message`) is built from that list, so it says what was removed, what
could not be confirmed, and where what is left lies. The cleanup after a stop has
:data:`CLEANUP_SECONDS` for every card together (:meth:`StopState.wait_cleanup`),
extended up to :data:`CLEANUP_MOVING_SECONDS` while the cards' devices are seen moving
data: a card that hangs never holds the run longer, a slow one gets its removals done.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable

from stager.errors import signal_exit
from stager.i18n import N_, _, ngettext

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, name)
)
CLEANUP_SECONDS = 2.0  # after a stop: the removals and their confirmation, every card together
CLEANUP_MOVING_SECONDS = 30.0  # at most, while the cards are seen moving data (a slow card that answers)

#: What a registered file is, as the closing messages name it (the keys are the kinds).
KINDS = {
    "temporary": N_("temporary file"),
    "lock": N_("this run's lock on the card"),
    "firmware, verified": N_("firmware file whose run did not finish"),
    "sidecar": N_("checksum sidecar whose run did not finish"),
}


LEFT, UNCONFIRMED, REFUSED, REMOVED = "left", "unconfirmed", "refused", "removed"


class StopState:
    """What a stop needs to know. The files a run wrote are one mapping, path -> (status,
    kind, why), changed one entry at a time: a reader takes a copy (one step under the
    GIL) and never waits for :attr:`lock`, which only keeps two writers from losing an
    update. So a stop that comes while this thread or another one is changing it (the
    signal handler runs in the middle of whatever the main thread was doing) never waits
    for a lock its own thread holds."""

    def __init__(self):
        self.event = threading.Event()
        self.signum: int | None = None
        self.count = 0  # stops seen
        self.raised = False  # the main thread was told (KeyboardInterrupt raised, once)
        self.busy = False  # files are being written or removed (the first stop says it is cleaning up)
        self.files: dict[str, tuple[str, str, str]] = {}  # path -> (status, kind, why)
        self.stopped_at: float | None = None
        self.closed = False  # the closing message was built: the watcher says nothing more
        self.moving: Callable[[], int | None] | None = None  # data the cards' devices moved so far, if known
        self.extended_to: float | None = None  # the cleanup's time, extended while the cards move data
        self.lock = threading.Lock()  # between writers only

    def reset(self) -> None:
        self.clear_stop()
        self.busy, self.stopped_at, self.closed, self.moving, self.extended_to = False, None, False, None, None
        with self.lock:
            self.files = {}

    def clear_stop(self) -> None:
        """No stop seen yet (what the run wrote stays known)."""
        self.event.clear()
        self.signum, self.count, self.raised = None, 0, False

    def begin_run(self) -> None:
        """A run starts writing on cards: forget an earlier run's files and cleanup time (the
        library may run several in one process), unless a stop is already asked for."""
        if self.event.is_set():
            return
        with self.lock:
            self.files = {}
        self.stopped_at = self.extended_to = None

    def exit_code(self) -> int:
        return signal_exit(self.signum)

    def name(self) -> str:
        if self.signum in (None, signal.SIGINT):
            return "Ctrl-C"
        if self.signum == getattr(signal, "SIGBREAK", None):
            return "Ctrl-Break"
        return signal.Signals(self.signum).name

    def by_person(self) -> bool:
        """The stop came from a keyboard (Ctrl-C, Ctrl-Break), not from another program."""
        return self.signum in (None, signal.SIGINT, getattr(signal, "SIGBREAK", None))

    # ---- the files a run wrote on a card
    def wrote(self, path: str, kind: str) -> None:
        with self.lock:
            self.files[path] = (LEFT, kind, "")

    def gone(self, path: str) -> None:
        """No longer this run's to remove: verified and kept, or never created."""
        with self.lock:
            self.files.pop(path, None)

    def unlinked(self, path: str) -> None:
        """The file system removed it; the medium has not confirmed it yet."""
        self._now(path, UNCONFIRMED)

    def confirmed(self, paths) -> None:
        """The medium holds these removals (the folder and the device were flushed)."""
        for path in paths:
            self._now(path, REMOVED, only_from=UNCONFIRMED)

    def not_removed(self, path: str, why: str) -> None:
        self._now(path, REFUSED, why)

    def _now(self, path: str, status: str, why: str = "", only_from: str | None = None) -> None:
        with self.lock:
            entry = self.files.get(path)
            if entry is not None and only_from in (None, entry[0]):
                self.files[path] = (status, entry[1], why)

    def snapshot(self) -> dict[str, tuple[str, str, str]]:
        """A copy of the files, taken without waiting (see the class doc)."""
        return dict(self.files)

    def leftovers(self) -> list[tuple[str, str]]:
        """(path, kind) of everything this run wrote that may still be on a card."""
        return sorted((path, kind) for path, (status, kind, _why) in self.snapshot().items() if status != REMOVED)

    # ---- the time the cleanup after a stop may take
    def started_cleanup(self) -> None:
        if self.stopped_at is None:
            self.stopped_at = time.monotonic()

    def remaining(self, otherwise: float = 10.0) -> float:
        """Seconds left for the cleanup after the stop (``otherwise`` before any stop: a
        slow card's lock removal at the end of a run)."""
        if self.stopped_at is None:
            return otherwise
        deadline = max(self.stopped_at + CLEANUP_SECONDS, self.extended_to or 0.0)
        return max(0.0, deadline - time.monotonic())

    def wait_cleanup(self, futures, otherwise: float = 10.0) -> None:
        """Wait for the cleanup's work (removals, the locks), for :meth:`remaining`; while
        the cards' devices are seen moving data (:attr:`moving`: a slow card that
        answers, behind the copy's writes still going to it), the time is extended, to
        at most :data:`CLEANUP_MOVING_SECONDS` after the stop: a card that hangs moves
        nothing and gets the two seconds."""
        from stager.card.tasks import wait

        pending = set(futures)
        seen = self.moving() if self.moving else None
        unstopped_end = time.monotonic() + otherwise  # no stop: the end of a run, a slow lock removal
        while pending:
            left = self.remaining() if self.stopped_at is not None else unstopped_end - time.monotonic()
            if left <= 0:
                return
            _done, pending = wait(pending, timeout=min(left, 0.25))
            now = self.moving() if self.moving else None
            if now is not None and now != seen and self.stopped_at is not None:
                seen = now
                cap = self.stopped_at + CLEANUP_MOVING_SECONDS
                self.extended_to = min(cap, max(self.extended_to or 0.0, time.monotonic() + CLEANUP_SECONDS))


def _with(files: dict, status: str) -> list[tuple[str, str]]:
    return sorted((path, kind) for path, (s, kind, _why) in files.items() if s == status)


STATE = StopState()


def _listing(items) -> str:
    return "; ".join(
        _("{path} ({what})").format(path=path, what=_(KINDS[kind]) if kind in KINDS else kind) for path, kind in items
    )


def _refused_listing(files: dict) -> str:
    return "; ".join(
        _("{path} ({what}: {why})").format(path=path, what=_(KINDS[kind]) if kind in KINDS else kind, why=why)
        for path, (status, kind, why) in sorted(files.items())
        if status == REFUSED
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
    state.closed = True
    files = state.snapshot()
    removed, unconfirmed, left = _with(files, REMOVED), _with(files, UNCONFIRMED), _with(files, LEFT)
    refused = bool(_with(files, REFUSED))
    refused_text = _refused_listing(files)
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
    except (OSError, ValueError, RuntimeError):  # RuntimeError: this thread was in the middle of a write
        pass


def _stopping_message() -> str:
    return _("Stopping ({how}): removing what this run wrote on the card...").format(how=STATE.name())


def _exit_now() -> None:
    """A second stop: say what is left where, then end the process at once, even when
    standard error does not take the message (a full pipe): it has half a second."""
    try:
        sayer = threading.Thread(target=_say, args=(second_stop_message(),), daemon=True)
        sayer.start()
        sayer.join(0.5)
    finally:
        os._exit(STATE.exit_code())


def _noted(signum: int) -> None:
    """A stop asked for: its signal (the first one names it), the event every wait
    watches, the cleanup's clock started."""
    if STATE.signum is None:
        STATE.signum = signum
    STATE.event.set()
    STATE.started_cleanup()


def _seen(signum: int) -> None:
    """One stop, counted once (by the watcher, or by the handler where there is none)."""
    STATE.count += 1
    _noted(signum)
    if STATE.count >= 2:  # a second stop: at once, whatever the first one is still doing
        _exit_now()
    if STATE.busy and STATE.leftovers() and not STATE.closed:
        _say(_stopping_message())


def _handler(signum, frame) -> None:
    """The main thread's part of a stop: raise KeyboardInterrupt there, once (the cleanup
    runs from there). With the watcher on, the watcher counts the stops and ends the
    process on the second one; without it, this handler does."""
    if _WATCHER.on:
        _noted(signum)
    else:
        _seen(signum)
    if STATE.raised:
        return
    STATE.raised = True
    raise KeyboardInterrupt


class _Watcher:
    """The stops, as the system delivers them, seen from a thread of its own.

    Python runs a signal handler in the main thread only, between two steps of Python
    code: a main thread stuck in the kernel on a card that does not answer (a FUSE or
    block request waits out any signal but SIGKILL) would run it only once the card
    answers, so neither the first stop's message nor the second stop's exit would come.
    The system's own signal handler also writes the signal's number to a wakeup file
    descriptor (:func:`signal.set_wakeup_fd`: a pipe, or on Windows, where it must be a
    socket, a socket pair); this thread reads it, counts the stops, says "Stopping", says
    after a second that the system has not answered, and ends the process on the second
    stop, wherever the main thread is.

    That system handler runs in the thread the signal is given to, once that thread is
    back from the kernel, and Linux gives a process's signal to its main thread even while
    it waits in the kernel. So while the stops are installed they are blocked in every
    thread but this one (:func:`install` blocks them in the main thread, whose later
    threads inherit that; the card threads block them themselves, this one unblocks them):
    the system gives each stop to this thread. On Windows a console Ctrl-C or Ctrl-Break
    runs its handler in a new thread anyway; there is no mask to set."""

    HINT_AFTER = 1.0  # seconds: a first stop the main thread has not acted on yet is explained

    def __init__(self):
        self.on = False
        self.fd: int | None = None  # the write end, given to set_wakeup_fd
        self._keep: tuple = ()

    def start(self, windows: bool = os.name == "nt") -> int | None:
        """The write end for set_wakeup_fd, the thread started on first use; None when
        this system gives neither a pipe nor a socket pair."""
        if self.fd is None:
            try:
                read, self.fd, self._keep = _wakeup_pair(windows)
            except OSError:
                return None
            threading.Thread(target=self._watch, args=(read,), daemon=True, name="stager-stop").start()
        return self.fd

    def forget(self) -> None:
        """In a child made by fork: the thread did not come along (a new one is started)."""
        self.on, self.fd, self._keep = False, None, ()

    def _watch(self, read) -> None:
        unblock_stops()
        while True:
            try:
                data = read()
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum in STOP_SIGNALS and signal.getsignal(signum) is _handler:
                    self._one(signum)

    def _one(self, signum: int) -> None:
        _seen(signum)
        if STATE.count == 1 and STATE.by_person():
            timer = threading.Timer(self.HINT_AFTER, self._hint)
            timer.daemon = True
            timer.start()

    @staticmethod
    def _hint() -> None:
        if STATE.count == 1 and not STATE.raised and not STATE.closed:
            _say(
                _(
                    "Stopping ({how}): the system has not answered for a second (a card or a drive that hangs?). "
                    "Press {how} again to stop at once; you will be told what this run left where."
                ).format(how=STATE.name())
            )


def _wakeup_pair(windows: bool):
    """(read, the write end's descriptor, what must stay open): a pipe, or a socket pair
    where set_wakeup_fd takes only a socket (Windows). The write end never blocks (the
    system's signal handler writes to it)."""
    if windows:
        import socket

        reader, writer = socket.socketpair()
        writer.setblocking(False)
        return (lambda: reader.recv(64)), writer.fileno(), (reader, writer)
    r, w = os.pipe()
    os.set_blocking(w, False)
    return (lambda: os.read(r, 64)), w, ()


_WATCHER = _Watcher()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_WATCHER.forget)
_WAKEUP, _MASK = "wakeup", "mask"  # keys of install()'s answer: the wakeup descriptor, the main thread's mask
_MASKABLE = hasattr(signal, "pthread_sigmask")  # POSIX


def block_stops() -> None:
    """In a thread that may wait in the kernel on a card: the stops go elsewhere (to the
    watcher, see :class:`_Watcher`, or to the main thread), also for runs started after
    this thread (a library caller's threads live on). Python runs every handler in the
    main thread anyway. Nothing where there is no signal mask (Windows)."""
    if _MASKABLE:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def unblock_stops() -> None:
    if _MASKABLE:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class at_a_prompt:
    """While the main thread waits for the user's answer: it takes the stops itself (a
    blocked Ctrl-C would not cut short the wait for the keyboard)."""

    def __enter__(self):
        self.mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS) if _MASKABLE else None
        return self

    def __exit__(self, *exc) -> None:
        if self.mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)


def install(*, fresh: bool = True) -> dict:
    """Route every stop signal to :func:`_handler` and to the watcher (:class:`_Watcher`);
    returns what was there before, for :func:`restore`. ``fresh=False``: taken again
    later in the same run (for --eject), keeping what this run knows of its files."""
    if fresh:
        STATE.reset()
    else:
        STATE.clear_stop()
    previous: dict = {}
    for sig in STOP_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, _handler)
        except (ValueError, OSError):  # not the main thread, or not allowed here
            pass
    fd = _WATCHER.start() if previous else None
    if fd is not None:
        try:
            old = signal.set_wakeup_fd(fd, warn_on_full_buffer=False)
        except (ValueError, OSError):
            pass
        else:
            if old != fd:  # installed twice in one run: the first answer keeps the one before
                previous[_WAKEUP] = old
            _WATCHER.on = True
    if _WATCHER.on and _MASKABLE and previous:
        previous.setdefault(_MASK, signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS))
    return previous


def ignore() -> None:
    """Once every card's outcome is settled: no signal may contradict the printed result.
    The stops are unblocked in this thread too: a signal the system sees ignored by the
    thread it is sent to is dropped when sent, never left pending for the handlers that
    :func:`install` may put back (for --eject)."""
    for sig in STOP_SIGNALS:
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (ValueError, OSError):
            pass
    unblock_stops()


def restore(previous: dict, *, ending: bool = False) -> None:
    """Put back what :func:`install` found. ``ending`` (a command of the stager program,
    whose work is done: only its result or its closing message is left to print): the stop
    signals are ignored instead, so that a stop now neither cuts that message short, nor
    turns the exit status into "killed by the signal", nor, when it came an instant before
    (its handler still pending), raises in the middle of the message. A library caller
    gets its handlers back."""
    for sig, handler in previous.items():
        try:
            if sig == _WAKEUP:
                signal.set_wakeup_fd(handler)  # its owner's warn_on_full_buffer cannot be read back
                _WATCHER.on = False
            elif sig != _MASK:
                signal.signal(sig, signal.SIG_IGN if ending else handler)
        except (ValueError, OSError, TypeError):
            pass
    if _MASK in previous:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous[_MASK])


def interrupted(message: str, *, details=None):
    """The Interrupted error of the stop that happened (exit 128 + its signal's number)."""
    from stager.errors import Interrupted

    err = Interrupted(message, details=details)
    err.exit_code = STATE.exit_code()
    return err


def closing(state: StopState = STATE):
    """The Interrupted error of a stopped run, its message and details built from what
    :data:`STATE` knows now (call it again once more was removed or confirmed)."""
    files = state.snapshot()
    details = {
        "cleaned": [path for path, _kind in _with(files, REMOVED)],
        "unconfirmed": [path for path, _kind in _with(files, UNCONFIRMED)],
        "left": sorted(path for path, (status, _kind, _why) in files.items() if status in (LEFT, REFUSED)),
    }
    return interrupted(closing_message(state), details=details)


def read_only_stopped():
    """The Interrupted error of a command that only reads the card (``stager verify``)."""
    return interrupted(
        _("Interrupted ({how}): 'stager verify' only reads the card; nothing on it was changed.").format(
            how=STATE.name()
        )
    )
