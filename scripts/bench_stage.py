#!/usr/bin/env python3
"""Benchmark stager's staging against what a careful person does by hand.

Plain Python, no extra dependency. Run with the Python of the venv where stager is
installed (it runs that venv's `stager`):

    .venv/bin/python scripts/bench_stage.py            # defaults: 256 MiB, 5 rounds
    .venv/bin/python scripts/bench_stage.py --size 64 --rounds 2 --rss-size 256

Every figure is a ratio of medians measured in the same run (never an absolute goal):
  A  by hand:  cp SRC DST && sync && sha256sum SRC DST
  B  stager prepare ... --target DIR --allow-fixed --yes  (index check, read-back from
     the medium after evicting the page cache, sidecar)
  C  the limit: a few lines doing the least the job needs (one read of the source,
     one write, fsync, cache eviction, one read-back, two hashes)
  D  the reference pipeline, for 1 and for 4 targets: the source read once, written to
     every target in parallel with writeback started during the copy (fadvise DONTNEED on
     each chunk written), fsync, then each target read back with O_DIRECT (the medium,
     as stager's read-back) while the chunk before is hashed (reading overlaps hashing)
Runs alternate A B C after a warm-up round; then B and D alternate for 1 and 4 targets.
Also: 4 targets at once against 1, `stager check` start-up against `python -c "import click"`, the peak RSS of `prepare`
on a large file, the fixed costs of bench_costs.py (prepare of a 1 KiB file, `catalog
list` of 5,000 files, against `python -c "import click"`) and `catalog verify` against sha256sum.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import bench_costs  # scripts/: the fixed costs, shared with bench_costs.py

PY = sys.executable
STAGER = str(Path(PY).parent / "stager")
MiB = 1024 * 1024

# C, the reference pipeline: the least the job needs, in one process like stager.
REFERENCE = r"""
import hashlib, os, sys
src, dst = sys.argv[1], sys.argv[2]
buf = bytearray(8 << 20); view = memoryview(buf); h = hashlib.sha256()
with open(src, "rb", buffering=0) as fi, open(dst, "wb", buffering=0) as fo:
    while True:
        n = fi.readinto(buf)
        if not n: break
        h.update(view[:n]); fo.write(view[:n])
    os.fsync(fo.fileno())
    os.posix_fadvise(fo.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
h2 = hashlib.sha256()
with open(dst, "rb", buffering=0) as fr:
    while True:
        n = fr.readinto(buf)
        if not n: break
        h2.update(view[:n])
assert h.hexdigest() == h2.hexdigest()
"""


# D, the reference pipeline for N targets (see the module doc).
OVERLAPPED = r"""
import hashlib, mmap, os, sys
from concurrent.futures import ThreadPoolExecutor
src, dsts = sys.argv[1], sys.argv[2:]
CH = 8 << 20

def write(fd, view, off):
    done = 0
    while done < len(view):
        done += os.pwrite(fd, view[done:], off + done)
    os.posix_fadvise(fd, off, len(view), os.POSIX_FADV_DONTNEED)  # writeback starts now

def copy(pool):
    bufs, h = (bytearray(CH), bytearray(CH)), hashlib.sha256()
    fds = [os.open(d, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644) for d in dsts]
    pending, off, i = [], 0, 0
    with open(src, "rb", buffering=0) as fi:
        while True:
            buf = bufs[i % 2]
            n = fi.readinto(buf)
            if not n:
                break
            view = memoryview(buf)[:n]
            h.update(view)
            for p in pending:
                p.result()
            pending = [pool.submit(write, fd, view, off) for fd in fds]
            off, i = off + n, i + 1
    for p in pending:
        p.result()
    list(pool.map(lambda fd: (os.fsync(fd), os.close(fd)), fds))
    return h.hexdigest()

def read_back(path):
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECT", 0))
    bufs, h = (mmap.mmap(-1, CH), mmap.mmap(-1, CH)), hashlib.sha256()
    with ThreadPoolExecutor(1) as reader:
        off, i = 0, 0
        nxt = reader.submit(os.preadv, fd, [bufs[0]], 0)
        while True:
            n = nxt.result()
            if not n:
                break
            off, i = off + n, i + 1
            nxt = reader.submit(os.preadv, fd, [bufs[i % 2]], off)  # read the next chunk ...
            h.update(memoryview(bufs[(i - 1) % 2])[:n])  # ... while this one is hashed
    os.close(fd)
    return h.hexdigest()

with ThreadPoolExecutor(max(1, len(dsts))) as pool:
    want = copy(pool)
    assert all(got == want for got in pool.map(read_back, dsts))
"""


def fill(path: Path, size: int) -> None:
    """Write `size` bytes of incompressible content quickly (a repeated random block
    with a counter, so no two MiB are equal)."""
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for i in range(size // MiB):
            f.write(i.to_bytes(8, "little") + block[8:])
        f.write(block[: size % MiB])


def write_bundle(path: Path, size: int) -> None:
    """A real firmware bundle of about ``size`` bytes: a tar.gz (stored, not compressed)
    holding one file of incompressible content, which catalog verify's structure check
    reads through as it would a manufacturer's bundle."""
    payload = path.with_name(path.name + ".payload")
    fill(payload, size)
    with tarfile.open(path, "w:gz", compresslevel=0) as tar:
        tar.add(payload, arcname="firmware.bin")
    payload.unlink()


def make_catalog(root: Path, size_mib: int) -> tuple[Path, str, list[str]]:
    """A catalog holding one Pulse 22 kit-318 bundle (a real tar.gz, stored) of ~size."""
    root.mkdir(parents=True)
    name = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
    write_bundle(root / name, size_mib * MiB)
    digest = sha256_file(root / name)
    (root / "SHA256SUMS").write_text(f"{digest}  {name}\n")
    args = ["--model", "p22", "--kit", "318", "--terminal", "313", "--lang", "FR", "--catalog", str(root)]
    return root / name, name, args


def make_bin_catalog(root: Path, size_mib: int) -> list[str]:
    root.mkdir(parents=True)
    name = "OCPP212_KIP241A_FR.bin"
    fill(root / name, size_mib * MiB)
    (root / "SHA256SUMS").write_text(f"{sha256_file(root / name)}  {name}\n")
    return ["--model", "p22", "--kit", "212", "--terminal", "241", "--lang", "FR", "--catalog", str(root)]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8 * MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def empty(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def timed(cmd, **kw) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def run_a(src: Path, dst_dir: Path) -> float:
    empty(dst_dir)
    dst = dst_dir / src.name
    return timed(["sh", "-c", 'cp "$1" "$2" && sync && sha256sum "$1" "$2"', "sh", str(src), str(dst)])


def run_b(args: list[str], targets: list[Path]) -> float:
    for t in targets:
        empty(t)
    cmd = [STAGER, "prepare", *args, "--allow-fixed", "--yes", "--json"]
    for t in targets:
        cmd += ["--target", str(t)]
    return timed(cmd)


def run_c(src: Path, dst_dir: Path) -> float:
    empty(dst_dir)
    return timed([PY, "-c", REFERENCE, str(src), str(dst_dir / src.name)])


def run_d(src: Path, targets: list[Path]) -> float:
    for t in targets:
        empty(t)
    return timed([PY, "-c", OVERLAPPED, str(src), *(str(t / src.name) for t in targets)])


def peak_rss_mib(cmd) -> tuple[float, int]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, proc.returncode  # ru_maxrss is in KiB on Linux


def ratio_line(label: str, value: float, goal: float, goal_text: str) -> str:
    verdict = "ok" if value <= goal else "OVER GOAL"
    return f"  {label:<44} {value:6.2f}   (goal {goal_text} {goal})  {verdict}"


def options() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256, help="bundle size in MiB (default 256)")
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds after the warm-up (default 5)")
    ap.add_argument(
        "--rss-size", type=int, default=2048, help="file size in MiB for the peak-RSS run (default 2048; 0 skips)"
    )
    ap.add_argument("--files", type=int, default=5000, help="files in the catalog-list run (default 5000)")
    ap.add_argument("--dir", help="work folder (default: a temporary folder, removed afterwards)")
    ap.add_argument("--only", choices=["all", "reference"], default="all", help="'reference': only B against D")
    return ap.parse_args()


def bench_abc(src: Path, args: list[str], dst: Path, rounds: int) -> None:
    """Warm-up (source in the page cache for everyone), then alternate A B C."""
    run_a(src, dst), run_b(args, [dst]), run_c(src, dst)
    a, b, c = [], [], []
    for _ in range(rounds):
        a.append(run_a(src, dst))
        b.append(run_b(args, [dst]))
        c.append(run_c(src, dst))
    ma, mb, mc = (statistics.median(x) for x in (a, b, c))
    print(f"  A cp + sync + sha256sum (by hand)   {ma:6.2f} s")
    print(f"  B stager prepare                    {mb:6.2f} s")
    print(f"  C reference pipeline (the limit)    {mc:6.2f} s")
    print(ratio_line("B/A prepare vs by hand", mb / ma, 0.6, "<="))
    print(ratio_line("B/C prepare vs the limit", mb / mc, 1.15, "<="))
    shutil.rmtree(dst, ignore_errors=True)


def bench_reference(src: Path, args: list[str], work: Path, rounds: int) -> None:
    """B against D (writeback during the copy, read-back overlapping hashing), 1 and 4 targets."""
    for n in (1, 4):
        targets = [work / f"ref{n}-card{i}" for i in range(n)]
        run_b(args, targets), run_d(src, targets)
        b, d = [], []
        for _ in range(max(3, rounds)):
            b.append(run_b(args, targets))
            d.append(run_d(src, targets))
        mb, md = statistics.median(b), statistics.median(d)
        print(f"  {n} target(s): B stager {mb:6.2f} s, D reference {md:6.2f} s")
        print(ratio_line(f"B/D prepare vs the overlapped reference, {n} target(s)", mb / md, 1.1, "<="))
        for t in targets:
            shutil.rmtree(t, ignore_errors=True)


def bench_targets(args: list[str], work: Path, rounds: int) -> None:
    """4 targets at once against 1: folders on this machine's one disk (every card's
    read-back is a real read of that shared disk), and folders in RAM (/dev/shm), which
    takes the shared disk out and leaves stager's own pipeline."""
    for label, base in (
        ("4 targets / 1, folders on one shared disk", work),
        ("4 targets / 1, folders in RAM (/dev/shm)", Path("/dev/shm") / work.name),
    ):
        if not base.parent.is_dir():
            continue
        many = [base / f"card{i}" for i in range(4)]
        single = [base / "card-one"]
        run_b(args, single), run_b(args, many)
        one, four = [], []
        for _ in range(max(2, rounds)):
            one.append(run_b(args, single))
            four.append(run_b(args, many))
        print(ratio_line(label, statistics.median(four) / statistics.median(one), 1.6, "<="))
        for t in many + single:
            shutil.rmtree(t, ignore_errors=True)


def bench_startup() -> None:
    """Start-up of `stager check` against importing click."""
    check = [STAGER, "check", "--model", "p22", "--kit", "318"]
    click_only = [PY, "-c", "import click"]
    timed(check), timed(click_only)
    t_check, t_click = [], []
    for _ in range(15):
        t_check.append(timed(check))
        t_click.append(timed(click_only))
    ratio = statistics.median(t_check) / statistics.median(t_click)
    print(ratio_line("check start-up / python -c 'import click'", ratio, 3.0, "<="))


def bench_fixed_costs(work: Path, rounds: int, files: int) -> None:
    """The fixed costs (scripts/bench_costs.py): prepare of a 1 KiB file and catalog list of
    ``files`` names, each against `python -c "import click"` in the same rounds."""
    print("  fixed costs against python -c 'import click' (scripts/bench_costs.py):")
    found = bench_costs.bench(work / "costs", max(rounds, 9), files)
    bench_costs.report(found, files)
    shutil.rmtree(work / "costs", ignore_errors=True)


def bench_catalog_verify(work: Path, size: int) -> None:
    """catalog verify throughput against sha256sum -c on the same files."""
    vcat = work / "verify"
    vcat.mkdir()
    lines = []
    for i in range(32):
        p = vcat / f"PULSE50_OCPP318_KIP313B_L{i:02d}.tar.gz"
        write_bundle(p, max(1, size // 32) * MiB)  # random bytes are no tar.gz: verify says MALFORMED
        lines.append(f"{sha256_file(p)}  {p.name}\n")
    (vcat / "SHA256SUMS").write_text("".join(lines))
    ver = [STAGER, "catalog", "verify", "--catalog", str(vcat), "--json"]
    ref = ["sha256sum", "--quiet", "-c", "SHA256SUMS"]
    timed(ver), timed(ref, cwd=vcat)
    t_ver = statistics.median(timed(ver) for _ in range(3))
    t_ref = statistics.median(timed(ref, cwd=vcat) for _ in range(3))
    tp = t_ref / t_ver  # throughput ratio = (bytes / t_ver) / (bytes / t_ref)
    verdict = "ok" if tp >= 0.9 else "UNDER GOAL"
    print(f"  {'catalog verify throughput / sha256sum -c':<44} {tp:6.2f}   (goal >= 0.9)  {verdict}")
    shutil.rmtree(vcat)


def bench_rss(work: Path, size: int) -> None:
    """Peak RSS of prepare on a large file."""
    bargs = make_bin_catalog(work / "big", size)
    target = work / "bigcard"
    empty(target)
    rss, code = peak_rss_mib([STAGER, "prepare", *bargs, "--target", str(target), "--allow-fixed", "--yes", "--json"])
    ok = "ok" if rss < 64 and code == 0 else (f"FAILED (exit {code})" if code else "OVER GOAL")
    print(f"  {'peak RSS of prepare, ' + str(size) + ' MiB file (MiB)':<44} {rss:6.1f}   (goal < 64)  {ok}")


def main() -> int:
    opts = options()
    if not Path(STAGER).exists():
        print(
            f"no stager next to {PY}: run this with the Python of the venv where stager is installed", file=sys.stderr
        )
        return 2
    work = Path(opts.dir or tempfile.mkdtemp(prefix="stager-bench-"))
    started = time.perf_counter()
    bytecode = bench_costs.cache_bytecode(work)
    try:
        print(
            f"stager benchmark, {dt.date.today()}, {os.cpu_count()} cores, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
            f"bundle {opts.size} MiB, {opts.rounds} rounds after a warm-up (medians){bytecode}"
        )
        src, _name, args = make_catalog(work / "catalog", opts.size)
        if opts.only == "all":
            bench_abc(src, args, work / "card", opts.rounds)
        bench_reference(src, args, work, opts.rounds)
        if opts.only == "all":
            bench_targets(args, work, opts.rounds)
            bench_startup()
            bench_fixed_costs(work, opts.rounds, opts.files)
            bench_catalog_verify(work, opts.size)
            if opts.rss_size:
                bench_rss(work, opts.rss_size)
        print(f"  (benchmark ran in {time.perf_counter() - started:.0f} s)")
    finally:
        shutil.rmtree(Path("/dev/shm") / work.name, ignore_errors=True)
        if not opts.dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
