"""stager.card.tasks: a card thread's outcome, and waiting for several with a timeout, as
the part of concurrent.futures the staging used (checked against it where they meet)."""

from __future__ import annotations

import concurrent.futures
import gc
import subprocess
import sys
import threading
import time
import weakref

import pytest

from stager.card import readback
from stager.card.tasks import Task, wait


def test_a_task_gives_what_the_work_returned_or_raises_what_it_raised():
    ok, failed = Task(), Task()
    ok.set_result(42)
    failed.set_exception(OSError(5, "Input/output error"))
    assert ok.done() and ok.result() == 42 and ok.exception() is None
    with pytest.raises(OSError, match="Input/output error"):
        failed.result()
    assert isinstance(failed.exception(), OSError)


def test_a_task_not_done_raises_timeout_error_after_its_timeout():
    t = Task()
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        t.result(timeout=0.05)
    assert time.monotonic() - start >= 0.05 and not t.done()


def test_a_result_set_by_another_thread_wakes_the_waiter():
    t = Task()
    threading.Timer(0.05, t.set_result, args=("read",)).start()
    assert t.result(timeout=10) == "read"


@pytest.mark.parametrize("kind", ["stager", "concurrent.futures"])
def test_wait_splits_done_from_pending_as_concurrent_futures_wait(kind):
    make = Task if kind == "stager" else concurrent.futures.Future
    done_one, failed, never = make(), make(), make()
    done_one.set_result(1)
    failed.set_exception(ValueError("x"))
    mine = wait([done_one, failed, never], timeout=0.05)
    theirs = concurrent.futures.wait([done_one, failed, never], timeout=0.05) if kind != "stager" else None
    assert mine == ({done_one, failed}, {never})
    if theirs is not None:
        assert (set(theirs.done), set(theirs.not_done)) == mine


def test_wait_returns_as_soon_as_everything_is_done_and_within_its_timeout_otherwise():
    tasks = [readback.spawn(time.sleep, 0.02) for _ in range(3)]
    done, pending = wait(tasks, timeout=10)
    assert len(done) == 3 and not pending
    hung = readback.spawn(threading.Event().wait, 5)
    start = time.monotonic()
    assert wait([hung], timeout=0.1) == (set(), {hung})
    assert time.monotonic() - start < 4  # the timeout, not the work's five seconds


def test_a_done_callback_runs_once_when_the_task_ends_or_at_once_when_it_has():
    later, now, seen = Task(), Task(), []
    later.add_done_callback(lambda t: seen.append(("later", t.result())))
    assert seen == []
    threading.Thread(target=later.set_result, args=(1,)).start()
    later.exception(timeout=10)
    now.set_exception(OSError("gone"))
    now.add_done_callback(lambda t: seen.append(("now", type(t.exception()).__name__)))
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:  # the setter's thread runs "later"'s
        time.sleep(0.01)
    assert sorted(seen) == [("later", 1), ("now", "OSError")]


def test_the_card_threads_report_an_error_through_the_task():
    def fail():
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        readback.spawn(fail).result(timeout=10)


def test_an_outcome_is_set_once():
    t = Task()
    t.set_result(1)
    with pytest.raises(RuntimeError, match="already set"):
        t.set_exception(OSError("late"))
    assert t.result() == 1


def test_a_failing_callback_is_reported_and_changes_nothing(monkeypatch):
    reported = []
    monkeypatch.setattr(threading, "excepthook", lambda a: reported.append((a.exc_type, a.thread.name)))

    def broken(_task):
        raise OSError("CloseHandle failed")

    later, done = Task(), Task()
    later.add_done_callback(broken)
    later.set_result("bytes")  # in the finishing thread: the card thread goes on
    done.set_result("bytes")
    done.add_done_callback(broken)  # at once, in this thread: no error here either
    assert later.result() == done.result() == "bytes"
    assert reported == [(OSError, threading.current_thread().name)] * 2


