"""What the real-card proof tests share (tests/cards/test_proof.py and the tests built on
it): one p22/212 firmware file in a catalog, and prepare run on it."""

from __future__ import annotations

import hashlib
import os
import select
import subprocess
import time

from stager.catalog.index import INDEX_NAME, format_index_line

NAME = "OCPP212_KIP241A_FR.bin"
MiB = 1024 * 1024


def make_catalog(cat, size):
    cat.mkdir()
    data = os.urandom(size)
    (cat / NAME).write_bytes(data)
    (cat / INDEX_NAME).write_bytes(format_index_line(hashlib.sha256(data).hexdigest(), NAME))
    return cat, data


ARGS = ["prepare", "-m", "p22", "-k", "212", "--lang", "FR", "--json", "--allow-any-fs"]  # ext4 cards too


def prepare(run_stager, catalog, *extra):
    return run_stager(*ARGS, "--catalog", catalog, "--yes", *extra)


def start(stager_exe, tmp_path, catalog, *extra, **kw):
    env = {**os.environ, "STAGER_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    cmd = [stager_exe, *ARGS, "--catalog", str(catalog), *map(str, extra)]
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def read_until(stream, text: str, seconds: float) -> str:
    """What the process wrote on ``stream`` until ``text`` appeared (or the time is up)."""
    seen = ""
    deadline = time.monotonic() + seconds
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.2)
        if ready:
            chunk = os.read(stream.fileno(), 65536).decode(errors="replace")
            if not chunk:
                break
            seen += chunk
    return seen
