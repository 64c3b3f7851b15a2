"""Hostile and broken inputs through the installed stager: one file a case in
tests/bad_inputs/ (see its README.md), each run by this one parametrised test.

A case gives the command, its setup (files, FIFOs, a damaged rules folder, a locked
file, a dead mount...) and environment, the exit code and a line the output must hold.
No case may end in a traceback, the "internal error" line, or a hang: a command that
does not end within the case's timeout fails the test with a clear message (the
timeout only catches hangs; nothing is measured).
"""

from __future__ import annotations

import pytest
from helpers.bad_inputs import all_cases, expand, load_case, run_case


@pytest.mark.parametrize("path", all_cases(), ids=lambda p: p.stem)
def test_bad_input(path, run_stager, tmp_path):
    case = load_case(path)
    r = run_case(case, path.name, run_stager, tmp_path)
    both = r.out + r.err
    assert "Traceback" not in both and "internal error" not in both, r
    assert r.code == case["exit"], r
    assert expand(case["line"], tmp_path) in both, r
