"""Progress bars (tqdm, on standard error, only on a terminal): one place for both kinds.

- :func:`byte_progress`: one bar over bytes for a whole catalog job (index, verify).
- :func:`card_bars`: the factory the staging engine calls, one bar per card and phase.
"""

from __future__ import annotations

import contextlib
import sys
import threading

from stager.cli.output import is_tty
from stager.i18n import _
from stager.i18n_format import short_size


@contextlib.contextmanager
def byte_progress(total: int, enabled: bool, desc: str):
    """A tqdm bar over bytes on stderr, only on a terminal; yields update(n) or None."""
    if not enabled or total <= 0 or not is_tty(sys.stderr):
        yield None
        return
    with _bar_class()(
        total=total,
        desc=desc,
        file=sys.stderr,
        leave=False,
        ncols=bar_columns(),
        bar_format=BAR_FORMAT,
    ) as bar:
        yield bar.update


def card_bars():
    """The staging engine's bar factory (``factory(total, desc) -> bar``), or None when
    standard error is not a terminal."""
    if not is_tty(sys.stderr):
        return None
    return card_bar


BAR_COLUMNS = 80
BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {done}/{size} {speed}"
_CLASS: list = []


def _bar_class():
    """tqdm with sizes in the user's language (``168.0 MiB/200.0 MiB 12.5 MiB/s``, ``168,0 Mio``...)."""
    if _CLASS:
        return _CLASS[0]
    from tqdm import tqdm

    class SizedBar(tqdm):
        @property
        def format_dict(self):
            d = super().format_dict
            rate = d.get("rate")
            d.update(done=short_size(d["n"]).rjust(9), size=short_size(d["total"]))
            # TRANSLATORS: a progress bar's speed, a size per second ("12.5 MiB/s", French "12,5 Mio/s").
            d["speed"] = (_("{size}/s").format(size=short_size(int(rate))) if rate else _("?/s")).rjust(11)
            return d

    _CLASS.append(SizedBar)
    return SizedBar


DESC_WIDTH = 34


def bar_columns() -> int:
    """Bars fit the terminal and never exceed 80 columns (no wrapped fragments)."""
    import shutil

    return max(40, min(BAR_COLUMNS, shutil.get_terminal_size((BAR_COLUMNS, 24)).columns - 1))


def bar_label(desc: str, width: int = DESC_WIDTH) -> str:
    """A bar's label cut to its column: the end kept (the device tells cards apart)."""
    if len(desc) <= width:
        return desc.ljust(width)
    head, _, name = desc.partition(" ")
    room = width - len(head) - 4
    return f"{head} ...{name[-room:]}" if room > 4 else desc[: width - 3] + "..."


class CardBar:
    """One bar on its own line for one card and phase; the line is cleared when it closes
    and given to the next bar, so nothing is left on screen."""

    def __init__(self, total: int, desc: str):
        with _BAR_LOCK:
            self.position = next(i for i in range(len(_USED) + 1) if i not in _USED)
            _USED.add(self.position)
        self._bar = _bar_class()(
            total=total,
            desc=bar_label(desc),
            file=sys.stderr,
            leave=False,
            position=self.position,
            ncols=bar_columns(),
            bar_format=BAR_FORMAT,
        )
        self._closed = False

    def update(self, n: int) -> None:
        self._bar.update(n)

    def close(self) -> None:
        with _BAR_LOCK:
            if self._closed:
                return
            self._closed = True
        with self._bar.get_lock():  # tqdm's own (reentrant) write lock: no bar writes in between
            self._bar.close()
            if self.position:
                # tqdm clears a lower bar's line and moves back up without a carriage return:
                # the cursor would stay in the last column, and the next line would wrap there.
                sys.stderr.write("\r")
                sys.stderr.flush()
        with _BAR_LOCK:
            _USED.discard(self.position)


def card_bar(total: int, desc: str) -> CardBar:
    """A bar over bytes on standard error (one per card and phase)."""
    return CardBar(total, desc)


_BAR_LOCK = threading.Lock()
_USED: set[int] = set()
