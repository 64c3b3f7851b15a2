"""The one place where the catalog's signature is checked: the rollback record per key
and catalog name, the notice with no key, what happens when the record is damaged."""

from __future__ import annotations

import json

import pytest

from stager import value
from stager.catalog import trust
from stager.catalog.demo import build_demo_catalog
from stager.catalog.folder import Catalog
from stager.catalog.settings import Settings, TrustedKey
from stager.catalog.signature import SecretKey
from stager.errors import CatalogError


@pytest.fixture
def setup(tmp_path):
    cat = build_demo_catalog(tmp_path / "cat")
    key = SecretKey.generate()
    settings = Settings(
        files=(),
        catalog=str(cat),
        catalog_source="test",
        trusted_keys=(TrustedKey(key.public_key, "test: trusted_keys[0]"),),
        history_dir=tmp_path / "home",
        history_source="test",
        state_file=tmp_path / "state" / "trusted-signatures.json",
    )
    return cat, key, settings


def sign(cat, key, name, ts):
    return trust.sign_index(Catalog(cat), key, name, now=ts)


def test_the_newest_time_is_remembered_per_key_and_name(setup):
    cat, key, settings = setup
    sign(cat, key, "north", 2000)
    assert trust.check_trust(Catalog(cat), settings).signed_at == 2000
    sign(cat, key, "south", 1000)  # another catalog name: its own record
    assert trust.check_trust(Catalog(cat), settings).name == "south"
    sign(cat, key, "north", 2000)  # the same signature again is fine
    assert trust.check_trust(Catalog(cat), settings).signed_at == 2000
    sign(cat, key, "north", 1999)
    with pytest.raises(CatalogError) as e:
        trust.check_trust(Catalog(cat), settings)
    assert e.value.code == "index-rollback" and e.value.details["newest_accepted"] == trust.when(2000)
    record = json.loads(settings.state_file.read_text())["accepted"]
    assert {k.split("/")[1]: v["time"] for k, v in record.items()} == {"north": 2000, "south": 1000}


def test_no_key_is_a_notice_and_nothing_else(setup):
    cat, _, settings = setup
    said = []
    t = trust.check_trust(Catalog(cat), value.replace(settings, trusted_keys=()), warn=said.append)
    assert t.enforced is False and len(said) == 1 and said[0].startswith("Notice:")
    assert not settings.state_file.exists()


def test_a_damaged_record_is_refused_not_ignored(setup):
    cat, key, settings = setup
    sign(cat, key, "north", 2000)
    settings.state_file.parent.mkdir(parents=True)
    settings.state_file.write_text("{not json")
    with pytest.raises(CatalogError) as e:
        trust.check_trust(Catalog(cat), settings)
    assert e.value.code == "trust-state-unreadable" and str(settings.state_file) in e.value.message


def test_a_record_on_a_read_only_disk_warns(setup, monkeypatch):
    cat, key, settings = setup
    sign(cat, key, "north", 2000)

    def read_only(src, dst):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(trust.os, "replace", read_only)
    said = []
    assert trust.check_trust(Catalog(cat), settings, warn=said.append).enforced
    assert said and "could not be remembered" in said[0] and "read-only file system" in said[0]
    assert list(settings.state_file.parent.iterdir()) == []  # no temporary file left


def test_the_signature_covers_the_bytes_parsed(setup):
    """The index changed after the catalog was scanned: the signature is checked against
    what was parsed, so a file swapped between the check and the copy cannot pass."""
    cat, key, settings = setup
    sign(cat, key, "north", 2000)
    scanned = Catalog(cat)
    (cat / "SHA256SUMS").write_bytes((cat / "SHA256SUMS").read_bytes() + b"0" * 64 + b"  extra.bin\n")
    assert trust.check_trust(scanned, settings).enforced  # what it parsed is what was signed
    with pytest.raises(CatalogError) as e:
        trust.check_trust(Catalog(cat), settings)
    assert e.value.code == "signature-invalid"
