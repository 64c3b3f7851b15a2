"""Faults injected at the I/O boundary; afterwards the card holds no half file, no
temporary file, and nothing else was touched."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers.staging import card, listing, make_source

from stager.card import staging
from stager.card.staging import FileOps, Target, media_error, stage


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(staging, "CHUNK", 1024 * 1024)


class FailingFile:
    """Wraps a temp file; the Nth write raises the given errno (or runs a hook)."""

    def __init__(self, f, fail_at, err=None, hook=None):
        self.f, self.fail_at, self.err, self.hook, self.writes = f, fail_at, err, hook, 0

    def write(self, data):
        self.writes += 1
        if self.writes == self.fail_at:
            if self.hook:
                self.hook()
            else:
                raise OSError(self.err, os.strerror(self.err))
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


class FaultyOps(FileOps):
    def __init__(self, only_under: Path | None = None, **kw):
        self.only_under, self.kw = only_under, kw

    def open_temp(self, pin, name):
        f = super().open_temp(pin, name)
        if name.endswith(".sha256." + name.split(".")[-2] + ".part"):
            return f
        if self.only_under is None or pin.path == self.only_under:
            return FailingFile(f, **self.kw)
        return f


def with_other_file(c: Path) -> Path:
    other = c / "keep-me.txt"
    other.write_text("the technician's notes")
    return other


@pytest.mark.parametrize("err,code", [(errno.ENOSPC, "media-full"), (errno.EIO, "media-vanished")])
def test_write_error_mid_copy(tmp_path, err, code):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    other = with_other_file(c)
    (r,) = stage([src], [Target(c)], ops=FaultyOps(fail_at=2, err=err))
    assert r.error.code == code and r.error.exit_code == 5
    assert listing(c) == ["keep-me.txt"] and other.read_text() == "the technician's notes"
    assert any(n.endswith(".part") for n in r.cleaned)


def test_medium_folder_deleted_mid_copy(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    (r,) = stage([src], [Target(c)], ops=FaultyOps(fail_at=2, hook=lambda: shutil.rmtree(c)))
    assert r.error.code == "media-vanished" and r.error.exit_code == 5
    assert not c.exists()  # nothing recreated outside what was there
    assert list(tmp_path.iterdir()) == [tmp_path / "cat"]


class FlipAfterCopy(FileOps):
    """Flips one byte of the copy just before it is read back."""

    def __init__(self):
        self.flipped = set()

    def read_back(self, pin, name, **kw):
        if ".sha256." not in name and name not in self.flipped:  # once: the card holds the flipped byte
            self.flipped.add(name)
            with open(pin.path / name, "r+b") as g:
                g.seek(1234567)
                b = g.read(1)
                g.seek(1234567)
                g.write(bytes([b[0] ^ 0x01]))
        return super().read_back(pin, name, **kw)


def test_flipped_byte_after_the_copy_is_caught_and_removed(tmp_path):
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    other = with_other_file(c)
    (r,) = stage([src], [Target(c)], ops=FlipAfterCopy())
    assert r.error.code == "verification-failed" and r.error.exit_code == 6
    assert listing(c) == ["keep-me.txt"] and other.read_text() == "the technician's notes"
    assert any(n.startswith(f".stager-{src.name}") for n in r.cleaned)  # never renamed to its firmware name
    assert r.error.details["first_difference"] == 1234567
    assert "first differing byte at offset 1,234,567" in r.error.message


def test_one_failing_target_does_not_stop_the_others(tmp_path):
    src = make_source(tmp_path / "cat")
    a, b, c = card(tmp_path, "a"), card(tmp_path, "b"), card(tmp_path, "c")
    results = stage([src], [Target(a), Target(b), Target(c)], ops=FaultyOps(only_under=b, fail_at=2, err=errno.EIO))
    assert [r.ok for r in results] == [True, False, True]
    assert listing(b) == []
    for good in (a, c):
        assert (good / src.name).read_bytes() == src.path.read_bytes()


def test_hex_failure_rolls_back_the_bundle_on_that_card(tmp_path):
    bundle = make_source(tmp_path / "cat")
    hexfile = make_source(tmp_path / "cat", "KIP313A_FR.hex", 3 * 1024 * 1024)

    class FailHex(FileOps):
        def open_temp(self, pin, name):
            f = super().open_temp(pin, name)
            return FailingFile(f, fail_at=2, err=errno.EIO) if ".hex." in name and "sha256" not in name else f

    c = card(tmp_path)
    (r,) = stage([bundle, hexfile], [Target(c)], ops=FailHex())
    assert not r.ok and listing(c) == []


SLOW_STAGING = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from stager.card import staging
    from stager.errors import StagerError
    from stager.card.staging import FileOps, Source, Target, stage

    class Slow:
        def __init__(self, f): self.f = f
        def write(self, data):
            time.sleep(0.05)
            return self.f.write(data)
        def __getattr__(self, n): return getattr(self.f, n)

    class SlowOps(FileOps):
        def open_temp(self, pin, name):
            f = super().open_temp(pin, name)
            print("writing", flush=True)
            return Slow(f)

    staging.CHUNK = 64 * 1024
    src, sha, size, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    try:
        stage([Source(Path(src), Path(src).name, sha, size)], [Target(Path(target))], ops=SlowOps())
    except StagerError as e:
        print(e.code, flush=True)
        sys.exit(e.exit_code)
    sys.exit(0)
""")


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigint_mid_copy_leaves_nothing(tmp_path):
    src = make_source(tmp_path / "cat", size=8 * 1024 * 1024)
    c = card(tmp_path)
    other = with_other_file(c)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_STAGING, str(src.path), src.sha256, str(src.size), str(c)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "writing"
    time.sleep(0.3)
    assert any(n.endswith(".part") for n in listing(c))  # really mid-copy
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in out
    assert listing(c) == ["keep-me.txt"] and other.read_text() == "the technician's notes"