def test_a_failing_callback_s_traceback_reaches_stderr_through_python_s_own_hook():
    """In a process of its own: pytest puts its own threading.excepthook in place."""
    code = (
        "from stager.card.tasks import Task\n"
        "t = Task()\n"
        "t.add_done_callback(lambda _task: 1 / 0)\n"
        "t.set_result(1)\n"
        "print('result', t.result())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "result 1\n"), out.stderr
    assert "ZeroDivisionError" in out.stderr


def test_an_error_read_from_a_task_does_not_keep_the_work_s_buffers_alive():
    """concurrent.futures breaks the cycle error -> traceback -> result() -> task -> error,
    so a failed write's 8 MiB view is freed with the task, not at the next collection."""

    class Buffer:
        pass

    def write(view):
        raise OSError(5, "Input/output error")

    gc.disable()
    try:
        buf = Buffer()
        alive = weakref.ref(buf)
        task = readback.spawn(write, buf)
        del buf
        with pytest.raises(OSError):
            task.result(timeout=10)
        del task
        assert alive() is None
    finally:
        gc.enable()


def test_wait_without_a_timeout_waits_for_all():
    tasks = [readback.spawn(time.sleep, 0.01) for _ in range(2)]
    assert wait(tasks) == (set(tasks), set())


def _until_idle(daemons) -> None:
    """Until a daemon thread has gone back to wait for work (at most 5 s)."""
    deadline = time.monotonic() + 5
    while daemons.idle == 0 and time.monotonic() < deadline:
        time.sleep(0.001)


def test_the_read_back_threads_wait_for_work_are_reused_and_never_make_a_task_wait_for_a_thread():
    """A daemon that is idle takes the next task (no new thread per chunk); a task that
    waits for another one's result gets a thread of its own (never a deadlock); every
    task submitted is run once, in order for one thread."""
    daemons = readback._Daemons()

    def names() -> set:
        return {t.ident for t in threading.enumerate() if t.name == "stager-card"}

    before = names()
    order = []
    for i in range(20):
        assert daemons.submit(order.append, i).result(timeout=10) is None
        _until_idle(daemons)
    assert order == list(range(20))
    assert len(names() - before) == 1  # one thread did all twenty
    inner_started = threading.Event()

    def outer():
        inner = daemons.submit(lambda: inner_started.wait(10) and "inner done")
        inner_started.set()
        return inner.result(timeout=10)

    assert daemons.submit(outer).result(timeout=10) == "inner done"
    ran = [daemons.submit(lambda k=k: k * k) for k in range(50)]
    assert [t.result(timeout=10) for t in ran] == [k * k for k in range(50)]


def test_a_stop_landing_as_a_task_is_queued_never_leaves_the_next_task_unrun():
    """Ctrl-C raises KeyboardInterrupt in the main thread, which queues the card tasks
    itself: arriving just after a task is stored, it must not leave that task stored but
    uncounted, or the task queued next (the stop's own cleanup of what was written) waits
    for a thread that never takes it. Putting a task is one call of the C queue."""
    import signal

    daemons = readback._Daemons()
    daemons.submit(int).result(timeout=10)
    _until_idle(daemons)
    real_put, ran = getattr(daemons.tasks, "put", None) or daemons.tasks.append, []

    class Interrupted:
        def __init__(self):
            self.once = True

        def put(self, item):  # however the daemons store a task, the stop comes right after
            real_put(item)
            if self.once:
                self.once = False
                signal.raise_signal(signal.SIGINT)  # the handler runs at the next bytecode

        append = put

        def __getattr__(self, name):
            return getattr(daemons_queue, name)

    daemons_queue = daemons.tasks
    daemons.tasks = Interrupted()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            daemons.submit(ran.append, "write")
            time.sleep(1)  # the interrupt lands here at the latest
    finally:
        signal.signal(signal.SIGINT, previous)
    assert daemons.submit(ran.append, "cleanup").result(timeout=5) is None
    assert "cleanup" in ran
