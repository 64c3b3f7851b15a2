"""Standard output that cannot be written: a full device is one clear line on standard
error and exit 5 (docs/cli.md), never Python's "Exception ignored" and exit 120; a
closed pipe (`| head`) stays quiet."""

from __future__ import annotations

import os
import subprocess

import pytest

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


@pytest.mark.parametrize("args", [["matrix"], ["matrix", "--json"], ["check", "-m", "p22", "-k", "318"]])
def test_stdout_on_a_full_device_is_a_clear_line_and_exit_5(stager_exe, tmp_path, args):
    env = {**os.environ, "STAGER_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    with open("/dev/full", "w") as full:
        r = subprocess.run([stager_exe, *args], stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert r.returncode == 5, r.stderr
    assert "Error: the output could not be written to standard output" in r.stderr
    assert "Exception ignored" not in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_closed_pipe_stays_quiet(stager_exe, tmp_path):
    env = {**os.environ, "STAGER_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    proc = subprocess.Popen([stager_exe, "matrix"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()  # as `| head -c 10` does
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Exception ignored" not in err and "Traceback" not in err and "Error:" not in err, err


@pytest.mark.parametrize("args", [["check", "--model", "p22", "--kit", "318"], ["matrix", "--json"], ["matrix"]])
def test_a_pipe_closed_before_the_output_is_exit_5_and_quiet(stager_exe, tmp_path, args):
    """docs/cli.md, exit 5: standard output could not be written; a closed pipe stays
    quiet. The reader is gone before stager writes, so every write meets EPIPE, whether
    during the command or at its last flush (it was exit 1, "a bug", or 0)."""
    env = {**os.environ, "STAGER_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [stager_exe, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, timeout=60
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr == "", proc.stderr
