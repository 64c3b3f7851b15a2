#!/usr/bin/env python3
"""What the French interface costs `stager check` at start-up, and whether Babel fits.

Run with the Python of the venv where stager (and Babel, the test extra) is installed:

    .venv/bin/python scripts/bench_i18n.py             # 15 rounds
    .venv/bin/python scripts/bench_i18n.py --rounds 30

The budget (issue 16): `stager check` starts within 3 times `python -c "import click"`.
Every figure is a median of wall times measured in the same run, the runs alternating
after a warm-up round; ratios are against the click baseline of the same run:

  click      python -c "import click"                                 (the baseline)
  check      stager check --model p22 --kit 318, STAGER_UI_LANG=en    (stager.cli installs
             the language before its commands are defined: English, no catalog read)
  check-fr   the same with STAGER_UI_LANG=fr: the French catalog loaded, click's words
             pointed at it, every message and help text looked up in it
  babel      python -c "import click" + babel.numbers and babel.dates, one number and one
             date formatted in French                                  (Babel at run time)

Then `python -X importtime` of each import on its own (cumulative microseconds), the
interpreter's own start-up excluded.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable
STAGER = str(Path(PY).parent / ("stager.exe" if os.name == "nt" else "stager"))
CHECK_ARGS = ["check", "--model", "p22", "--kit", "318"]

BABEL = """
import click, datetime as dt
import babel.numbers, babel.dates
babel.numbers.format_decimal(8391753, locale="fr")
babel.dates.format_datetime(dt.datetime(2026, 12, 1, 18, 15), "d MMMM y HH:mm", locale="fr")
"""

IMPORTS = ["click", "stager.i18n", "stager.i18n_format", "babel.numbers", "babel.dates"]


def commands() -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (command line, its environment's language)."""
    english, french = {"STAGER_UI_LANG": "en"}, {"STAGER_UI_LANG": "fr"}
    found = {
        "click": ([PY, "-c", "import click"], english),
        "check": ([STAGER, *CHECK_ARGS], english),
        "check-fr": ([STAGER, *CHECK_ARGS], french),
    }
    if _has_babel():
        found["babel"] = ([PY, "-c", BABEL], english)
    return found


def _has_babel() -> bool:
    return subprocess.run([PY, "-c", "import babel.numbers"], capture_output=True).returncode == 0


def _children_cpu() -> float:
    """User + system CPU seconds of the finished children (POSIX; 0 elsewhere)."""
    try:
        import resource
    except ImportError:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], language: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run: CPU time is steadier on a busy machine."""
    env = dict(os.environ, NO_COLOR="1", **language)
    cpu, started = _children_cpu(), time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env)
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[:3]} failed (exit {proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed, cpu


def report(title: str, median: dict[str, float]) -> None:
    base = median["click"]
    print(f"{title} (budget: check within 3 x click = {3 * base * 1000:.0f} ms)")
    for name, value in median.items():
        print(f"  {name:<10} {value * 1000:7.1f} ms   {value / base:4.2f} x click")
    if "babel" in median:
        extra = median["babel"] - base
        projected = (median["check"] + extra) / base
        print(f"  Babel at run time would add {extra * 1000:.1f} ms: check+babel ~ {projected:4.2f} x click")
    french = median["check-fr"] - median["check"]
    print(f"  French (its catalog, click's words in it) adds {french * 1000:.1f} ms to check")


def import_cost(module: str) -> int:
    """Cumulative microseconds of importing ``module`` alone, from python -X importtime."""
    proc = subprocess.run([PY, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True)
    pattern = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)$")
    for line in proc.stderr.splitlines():
        m = pattern.search(line)
        if m and m.group(3) == module and not m.group(2):
            return int(m.group(1))
    raise SystemExit(f"no import time for {module}: {proc.stderr[-300:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    opts = ap.parse_args()
    if not shutil.which(STAGER) and not Path(STAGER).exists():
        raise SystemExit(f"{STAGER} is not installed: pip install -e '.[test]' first")
    runs = commands()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for argv, language in runs.values():  # warm-up: the page cache, the .pyc files
        timed(argv, language)
    for _ in range(opts.rounds):
        for name, (argv, language) in runs.items():
            times[name].append(timed(argv, language))
    wall = {n: statistics.median(w for w, _ in v) for n, v in times.items()}
    report(f"wall time, median of {opts.rounds} rounds", wall)
    cpu = {n: statistics.median(c for _, c in v) for n, v in times.items()}
    if cpu["click"] > 0:
        report(f"CPU time (user + system), median of {opts.rounds} rounds", cpu)
    print("import costs alone (python -X importtime, cumulative)")
    for module in IMPORTS:
        if module.startswith("babel") and "babel" not in wall:
            continue
        print(f"  {module:<20} {import_cost(module) / 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
