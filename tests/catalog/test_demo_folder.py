"""The repository's ``catalog/`` folder is the demo catalog, byte for byte."""

from __future__ import annotations

import subprocess
from pathlib import Path

from stager.catalog.demo import build_demo_catalog

REPO = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_catalog_folder_is_what_the_demo_builder_writes(tmp_path):
    built = build_demo_catalog(tmp_path / "demo")
    shipped, fresh = _tree(REPO / "catalog"), _tree(Path(built))
    assert sorted(shipped) == sorted(fresh), "run scripts/make_demo_catalog.py"
    changed = [name for name in fresh if shipped[name] != fresh[name]]
    assert not changed, f"catalog/ is stale ({changed[:3]}...): run scripts/make_demo_catalog.py"


def test_catalog_folder_passes_sha256sum_c():
    proc = subprocess.run(
        ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=REPO / "catalog", capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
