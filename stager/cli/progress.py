"""Progress bars (tqdm, on standard error, only on a terminal): one place for both kinds.

- :func:`byte_progress`: one bar over bytes for a whole catalog job (index, verify).
- :func:`card_bars`: the factory the staging engine calls, one bar per card and phase.
"""

from __future__ import annotations

import contextlib
import sys
import threading


@contextlib.contextmanager
def byte_progress(total: int, enabled: bool, desc: str):
    """A tqdm bar over bytes on stderr, only on a terminal; yields update(n) or None."""
    if not enabled or total <= 0 or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        yield bar.update


def card_bars():
    """The staging engine's bar factory (``factory(total, desc) -> bar``), or None when
    standard error is not a terminal."""
    if not sys.stderr.isatty():
        return None
    return card_bar


def card_bar(total: int, desc: str):
    """A tqdm bar over bytes on standard error (one per target and phase)."""
    from tqdm import tqdm

    with _BAR_LOCK:
        position = _BAR_POS[0]
        _BAR_POS[0] += 1
    return tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc[:30].ljust(30),
        file=sys.stderr,
        leave=True,
        position=position,
        dynamic_ncols=True,
    )


_BAR_LOCK = threading.Lock()
_BAR_POS = [0]
