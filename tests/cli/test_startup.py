"""What keeps `stager check` instant: it imports only what it needs (no psutil, tqdm,
cryptography, platformdirs, the TOML parser, catalog or staging code) and parses the rules once."""

import hashlib
import json
import os
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
heavy = ("psutil", "tqdm", "cryptography", "platformdirs", "tomllib", "stager.catalog.folder", "stager.card.staging",
         "stager.card.media", "stager.catalog.settings")
heavy = [m for m in heavy if m in sys.modules]
print(json.dumps({"heavy": heavy, "loads": len(calls)}), file=sys.stderr)
"""


def test_check_imports_nothing_heavy_and_parses_rules_once():
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"heavy": [], "loads": 1}
    assert json.loads(proc.stdout)["allowed"] is True


STAGING_PROBE = """
import atexit, json, sys
unwanted = {"tomllib", "dataclasses", "platformdirs", "tempfile", "shutil", "shlex", "queue"}
atexit.register(lambda: print(json.dumps(sorted(unwanted & set(sys.modules))), file=sys.stderr))
sys.argv = ["stager", "prepare", *sys.argv[1:]]
from stager.cli import main
main()
"""


def test_a_staging_with_no_settings_file_runs_without_the_toml_parser(tmp_path):
    """The rules come from their parsed record, a settings file is parsed only when there
    is one, and Linux folders and the temporary folder are stager's own: a 1 KiB staging
    to a folder imports no TOML parser, no platformdirs, no tempfile and no shutil (which
    imports lzma and bz2), and no shlex until a command is suggested."""
    catalog, card = tmp_path / "catalog", tmp_path / "card"
    catalog.mkdir()
    card.mkdir()
    data = bytes(range(256)) * 4
    (catalog / "OCPP212_KIP241A_FR.bin").write_bytes(data)
    (catalog / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  OCPP212_KIP241A_FR.bin\n")
    args = ["--model", "p22", "--kit", "212", "--terminal", "241", "--lang", "FR", "--catalog", str(catalog)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STAGER_", "XDG_"))}
    env.update(HOME=str(tmp_path / "home"), STAGER_HOME=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, "-c", STAGING_PROBE, *args, "--target", str(card), "--allow-fixed", "--yes", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True
    assert (card / "OCPP212_KIP241A_FR.bin").read_bytes() == data
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []
