"""A mount that no longer answers is not offered by the picker, which names it with why."""

from __future__ import annotations

import os

from stager.card.media import Medium
from stager.card.targets import resolve_targets


def test_the_picker_is_told_which_card_cannot_be_offered_and_why(tmp_path):
    a, b = (
        Medium(str(tmp_path / n), f"/dev/sd{n}1", removable=True, why="removable flag", fstype="vfat") for n in "bc"
    )
    gone = Medium(str(tmp_path / "d"), "/dev/sdd1", removable=True, why="removable flag", verdict="gone")
    for m in (a, b, gone):
        os.makedirs(m.mountpoint)
    seen = {}

    def choose(found, unusable=()):
        seen.update(found=[m.mountpoint for m in found], unusable=list(unusable))
        return found[:1]

    plans = resolve_targets([], detect=lambda: [a, gone, b], medium_for_path=lambda p: None, choose=choose)
    assert [str(p.path) for p in plans] == [a.mountpoint]
    assert seen["found"] == [a.mountpoint, b.mountpoint]
    (why,) = seen["unusable"]
    assert gone.mountpoint in why and "no longer answers" in why
