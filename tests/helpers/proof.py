"""What the real-card proof tests share (tests/cards/test_proof.py and the tests built on
it): one p22/212 firmware file in a catalog, and prepare run on it."""

from __future__ import annotations

import hashlib
import os

from stager.catalog.index import INDEX_NAME, format_index_line

NAME = "OCPP212_KIP241A_FR.bin"
MiB = 1024 * 1024


def make_catalog(cat, size):
    cat.mkdir()
    data = os.urandom(size)
    (cat / NAME).write_bytes(data)
    (cat / INDEX_NAME).write_bytes(format_index_line(hashlib.sha256(data).hexdigest(), NAME))
    return cat, data


ARGS = ["prepare", "-m", "p22", "-k", "212", "--lang", "FR", "--json", "--allow-any-fs"]  # ext4 cards too


def prepare(run_stager, catalog, *extra):
    return run_stager(*ARGS, "--catalog", catalog, "--yes", *extra)
