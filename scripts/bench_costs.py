#!/usr/bin/env python3
"""Measure stager's fixed costs as ratios against `python -c "import click"`, in one run.

Plain Python, no extra dependency. Run it with the Python of the venv where stager is
installed (it runs that venv's `stager`):

    .venv/bin/python scripts/bench_costs.py            # 15 rounds
    .venv/bin/python scripts/bench_costs.py --rounds 5 --files 5000
    .venv/bin/python scripts/bench_costs.py --instructions   # also counted by callgrind

Every figure is a ratio of medians measured in the same run, the commands alternating
round by round (never an absolute goal):
  prepare       stager prepare of a 1 KiB file to a folder target (--target DIR
                --allow-fixed --yes --json): the fixed cost of a staging
  catalog list  stager catalog list --json of a catalog of N valid, distinct firmware
                names (names and sizes only), and of N names that are 50 copies each of
                N/50 names (the duplicate marking)
against the baseline `python -c "import click"` (Python and click start-up, which every
stager command pays). Also the same catalog list against a bare os.walk in a fresh Python.

--instructions also counts the instructions each command runs (valgrind's callgrind, one
run each, user space only: what the process itself computes, not its waits for the disk
or a machine shared with others): ratios that repeat to a fraction of a percent, to
compare two versions where the timings move by 10 - 20 % on a shared virtual machine.
They are not the timed ratios (the goals are on time). Counting is about 50 times slower.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
STAGER = str(Path(PY).parent / "stager")
GOALS = {"prepare": 2.0, "catalog list": 5.0, "catalog list, duplicates": 5.0}


def timed(cmd) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def small_catalog(root: Path) -> list[str]:
    """A catalog with one 1 KiB Pulse 22 kit-212 .bin, indexed; prepare's options for it."""
    root.mkdir(parents=True)
    name = "OCPP212_KIP241A_FR.bin"
    data = bytes(range(256)) * 4
    (root / name).write_bytes(data)
    (root / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    return small_catalog_args(root)


def small_catalog_args(root: Path) -> list[str]:
    """prepare's options for the catalog small_catalog made."""
    return ["--model", "p22", "--kit", "212", "--terminal", "241", "--lang", "FR", "--catalog", str(root)]


def packs():
    """FR-like language packs, all valid and distinct: AA, AB, ..., ZZ, then AA-AB, ..."""
    codes = ["".join(p) for p in itertools.product(string.ascii_uppercase, repeat=2)]
    yield from codes
    for a, b in itertools.combinations(codes, 2):
        yield f"{a}-{b}"


def many_catalog(root: Path, files: int, copies: int = 1) -> None:
    """``files`` valid firmware names in 50 folders; ``copies`` > 1: each name that often."""
    names = list(itertools.islice(packs(), -(-files // copies)))
    for i in range(files):  # copies of one name land in different folders
        sub = root / f"batch{i % 50:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"PULSE22_OCPP318_KIP313A_{names[i // copies]}.tar.gz").write_bytes(b"x" * 64)


def prepare_cmd(args: list[str], target: Path) -> list[str]:
    return [STAGER, "prepare", *args, "--target", str(target), "--allow-fixed", "--yes", "--json"]


def run_prepare(args: list[str], target: Path) -> float:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    return timed(prepare_cmd(args, target))


def bench(work: Path, rounds: int, files: int) -> dict[str, tuple[float, float]]:
    """{label: (median seconds, median / median of the baseline)}, alternating each round."""
    args = small_catalog(work / "small")
    target = work / "card"
    many, dups = work / "many", work / "dups"
    many_catalog(many, files)
    many_catalog(dups, files, copies=50)
    runs = {
        "baseline": lambda: timed([PY, "-c", "import click"]),
        "prepare": lambda: run_prepare(args, target),
        "catalog list": lambda: timed([STAGER, "catalog", "list", "--catalog", str(many), "--json"]),
        "catalog list, duplicates": lambda: timed([STAGER, "catalog", "list", "--catalog", str(dups), "--json"]),
        "os.walk": lambda: timed([PY, "-c", f"import os; sum(len(f) for _, _, f in os.walk({str(many)!r}))"]),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    for fn in runs.values():  # warm-up: page cache, .pyc files
        fn()
    for _ in range(rounds):
        for label, fn in runs.items():
            times[label].append(fn())
    base = statistics.median(times["baseline"])
    return {label: (statistics.median(t), statistics.median(t) / base) for label, t in times.items()}


def count_instructions(cmd: list[str]) -> int:
    """The instructions ``cmd`` runs in user space, counted by callgrind (its threads
    included; the commands here start no child process)."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    for line in proc.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    raise RuntimeError(f"callgrind printed no count for {cmd[:3]}: {proc.stderr[-300:]}")


def instructions(work: Path) -> dict[str, tuple[int, float]]:
    """{label: (instructions, ratio to the baseline's)}, each command counted once after
    the timed rounds (same catalogs, .pyc files written). The console script is run by
    the venv's Python, as its shebang line does."""
    args = small_catalog_args(work / "small")
    target = work / "card"
    cmds = {
        "baseline": [PY, "-c", "import click"],
        "prepare": [PY, *prepare_cmd(args, target)],
        "catalog list": [PY, STAGER, "catalog", "list", "--catalog", str(work / "many"), "--json"],
        "catalog list, duplicates": [PY, STAGER, "catalog", "list", "--catalog", str(work / "dups"), "--json"],
    }
    counts = {}
    for label, cmd in cmds.items():
        if label == "prepare":
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
        counts[label] = count_instructions(cmd)
    return {label: (n, n / counts["baseline"]) for label, n in counts.items()}


def report_instructions(found: dict[str, tuple[int, float]], files: int) -> None:
    """Instruction ratios, to compare two versions of stager without the machine's noise.
    No goal is judged on them: the goals are on time, and an instruction of a tight loop
    costs less time than one of an import, which waits on memory more."""
    print(f"  instructions (callgrind), against python -c 'import click' ({found['baseline'][0]:,}):")
    for label in GOALS:
        n, ratio = found[label]
        name = f"{label} ({files} files)" if label.startswith("catalog") else f"{label}, a 1 KiB file"
        print(f"  {name:<44} {n / 1e6:7.1f} M  {ratio:6.2f} x")


def cache_bytecode(work: Path) -> str:
    """Every run measured with its modules' bytecode cached, as an installed stager has it
    (pip compiles it): a PYTHONDONTWRITEBYTECODE inherited from the shell would make each
    `stager` run compile its ~70 modules again (0.2 s here), which no user pays. The cache
    goes to the work folder, never into the source tree."""
    inherited = os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return " (PYTHONDONTWRITEBYTECODE ignored: bytecode cached)" if inherited else ""


def report(found: dict[str, tuple[float, float]], files: int) -> None:
    """The fixed-cost lines, as bench_stage.py prints them too."""
    print(f"  {'baseline: python -c import click':<44} {found['baseline'][0] * 1000:7.1f} ms")
    for label, goal in GOALS.items():
        seconds, ratio = found[label]
        verdict = "ok" if ratio <= goal else "OVER GOAL"
        name = f"{label} ({files} files)" if label.startswith("catalog") else f"{label}, a 1 KiB file"
        print(f"  {name:<44} {seconds * 1000:7.1f} ms {ratio:6.2f} x  (goal <= {goal})  {verdict}")
    walk = found["catalog list"][0] / found["os.walk"][0]
    print(f"  {'catalog list / a bare os.walk in a fresh python':<44} {'':7} {'':3} {walk:6.2f} x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15, help="measured rounds after a warm-up (default 15)")
    ap.add_argument("--files", type=int, default=5000, help="files in the catalog-list runs (default 5000)")
    ap.add_argument(
        "--instructions", action="store_true", help="also count each command's instructions (needs valgrind)"
    )
    opts = ap.parse_args()
    if opts.instructions and not shutil.which("valgrind"):
        print("--instructions needs valgrind (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    if not Path(STAGER).exists():
        where = "run this with the Python of the venv where stager is installed"
        print(f"no stager next to {PY}: {where}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="stager-costs-"))
    try:
        bytecode = cache_bytecode(work)
        found = bench(work, opts.rounds, opts.files)
        counted = instructions(work) if opts.instructions else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"stager fixed costs, {opts.rounds} rounds after a warm-up (medians), "
        f"against python -c 'import click'{bytecode}"
    )
    report(found, opts.files)
    if counted:
        report_instructions(counted, opts.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
