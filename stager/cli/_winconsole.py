"""Windows consoles: turn on virtual-terminal processing so ANSI colours show as colours.

Since click dropped colorama, the classic console (conhost) prints ANSI escapes raw
unless ENABLE_VIRTUAL_TERMINAL_PROCESSING is set on the output handle (Windows 10 1511
and later accept it; older consoles refuse it, and then stager prints plain text).
Windows Terminal has it on already. ``kernel32`` is the seam the tests replace.
"""

from __future__ import annotations

import ctypes
import sys

STD_OUTPUT_HANDLE = -11
STD_ERROR_HANDLE = -12
ENABLE_VIRTUAL_TERMINAL_PROCESSING = 0x0004

_answers: dict[int, bool] = {}


def _kernel32():
    k32 = getattr(ctypes, "WinDLL")("kernel32", use_last_error=True)  # noqa: B009 (Windows only)
    k32.GetStdHandle.restype = ctypes.c_void_p
    k32.GetConsoleMode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32)]
    k32.SetConsoleMode.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    return k32


def enable_vt(stream, kernel32=None) -> bool:
    """True when ``stream``'s console shows ANSI colours now (VT processing on, or
    turned on here); False for a console that refuses it, or no console."""
    which = STD_ERROR_HANDLE if stream is sys.stderr else STD_OUTPUT_HANDLE
    if kernel32 is None and which in _answers:
        return _answers[which]
    try:
        k32 = kernel32 or _kernel32()
        handle = k32.GetStdHandle(which)
        mode = ctypes.c_uint32()
        if not handle or not k32.GetConsoleMode(handle, ctypes.byref(mode)):
            ok = False  # not a console (a pipe, a file)
        elif mode.value & ENABLE_VIRTUAL_TERMINAL_PROCESSING:
            ok = True
        else:
            ok = bool(k32.SetConsoleMode(handle, mode.value | ENABLE_VIRTUAL_TERMINAL_PROCESSING))
    except (OSError, AttributeError):
        ok = False
    if kernel32 is None:
        _answers[which] = ok
    return ok
