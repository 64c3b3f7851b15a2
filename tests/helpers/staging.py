"""Sources and card folders for the staging engine's tests (tests/card/)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from stager.card.staging import Source


def make_source(folder: Path, name="PULSE22_OCPP318_KIP313A_FR.tar.gz", size=3 * 1024 * 1024 + 17) -> Source:
    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    (folder / name).write_bytes(data)
    return Source(path=folder / name, name=name, sha256=hashlib.sha256(data).hexdigest(), size=size)


def card(tmp_path, name="card") -> Path:
    p = tmp_path / name
    p.mkdir()
    return p


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
