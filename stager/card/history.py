"""Traceability: one JSON line per staging in the user's data folder.

The folder is ``$STAGER_HOME`` if set, else the platform's user data folder
(:func:`stager.catalog.settings.history_dir`: the platform's conventions). A history that cannot be
written gives a warning; it never fails a staging, whatever the path the system gave (a
folder name that is not UTF-8 is kept as JSON escapes of its lone surrogates; a very long
one as it is).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
from pathlib import Path

from stager.errors import BadInput
from stager.fileio import NotRegularFile, kind_of, os_error_text, read_regular
from stager.i18n import _

FILE = "history.jsonl"
#: A history larger than this is not read whole (a line a staging: years of work).
MAX_BYTES = 64 * 1024 * 1024


def data_home(environ=None, platform: str | None = None) -> Path:
    """$STAGER_HOME, else the platform's user data folder (:func:`stager.catalog.settings.platform_dirs`)."""
    from stager.catalog.settings import history_dir

    return history_dir(environ, platform)


def history_file(environ=None) -> Path:
    return data_home(environ) / FILE


def record(decision, target, sources, result, *, path: Path | None = None, warn=None) -> bool:
    """Append one line per staged file (or one for a failure). True when written."""
    try:
        path = path or history_file()
        lines = _lines(decision, target, sources, result)
        return _append(path, lines, warn)
    except (OSError, ValueError, UnicodeError, TypeError) as e:  # never turns a staging into a failure
        (warn or _stderr)(
            _("Warning: the staging history could not be written ({error}); the card is fine.").format(error=e)
        )
        return False


def _stderr(text: str) -> None:
    try:
        print(text, file=sys.stderr)
    except (OSError, UnicodeError):
        pass


def _lines(decision, target, sources, result) -> list[str]:
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")  # local time, with its offset
    q = decision.query
    base = {
        "time": when,
        "target": str(target.path),
        "device": target.device,
        "label": target.label,
        "uuid": getattr(target, "uuid", None),
        "size_bytes": getattr(target, "size_bytes", None),
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
    methods = getattr(result, "read_back", {}) or {}
    lines = []
    for s in sources:
        entry = dict(
            base,
            file=s.name,
            role=s.role,
            sha256=s.sha256,
            bytes=s.size,
            already_staged=s.name in result.already,
            read_back=methods.get(s.name),
        )
        lines.append(json.dumps(entry, ensure_ascii=False) + "\n")
    return lines


def _append(path: Path, lines: list[str], warn) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_NONBLOCK: a FIFO there cannot block the run (no reader: ENXIO); then only a regular file is written.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o644)
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise NotRegularFile(path, kind_of(mode))
            os.write(fd, "".join(lines).encode("utf-8", errors="backslashreplace"))
        finally:
            os.close(fd)
        return True
    except OSError as e:
        reason = os_error_text(e)
        text = _("Warning: the staging history could not be written to {path} ({reason}); the card is fine.")
        (warn or _stderr)(text.format(path=path, reason=reason))
        return False


def read(path: Path | None = None, limit: int | None = 20, warn=None) -> list[dict]:
    """The most recent entries, oldest first; damaged lines are skipped with a warning."""
    path = path or history_file()
    try:
        raw = read_regular(path, MAX_BYTES).decode("utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise BadInput(
            _(
                "the stager data folder {folder} is not a folder: set STAGER_HOME to a folder "
                "(or unset it), or move that file away."
            ).format(folder=path.parent),
            code="history-unreadable",
        ) from None
    except OSError as e:
        raise BadInput(
            _(
                "the staging history {path} cannot be read: {problem} "
                "Set STAGER_HOME to another folder, or move it away."
            ).format(path=path, problem=os_error_text(e, "")),
            code="history-unreadable",
        ) from None
    out = []
    for num, line in enumerate(raw, 1):
        if not line.strip():
            continue
        entry = _entry(line)
        if entry is None:
            if warn:
                warn(_("Warning: {path} line {line} is damaged and was skipped.").format(path=path, line=num))
            continue
        out.append(_with_identity(entry))
    return out[-limit:] if limit else out


def _with_identity(entry: dict) -> dict:
    """The entry with the card's identity in the reader's language, made from the parts the
    file records (uuid, label, size_bytes): the file holds no sentence of any language (an
    older file's "identity", written in the language of its run, is replaced)."""
    if any(key in entry for key in ("uuid", "label", "size_bytes")):
        from stager.card.targets import medium_identity

        size = entry.get("size_bytes")
        label = entry.get("label")
        uuid = entry.get("uuid")
        entry["identity"] = medium_identity(
            uuid if isinstance(uuid, str) else None,
            label if isinstance(label, str) else None,
            size if isinstance(size, int) and not isinstance(size, bool) else None,
        )
    return entry


#: The keys of an entry and the types they may have (None: the key may be missing or null).
_SHAPE = {"time": str, "target": str, "file": str, "result": str, "sha256": str, "decision": dict}


def _entry(line: str) -> dict | None:
    """One history line as an entry, or None when it is not one: not JSON, nested too
    deep, not an object, or a known key of the wrong type (a null counts as missing)."""
    if len(line) > 1 << 20:
        return None
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict):
        return None
    for key, kind in _SHAPE.items():
        if entry.get(key) is not None and not isinstance(entry[key], kind):
            return None
    return {k: v for k, v in entry.items() if v is not None}
