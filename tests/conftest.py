"""Shared fixtures: run the installed ``stager`` as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Tests are English unless a test asks for another language (docs/i18n.md): stager.cli
# installs the language when it is imported, and every `stager` the tests run inherits this.
# A test in French gives env={"STAGER_UI_LANG": "fr"} (or "" and LANG=...), or installs it.
os.environ["STAGER_UI_LANG"] = "en"


@pytest.fixture(autouse=True)
def _a_fresh_stop_state():
    """Every test starts with no stop asked and no file of an earlier test's run in the
    process-wide stop state (stager.card.stop.STATE), as every `stager` process does."""
    from stager.card.stop import STATE

    STATE.reset()
    yield
    STATE.reset()


@pytest.fixture(autouse=True)
def _no_folder_of_this_user(tmp_path, monkeypatch):
    """Every test, and every `stager` it runs, keeps its history, state and settings in
    folders of its own: a STAGER_HOME, STAGER_CONFIG, STAGER_CATALOG or XDG folder the
    developer has set never leaks in, and a test never writes to the developer's own
    history. A test that needs one of these sets it (monkeypatch, or run_stager's env)."""
    monkeypatch.setenv("STAGER_HOME", str(tmp_path / "stager-home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg-site"))
    for name in ("STAGER_CONFIG", "STAGER_CATALOG", "STAGER_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def stager_executable() -> str:
    """The ``stager`` console script installed beside this Python (the venv's)."""
    here = Path(sys.executable).parent / ("stager.exe" if os.name == "nt" else "stager")
    if here.exists():
        return str(here)
    found = shutil.which("stager")
    if not found:
        pytest.fail("the stager command is not installed: run pip install '.[test]' first")
    return found


class Result:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"<exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}>"


@pytest.fixture
def run_stager():
    """run_stager('check', '--model', 'p22', ...) -> Result(code, out, err)."""

    def run(*args, env=None, input=None, timeout=120, cwd=None, close_stdin=False):
        # the test's own folders (_no_folder_of_this_user), or what the test set itself
        full_env = dict(os.environ)
        full_env["NO_COLOR"] = "1"
        if env:
            full_env.update(env)
        proc = subprocess.run(
            [stager_executable(), *map(str, args)],
            capture_output=True,
            text=True,
            env=full_env,
            input=input,
            timeout=timeout,
            cwd=cwd,
            preexec_fn=(lambda: os.close(0)) if close_stdin else None,  # as `<&-` does
        )
        return Result(proc)

    return run


@pytest.fixture
def stager_exe() -> str:
    """The path of the installed stager, for tests that drive the process themselves."""
    return stager_executable()


@pytest.fixture
def minisign_required():
    """The minisign tool, the independent oracle of the signature tests: skipped where it
    is missing (apt install minisign), a failure on CI (CI=true), where .ci/run installs it."""
    path = shutil.which("minisign")
    if path is None:
        why = "the minisign tool is not installed (apt install minisign)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"on CI the signature tests must run: {why}")
        pytest.skip(why)
    return path
