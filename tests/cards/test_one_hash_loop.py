"""One hashing loop (issue 12): the copy onto the cards and the read-back hash through
stager.fileio.hash_chunks, as the catalog does (hash_stream / hash_file); the card layer
never hashes file contents on its own."""

from __future__ import annotations

import ast
import hashlib
import io
from pathlib import Path

import stager
from stager import fileio

CARD = Path(stager.__file__).parent / "card"


def _imports(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_the_card_layer_has_no_hash_loop_of_its_own():
    for path in sorted(CARD.glob("*.py")):
        assert "hashlib" not in _imports(ast.parse(path.read_text())), f"{path.name} hashes on its own"
    for name in ("staging.py", "readback.py"):
        assert "stager.fileio.hash_chunks" in _imports(ast.parse((CARD / name).read_text())), name


def test_hash_chunks_feeds_every_chunk_and_counts():
    data = bytes(range(256)) * 1000
    f = io.BytesIO(data)
    buf = bytearray(4096)
    view = memoryview(buf)
    seen: list[int] = []
    sha, total = fileio.hash_chunks(lambda: view[: f.readinto(buf)], feed=(lambda c: seen.append(len(c)),))
    assert sha == hashlib.sha256(data).hexdigest() and total == len(data) == sum(seen)
    assert fileio.hash_stream(io.BytesIO(data), bytearray(1000)) == sha
