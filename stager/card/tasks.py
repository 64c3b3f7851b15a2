"""The results of work given to the card threads, and waiting for them with a timeout.

The part of ``concurrent.futures`` a staging uses (a future set by the thread that did
the work; waiting for several with a timeout, so a stop is seen while a card hangs), in
a few lines: ``concurrent.futures`` imports ``logging``, ``traceback`` and ``textwrap``,
about 5 ms of every run, for a thread pool stager does not use here (the card threads
are its own, :class:`stager.card.readback._Daemons`). :func:`wait` also takes the
futures of ``concurrent.futures``: it asks only for ``exception(timeout)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any


class Task:
    """The outcome of one piece of work: set once by the thread that did it, read by any."""

    __slots__ = ("_callbacks", "_done", "_error", "_lock", "_result")

    def __init__(self) -> None:
        self._done = threading.Event()
        self._result: Any = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[Task], object]] = []

    def set_result(self, result: Any) -> None:
        self._finish(result, None)

    def set_exception(self, error: BaseException) -> None:
        self._finish(None, error)

    def _finish(self, result: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._done.is_set():  # a waiter may have read the first outcome already
                raise RuntimeError("this task's outcome is already set")
            self._result, self._error = result, error
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            _call(fn, self)

    def add_done_callback(self, fn: Callable[[Task], object]) -> None:
        """Call ``fn(task)`` once the task is done: now if it is (in this thread), else in the
        thread that finishes it (e.g. free a buffer a read that hangs may still fill)."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(fn)
                return
        _call(fn, self)

    def done(self) -> bool:
        return self._done.is_set()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The error the work raised (None if none), once it is done; TimeoutError if it is
        not done within ``timeout`` seconds."""
        if not self._done.wait(timeout):
            raise TimeoutError
        return self._error

    def result(self, timeout: float | None = None) -> Any:
        """What the work returned, once done (its error raised here); TimeoutError if it is
        not done within ``timeout`` seconds."""
        error = self.exception(timeout)
        if error is not None:
            try:
                raise error
            finally:  # no cycle error -> traceback -> this frame -> task -> error (as concurrent.futures)
                del error, self
        return self._result


def _call(fn: Callable[[Task], object], task: Task) -> None:
    """A done-callback, whose failure changes neither the work's outcome nor the thread
    that finished it; it is reported as an error of that thread (threading.excepthook:
    its traceback on stderr)."""
    try:
        fn(task)
    except Exception as e:
        threading.excepthook(threading.ExceptHookArgs((type(e), e, e.__traceback__, threading.current_thread())))


def wait(tasks: Iterable[Any], timeout: float | None = None) -> tuple[set, set]:
    """Wait until every task is done or ``timeout`` seconds have passed (None: no limit):
    (done, pending), as ``concurrent.futures.wait`` with ALL_COMPLETED gives them (a pair,
    not its named tuple; a cancelled future of concurrent.futures is not expected here)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    done, pending = set(), set()
    for task in tasks:
        try:
            task.exception(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            pending.add(task)
        else:
            done.add(task)
    return done, pending
