"""Progress bars leave the cursor at the start of a line: a bar closed below the first
(tqdm clears its line with spaces and moves back up without a carriage return) must not
leave the next message starting at the last column, where the terminal wraps it."""

from __future__ import annotations

import io
import re

import pytest

from stager.cli import progress

COLUMNS = 80


class Screen:
    """A terminal just smart enough for tqdm: CR, LF, cursor up, wrap at the last column."""

    def __init__(self, text: str, columns: int = COLUMNS):
        self.rows: dict[int, list[str]] = {}
        self.row = self.col = 0
        pending = False  # a character written in the last column: the next one wraps
        for token in re.findall(r"\x1b\[A|.|\n", text, flags=re.S):
            if token == "\r":
                self.col, pending = 0, False
            elif token == "\n":
                self.row, pending = self.row + 1, False
            elif token == "\x1b[A":
                self.row, pending = max(0, self.row - 1), False
            else:
                if pending:
                    self.row, self.col, pending = self.row + 1, 0, False
                self.rows.setdefault(self.row, [" "] * columns)[self.col] = token
                if self.col == columns - 1:
                    pending = True
                else:
                    self.col += 1
        self.pending = pending

    def lines(self) -> list[str]:
        return ["".join(self.rows.get(r, [])).rstrip() for r in range(max(self.rows, default=0) + 1)]


@pytest.mark.parametrize("order", [(0, 1, 2), (0, 2, 1), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
def test_three_bars_closed_in_any_order_leave_the_cursor_at_a_line_start(monkeypatch, order):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    bars = [progress.card_bar(3 * 1024 * 1024, f"copy CARD{i} loop{i}") for i in range(3)]
    for bar in bars:
        bar.update(1024 * 1024)
    for i in order:
        bars[i].close()
    stream.write("Summary: 3 of 3 card(s) ready.\n")
    screen = Screen(stream.getvalue())
    assert any(line.startswith("Summary: 3 of 3") for line in screen.lines()), screen.lines()
    assert all(len(line) < COLUMNS for line in screen.lines()), screen.lines()
