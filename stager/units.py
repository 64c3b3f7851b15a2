"""Sizes as people read them, one format everywhere (base layer: any module may use it).

- :func:`human_bytes`: ``8.0 MiB`` (binary units, one decimal).
- :func:`exact_bytes`: ``8.0 MiB (8,391,753 bytes)``, where the bytes matter (free space,
  what a file needs, a file's size in a refusal).
"""

from __future__ import annotations


def human_bytes(n: int | None) -> str:
    """1536 -> '1.5 KiB'; None -> 'unknown'."""
    if n is None:
        return "unknown"
    value, units = float(n), ("B", "KiB", "MiB", "GiB", "TiB")
    unit = units[0]
    for unit in units:
        if abs(value) < 1024 or unit == units[-1]:
            break
        value /= 1024
    return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"


def exact_bytes(n: int | None) -> str:
    """8391753 -> '8.0 MiB (8,391,753 bytes)'; under 1 KiB just '512 bytes'."""
    if n is None:
        return "unknown"
    if abs(n) < 1024:
        return f"{n:,} bytes" if n != 1 else "1 byte"
    return f"{human_bytes(n)} ({n:,} bytes)"
