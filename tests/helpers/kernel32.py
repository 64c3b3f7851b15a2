"""A kernel32 as stager's Windows NO_BUFFERING read-back meets it, for the seam tests
(tests/cards/test_remount_seam.py, tests/cards/test_verify_stop.py)."""

from __future__ import annotations


class Kernel32:
    """kernel32 as a NO_BUFFERING read-back meets it (ReadFile answers sector multiples);
    ``on_read(i)`` runs before the i-th ReadFile returns."""

    def __init__(self, data: bytes, on_read=None):
        self.data, self.on_read, self.pos = data, on_read, 0
        self.reads, self.closed = 0, []

    def GetVolumePathNameW(self, path, buf, n):
        buf.value = "E:\\"
        return 1

    def GetDiskFreeSpaceW(self, root, spc, bps, free, total):
        bps._obj.value = 512
        return 1

    def CreateFileW(self, path, access, share, sa, disposition, flags, template):
        return 7

    def ReadFile(self, h, address, length, got, overlapped):
        import ctypes

        self.reads += 1
        if self.on_read:
            self.on_read(self.reads)
        chunk = self.data[self.pos : self.pos + length]
        ctypes.memmove(address.value, chunk, len(chunk))
        self.pos += len(chunk)
        got._obj.value = len(chunk)
        return 1

    def CloseHandle(self, h):
        self.closed.append(h)
        return 1
