"""The catalog's structure check tells a firmware file's kind by asking stager.rules.names
(names.firmware_format): what is not a firmware name is not checked."""

from __future__ import annotations

from stager.catalog.structure import check_structure


def test_the_structure_check_skips_what_is_not_firmware_and_checks_what_is(tmp_path):
    (tmp_path / "notes.txt").write_bytes(b"")
    (tmp_path / "EMPTY.HEX").write_bytes(b"")
    assert check_structure(tmp_path / "notes.txt") is None
    problem = check_structure(tmp_path / "EMPTY.HEX")
    assert problem is not None and problem.where == "byte 0"
