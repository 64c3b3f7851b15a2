"""click's usage and error lines, and the labels of config show, in French and unchanged in
English (acceptance of issue 16: F1, F4, F26, F27, F28)."""

from __future__ import annotations

import re

import pytest

FR = {"STAGER_UI_LANG": "fr"}


@pytest.mark.parametrize("group", ["catalog", "config"])
def test_a_group_s_usage_line_is_french(run_stager, group):
    r = run_stager(group, "--help", env=FR)
    assert r.out.startswith(f"Utilisation : stager {group} [OPTIONS] COMMANDE [ARGUMENTS]..."), r.out
    assert r.out.startswith(f"Usage: stager {group} [OPTIONS] COMMAND [ARGS]...") is False
    english = run_stager(group, "--help")
    assert english.out.startswith(f"Usage: stager {group} [OPTIONS] COMMAND [ARGS]..."), english.out


@pytest.mark.parametrize(
    ("args", "french", "english"),
    [
        (
            ("check", "-m", "p22", "-k", "318", "--ocpp", "2.0"),
            "Erreur : valeur incorrecte pour « --ocpp » : ",
            "Error: Invalid value for '--ocpp': ",
        ),
        (("check", "-k", "318"), "Erreur : option manquante « --model » / « -m ».", "Error: Missing option '--model'"),
        (("frob",), "Erreur : la commande « frob » n'existe pas.", "Error: No such command 'frob'."),
        (("history", "-n", "0"), "0 est trop petit : donnez 1 ou plus.", "0 is too small: give 1 or more."),
    ],
)
def test_click_s_error_lines(run_stager, args, french, english):
    r = run_stager(*args, env=FR)
    assert r.code == 2 and french in r.err and not re.search(r"'[-\w]+'", r.err), r.err  # no '--ocpp' quotes
    e = run_stager(*args)
    assert e.code == 2 and english in e.err, e.err


def test_the_limit_s_help_has_no_click_range(run_stager):
    r = run_stager("history", "--help", env={**FR, "COLUMNS": "200"})
    assert "x>=1" not in r.out and "[par défaut : 20]" in r.out and "(au moins 1)" in r.out, r.out


@pytest.mark.parametrize(
    ("lang", "usage", "error"),
    [
        ("fr", "Utilisation :", "Erreur : aucune commande donnée. Voir « stager --help »."),
        ("en", "Usage:", "Error: no command given. See 'stager --help'."),
    ],
)
def test_stager_alone_prints_its_usage_then_one_error_line(run_stager, lang, usage, error):
    r = run_stager(env={"STAGER_UI_LANG": lang})
    assert r.code == 2, r
    lines = r.err.strip().splitlines()
    assert lines[0].startswith(usage) and lines[-1] == error and len(lines) == 2, r.err


def test_config_show_s_labels_are_french(run_stager):
    r = run_stager("config", "show", env=FR)
    assert r.code == 0, r
    labels = [line.split()[0] for line in r.out.splitlines()[1:3]]
    assert labels == ["machine", "utilisateur"], r.out
    assert "  user " not in r.out
