"""One error tree for everything a user can cause or meet.

Every error the library raises on purpose is a :class:`StagerError` with a stable
``code`` (the JSON codes of the command-line contract) and an ``exit_code``. The CLI
turns any of them into one clear message and that exit code, in one place
(``stager.cli.run``). Anything else that escapes is a bug (exit 1).

Parse errors of user values are :class:`BadInput` (a ``ValueError`` too), exit 2.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The exit codes of the command-line contract (docs/cli.md), in one place."""

    OK = 0
    BUG = 1
    BAD_INPUT = 2
    REFUSED = 3
    CATALOG = 4
    MEDIA = 5
    VERIFY = 6
    #: stopped by a signal: 128 + its number (as a shell reports a process a signal ended)
    HANGUP = 129  # SIGHUP (1)
    INTERRUPTED = 130  # SIGINT (2): Ctrl-C
    TERMINATED = 143  # SIGTERM (15)
    BREAK = 149  # SIGBREAK (21): Ctrl-Break on Windows


#: The first exit code of a stop by a signal (128 + the signal's number).
SIGNAL_BASE = 128


def signal_exit(signum: int | None) -> int:
    """The exit code of a run stopped by signal ``signum`` (None: Ctrl-C): 128 + its number,
    as an :class:`ExitCode` member where the contract names it."""
    code = SIGNAL_BASE + int(signum if signum is not None else 2)
    try:
        return ExitCode(code)
    except ValueError:
        return code


def stopped_by_signal(code: int) -> bool:
    """True for the exit code of a run stopped by a signal (:func:`signal_exit`)."""
    return code > SIGNAL_BASE


class StagerError(Exception):
    """Base of every expected error: a stable code, an exit code and a message."""

    exit_code: int = ExitCode.BUG
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        #: extra JSON-serialisable facts for ``--json`` output (lists of files...)
        self.details = details

    def to_json(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out


class BadInput(StagerError, ValueError):
    """A value typed by the user (or read from a user file) is not valid. Exit 2."""

    exit_code: int = ExitCode.BAD_INPUT
    code = "bad-input"


class DataError(StagerError):
    """A rules or patterns file shipped in ``stager/rules/`` is damaged (file and line named).

    This is not the user's fault on the command line but it is not a crash either:
    the message names the file and line so the data can be mended. Exit 2.
    """

    exit_code: int = ExitCode.BAD_INPUT
    code = "bad-rules-data"


class Refused(StagerError):
    """The manufacturer's rules forbid this. Exit 3."""

    exit_code: int = ExitCode.REFUSED
    code = "refused"

    def __init__(self, message: str, *, decision=None, code: str | None = None, details=None):
        super().__init__(message, code=code, details=details)
        self.decision = decision


class CatalogError(StagerError):
    """No matching file, several, not indexed, content does not match its index. Exit 4."""

    exit_code: int = ExitCode.CATALOG
    code = "catalog"


class MediaError(StagerError):
    """No medium, several, not removable, read-only, too small, holding other
    firmware, removed during the copy. Exit 5."""

    exit_code: int = ExitCode.MEDIA
    code = "media"


class VerifyError(StagerError):
    """What was read back from the medium is not the catalog's file. Exit 6."""

    exit_code: int = ExitCode.VERIFY
    code = "verification-failed"


class Interrupted(StagerError):
    """Ctrl-C: nothing half-written is left under a firmware name. Exit 130."""

    exit_code: int = ExitCode.INTERRUPTED
    code = "interrupted"
