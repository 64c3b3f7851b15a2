"""verify's lines say what was found: no OK mark for a file that is not the catalog's,
and every sentence of a file's explanation begins with a capital."""

from __future__ import annotations

import hashlib
import re

import pytest

from stager.catalog.demo import build_demo_catalog

BUNDLE = "PULSE22_OCPP318_KIP313A_FR.tar.gz"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("demo") / "catalog")


def _stage(folder, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)
    (folder / f"{name}.sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  {name}\n")


def test_a_file_that_is_not_the_catalogs_gets_no_ok_mark(run_stager, demo, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    _stage(card, BUNDLE, b"not the catalog's bytes")
    r = run_stager("verify", "--target", card, "--catalog", demo)
    assert r.code == 6, r
    assert not [line for line in r.out.splitlines() if line.startswith("OK") and BUNDLE in line], r.out
    assert f"FAIL {BUNDLE}" in r.out, r.out


def test_each_sentence_of_a_files_explanation_begins_with_a_capital(run_stager, tmp_path):
    card = tmp_path / "card"
    card.mkdir()
    (card / "FIRMWARE_X.bin").write_bytes(b"firmware-like, no sidecar")
    r = run_stager("verify", "--target", card)
    assert r.code != 0, r
    assert "No FIRMWARE_X.bin.sha256 beside it" in r.out, r.out
    assert not re.search(r"\. [a-z]", r.out.replace("e.g. ", "")), r.out
