"""A firmware file's own structure: real archives cut short with head -c, a bad gzip CRC,
tar members that climb out, Intel HEX written by the intelhex package and then broken."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import tarfile

import pytest
from intelhex import IntelHex

from stager.catalog.structure import check_structure

TAR = shutil.which("tar")
HEAD = shutil.which("head")


@pytest.fixture
def targz(tmp_path):
    """A real .tar.gz made by the tar tool, big enough to cut at several places."""
    src = tmp_path / "src"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / "kit.img").write_bytes(os.urandom(200_000))
    (src / "manifest.txt").write_text("kit 318\n")
    out = tmp_path / "PULSE22_OCPP318_KIP313A_FR.tar.gz"
    if TAR:
        subprocess.run([TAR, "czf", out, "-C", src, "."], check=True)
    else:  # pragma: no cover - tar is part of every Linux and macOS
        with tarfile.open(out, "w:gz") as t:
            t.add(src, arcname=".")
    return out


def _cut(src, dest, size):
    with open(dest, "wb") as f:
        subprocess.run([HEAD, "-c", str(size), src], stdout=f, check=True)
    return dest


def test_a_whole_archive_is_sound(targz):
    assert check_structure(targz) is None


@pytest.mark.skipif(HEAD is None, reason="no head tool")
@pytest.mark.parametrize("keep", [0.25, 0.5, 0.9, -4, -1])
def test_a_truncated_archive_is_refused_with_the_offset(targz, tmp_path, keep):
    size = targz.stat().st_size
    n = int(size * keep) if keep > 0 else size + keep
    cut = _cut(targz, tmp_path / "cut.tar.gz", n)
    p = check_structure(cut)
    assert p is not None
    assert "cut short" in p.what or "trailer" in p.what, p
    assert p.where.startswith(("byte", "within bytes"))


def test_a_bad_gzip_crc_or_length_is_refused(targz, tmp_path):
    for offset, what in ((-8, "crc"), (-2, "length")):
        raw = bytearray(targz.read_bytes())
        raw[offset] ^= 0xFF
        bad = tmp_path / f"{what}.tar.gz"
        bad.write_bytes(bytes(raw))
        p = check_structure(bad)
        assert p is not None and "CRC-32 or length" in p.what, (what, p)
        assert "gzip" in p.what


def test_bytes_after_the_stream_or_a_second_stream_are_refused(targz, tmp_path):
    for name, extra in (("junk", b"junk"), ("two", gzip.compress(b"second"))):
        bad = tmp_path / f"{name}.tar.gz"
        bad.write_bytes(targz.read_bytes() + extra)
        p = check_structure(bad)
        assert p is not None and "after the end of the gzip stream" in p.what
        assert p.where == f"byte {targz.stat().st_size}"


def _archive(tmp_path, members) -> os.PathLike:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info in members:
            data = b"x" * info.size
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    path = tmp_path / "a.tar.gz"
    path.write_bytes(gzip.compress(raw.getvalue()))
    return path


def _member(name, kind=tarfile.REGTYPE, link="", size=3):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, size if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    "member,words",
    [
        (_member("../etc/passwd"), "climbs out"),
        (_member("bin/../../x"), "climbs out"),
        (_member("/etc/passwd"), "absolute path"),
        (_member("bin/up", tarfile.SYMTYPE, "../../outside"), "points outside"),
        (_member("bin/abs", tarfile.SYMTYPE, "/etc/shadow"), "points outside"),
        (_member("dev/sda", tarfile.BLKTYPE), "device"),
    ],
)
def test_members_must_be_plain_relative_paths(tmp_path, member, words):
    path = _archive(tmp_path, [_member("ok.txt"), member])
    p = check_structure(path)
    assert p is not None and words in p.what and member.name in p.where


def test_links_inside_the_archive_are_fine(tmp_path):
    path = _archive(tmp_path, [_member("bin/kit.img"), _member("bin/current", tarfile.SYMTYPE, "kit.img")])
    assert check_structure(path) is None


def test_a_complete_gzip_of_a_truncated_tar_is_refused(tmp_path):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = _member("big.img", size=50_000)
        tar.addfile(info, io.BytesIO(b"x" * 50_000))
    path = tmp_path / "a.tar.gz"
    path.write_bytes(gzip.compress(raw.getvalue()[:20_000]))
    p = check_structure(path)
    assert p is not None and "not a readable tar" in p.what and "big.img" in p.where


def test_gzip_of_something_else_is_not_a_tar(tmp_path):
    path = tmp_path / "a.tar.gz"
    path.write_bytes(gzip.compress(b"just some text, not a tar at all\n" * 40))
    p = check_structure(path)
    assert p is not None and "not a readable tar" in p.what


def test_not_gzip_at_all(tmp_path):
    path = tmp_path / "a.tar.gz"
    path.write_bytes(b"PK\x03\x04 a zip file")
    p = check_structure(path)
    assert p is not None and "gzip" in p.what


@pytest.mark.parametrize("name", ["KIP241A.hex", "OCPP212_KIP241A_FR.bin", "PULSE22_OCPP318_KIP313A_FR.tar.gz"])
def test_an_empty_file_is_never_firmware(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    p = check_structure(path, name)
    assert p is not None and "empty" in p.what and p.path == name


def test_other_files_are_not_checked(tmp_path):
    (tmp_path / "readme.txt").write_bytes(b"")
    assert check_structure(tmp_path / "readme.txt") is None


# --------------------------------------------------------------------------- Intel HEX
@pytest.fixture
def hexfile(tmp_path):
    """Intel HEX as the intelhex package writes it: extended linear address, data, start, EOF."""
    ih = IntelHex()
    ih.frombytes(os.urandom(300), offset=0x08000000)
    ih.start_addr = {"EIP": 0x08000101}
    path = tmp_path / "KIP241A.hex"
    ih.write_hex_file(str(path))
    return path


def _lines(path):
    return path.read_text().splitlines(keepends=True)


def test_intelhex_output_is_sound(hexfile):
    assert check_structure(hexfile) is None
    crlf = hexfile.with_name("crlf.hex")
    crlf.write_bytes(hexfile.read_bytes().replace(b"\n", b"\r\n"))
    assert check_structure(crlf) is None


def test_a_bad_record_checksum_names_its_line(hexfile):
    lines = _lines(hexfile)
    rec = lines[3]
    lines[3] = rec[:9] + ("0" if rec[9] != "0" else "1") + rec[10:]  # one data digit changed
    hexfile.write_text("".join(lines))
    p = check_structure(hexfile)
    assert p is not None and "checksum" in p.what and p.where == "line 4"


def test_a_missing_end_record(hexfile):
    hexfile.write_text("".join(_lines(hexfile)[:-1]))
    p = check_structure(hexfile)
    assert p is not None and "no end-of-file record" in p.what


def test_a_doubled_end_record(hexfile):
    lines = _lines(hexfile)
    hexfile.write_text("".join([*lines, lines[-1]]))
    p = check_structure(hexfile)
    assert p is not None and "second end-of-file record" in p.what and p.where == f"line {len(lines) + 1}"


def test_data_after_the_end_record(hexfile):
    lines = _lines(hexfile)
    hexfile.write_text("".join([*lines, lines[1]]))
    p = check_structure(hexfile)
    assert p is not None and "after the end-of-file record" in p.what


@pytest.mark.skipif(HEAD is None, reason="no head tool")
def test_a_truncated_hex_file(hexfile, tmp_path):
    cut = _cut(hexfile, tmp_path / "cut.hex", hexfile.stat().st_size // 2)
    p = check_structure(cut)
    assert p is not None and ("cut short" in p.what or "record" in p.what)


@pytest.mark.parametrize(
    "line,words",
    [
        ("garbage\n", "starts with ':'"),
        (":0G0000000000\n", "hexadecimal"),
        (":0400000001020304F1\n", "checksum"),  # announced 4 bytes, the sum is off
        (":03000000010203\n", "announces 3"),
        (":0100000601F8\n", "unknown record type"),
        (":0100000400FB\n", "type 04 record holds 2"),
    ],
)
def test_records_that_are_not_intel_hex(tmp_path, line, words):
    path = tmp_path / "KIP241A.hex"
    path.write_text(line + ":00000001FF\n")
    p = check_structure(path)
    assert p is not None and words in p.what and p.where == "line 1", p
