"""minisign's formats, with the minisign tool as the oracle in both directions."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from stager.catalog import signature as sig
from stager.catalog.signature import BadSignature, FormatError, PublicKey, SecretKey, Signature, text_of

MINISIGN = shutil.which("minisign") or "minisign"
needs_minisign = pytest.mark.usefixtures("minisign_required")
#: small scrypt limits for keys made in tests (minisign reads the limits from the key file)
FAST = {"opslimit": 524288, "memlimit": 16777216}


def minisign(*args, password: str | None = None) -> subprocess.CompletedProcess:
    stdin = None if password is None else f"{password}\n{password}\n"
    return subprocess.run([MINISIGN, *map(str, args)], capture_output=True, text=True, input=stdin, timeout=60)


def read(path) -> str:
    return text_of(Path(path).read_bytes())


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "SHA256SUMS"
    data.write_bytes(b"0" * 64 + b"  p22/OCPP212_KIP241A_FR.bin\n")
    return tmp_path, data


@pytest.fixture
def tool_key(tmp_path):
    """A key pair made by minisign -G -W."""
    pub, key = tmp_path / "tool.pub", tmp_path / "tool.key"
    r = minisign("-G", "-W", "-p", pub, "-s", key)
    assert r.returncode == 0, r.stderr
    return pub, key


def test_scrypt_parameters_are_libsodiums():
    # crypto_pwhash_scryptsalsa208sha256: the SENSITIVE limits (minisign -G) and INTERACTIVE ones
    assert sig.scrypt_params(sig.OPSLIMIT_SENSITIVE, sig.MEMLIMIT_SENSITIVE) == (1 << 20, 8, 1)
    assert sig.scrypt_params(524288, 16777216) == (1 << 14, 8, 1)


@needs_minisign
@pytest.mark.parametrize("legacy", [False, True], ids=["ED-prehashed", "Ed-legacy"])
def test_minisign_signature_verifies_in_stager(files, tool_key, legacy):
    _folder, data = files
    pub, key = tool_key
    r = minisign(
        "-S", *(["-l"] if legacy else []), "-s", key, "-m", data, "-t", "timestamp:1700000000\tfile:SHA256SUMS"
    )
    assert r.returncode == 0, r.stderr
    s = Signature.from_file_text(read(str(data) + ".minisig"))
    assert s.prehashed is not legacy
    k = PublicKey.from_file_text(read(pub))
    assert sig.verify(data.read_bytes(), s, [k]) == k
    assert s.trusted_comment == "timestamp:1700000000\tfile:SHA256SUMS"
    # minisign names the same key id (0.11 without leading zeros, later ones as %016X like stager)
    assert int(read(pub).splitlines()[0].split()[-1], 16) == int(k.id, 16)


@needs_minisign
@pytest.mark.parametrize("legacy", [False, True], ids=["ED-prehashed", "Ed-legacy"])
def test_stager_signature_verifies_with_minisign(files, tool_key, legacy):
    folder, data = files
    pub, key = tool_key
    secret = SecretKey.from_file_text(read(key))  # minisign's unencrypted key (zero checksum)
    s = sig.sign(data.read_bytes(), secret, "timestamp:1700000000\tfile:SHA256SUMS\tcatalog:w", prehashed=not legacy)
    (folder / "SHA256SUMS.minisig").write_text(s.file_text())
    r = minisign("-V", "-p", pub, "-m", data)
    assert r.returncode == 0, r.stderr
    assert "timestamp:1700000000\tfile:SHA256SUMS\tcatalog:w" in r.stdout


@needs_minisign
def test_encrypted_key_made_by_minisign_signs_in_stager(files, tmp_path):
    folder, data = files
    pub, key = tmp_path / "e.pub", tmp_path / "e.key"
    assert minisign("-G", "-p", pub, "-s", key, password="correct horse").returncode == 0
    assert SecretKey.is_encrypted(read(key))
    secret = SecretKey.from_file_text(read(key), b"correct horse")
    assert secret.public_key == PublicKey.from_file_text(read(pub))
    with pytest.raises(FormatError, match="password is needed"):
        SecretKey.from_file_text(read(key))
    (folder / "SHA256SUMS.minisig").write_text(sig.sign(data.read_bytes(), secret, "timestamp:1").file_text())
    assert minisign("-V", "-p", pub, "-m", data).returncode == 0


@needs_minisign
@pytest.mark.parametrize("password", [None, "pw 1"], ids=["unencrypted", "encrypted"])
def test_key_made_by_stager_signs_with_minisign(files, tmp_path, password):
    _folder, data = files
    secret = SecretKey.generate()
    key, pub = tmp_path / "s.key", tmp_path / "s.pub"
    key.write_text(secret.file_text(password.encode() if password else None, **FAST))
    pub.write_text(secret.public_key.file_text())
    r = minisign("-S", "-s", key, "-m", data, password=password)
    assert r.returncode == 0, r.stderr + r.stdout
    assert minisign("-V", "-p", pub, "-m", data).returncode == 0
    assert sig.verify(data.read_bytes(), Signature.from_file_text(read(str(data) + ".minisig")), [secret.public_key])
    # and stager reads back what it wrote
    again = SecretKey.from_file_text(read(key), password.encode() if password else None)
    assert again == secret
    if password:
        with pytest.raises(FormatError, match="wrong password"):
            SecretKey.from_file_text(read(key), b"wrong")


def _flip(text: str, line: int, index: int = 5) -> str:
    lines = text.split("\n")
    raw = bytearray(base64.b64decode(lines[line])) if line in (1, 3) else None
    if raw is not None:
        raw[-1 - index] ^= 0x01
        lines[line] = base64.b64encode(bytes(raw)).decode()
    else:
        lines[line] = lines[line][:-1] + ("X" if lines[line][-1] != "X" else "Y")
    return "\n".join(lines)


@needs_minisign
@pytest.mark.parametrize("what", ["index", "signature", "trusted comment", "global signature"])
def test_a_flipped_byte_fails_in_stager_and_in_minisign(files, tool_key, what):
    folder, data = files
    pub, key = tool_key
    assert minisign("-S", "-s", key, "-m", data).returncode == 0
    sig_path = folder / "SHA256SUMS.minisig"
    if what == "index":
        raw = bytearray(data.read_bytes())
        raw[3] ^= 0x01
        data.write_bytes(bytes(raw))
    else:
        sig_path.write_text(_flip(read(sig_path), {"signature": 1, "trusted comment": 2, "global signature": 3}[what]))
    assert minisign("-V", "-p", pub, "-m", data).returncode != 0
    with pytest.raises(BadSignature) as e:
        sig.verify(data.read_bytes(), Signature.from_file_text(read(sig_path)), [PublicKey.from_file_text(read(pub))])
    assert e.value.code == "signature-invalid"


@needs_minisign
def test_a_key_not_trusted_fails(files, tool_key, tmp_path):
    _folder, data = files
    _pub, key = tool_key
    assert minisign("-S", "-s", key, "-m", data).returncode == 0
    other = tmp_path / "other.pub"
    assert minisign("-G", "-W", "-p", other, "-s", tmp_path / "other.key").returncode == 0
    s = Signature.from_file_text(read(str(data) + ".minisig"))
    with pytest.raises(BadSignature) as e:
        sig.verify(data.read_bytes(), s, [PublicKey.from_file_text(read(other))])
    assert e.value.code == "key-untrusted" and s.key in str(e.value)
    assert minisign("-V", "-p", other, "-m", data).returncode != 0


def test_formats_refused_with_what_is_wrong():
    with pytest.raises(FormatError, match="base64"):
        PublicKey.from_line("not a key!")
    with pytest.raises(FormatError, match="bytes"):
        PublicKey.from_line(base64.b64encode(b"Ed" + bytes(10)).decode())
    with pytest.raises(FormatError, match="four lines"):
        Signature.from_file_text("untrusted comment: x\n")
    good = sig.sign(b"x", SecretKey.generate(), "timestamp:1").file_text()
    with pytest.raises(FormatError, match="line 3"):
        Signature.from_file_text(good.replace("\ntrusted comment: ", "\ncomment: "))
    with pytest.raises(FormatError, match="one line"):
        sig.sign(b"x", SecretKey.generate(), "two\nlines")


def test_public_key_line_round_trip():
    k = SecretKey.generate().public_key
    assert PublicKey.from_line(k.line()) == k
    assert PublicKey.from_file_text(k.file_text()) == k
    assert k.line().startswith("RW") and len(k.id) == 16
