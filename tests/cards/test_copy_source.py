"""The copy is not hashed (the read-back is compared with the index): a source whose bytes
change during the copy is still told apart from a failing card (issue-12 benchmark)."""

from __future__ import annotations

import hashlib
import io
import os

from stager.card.staging import FileOps, Source, Target, stage

NAME = "OCPP212_KIP241A_FR.bin"


class ChangedOnDisk(FileOps):
    """The catalog's file changes on disk right after the copy read it."""

    def __init__(self, path):
        self.path = path

    def open_source(self, path):
        data = path.read_bytes()
        with open(self.path, "r+b") as f:
            f.seek(1000)
            f.write(b"\xff" * 16)
        return io.BytesIO(data[:1000] + b"\xff" * 16 + data[1016:])


def test_a_source_that_changed_during_the_copy_is_a_catalog_error(tmp_path):
    data = os.urandom(3 * 1024 * 1024)
    src = tmp_path / NAME
    src.write_bytes(data)
    card = tmp_path / "card"
    card.mkdir()
    (r,) = stage(
        [Source(src, NAME, hashlib.sha256(data).hexdigest(), len(data))], [Target(card)], ops=ChangedOnDisk(src)
    )
    assert not r.ok and r.error.code == "damaged" and r.error.exit_code == 4, r.error
    assert os.listdir(card) == []  # never staged, the copy removed


class FlippedOnCard(FileOps):
    def read_back(self, pin, name, **kw):
        rb = super().read_back(pin, name, **kw)
        if name.endswith(".part") and ".sha256" not in name:
            rb.sha256 = "0" * 64  # the card gave other bytes
        return rb

    def locate(self, pin, name, blocks, stop=None):
        rb = super().locate(pin, name, blocks, stop=stop)
        rb.bad_block, rb.kept = 1, b"x"  # its second block differs from the first byte on
        return rb


def test_a_card_that_differs_is_located_from_the_source_block_digests(tmp_path):
    data = os.urandom(3 * 1024 * 1024)
    src = tmp_path / NAME
    src.write_bytes(data)
    card = tmp_path / "card"
    card.mkdir()
    (r,) = stage([Source(src, NAME, hashlib.sha256(data).hexdigest(), len(data))], [Target(card)], ops=FlippedOnCard())
    assert r.error.code == "verification-failed" and r.error.exit_code == 6
    assert r.error.details["first_difference"] == 1024 * 1024 + (0 if data[1024 * 1024] != ord("x") else 1)


def _damaged_catalog(tmp_path):
    from stager.catalog.index import INDEX_NAME, format_index_line

    cat = tmp_path / "cat"
    cat.mkdir()
    data = os.urandom(1024 * 1024)
    (cat / NAME).write_bytes(data)
    (cat / INDEX_NAME).write_bytes(format_index_line(hashlib.sha256(data + b"!").hexdigest(), NAME))  # not its bytes
    return cat


ARGS = ["prepare", "-m", "p22", "-k", "212", "--lang", "FR", "--allow-fixed", "--json"]


def test_with_yes_a_damaged_catalog_file_is_still_exit_4_and_never_staged(run_stager, tmp_path):
    cat, card = _damaged_catalog(tmp_path), tmp_path / "card"
    card.mkdir()
    r = run_stager(*ARGS, "--catalog", cat, "--target", card, "--yes")
    assert r.code == 4, r
    assert r.json()["targets"][0]["error"]["code"] == "damaged"
    assert os.listdir(card) == []  # its temporary copy and the lock removed


def test_with_yes_and_clean_a_damaged_catalog_file_leaves_the_old_firmware(run_stager, tmp_path):
    cat, card = _damaged_catalog(tmp_path), tmp_path / "card"
    card.mkdir()
    (card / "OCPP212_KIP240A_FR.bin").write_bytes(b"old firmware")
    r = run_stager(*ARGS, "--catalog", cat, "--target", card, "--yes", "--clean")
    assert r.code == 4, r
    assert sorted(os.listdir(card)) == ["OCPP212_KIP240A_FR.bin"]  # the old firmware is never lost
