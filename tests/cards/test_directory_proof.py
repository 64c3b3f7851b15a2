"""Issue 12: the card's directory is proved too. A medium that drops the writes of the
directory's sectors once the file got its firmware name (the file's bytes intact) must
fail the run (exit 6) and leave nothing under a firmware name; and on a FUSE card whose
block device cache cannot be dropped, the read-back unmounts and mounts the card again."""

from __future__ import annotations

import pytest
from faulty.medium import drop_writes
from helpers.proof import NAME, MiB, make_catalog, prepare

from stager.card import readback
from stager.card.pin import pin_card
from stager.rules.names import is_firmware_name

pytestmark = pytest.mark.cards


def directory_key(fs: str) -> bytes:
    """Bytes found only in the directory sectors holding the firmware's own name (and its
    sidecar's), never in its temporary name's entries: the UTF-16 name as the file system
    stores it in one piece (a FAT long-name entry holds 5 characters first, an exFAT
    name entry 15)."""
    return NAME[: 5 if fs == "fat32" else 15].encode("utf-16-le")


@pytest.mark.parametrize("fs", ["fat32", "exfat"])
def test_a_dropped_write_of_the_directory_entry_fails_the_run(run_stager, make_faulty_card, tmp_path, fs):
    catalog, _data = make_catalog(tmp_path / "cat", 2 * MiB)
    card = make_faulty_card(fs)
    card.set_faults(drop_writes(match=directory_key(fs)))
    r = prepare(run_stager, catalog, "--target", card.mountpoint)
    hits = card.medium.faults()[0]["hits"]
    assert hits >= 1, f"the medium dropped nothing: the test proves nothing ({card.stats()})"
    assert r.code == 6, r
    card.clear()
    card.eject()
    assert [n for n in card.files() if is_firmware_name(n) or n.endswith(".sha256")] == [], card.files()


class NoDeviceRights(readback.System):
    """A user who may not open the card's block device (no BLKFLSBUF, no posix_fadvise on it)."""

    def drop_cache(self, device):
        return f"{device} cannot be opened to drop its cache (Permission denied)"


@pytest.mark.parametrize("fs", ["fat32", "exfat"])
def test_without_rights_on_the_device_the_card_is_remounted(make_faulty_card, tmp_path, fs):
    card = make_faulty_card(fs)
    data = make_catalog(tmp_path / "cat", 2 * MiB)[1]
    (card.mountpoint / NAME).write_bytes(data)
    pin = pin_card(card.mountpoint)
    try:
        card.medium.reset_stats()
        rb = readback.read_back(pin, NAME, system=NoDeviceRights())
        assert rb.method == "remounted", rb.why
        assert card.stats()["reread_bytes"] >= len(data)  # the bytes came from the medium
        assert pin.files() == [(NAME, len(data))] or (NAME, len(data)) in pin.files()  # the pin holds the new mount
    finally:
        pin.close()
    card.eject()
    assert card.read(NAME) == data
