"""A catalog you can trust, through the installed stager and the minisign tool: signed
with minisign and trusted through a settings file, staging works; a swapped file with its
line rewritten, an unsigned index, a foreign key, an older index replayed, a truncated
.tar.gz and a corrupt .hex are each refused (exit 4) with nothing written to the card."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from stager.catalog.demo import build_demo_catalog
from stager.catalog.signature import SecretKey
from stager.catalog.trust import shown_time

MINISIGN = shutil.which("minisign") or "minisign"
pytestmark = pytest.mark.usefixtures("minisign_required")
BUNDLE = "PULSE22_OCPP318_KIP313A_FR.tar.gz"
HEX = "KIP313A_FR.hex"


def minisign(*args, password=None):
    stdin = None if password is None else f"{password}\n{password}\n"
    r = subprocess.run([MINISIGN, *map(str, args)], capture_output=True, text=True, input=stdin, timeout=60)
    return r


@pytest.fixture
def workshop(tmp_path):
    """A demo catalog signed with minisign (default trusted comment, timestamp of now),
    its key trusted through a STAGER_CONFIG settings file naming the .pub file."""
    cat = build_demo_catalog(tmp_path / "catalog")
    pub, key = tmp_path / "workshop.pub", tmp_path / "workshop.key"
    assert minisign("-G", "-W", "-p", pub, "-s", key).returncode == 0
    assert minisign("-S", "-s", key, "-m", cat / "SHA256SUMS").returncode == 0
    settings = tmp_path / "stager.toml"
    settings.write_text(f'catalog = "{cat}"\ntrusted_keys = ["workshop.pub"]\n')
    return {"cat": cat, "pub": pub, "key": key, "env": {"STAGER_CONFIG": str(settings)}, "tmp": tmp_path}


def prepare(run_stager, w, card, *extra):
    card.mkdir(exist_ok=True)
    return run_stager(
        "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--hex", "--target", card, "--allow-fixed", "--yes",
        "--json", *extra, env=w["env"],
    )  # fmt: skip


def refused(r, code, card):
    assert r.code == 4, r
    assert r.json()["error"]["code"] == code, r
    assert list(card.iterdir()) == [], "something was written to the card"
    return r


def test_a_catalog_signed_with_minisign_is_trusted_and_staged(run_stager, workshop, tmp_path):
    r = prepare(run_stager, workshop, tmp_path / "card")
    assert r.code == 0, r
    doc = r.json()
    assert doc["trust"]["enforced"] is True and doc["trust"]["key_source"].endswith(f"({workshop['pub']})")
    assert sorted(p.name for p in (tmp_path / "card").iterdir()) == sorted(
        [BUNDLE, BUNDLE + ".sha256", HEX, HEX + ".sha256"]
    )
    assert "Notice" not in r.err
    r = run_stager("catalog", "verify", env=workshop["env"])
    assert r.code == 0, r
    assert "signed by trusted key" in r.out


def test_a_swapped_file_with_its_line_rewritten_is_refused(run_stager, workshop, tmp_path):
    cat = workshop["cat"]
    evil = cat / "p22" / BUNDLE
    evil.write_bytes((cat / "p22" / "PULSE22_OCPP318_KIP313A_EN.tar.gz").read_bytes())
    digest = hashlib.sha256(evil.read_bytes()).hexdigest()
    index = cat / "SHA256SUMS"
    lines = [
        f"{digest}  p22/{BUNDLE}" if line.endswith(f"p22/{BUNDLE}") else line for line in index.read_text().splitlines()
    ]
    index.write_text("\n".join(lines) + "\n")
    r = refused(prepare(run_stager, workshop, tmp_path / "card"), "signature-invalid", tmp_path / "card")
    assert "does not match the file's content" in r.err
    assert run_stager("catalog", "verify", "--json", env=workshop["env"]).json()["error"]["code"] == "signature-invalid"


def test_an_unsigned_index_is_refused(run_stager, workshop, tmp_path):
    (workshop["cat"] / "SHA256SUMS.minisig").unlink()
    r = refused(prepare(run_stager, workshop, tmp_path / "card"), "index-unsigned", tmp_path / "card")
    assert "not signed" in r.err and "stager catalog sign" in r.err


def test_a_foreign_key_is_refused(run_stager, workshop, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    assert minisign("-G", "-W", "-p", other / "o.pub", "-s", other / "o.key").returncode == 0
    assert minisign("-S", "-s", other / "o.key", "-m", workshop["cat"] / "SHA256SUMS").returncode == 0
    r = refused(prepare(run_stager, workshop, tmp_path / "card"), "key-untrusted", tmp_path / "card")
    assert "not trusted here" in r.err


def test_an_older_signed_index_replayed_is_refused_naming_both_dates(run_stager, workshop, tmp_path):
    cat, key = workshop["cat"], workshop["key"]
    index = cat / "SHA256SUMS"
    sign = ("-S", "-s", key, "-m", index, "-t")
    assert minisign(*sign, "timestamp:1700000000\tfile:SHA256SUMS\tcatalog:workshop").returncode == 0
    old_sig = (cat / "SHA256SUMS.minisig").read_bytes()
    assert minisign(*sign, "timestamp:1750000000\tfile:SHA256SUMS\tcatalog:workshop").returncode == 0
    assert prepare(run_stager, workshop, tmp_path / "c1").code == 0  # the newer one is accepted, and remembered
    (cat / "SHA256SUMS.minisig").write_bytes(old_sig)
    r = refused(prepare(run_stager, workshop, tmp_path / "c2"), "index-rollback", tmp_path / "c2")
    # The dates as the reader writes them, in local time (stager.i18n_format; the JSON keeps UTC).
    said = " ".join(r.err.split())
    assert shown_time(1700000000) in said and shown_time(1750000000) in said and "--allow-rollback" in said
    r = prepare(run_stager, workshop, tmp_path / "c3", "--allow-rollback")
    assert r.code == 0, r
    assert r.json()["trust"]["rolled_back_from"] == "2025-06-15 15:06:40 UTC"
    # the newest stays remembered: the old one is refused again without the flag
    assert run_stager("catalog", "verify", "--json", env=workshop["env"]).json()["error"]["code"] == "index-rollback"


def test_a_signature_without_a_time_is_refused(run_stager, workshop, tmp_path):
    index = workshop["cat"] / "SHA256SUMS"
    assert minisign("-S", "-s", workshop["key"], "-m", index, "-t", "signed by the workshop").returncode == 0
    refused(prepare(run_stager, workshop, tmp_path / "card"), "signature-no-time", tmp_path / "card")


def test_a_file_added_after_signing_is_not_in_the_signed_index(run_stager, workshop, tmp_path):
    cat = workshop["cat"]
    index = cat / "SHA256SUMS"
    index.write_text("".join(ln for ln in index.read_text().splitlines(True) if not ln.rstrip().endswith(BUNDLE)))
    assert minisign("-S", "-s", workshop["key"], "-m", index).returncode == 0  # signed without the bundle
    r = refused(prepare(run_stager, workshop, tmp_path / "card"), "not-in-signed-index", tmp_path / "card")
    assert "no line in its signed SHA256SUMS" in r.err


@pytest.mark.parametrize("what", ["truncated .tar.gz", "corrupt .hex"])
def test_truncated_or_corrupt_files_get_no_line_and_are_never_staged(run_stager, workshop, tmp_path, what):
    cat = workshop["cat"]
    # a workshop catalog being built: the file arrives broken, then index and sign
    rel = f"p22/{BUNDLE}" if what.endswith("tar.gz") else f"p22/hex/{HEX}"
    path = cat / rel
    data = path.read_bytes()
    lines = [ln for ln in (cat / "SHA256SUMS").read_text().splitlines() if not ln.endswith(rel)]
    (cat / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    if what.endswith("tar.gz"):
        with open(path, "wb") as f:
            subprocess.run(["head", "-c", str(len(data) // 2), str(cat / "p22" / "PULSE22_OCPP318_KIP313A_EN.tar.gz")],
                           stdout=f, check=True)  # fmt: skip
    else:
        path.write_bytes(data.replace(b":00000001FF", b":00000001FE"))
    r = run_stager("catalog", "index", "--json", env=workshop["env"])
    assert r.code == 4, r
    doc = r.json()
    assert doc["error"]["code"] == "malformed" and [m["path"] for m in doc["malformed"]] == [rel]
    assert doc["added"] == [] and rel not in (cat / "SHA256SUMS").read_text()
    assert doc["signature"] == "unchanged"
    assert minisign("-S", "-s", workshop["key"], "-m", cat / "SHA256SUMS").returncode == 0
    refused(prepare(run_stager, workshop, tmp_path / "card"), "not-in-signed-index", tmp_path / "card")
    r = run_stager("catalog", "verify", "--json", env=workshop["env"])
    assert r.code == 0 and rel in r.json()["not_indexed"], r


def test_no_key_means_a_one_line_notice_and_todays_behaviour(run_stager, tmp_path):
    cat = build_demo_catalog(tmp_path / "catalog")
    card = tmp_path / "card"
    card.mkdir()
    r = run_stager(
        "prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--catalog", cat, "--target", card, "--allow-fixed",
        "--yes", "--json",
    )  # fmt: skip
    assert r.code == 0, r
    notices = [ln for ln in r.err.splitlines() if ln.startswith("Notice:")]
    assert len(notices) == 1 and "no trusted key" in notices[0]
    assert r.json()["trust"] == {
        "enforced": False, "key": None, "key_source": None, "signed_at": None, "name": None,
        "trusted_comment": None, "rolled_back_from": None,
    }  # fmt: skip


# --------------------------------------------------------------------------- keygen, sign, index
def test_keygen_and_sign_verify_with_minisign(run_stager, tmp_path):
    cat = build_demo_catalog(tmp_path / "catalog")
    pub, key = tmp_path / "w.pub", tmp_path / "w.key"
    r = run_stager("catalog", "keygen", "--public", pub, "--secret", key, "--json", input="s3cret\ns3cret\n")
    assert r.code == 0, r
    assert "encrypted" in key.read_text().splitlines()[0] and (key.stat().st_mode & 0o077) == 0
    assert run_stager("catalog", "keygen", "--public", pub, "--secret", key, "--unencrypted").code == 2  # exists
    r = run_stager("catalog", "sign", "--key", key, "--catalog", cat, "--name", "workshop", "--json", input="s3cret\n")
    assert r.code == 0, r
    doc = r.json()
    assert doc["name"] == "workshop" and doc["trusted_comment"].endswith("\tcatalog:workshop")
    v = minisign("-V", "-p", pub, "-m", cat / "SHA256SUMS")
    assert v.returncode == 0, v.stderr
    assert "catalog:workshop" in v.stdout
    # a wrong password (a key with small scrypt limits, so that this costs little)
    fast = tmp_path / "fast.key"
    fast.write_text(SecretKey.generate().file_text(b"right", opslimit=524288, memlimit=16777216))
    r = run_stager("catalog", "sign", "--key", fast, "--catalog", cat, input="wrong\n")
    assert r.code == 2 and "wrong password" in r.err, r


def test_sign_with_a_key_made_by_minisign(run_stager, tmp_path):
    cat = build_demo_catalog(tmp_path / "catalog")
    pub, key = tmp_path / "m.pub", tmp_path / "m.key"
    assert minisign("-G", "-W", "-p", pub, "-s", key).returncode == 0
    r = run_stager("catalog", "sign", "--key", key, "--catalog", cat, "--legacy")
    assert r.code == 0, r
    assert minisign("-V", "-p", pub, "-m", cat / "SHA256SUMS").returncode == 0


def test_sign_refuses_an_index_that_does_not_verify(run_stager, tmp_path):
    cat = build_demo_catalog(tmp_path / "catalog")
    key = tmp_path / "w.key"
    assert run_stager("catalog", "keygen", "--public", tmp_path / "w.pub", "--secret", key, "--unencrypted").code == 0
    (cat / "p22" / BUNDLE).write_bytes(b"changed")
    r = run_stager("catalog", "sign", "--key", key, "--catalog", cat, "--json")
    assert r.code == 4 and r.json()["error"]["code"] == "damaged", r
    assert not (cat / "SHA256SUMS.minisig").exists()


def test_index_says_a_signed_index_it_changed_must_be_signed_again(run_stager, workshop):
    cat = workshop["cat"]
    (cat / "p22" / "new").mkdir()
    shutil.copy(cat / "p22" / BUNDLE, cat / "p22" / "new" / BUNDLE)
    r = run_stager("catalog", "index", env=workshop["env"])
    assert r.code == 0, r
    assert "SIGNATURE NOW STALE" in r.out and "stager catalog sign" in r.out
    r = run_stager("catalog", "verify", "--json", env=workshop["env"])
    assert r.code == 4 and r.json()["error"]["code"] == "signature-invalid"


# --------------------------------------------------------------------------- verify --catalog
def test_verify_against_the_catalog(run_stager, workshop, tmp_path):
    card = tmp_path / "card"
    assert prepare(run_stager, workshop, card).code == 0
    r = run_stager("verify", "--target", card, "--catalog", workshop["cat"], "--json", env=workshop["env"])
    assert r.code == 0, r
    doc = r.json()
    assert {f["name"]: f["catalog"] for f in doc["files"]} == {BUNDLE: "match", HEX: "match"}
    assert doc["catalog"]["trust"]["enforced"] is True
    # the card's file swapped and its sidecar rewritten: the card matches itself, not the catalog
    other = (workshop["cat"] / "p22" / "PULSE22_OCPP318_KIP313A_EN.tar.gz").read_bytes()
    (card / BUNDLE).write_bytes(other)
    (card / (BUNDLE + ".sha256")).write_text(f"{hashlib.sha256(other).hexdigest()}  {BUNDLE}\n")
    r = run_stager("verify", "--target", card, env=workshop["env"])
    assert r.code == 0 and "matches itself" in r.out, r
    r = run_stager("verify", "--target", card, "--catalog", workshop["cat"], "--json", env=workshop["env"])
    assert r.code == 6, r
    assert {f["name"]: f["catalog"] for f in r.json()["files"]}[BUNDLE] == "differs"


def test_verify_a_card_file_not_in_the_signed_index(run_stager, workshop, tmp_path):
    card = tmp_path / "card"
    assert prepare(run_stager, workshop, card).code == 0
    data = b"not the catalog's"
    name = "PULSE22_OCPP318_KIP999A_FR.tar.gz"
    (card / name).write_bytes(data)
    (card / (name + ".sha256")).write_text(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    r = run_stager("verify", "--target", card, "--catalog", workshop["cat"], "--json", env=workshop["env"])
    assert r.code == 4, r
    assert r.json()["error"]["code"] == "not-in-signed-index"


def test_verify_catalog_refuses_an_unsigned_catalog(run_stager, workshop, tmp_path):
    card = tmp_path / "card"
    assert prepare(run_stager, workshop, card).code == 0
    (workshop["cat"] / "SHA256SUMS.minisig").unlink()
    r = run_stager("verify", "--target", card, "--catalog", workshop["cat"], "--json", env=workshop["env"])
    assert r.code == 4 and r.json()["error"]["code"] == "index-unsigned", r


def test_plan_with_the_settings_catalog_checks_trust(run_stager, workshop):
    r = run_stager("plan", "-m", "p22", "-k", "313", "--lang", "FR", "--json", env=workshop["env"])
    assert r.code == 0, r
    (workshop["cat"] / "SHA256SUMS.minisig").unlink()
    r = run_stager("plan", "-m", "p22", "-k", "313", "--lang", "FR", "--json", env=workshop["env"])
    assert r.code == 4 and r.json()["error"]["code"] == "index-unsigned", r


# --------------------------------------------------------------------------- config show
def test_config_show_names_each_source(run_stager, workshop):
    r = run_stager("config", "show", "--json", env=workshop["env"])
    assert r.code == 0, r
    doc = r.json()
    assert doc["files"] == [{"scope": "STAGER_CONFIG", "path": workshop["env"]["STAGER_CONFIG"], "status": "read"}]
    assert doc["catalog"] == {"value": str(workshop["cat"]), "source": workshop["env"]["STAGER_CONFIG"]}
    assert len(doc["trusted_keys"]) == 1 and str(workshop["pub"]) in doc["trusted_keys"][0]["source"]
    r = run_stager("config", "show", env={**workshop["env"], "STAGER_CATALOG": "/elsewhere"})
    assert "Catalog: /elsewhere (from STAGER_CATALOG" in r.out and "Trusted keys (1)" in r.out


def test_a_damaged_settings_file_is_exit_2(run_stager, tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text("trusted_keys = [\n")
    r = run_stager("config", "show", env={"STAGER_CONFIG": str(bad)})
    assert r.code == 2 and str(bad) in r.err and "Traceback" not in r.err


def test_machine_and_user_files_through_xdg(run_stager, workshop, tmp_path):
    site, user = tmp_path / "site", tmp_path / "user"
    (site / "stager").mkdir(parents=True)
    (user / "stager").mkdir(parents=True)
    (site / "stager" / "stager.toml").write_text(f'trusted_keys = ["{workshop["pub"]}"]\n')
    (user / "stager" / "stager.toml").write_text(f'catalog = "{workshop["cat"]}"\n')
    env = {"XDG_CONFIG_DIRS": str(site), "XDG_CONFIG_HOME": str(user)}
    doc = run_stager("config", "show", "--json", env=env).json()
    assert [f["scope"] for f in doc["files"]] == ["machine", "user"] and len(doc["trusted_keys"]) == 1
    (workshop["cat"] / "SHA256SUMS.minisig").unlink()
    r = run_stager("catalog", "verify", "--json", env=env)
    assert r.code == 4 and r.json()["error"]["code"] == "index-unsigned"
