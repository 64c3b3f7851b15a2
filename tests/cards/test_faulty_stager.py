"""stager on faulty media (issue 12): a card that loses what it is given must never be STAGED."""

from __future__ import annotations

import hashlib
import os

import pytest
from faulty.medium import drop_writes

from stager.catalog.folder import INDEX_NAME, format_index_line

pytestmark = pytest.mark.cards
NAME = "OCPP212_KIP241A_FR.bin"
MiB = 1024 * 1024


@pytest.fixture
def firmware(tmp_path):
    """A catalog holding one 4 MiB p22/212 firmware file: (catalog, its bytes)."""
    cat = tmp_path / "catalog"
    cat.mkdir()
    data = os.urandom(4 * MiB)
    (cat / NAME).write_bytes(data)
    (cat / INDEX_NAME).write_bytes(format_index_line(hashlib.sha256(data).hexdigest(), NAME))
    return cat, data


def prepare(run_stager, catalog, *extra):
    return run_stager(
        "prepare",
        "-m",
        "p22",
        "-k",
        "212",
        "--lang",
        "FR",
        "--catalog",
        catalog,
        "--yes",
        "--json",
        "--allow-any-fs",  # ext4 cards too
        *extra,
    )


ON_EVERY_CARD = ["fat32", "exfat", "ext4"]  # issue 12: the read-back now reaches the medium on every card


@pytest.mark.parametrize("fs", ON_EVERY_CARD)
def test_prepare_onto_a_card_that_drops_writes_is_not_staged(run_stager, make_faulty_card, firmware, fs):
    catalog, data = firmware
    card = make_faulty_card(fs)
    card.set_faults(drop_writes(match=data[MiB : MiB + 512]))  # the write carrying these bytes is lost
    r = prepare(run_stager, catalog)
    card.flush_device()  # whatever stager left in the page cache reaches the medium now
    if card.medium.faults()[0]["hits"] < 1:
        pytest.fail(f"the medium dropped nothing: the test proves nothing ({card.stats()})")
    assert r.code in (5, 6), r
    card.clear()
    card.eject()
    assert NAME not in card.files()


@pytest.mark.parametrize("fs", ON_EVERY_CARD)
def test_the_read_back_reads_the_whole_file_from_the_medium(run_stager, make_faulty_card, firmware, fs):
    catalog, data = firmware
    card = make_faulty_card(fs)
    with card.count_reads() as reads:
        r = prepare(run_stager, catalog)
    if r.code != 0:
        pytest.fail(f"a sound card must be staged: {r}")
    assert reads.bytes >= len(data), f"the device read {reads.bytes} bytes"
    # the device counter also counts fusefat's read-modify-write before each write: the
    # medium says whether the bytes it was given were read back
    assert reads.reread_bytes >= len(data), f"{reads.reread_bytes} bytes read back from the medium"
    card.eject()
    assert card.read(NAME) == data
