"""Choosing the targets of `prepare` (media probes replayed by fakes)."""

from dataclasses import dataclass

import pytest

from stager.card.targets import resolve_targets
from stager.errors import MediaError


@dataclass(frozen=True)
class FakeMedium:
    mountpoint: str
    device: str = "/dev/sdb1"
    label: str | None = "PULSECARD"
    fstype: str = "vfat"
    size_bytes: int | None = 128_000_000
    free_bytes: int | None = 100_000_000
    removable: bool = True
    why: str = "removable flag"
    read_only: bool = False
    is_system: bool = False

    def to_json(self):
        return {"mountpoint": self.mountpoint, "device": self.device}


def test_the_one_removable_medium(tmp_path):
    card = FakeMedium(str(tmp_path))
    fixed = FakeMedium("/", device="/dev/nvme0n1p2", removable=False, is_system=True)
    (plan,) = resolve_targets([], detect=lambda: [fixed, card], medium_for_path=lambda p: None)
    assert plan.path == tmp_path and plan.label == "PULSECARD" and plan.fstype == "vfat"


def test_no_medium_exit_5(tmp_path):
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=lambda: [], medium_for_path=lambda p: None)
    assert e.value.code == "no-media" and e.value.exit_code == 5


def test_several_media_are_listed(tmp_path):
    a, b = FakeMedium(str(tmp_path / "a"), device="/dev/sdb1"), FakeMedium(str(tmp_path / "b"), device="/dev/sdc1")
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=lambda: [a, b], medium_for_path=lambda p: None)
    assert e.value.code == "several-media"
    assert "/dev/sdb1" in e.value.message and "/dev/sdc1" in e.value.message and "--target" in e.value.message


def test_a_target_on_a_fixed_disk_needs_allow_fixed(tmp_path):
    fixed = FakeMedium("/", device="/dev/vda1", removable=False, is_system=True)
    with pytest.raises(MediaError) as e:
        resolve_targets([tmp_path], detect=lambda: [], medium_for_path=lambda p: fixed)
    assert e.value.code == "not-removable" and "--allow-fixed" in e.value.message
    (plan,) = resolve_targets([tmp_path], allow_fixed=True, detect=lambda: [], medium_for_path=lambda p: fixed)
    assert plan.path == tmp_path.resolve() and not plan.removable


def test_a_target_on_a_removable_medium(tmp_path):
    card = FakeMedium(str(tmp_path))
    (plan,) = resolve_targets([str(tmp_path)], detect=lambda: [], medium_for_path=lambda p: card)
    assert plan.removable and plan.device == "/dev/sdb1"


@pytest.mark.parametrize(
    "make,code",
    [
        (lambda t: t / "missing", "target-missing"),
        (lambda t: [(t / "f").write_text("x"), t / "f"][1], "target-not-folder"),
    ],
)
def test_bad_target_paths(tmp_path, make, code):
    with pytest.raises(MediaError) as e:
        resolve_targets([make(tmp_path)], allow_fixed=True, detect=lambda: [], medium_for_path=lambda p: None)
    assert e.value.code == code


def test_the_same_target_twice(tmp_path):
    with pytest.raises(MediaError) as e:
        resolve_targets(
            [tmp_path, str(tmp_path) + "/."], allow_fixed=True, detect=lambda: [], medium_for_path=lambda p: None
        )
    assert e.value.code == "target-twice"


def test_read_only_card(tmp_path):
    card = FakeMedium(str(tmp_path), read_only=True)
    with pytest.raises(MediaError) as e:
        resolve_targets([], detect=lambda: [card], medium_for_path=lambda p: None)
    assert e.value.code == "read-only" and "lock" in e.value.message


def test_the_system_disk_root_is_never_a_target(tmp_path):
    system = FakeMedium(str(tmp_path), device="/dev/vda1", removable=False, is_system=True)
    with pytest.raises(MediaError) as e:
        resolve_targets([tmp_path], allow_fixed=True, detect=lambda: [], medium_for_path=lambda p: system)
    assert e.value.code == "system-disk"
