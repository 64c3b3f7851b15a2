"""Write the demo firmware catalog into the repository's ``catalog/`` folder.

``catalog/`` is the demo catalog that ``stager demo`` builds and that the README's
examples use (``--catalog catalog``). Its bytes are deterministic; the test
``tests/catalog/test_demo_folder.py`` fails when it no longer matches the builder.
Run after changing the rules or the naming convention:

    .venv/bin/python scripts/make_demo_catalog.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from stager.catalog.demo import build_demo_catalog

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    target = REPO / "catalog"
    if target.exists():
        shutil.rmtree(target)
    build_demo_catalog(target)
    print(f"wrote {sum(1 for p in target.rglob('*') if p.is_file())} files into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
