"""The card's lock when its content is missing: a lock this run cannot write is removed
again, and an empty (or unreadable) lock is stale once older than EMPTY_STALE_SECONDS."""

from __future__ import annotations

import errno
import os

import pytest

from stager.card import lock
from stager.card.pin import pin_card
from stager.errors import MediaError


@pytest.fixture
def pin(tmp_path):
    p = pin_card(tmp_path)
    yield p
    p.close()


def _aged(path, seconds: float) -> None:
    old = os.stat(path).st_mtime - seconds
    os.utime(path, (old, old))


def test_a_lock_whose_content_cannot_be_written_is_removed(tmp_path, pin, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(lock.os, "write", full)
    with pytest.raises(OSError):
        lock.take(pin)
    monkeypatch.undo()
    assert not (tmp_path / lock.LOCK_NAME).exists()
    lock.take(pin).release()


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00", b"[1, 2]", b"{}"])
def test_an_old_empty_or_unreadable_lock_is_replaced_and_said_so(tmp_path, pin, content):
    path = tmp_path / lock.LOCK_NAME
    path.write_bytes(content)
    _aged(path, lock.EMPTY_STALE_SECONDS + 5)
    held = lock.take(pin)
    assert "empty lock file" in held.message() and "replaced" in held.message()
    assert '"pid"' in path.read_text()
    assert held.release() and not path.exists()


def test_a_young_empty_lock_refuses_the_run_and_says_how_to_remove_it(tmp_path, pin):
    path = tmp_path / lock.LOCK_NAME
    path.write_bytes(b"")
    with pytest.raises(MediaError) as e:
        lock.take(pin)
    assert e.value.code == "card-busy"
    assert "empty lock file" in e.value.message and f"delete {path}" in e.value.message
    assert "process ?" not in e.value.message
    assert path.exists()
