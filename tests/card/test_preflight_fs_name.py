"""The --allow-any-fs warning names the file system as people know it (NTFS, not ntfs)."""

from __future__ import annotations

import pytest

from stager.card.preflight import preflight


@pytest.mark.parametrize("fstype,shown", [("ntfs", "NTFS"), ("ntfs3", "NTFS"), ("ext4", "ext4")])
def test_the_warning_names_the_file_system_as_shown_elsewhere(tmp_path, fstype, shown):
    pre = preflight([], tmp_path, fstype=fstype, free_bytes=10**9, dry_run=True)
    (warning,) = [w for w in pre.warnings if "file system is" in w]
    assert f"the card's file system is {shown}:" in warning, warning
