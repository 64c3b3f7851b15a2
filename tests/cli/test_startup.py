"""What keeps `stager check` instant: it imports only what it needs (no psutil, tqdm,
cryptography, platformdirs, catalog or staging code) and parses the rules once."""

import json
import subprocess
import sys

PROBE = """
import sys, json
sys.argv = ["stager", "check", "--model", "p22", "--kit", "318", "--json"]
import stager.rules.loader as data
calls = []
real = data.load_rules
data.load_rules = lambda *a, **k: calls.append(1) or real(*a, **k)
from stager.cli import main
try:
    main()
except SystemExit:
    pass
heavy = ("psutil", "tqdm", "cryptography", "platformdirs", "stager.catalog.folder", "stager.card.staging",
         "stager.card.media", "stager.catalog.settings")
heavy = [m for m in heavy if m in sys.modules]
print(json.dumps({"heavy": heavy, "loads": len(calls)}), file=sys.stderr)
"""


def test_check_imports_nothing_heavy_and_parses_rules_once():
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"heavy": [], "loads": 1}
    assert json.loads(proc.stdout)["allowed"] is True
