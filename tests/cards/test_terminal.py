"""The run as a technician sees it, in a real terminal (tmux, 80 columns): the question
comes after every check and lists what --clean removes; the picker for several cards;
no progress-bar fragment is left on screen."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from stager.catalog.index import INDEX_NAME, format_index_line

pytestmark = [pytest.mark.cards, pytest.mark.skipif(not shutil.which("tmux"), reason="needs tmux")]
BUNDLE = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
OLD = "OCPP212_KIP241A_FR.bin"
FRAGMENT = re.compile(r"\d+%\||B/s|it/s|\?B|\[\d\d:\d\d")


class Tmux:
    def __init__(self, width=80, height=50):
        self.sock = f"stager-test-{uuid.uuid4().hex[:8]}"
        self.width, self.height = width, height

    def tmux(self, *args, check=True) -> str:
        proc = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", *args], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {args}: {proc.stderr}")
        return proc.stdout

    def start(self, argv, env) -> None:
        line = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        line += " " + " ".join(shlex.quote(str(a)) for a in argv) + "; echo EXIT=$?; sleep 600"
        self.tmux("new-session", "-d", "-x", str(self.width), "-y", str(self.height), "env " + line)

    def screen(self, joined: bool = False) -> str:
        """The whole pane, history included, as the terminal shows it (80 columns); with
        ``joined`` the lines the terminal wrapped are joined back as the program wrote them."""
        return self.tmux("capture-pane", "-p", *(["-J"] if joined else []), "-S", "-", "-E", "-")

    def wait_for(self, *texts: str, timeout: float = 180) -> str:
        """Poll the pane until every text is on it, then return its words in one line (the
        line breaks and indents of wrapping ignored, so a phrase is found wherever the
        width of a path made it wrap). Fails with the screen when they are not all there
        by ``timeout`` or when the command ended without them (EXIT= is on screen)."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(joined=True)
            words = flat(screen)
            missing = [text for text in texts if flat(text) not in words]
            if not missing:
                return words
            if "EXIT=" in screen or time.monotonic() > deadline:
                raise AssertionError(f"never appeared on screen: {missing}\n{screen}")
            time.sleep(0.1)

    def send(self, *keys) -> None:
        self.tmux("send-keys", *keys)

    def kill(self) -> None:
        socket = self.tmux("display-message", "-p", "#{socket_path}", check=False).strip()
        self.tmux("kill-server", check=False)
        if socket:  # tmux leaves its socket file behind when its server is killed
            Path(socket).unlink(missing_ok=True)


@pytest.fixture
def term():
    t = Tmux()
    yield t
    t.kill()


def big_catalog(root: Path, size: int = 24 * 1024 * 1024) -> Path:
    root.mkdir(parents=True)
    data = os.urandom(size)
    (root / BUNDLE).write_bytes(data)
    (root / INDEX_NAME).write_bytes(format_index_line(hashlib.sha256(data).hexdigest(), BUNDLE))
    return root


def flat(text: str) -> str:
    return " ".join(text.split())


def env_for(tmp_path) -> dict:
    return {"STAGER_HOME": str(tmp_path / "home"), "NO_COLOR": "1", "PATH": os.environ.get("PATH", "")}


def no_fragments(screen: str) -> None:
    left = [line for line in screen.splitlines() if FRAGMENT.search(line)]
    assert not left, "progress-bar fragments left on screen:\n" + "\n".join(left) + "\n---\n" + screen
    assert all(len(line) <= 80 for line in screen.splitlines())


def test_the_question_comes_after_every_check_and_lists_what_clean_removes(term, make_card, tmp_path, stager_exe):
    cat = big_catalog(tmp_path / "cat")
    card = make_card()
    (card.mountpoint / OLD).write_bytes(b"old firmware")
    argv = [stager_exe, "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", cat, "--clean"]
    term.start(argv, env_for(tmp_path))
    screen = term.wait_for("[y/N]")
    before = screen[: screen.index("[y/N]")]
    assert f"--clean removes: {OLD}" in before and "once the new file is verified" in before, screen
    assert "free space is unknown" in before  # the card's findings, printed before the question
    assert before.index("Ready to write 1 of 1 card(s)") < before.index("Write this card as listed above?")
    assert BUNDLE not in os.listdir(card.mountpoint) and OLD in os.listdir(card.mountpoint)
    term.send("y", "Enter")
    screen = term.wait_for("Summary: 1 of 1 card(s) ready.", "EXIT=")
    assert "EXIT=0" in screen, screen
    after = screen[screen.index("[y/N]") :]
    assert "READY" in after
    assert "already holds firmware" not in after and "too small" not in after  # nothing new after "y"
    no_fragments(term.screen())
    held = sorted(n for n in os.listdir(card.mountpoint) if n.lower().endswith((".bin", ".gz", ".sha256", ".part")))
    assert held == [BUNDLE, f"{BUNDLE}.sha256"]  # (fusefat also lists the volume label as a file)
    print(screen)


def test_the_picker_with_several_cards_and_no_fragment_left(term, make_card, tmp_path, stager_exe):
    cat = big_catalog(tmp_path / "cat")
    a, b = make_card(label="CARD A"), make_card("exfat", label="CARD B")
    argv = [stager_exe, "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", cat]
    term.start(argv, env_for(tmp_path))
    screen = term.wait_for("Which card(s) to write?")
    assert "2 cards are inserted:" in screen and "1. " in screen and "2. " in screen
    assert f"1. {a.mountpoint} ({a.device}, 'CARD A', FAT32," in screen, screen
    assert f"2. {b.mountpoint} ({b.device}, 'CARD B', exFAT," in screen, screen
    term.send("7", "Enter")  # not a card: asked again
    term.wait_for("Type one or more numbers from 1 to 2")
    term.send("all", "Enter")
    screen = term.wait_for("[y/N]")
    assert "Ready to write 2 of 2 card(s)" in screen
    term.send("y", "Enter")
    screen = term.wait_for("Summary: 2 of 2 card(s) ready.", "EXIT=")
    assert "EXIT=0" in screen, screen
    no_fragments(term.screen())
    for card in (a, b):
        assert BUNDLE in os.listdir(card.mountpoint)
