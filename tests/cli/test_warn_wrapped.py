"""Warnings and notices on standard error are wrapped to the terminal's width, in a
real terminal (tmux at 80 columns): no word cut in two, as the trust notice was."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid

import pytest

from stager.catalog.demo import build_demo_catalog

pytestmark = pytest.mark.skipif(not shutil.which("tmux"), reason="needs tmux")


def test_the_trust_notice_is_wrapped_at_80_columns(tmp_path, stager_exe):
    cat = build_demo_catalog(tmp_path / "cat")
    sock = f"stager-test-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", sock, "-f", "/dev/null"]
    cmd = f"env NO_COLOR=1 STAGER_HOME={shlex.quote(str(tmp_path / 'home'))} {shlex.quote(stager_exe)} "
    cmd += "catalog verify --catalog cat; echo EXIT=$?; sleep 600"  # a short path: no word is wider
    subprocess.run([*tmux, "new-session", "-d", "-x", "80", "-y", "50", "-c", str(cat.parent), cmd], check=True)
    try:
        deadline, screen = time.monotonic() + 60, ""
        while time.monotonic() < deadline and "EXIT=" not in screen:
            time.sleep(0.1)
            screen = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout
        assert "EXIT=0" in screen, screen
        text = " ".join(screen.split())
        assert "Notice: no trusted key is set" in text and "accidental damage only" in text, screen
        assert "'stager config show'" in text, screen
        lines = screen.splitlines()
        notice = lines[: next(i for i, line in enumerate(lines) if "config show" in line) + 1]
        assert all(len(line) < 80 for line in notice), screen
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
