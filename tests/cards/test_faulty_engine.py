"""The faulty medium's fault engine on its own (no FUSE, no root): each fault does what it says."""

from __future__ import annotations

import errno
import threading

import pytest
from faulty.faults import Engine, FaultError
from faulty.medium import drop_writes, flip_byte, hang, io_error

MiB = 1024 * 1024


@pytest.fixture
def engine(tmp_path):
    def make(size=MiB, **kw) -> Engine:
        path = tmp_path / f"img{len(made)}"
        path.write_bytes(bytes(size))
        e = Engine(str(path), **kw)
        made.append(e)
        return e

    made: list[Engine] = []
    yield make
    for e in made:
        e.close()


def test_no_fault_stores_and_reads_back(engine):
    e = engine()
    assert e.write(b"abc" * 1000, 4096) == 3000
    assert e.read(4096, 3000) == b"abc" * 1000
    assert e.stats["stored_bytes"] == 3000 and e.stats["dropped_bytes"] == 0


def test_drop_after_n_bytes_keeps_the_first_n(engine):
    e = engine()
    e.set_faults([drop_writes(after=1000)])
    assert e.write(b"x" * 800, 0) == 800  # acknowledged
    assert e.write(b"y" * 800, 800) == 800  # 200 stored, 600 lost
    assert e.read(0, 1600) == b"x" * 800 + b"y" * 200 + bytes(600)
    assert e.stats["dropped_bytes"] == 600


def test_drop_after_n_bytes_of_a_range_counts_that_range_only(engine):
    e = engine()
    e.set_faults([drop_writes(after=100, start=4096, end=8192)])
    e.write(b"o" * 4096, 0)  # outside: stored, not counted
    e.write(b"i" * 150, 4046)  # 50 outside, 100 inside: all stored
    e.write(b"j" * 50, 4196)  # past the first 100 of the range: lost
    e.write(b"p" * 10, 8192)  # outside again: stored
    assert e.read(4046, 150) == b"i" * 150 and e.read(4196, 50) == bytes(50) and e.read(8192, 10) == b"p" * 10


def test_drop_a_range_and_a_matching_request(engine):
    e = engine()
    e.set_faults([drop_writes(start=10, end=20), drop_writes(match=b"NEEDLE")])
    e.write(b"a" * 30, 0)
    assert e.read(0, 30) == b"a" * 10 + bytes(10) + b"a" * 10
    e.write(b"..NEEDLE..", 100)
    assert e.read(100, 10) == bytes(10)
    e.write(b"haystack", 200)
    assert e.read(200, 8) == b"haystack"


def test_flip_at_an_offset_and_at_a_match_leaves_the_image_alone(engine):
    e = engine()
    e.write(b"hello world", 0)
    e.write(b"..MARK..", 500)
    e.set_faults([flip_byte(offset=4, mask=0x20), flip_byte(match=b"MARK", at=1)])
    assert e.read(0, 11) == b"hellO world"
    assert e.read(3, 3) == b"lO "  # the byte flips in any read over it
    assert e.read(500, 8) == b"..M@RK.."  # "A" ^ 1
    assert e.read(5, 6) == b" world"  # a read beside the offset is untouched
    e.set_faults([])
    assert e.read(0, 11) == b"hello world"


def test_eio_on_read_and_on_write_of_a_range(engine):
    e = engine()
    e.set_faults([io_error(op="read", start=4096, end=8192), io_error(op="write", start=0, end=512, times=1)])
    with pytest.raises(OSError) as err:
        e.read(4000, 200)
    assert err.value.errno == errno.EIO
    assert e.read(8192, 10) == bytes(10)
    with pytest.raises(OSError):
        e.write(b"z", 100)
    assert e.write(b"z", 100) == 1  # times=1: the second write goes through
    assert e.stats["eio"] == 2


def test_eio_after_n_bytes_written(engine):
    e = engine()
    e.set_faults([io_error(op="write", after=1024)])
    e.write(b"a" * 1024, 0)
    with pytest.raises(OSError):
        e.write(b"b", 1024)


def test_hang_until_released(engine):
    e = engine()
    e.write(b"data", 0)
    e.set_faults([hang(op="read", start=0, end=4, timeout=60)])
    out = []
    t = threading.Thread(target=lambda: out.append(e.read(0, 4)))
    t.start()
    while e.stats["hanging"] == 0:  # blocked in the engine
        t.join(0.01)
    assert out == []
    e.release()
    t.join(10)
    assert out == [b"data"] and e.stats["released"] == 1 and e.stats["hanging"] == 0
    assert e.read(0, 4) == b"data"  # release disarmed the hang


def test_hang_timeout_fails_with_eio_or_passes(engine):
    e = engine()
    e.set_faults([hang(op="write", timeout=0.05)])
    with pytest.raises(OSError) as err:
        e.write(b"q", 0)
    assert err.value.errno == errno.EIO and e.stats["timed_out"] == 1
    e.set_faults([hang(op="write", timeout=0.05, then="pass")])
    assert e.write(b"q", 0) == 1 and e.read(0, 1) == b"q"


def test_fake_capacity_wraps_around(engine):
    e = engine(size=MiB, apparent=4 * MiB, beyond="wrap")
    e.write(b"first", 0)
    e.write(b"LATER", 2 * MiB)  # lands on offset 0 of the real image
    assert e.read(0, 5) == b"LATER" and e.read(2 * MiB, 5) == b"LATER"
    e.write(b"xy", MiB - 1)  # straddles the real end: y wraps to 0
    assert e.read(0, 1) == b"y"


def test_fake_capacity_loses_what_lies_beyond(engine):
    e = engine(size=MiB, apparent=4 * MiB, beyond="drop")
    assert e.write(b"gone", 3 * MiB) == 4
    assert e.read(3 * MiB, 4) == bytes(4) and e.stats["dropped_bytes"] == 4
    assert e.read(4 * MiB - 2, 100) == bytes(2)  # the apparent end is the end


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "melt"},
        {"kind": "flip"},
        {"kind": "drop", "op": "read"},
        {"kind": "eio", "start": -1},
        {"kind": "eio", "match": "zz"},
        {"kind": "hang", "then": "later"},
        {"kind": "eio", "colour": "red"},
    ],
)
def test_bad_faults_are_refused(engine, spec):
    e = engine()
    with pytest.raises(FaultError):
        e.set_faults([spec])
