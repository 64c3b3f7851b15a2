"""A firmware file's format is told by stager.rules.names alone (the catalog's structure
check asks it rather than listing the extensions again)."""

from __future__ import annotations

import pytest

from stager.rules.names import FIRMWARE_EXTENSIONS, firmware_format, is_firmware_name


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("PULSE22_KIT-313A_FR.bin", "bin"),
        ("a/b/PULSE22_OCPP318_KIP313A_FR.TAR.GZ", "tar.gz"),
        ("PULSE22_TERMINAL_V4.Hex", "hex"),
        ("notes.gz", None),
        ("firmware.tar", None),
        ("readme.txt", None),
    ],
)
def test_the_format_is_read_from_the_extension_in_any_case(name, kind):
    assert firmware_format(name) == kind
    assert is_firmware_name(name) == (kind is not None)


def test_every_firmware_extension_has_its_format():
    assert [firmware_format(f"x{ext}") for ext in FIRMWARE_EXTENSIONS] == ["bin", "tar.gz", "hex"]


def test_the_structure_check_skips_what_is_not_firmware_and_checks_what_is(tmp_path):
    from stager.catalog.structure import check_structure

    (tmp_path / "notes.txt").write_bytes(b"")
    (tmp_path / "EMPTY.HEX").write_bytes(b"")
    assert check_structure(tmp_path / "notes.txt") is None
    problem = check_structure(tmp_path / "EMPTY.HEX")
    assert problem is not None and problem.where == "byte 0"
