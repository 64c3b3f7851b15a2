"""Record and replay what a system's media probes said (docs/media-record.md).

Every probe (``_linux``, ``_windows``, ``_macos``) reads its system only through one
*calls* object: a small set of named methods, each taking no argument or one string
(a drive, a mount point, a device name). :class:`Recorder` wraps the real calls and
keeps every answer; :class:`Replayer` answers from such a record on any system. The
probe's code is the same in all three cases: only the calls change.

A failed call is recorded as ``{"error": CODE}`` (the Win32 error, or errno) and
replayed as :class:`CallFailed` with that code; bytes are recorded as ``{"hex": ...}``.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from stager.errors import BadInput
from stager.fileio import os_reason, read_regular
from stager.i18n import _

FORMAT = "stager-media-record"
VERSION = 1
NOT_RECORDED = -1
SYSTEMS = ("linux", "windows", "macos")
#: the calls a record of each system must hold (the others may be missing: a failed probe)
REQUIRED = {"linux": ("partitions",), "windows": ("partitions", "system_drive"), "macos": ("partitions",)}


class CallFailed(OSError):
    """A system call that failed, with its error code (Win32 error or errno)."""

    def __init__(self, code: int, what: str = ""):
        # TRANSLATORS: {call} is the system call (or its name and argument), "CreateFileW E:\".
        text = _("{call} failed with error {code}") if what else _("a system call failed with error {code}")
        super().__init__(code, text.format(call=what, code=code))
        self.code = code


def error_code(e: OSError) -> int:
    code = getattr(e, "code", None)
    if isinstance(code, int):
        return code
    return e.errno if isinstance(e.errno, int) else NOT_RECORDED


def encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"hex": bytes(value).hex()}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    return value


def decode(value: Any, what: str) -> Any:
    if isinstance(value, dict) and set(value) == {"hex"}:
        return bytes.fromhex(value["hex"])
    if isinstance(value, dict) and set(value) == {"error"}:
        raise CallFailed(int(value["error"]), what)
    return value


class Recorder:
    """Wraps real calls; ``calls`` holds every answer in the record's form."""

    def __init__(self, real):
        self._real = real
        self.calls: dict[str, Any] = {}

    def __getattr__(self, name: str):
        method = getattr(self._real, name)

        def recorded(*args):
            try:
                value = method(*args)
                stored = encode(value)
            except OSError as e:
                value, stored = e, {"error": error_code(e)}
            if args:
                self.calls.setdefault(name, {})[str(args[0])] = stored
            else:
                self.calls[name] = stored
            if isinstance(value, OSError):
                raise value
            return value

        return recorded


def _key_in(answers, key: str) -> str | None:
    """The record's key for an argument: as asked, else spelled another way a person
    writing a record may have used (``E:`` for ``E:\\``, another case)."""
    if not isinstance(answers, dict):
        return None
    if key in answers:
        return key

    def norm(k: str) -> str:
        return k.rstrip("\\/").lower() or k

    wanted = norm(key)
    return next((k for k in answers if norm(k) == wanted), None)


class Replayer:
    """Answers a probe's calls from a record (``calls`` of docs/media-record.md)."""

    def __init__(self, calls: dict):
        self._calls = calls

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def replayed(*args):
            if name not in self._calls:
                raise CallFailed(NOT_RECORDED, name)
            value = self._calls[name]
            if args:
                key = _key_in(value, str(args[0]))
                if key is None:
                    raise CallFailed(NOT_RECORDED, f"{name}({args[0]})")
                value = value[key]
            return decode(value, name)

        return replayed


def document(system: str, calls: dict, source: str | None = None) -> dict:
    from stager import __version__

    return {
        "format": FORMAT,
        "version": VERSION,
        "system": system,
        "recorded_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "stager_version": __version__,
        "source": source or "stager media --record",
        "calls": calls,
    }


def write(path, system: str, calls: dict) -> None:
    try:
        Path(path).write_text(json.dumps(document(system, calls), indent=1, ensure_ascii=False) + "\n", "utf-8")
    except OSError as e:
        raise BadInput(
            _("Could not write the record {path}: {error}. Name a file in a folder you can write.").format(
                path=path, error=os_reason(e)
            ),
            code="bad-record",
        ) from None


def load(path) -> tuple[str, dict]:
    """(system, calls) of a record file; BadInput (exit 2) when it is not one."""
    try:
        doc = json.loads(read_regular(path, 64 << 20).decode("utf-8"))
    except OSError as e:
        raise BadInput(
            _("Could not read the record {path}: {error}.").format(path=path, error=os_reason(e)), code="bad-record"
        ) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(
            _("{path} is not a stager media record (not JSON: {error}).").format(path=path, error=e), code="bad-record"
        ) from None
    return check(doc, str(path))


def check(doc, name: str) -> tuple[str, dict]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BadInput(
            _('{name} is not a stager media record (its "format" is not {format}).').format(
                name=name, format=repr(FORMAT)
            ),
            code="bad-record",
        )
    if doc.get("version") != VERSION:
        raise BadInput(
            _("{name} is a media record of version {version}; this stager reads version {known}.").format(
                name=name, version=repr(doc.get("version")), known=VERSION
            ),
            code="bad-record",
        )
    system, calls = doc.get("system"), doc.get("calls")
    if system not in SYSTEMS or not isinstance(calls, dict):
        raise BadInput(
            _('{name} names no system stager knows ({system}) or holds no "calls" object.').format(
                name=name, system=repr(system)
            ),
            code="bad-record",
        )
    missing = [c for c in REQUIRED[system] if c not in calls]
    if missing:
        raise BadInput(
            _("{name} lacks the calls {calls} of a {system} record.").format(
                name=name, calls=", ".join(missing), system=system
            ),
            code="bad-record",
        )
    return system, calls
