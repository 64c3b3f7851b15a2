"""A firmware file's format is told by stager.rules.names alone (the catalog's structure
check asks it rather than listing the extensions again: tests/catalog/test_structure_kinds.py)."""

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
