"""Human lines show words where the JSON has codes (acceptance of issue 16, F12): a firmware
file's role (``bundle``, ``hex``) and the rules' verdict (``ok``) in prepare, verify and the
demo, in French and in English; the JSON documents keep the codes."""

from __future__ import annotations

import pytest

from stager.catalog.demo import build_demo_catalog


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return build_demo_catalog(tmp_path_factory.mktemp("words") / "cat")


def _prepare(run_stager, catalog, card, lang, *more):
    args = ("prepare", "-m", "p22", "-k", "318", "--lang", "FR", "--hex", "--catalog", catalog, "--target", card)
    return run_stager(*args, "--allow-fixed", *more, env={"STAGER_UI_LANG": lang})


@pytest.mark.parametrize(
    ("lang", "bundle", "hex_", "verdict"),
    [
        ("fr", "(kit OCPP + terminal, ", "(.hex pour la sonde ST-LINK, ", "règles : autorisé]"),
        ("en", "(bundle, ", "(hex, ", "rules: allowed]"),
    ],
)
def test_roles_and_verdicts_are_words(run_stager, catalog, tmp_path, lang, bundle, hex_, verdict):
    card = tmp_path / "sd"
    card.mkdir()
    staged = _prepare(run_stager, catalog, card, lang, "--yes")
    assert staged.code == 0, staged
    shown = staged.out + staged.err
    assert bundle in shown and hex_ in shown, shown
    checked = run_stager("verify", "--target", card, env={"STAGER_UI_LANG": lang})
    assert checked.code == 0, checked
    assert checked.out.count(verdict) == 2 and "ok]" not in checked.out, checked.out
    if lang == "fr":
        assert ", bundle" not in checked.out and ", hex " not in checked.out, checked.out


def test_the_json_keeps_the_codes(run_stager, catalog, tmp_path):
    card = tmp_path / "sd"
    card.mkdir()
    assert _prepare(run_stager, catalog, card, "fr", "--yes").code == 0
    doc = run_stager("verify", "--target", card, "--json", env={"STAGER_UI_LANG": "fr"}).json()
    files = doc.get("files") or [f for c in doc.get("cards", []) for f in c["files"]]
    assert {f["rules"] for f in files} == {"ok"}, doc
