"""Colours on Windows consoles: virtual-terminal processing through a fake kernel32."""

import sys

from stager.cli import _winconsole as wc
from stager.cli import output


class FakeKernel32:
    def __init__(self, mode=None, accepts=True):
        self.mode, self.accepts, self.set_to = mode, accepts, None

    def GetStdHandle(self, which):
        return 7 if which in (wc.STD_OUTPUT_HANDLE, wc.STD_ERROR_HANDLE) else None

    def GetConsoleMode(self, handle, mode_ref):
        if self.mode is None:  # a pipe or a file: not a console
            return 0
        mode_ref._obj.value = self.mode
        return 1

    def SetConsoleMode(self, handle, mode):
        if not self.accepts:
            return 0  # a console older than Windows 10 1511
        self.set_to = mode
        return 1


def test_virtual_terminal_processing_is_turned_on():
    k32 = FakeKernel32(mode=0x3)
    assert wc.enable_vt(sys.stdout, k32) and k32.set_to == 0x3 | wc.ENABLE_VIRTUAL_TERMINAL_PROCESSING


def test_already_on_is_left_alone():
    k32 = FakeKernel32(mode=0x7)
    assert wc.enable_vt(sys.stdout, k32) and k32.set_to is None


def test_a_console_that_refuses_gets_plain_text():
    assert not wc.enable_vt(sys.stdout, FakeKernel32(mode=0x3, accepts=False))


def test_no_console_gets_plain_text():
    assert not wc.enable_vt(sys.stderr, FakeKernel32(mode=None))


class Tty:
    def isatty(self):
        return True


def test_windows_colour_follows_the_console_and_no_color_wins(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(output.sys, "platform", "win32")
    monkeypatch.setattr(wc, "enable_vt", lambda stream: False)
    assert not output.color_enabled(Tty())
    monkeypatch.setattr(wc, "enable_vt", lambda stream: True)
    assert output.color_enabled(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not output.color_enabled(Tty())


def test_elsewhere_a_terminal_has_colour(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(output.sys, "platform", "linux")
    assert output.color_enabled(Tty())
