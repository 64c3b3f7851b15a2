"""Traceability: one JSON line per staging in the user's data folder.

The folder is ``$STAGER_HOME`` if set, else the platform's user data folder
(:func:`stager.catalog.settings.data_dir`, through platformdirs). A history that cannot be written gives
a warning; it never fails a staging.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

FILE = "history.jsonl"


def data_home(environ=None, platform: str | None = None) -> Path:
    """$STAGER_HOME, else the platform's user data folder (through platformdirs)."""
    from stager.catalog.settings import data_dir

    return data_dir(environ, platform)


def history_file(environ=None) -> Path:
    return data_home(environ) / FILE


def record(decision, target, sources, result, *, path: Path | None = None, warn=None) -> bool:
    """Append one line per staged file (or one for a failure). True when written."""
    path = path or history_file()
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    q = decision.query
    base = {
        "time": when,
        "target": str(target.path),
        "device": target.device,
        "label": target.label,
        "decision": {
            "model": q.model,
            "kit": q.kit,
            "terminal": decision.terminal,
            "allowed": decision.allowed,
            "warnings": [w.code for w in decision.warnings],
            "conditions": [c.code for c in decision.conditions],
        },
        "result": "ok" if result.ok else (result.error.code if result.error else "failed"),
    }
    lines = []
    for s in sources:
        entry = dict(
            base, file=s.name, role=s.role, sha256=s.sha256, bytes=s.bytes, already_staged=s.name in result.already
        )
        lines.append(json.dumps(entry, ensure_ascii=False) + "\n")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, "".join(lines).encode("utf-8"))
        finally:
            os.close(fd)
        return True
    except OSError as e:
        (warn or (lambda text: print(text, file=sys.stderr)))(
            f"Warning: the staging history could not be written to {path} ({e.strerror}); the card is fine."
        )
        return False


def read(path: Path | None = None, limit: int | None = 20, warn=None) -> list[dict]:
    """The most recent entries, oldest first; damaged lines are skipped with a warning."""
    path = path or history_file()
    try:
        raw = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for num, line in enumerate(raw, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError
            out.append(entry)
        except ValueError:
            if warn:
                warn(f"Warning: {path} line {num} is damaged and was skipped.")
    return out[-limit:] if limit else out
