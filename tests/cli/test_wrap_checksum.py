"""A catalog file's line wrapped at the terminal's width keeps 'sha256' with its digest
(at 100 columns the line of an 8 MiB bundle is 100 characters long)."""

from __future__ import annotations

from stager.cli import output

LINE = "  PULSE22_OCPP318_KIP313A_FR.tar.gz  (bundle, 8.0 MiB (8,391,753 bytes), sha256 7e685ffa12345678...)"


def test_sha256_stays_with_its_digest(monkeypatch):
    monkeypatch.setattr(output, "width", lambda stream=None: 100)
    lines = output.wrapped([LINE])
    assert len(lines) == 2 and all(len(line) < 100 for line in lines), lines
    assert not lines[0].rstrip().endswith("sha256"), lines
    assert lines[1].strip().startswith("sha256 7e685ffa12345678..."), lines
