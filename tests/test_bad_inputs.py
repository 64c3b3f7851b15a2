"""Hostile and broken inputs through the installed stager: one file a case in
tests/bad_inputs/ (see its README.md), each run by this one parametrised test.

A case gives the command, its setup (files, FIFOs, a damaged rules folder, a locked
file, a dead mount...) and environment, the exit code and a line the output must hold.
No case may end in a traceback, the "internal error" line, or a hang: a command that
does not end within the case's timeout fails the test with a clear message (the
timeout only catches hangs; nothing is measured).
"""

from __future__ import annotations

import subprocess

import pytest
from helpers.bad_inputs import STEPS, UNDOABLE, all_cases, expand, load_case


@pytest.mark.parametrize("path", all_cases(), ids=lambda p: p.stem)
def test_bad_input(path, run_stager, tmp_path):
    case = load_case(path)
    undo: list = []
    try:
        for step in case.get("setup", []):
            kind, *args = [expand(a, tmp_path) for a in step]
            if kind in UNDOABLE:
                UNDOABLE[kind](tmp_path, *args, undo)
            else:
                STEPS[kind](tmp_path, *args)
        env = {k: expand(v, tmp_path) for k, v in case.get("env", {}).items()}
        args = [expand(a, tmp_path) for a in case["command"]]
        timeout = case.get("timeout", 30)
        try:
            stdin = case.get("stdin")  # "closed" (`<&-`) or text given on standard input
            closed = stdin == "closed"
            r = run_stager(
                *args, env=env, cwd=tmp_path, timeout=timeout, close_stdin=closed, input=None if closed else stdin
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{path.name}: stager {args[0]} did not end within {timeout} s (it hangs)")
    finally:
        for fn in reversed(undo):
            fn()
    both = r.out + r.err
    assert "Traceback" not in both and "internal error" not in both, r
    assert r.code == case["exit"], r
    assert expand(case["line"], tmp_path) in both, r