SIGINT_AFTER_SUCCESS = textwrap.dedent("""
    import importlib, os, signal, sys
    from stager.cli import main

    module = importlib.import_module(sys.argv[1])
    real = getattr(module, sys.argv[2])
    def ctrl_c_then(*args, **kw):  # a Ctrl-C once the card was staged and verified
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kw)
    setattr(module, sys.argv[2], ctrl_c_then)
    sys.argv = ["stager"] + sys.argv[3:]
    main()
""")


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("module,function", [("stager.card.history", "record"), ("stager.card.prepare", "exit_code")])
def test_ctrl_c_once_the_card_is_verified_does_not_contradict_the_result(tmp_path, module, function):
    from stager.catalog.demo import build_demo_catalog

    cat = build_demo_catalog(tmp_path / "catalog")
    c = card(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SIGINT_AFTER_SUCCESS,
            module,
            function,
            "prepare",
            "-m",
            "wbac",
            "-k",
            "318",
            "--catalog",
            str(cat),
            "--target",
            str(c),
            "--allow-fixed",
            "--yes",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "STAGER_HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc
    assert json.loads(proc.stdout)["ok"] is True


@pytest.mark.parametrize("err,failed", [(errno.ENOSPC, False), (errno.EIO, True)])
def test_a_card_that_failed_never_confirms_its_cleanup(tmp_path, err, failed):
    """After an I/O error of the card itself, its flushes prove nothing: what the file
    system removed is reported as maybe still on the card (acceptance of issue 12: a
    failing FAT card kept the .part its file system said was gone). A full card is
    sound: its removal is confirmed."""
    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    (r,) = stage([src], [Target(c)], ops=FaultyOps(fail_at=2, err=err))
    parts = [n for n in r.cleaned if n.endswith(".part")]
    assert parts
    assert r.unconfirmed == (parts if failed else [])
    assert r.extra_json()["removal_unconfirmed"] == r.unconfirmed


def test_no_such_file_from_a_failing_card_is_no_proof_of_removal(tmp_path):
    """fusefat on a failing medium answers ENOENT when the run removes its own .part: after
    an I/O failure of the card that is listed as maybe still there, never as gone."""

    class SaysGone(FaultyOps):
        def remove(self, pin, name):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", name)

    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    (r,) = stage([src], [Target(c)], ops=SaysGone(fail_at=2, err=errno.EIO))
    assert r.error.code == "media-vanished"
    assert [n for n in r.unconfirmed if n.endswith(".part")], r.unconfirmed


def test_a_read_the_card_refuses_is_a_failing_card_never_a_full_one(tmp_path):
    """fusefat answers EPERM to a read error of its medium (issue-12 acceptance): the
    read-back's failure says the card failed a read, not that it may be full."""

    class RefusesReads(FileOps):
        def read_back(self, pin, name, **kw):
            raise PermissionError(errno.EPERM, "Operation not permitted", name)

    src = make_source(tmp_path / "cat")
    c = card(tmp_path)
    (r,) = stage([src], [Target(c)], ops=RefusesReads())
    assert r.error.code == "io-error", r.error
    assert "refused to be read" in r.error.message and "full" not in r.error.message
    assert "full" in media_error(PermissionError(errno.EPERM, "x"), c, "writing X").message  # a write: may be full
