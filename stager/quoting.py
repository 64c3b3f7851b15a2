"""Arguments quoted so a suggested command can be pasted as it is printed (base layer).

POSIX shells: :func:`shlex.quote`. Windows (cmd and PowerShell): double quotes when the
argument holds a space or a character either shell treats specially, with the
backslash rules of ``CommandLineToArgvW`` (backslashes before a quote, and at the end,
doubled), so ``E:\\`` stays ``E:\\`` and ``C:\\Pulse cards\\`` becomes ``"C:\\Pulse cards\\\\"``.
"""

from __future__ import annotations

import os

WINDOWS_SPECIAL = set(" \t&()[]{}^=;!'+,`~$@#%|<>\"")


def quote_windows(arg: str) -> str:
    if arg and not any(c in WINDOWS_SPECIAL for c in arg):
        return arg
    out, slashes = ['"'], 0
    for c in arg:
        if c == "\\":
            slashes += 1
            continue
        if c == '"':
            out.append("\\" * (slashes * 2 + 1) + '"')
        else:
            out.append("\\" * slashes + c)
        slashes = 0
    out.append("\\" * (slashes * 2) + '"')
    return "".join(out)


def quote_arg(arg, system: str | None = None) -> str:
    """``arg`` (a path or any argument) quoted for this system's shell, or ``system``'s
    ("windows" or "posix")."""
    system = system or ("windows" if os.name == "nt" else "posix")
    text = str(arg)
    if system == "windows":
        return quote_windows(text)
    import shlex  # only when a command is suggested

    return shlex.quote(text)


def command(*args, system: str | None = None) -> str:
    """A command line to paste: ``command("stager", "verify", "--target", path)``."""
    return " ".join(quote_arg(a, system) for a in args)
