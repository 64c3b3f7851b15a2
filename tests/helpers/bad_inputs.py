"""The machinery of the bad-input cases (tests/bad_inputs/): loading a case, its setup steps
and the steps that must be undone. Used by tests/test_bad_inputs.py and the language tests."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

import stager.rules
from stager.catalog.demo import build_demo_catalog

CASES = Path(__file__).resolve().parent.parent / "bad_inputs"
KEYS = {"about", "command", "setup", "env", "exit", "line", "timeout", "needs", "stdin"}
CLONE_NEWNS = 0x00020000


def all_cases():
    return sorted(CASES.glob("*.toml"))


def expand(text: str, tmp: Path) -> str:
    """Placeholders of a case's strings: {tmp} (the case's folder), {repeat:N:TEXT:repeat}
    (TEXT N times: deep JSON, huge cells, 5000-digit numbers)."""
    text = re.sub(r"\{repeat:(\d+):(.*?):repeat\}", lambda m: m.group(2) * int(m.group(1)), text)
    return text.replace("{tmp}", str(tmp))


# --------------------------------------------------------------------------- setup steps
def _file(tmp, path, text=""):
    p = tmp / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")


def _dir(tmp, path):
    (tmp / path).mkdir(parents=True, exist_ok=True)


def _fifo(tmp, path):
    p = tmp / path
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.exists():
        p.unlink()
    os.mkfifo(p)


def _demo_catalog(tmp, path):
    build_demo_catalog(tmp / path)


def _rules_copy(tmp, path):
    dest = tmp / path
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("rules.toml", "routers.toml", "names.toml"):
        shutil.copyfile(Path(stager.rules.__file__).parent / name, dest / name)


def _replace(tmp, path, old, new):
    p = tmp / path
    text = p.read_text(encoding="utf-8")
    assert old in text, f"setup: {old!r} is not in {p}"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def _move(tmp, src, dst):
    os.replace(tmp / src, tmp / dst)


def _symlink(tmp, target, path):
    (tmp / path).symlink_to(target)


def _key_pair(tmp, public, secret, password):
    """A minisign key pair (the secret key protected by ``password``), made by stager's library."""
    from stager.catalog.trust import write_key_pair

    write_key_pair(tmp / public, tmp / secret, password.encode("utf-8"))


def _remove(tmp, path):
    (tmp / path).unlink()


def _sha256sums(tmp, path):
    """Rewrite the folder's SHA256SUMS as GNU sha256sum writes it (names holding a
    backslash escaped, the line marked with a leading backslash), independently of stager."""
    root = tmp / path
    lines = []
    for f in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        rel = f.relative_to(root).as_posix()
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        lines.append(f"\\{digest}  {rel.replace(chr(92), chr(92) * 2)}" if "\\" in rel else f"{digest}  {rel}")
    (root / "SHA256SUMS").write_text("".join(line + "\n" for line in lines), encoding="utf-8")


STEPS = {
    "file": _file,
    "dir": _dir,
    "fifo": _fifo,
    "demo-catalog": _demo_catalog,
    "rules-copy": _rules_copy,
    "replace": _replace,
    "move": _move,
    "remove": _remove,
    "symlink": _symlink,
    "sha256sums": _sha256sums,
    "key-pair": _key_pair,
}


# --------------------------------------------------------------------------- steps with an undo
def _skip_or_fail(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _locked(tmp, path, undo):
    """An immutable file (chattr +i): even root cannot remove it, as a locked file on Windows."""
    p = tmp / path
    if shutil.which("chattr") is None or os.geteuid() != 0:
        _skip_or_fail("a locked file needs root and chattr")
    if subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode != 0:
        _skip_or_fail(f"chattr +i is not supported where {p} is")
    undo.append(lambda: subprocess.run(["chattr", "-i", str(p)], capture_output=True))


def _private_namespace():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        _skip_or_fail(f"unshare(CLONE_NEWNS) failed: {os.strerror(ctypes.get_errno())}")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)


def _dead_mount(tmp, path, undo):
    """A FUSE FAT32 mount whose driver was killed: every access gives ENOTCONN, as a card
    pulled out while its driver hangs, or a network share gone."""
    tools = ["mkfs.vfat", "fusefat", "fusermount"]
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse") or any(shutil.which(t) is None for t in tools):
        _skip_or_fail("a dead mount needs root, /dev/fuse, mkfs.vfat, fusefat and fusermount")
    _private_namespace()  # the dead mount is seen by this process and its children only
    image, mnt = tmp / "dead.img", tmp / path
    mnt.mkdir(parents=True, exist_ok=True)
    with open(image, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    subprocess.run(["mkfs.vfat", "-F", "32", "-n", "DEAD", str(image)], check=True, capture_output=True)
    driver = subprocess.Popen(
        ["fusefat", "-f", "-o", "rw+", str(image), str(mnt)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    undo.append(lambda: subprocess.run(["fusermount", "-u", "-z", str(mnt)], capture_output=True))
    for _ in range(200):  # wait for the mount to appear (not a timing assert: a bounded wait)
        if os.path.ismount(mnt):
            break
        time.sleep(0.05)
    else:
        driver.kill()
        pytest.fail("fusefat did not mount the image")
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    for _ in range(200):  # the kernel answers stat from its attribute cache for a while
        try:
            os.stat(mnt)
        except OSError as e:
            assert e.errno in (errno.ENOTCONN, errno.ECONNABORTED), e  # the setup is what the case says
            return
        time.sleep(0.05)
    pytest.fail("the dead mount still answers stat")


UNDOABLE = {"locked": _locked, "dead-mount": _dead_mount}


# --------------------------------------------------------------------------- the test
def load_case(path: Path) -> dict:
    case = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(case) - KEYS
    assert not unknown, f"{path.name}: unknown keys {sorted(unknown)}"
    for key in ("command", "exit", "line"):
        assert key in case, f"{path.name}: no '{key}'"
    return case


def run_case(case: dict, name: str, run_stager, tmp: Path, env: dict | None = None):
    """Set the case up in ``tmp``, run its command (with ``env`` over the case's own), undo
    what must be undone, and return the result; a command that does not end within the
    case's timeout fails the test (it hangs)."""
    undo: list = []
    try:
        for step in case.get("setup", []):
            kind, *args = [expand(a, tmp) for a in step]
            if kind in UNDOABLE:
                UNDOABLE[kind](tmp, *args, undo)
            else:
                STEPS[kind](tmp, *args)
        case_env = {k: expand(v, tmp) for k, v in case.get("env", {}).items()}
        args = [expand(a, tmp) for a in case["command"]]
        timeout = case.get("timeout", 30)
        stdin = case.get("stdin")  # "closed" (`<&-`) or text given on standard input
        closed = stdin == "closed"
        try:
            return run_stager(
                *args,
                env={**case_env, **(env or {})},
                cwd=tmp,
                timeout=timeout,
                close_stdin=closed,
                input=None if closed else stdin,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name}: stager {args[0]} did not end within {timeout} s (it hangs)")
    finally:
        for fn in reversed(undo):
            fn()
