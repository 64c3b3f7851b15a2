"""Write ``stager/rules/parsed.json``: the package's rules and naming TOML files, parsed.

Each run of stager reads ``rules.toml``, ``routers.toml`` and ``names.toml``; importing and
running the TOML parser for them cost about 7 ms of a 1 KiB staging. ``parsed.json`` holds
each file's document beside the SHA-256 of the text it was parsed from, and stager uses a
document only for exactly that text (stager.rules.loader): the TOML files stay the one
source, an edited file is parsed as it is. The test ``tests/rules/test_parsed_record.py``
fails when the record is not current. Run after changing any of the three files:

    .venv/bin/python scripts/parse_rules.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from stager.rules.loader import PARSED_FILE, parsed_record

RULES = Path(__file__).resolve().parent.parent / "stager" / "rules"


def main() -> int:
    (RULES / PARSED_FILE).write_text(parsed_record(RULES), encoding="utf-8")
    print(f"wrote {RULES / PARSED_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
