"""What the technician reads after a staging (stager.cli.render): the read-back method
said as it took effect, and no reassurance a failed removal would contradict."""

from __future__ import annotations

from pathlib import Path


def test_a_cached_read_back_never_claims_the_card_was_read():
    from stager.cli.render import file_line

    line = file_line("FW.BIN", "copied", "cached", "the folder is on tmpfs: memory, not a card", "/media/x")
    assert "read back from the card" not in line and "not proved" in line
    assert "eject the card, insert it again, then run: stager verify --target /media/x" in line
    proved = file_line("FW.BIN", "copied", "direct", "", "/media/x")
    assert "read back from the card matches the catalog" in proved and "cache bypassed" in proved


def test_a_removal_that_failed_is_never_followed_by_nothing_half_written():
    from types import SimpleNamespace

    from stager.card.staging import TargetResult
    from stager.cli.render import result_lines
    from stager.errors import MediaError

    r = TargetResult(path=Path("/media/x"), error=MediaError("the card is full", code="media-full"))
    r.cleaned = [".stager-FW.BIN.1234abcd.part"]
    r.left = ["/media/x/FW.BIN.sha256 (could not be removed: Input/output error)"]
    plan = SimpleNamespace(targets=(), decision=SimpleNamespace(conditions=()))
    text = "\n".join(result_lines(plan, [r], None))
    assert "nothing half-written" not in text
    assert "/media/x/FW.BIN.sha256 (could not be removed: Input/output error)" in text
