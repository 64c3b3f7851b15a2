"""Catalog folders for the site and plan tests (tests/plan/, tests/cli/)."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from stager.catalog.index import INDEX_NAME, format_index_line


def tar_gz(text: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        data = text.encode()
        info = tarfile.TarInfo("firmware.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def write_catalog(root: Path, names: list[str]) -> dict:
    """A real catalog folder: each file in <root>/fw/, indexed in SHA256SUMS. -> {name: (bytes, sha256)}"""
    (root / "fw").mkdir(parents=True)
    lines, out = [], {}
    for name in names:
        data = tar_gz(f"test firmware {name}") if name.endswith(".tar.gz") else f"test {name}\n".encode()
        (root / "fw" / name).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        lines.append(format_index_line(digest, f"fw/{name}"))
        out[name] = (len(data), digest)
    (root / INDEX_NAME).write_bytes(b"".join(lines))
    return out
