"""Real catalog folders for the catalog's tests (tests/catalog/, tests/cli/): files well
formed for their kind, indexed in SHA256SUMS, and GNU sha256sum as the outside judge."""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from intelhex import IntelHex

from stager.catalog.index import INDEX_NAME, format_index_line

SHA256SUM = shutil.which("sha256sum")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_catalog(root: Path, files: dict, indexed=None, extra: bytes = b"") -> Path:
    """Write ``files`` {relpath: content}; index ``indexed`` (default: all) with real
    checksums, then append ``extra`` raw index bytes."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        p = root.joinpath(*rel.split("/"))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    names = list(files) if indexed is None else indexed
    body = b"".join(format_index_line(sha(root.joinpath(*r.split("/")).read_bytes()), r) for r in names)
    (root / INDEX_NAME).write_bytes(body + extra)
    return root


def content(name: str) -> bytes:
    """Distinct bytes for each name, well formed for its kind (a real .tar.gz, valid Intel
    HEX) since the catalog checks each file's structure before it indexes it."""
    text = f"firmware bytes of {name}\n".encode()
    low = name.lower()
    if low.endswith(".tar.gz"):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            info = tarfile.TarInfo("manifest.txt")
            info.size, info.mtime = len(text), 1704067200
            tar.addfile(info, io.BytesIO(text))
        return gzip.compress(raw.getvalue(), mtime=0)
    if low.endswith(".hex"):
        hexfile = IntelHex()
        hexfile.frombytes(text, offset=0x08000000)
        out = io.StringIO()
        hexfile.write_hex_file(out)
        return out.getvalue().encode("ascii")
    return text


def files_of(*relpaths: str) -> dict:
    return {r: content(r) for r in relpaths}


def sha256sum_accepts(folder: Path) -> subprocess.CompletedProcess:
    assert SHA256SUM, "sha256sum (GNU coreutils) is needed for this test"
    return subprocess.run([SHA256SUM, "--strict", "-c", INDEX_NAME], cwd=folder, capture_output=True, text=True)
