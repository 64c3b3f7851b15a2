"""--model, --kit and --terminal are declared once, in stager.cli.options: check,
prepare and verify take them from there (verify's charger is optional)."""

from __future__ import annotations

import pytest

from stager.cli.commands.check import check
from stager.cli.commands.prepare import prepare
from stager.cli.commands.verify import verify
from stager.cli.options import MODEL_HELP


def _param(command, name):
    return next(p for p in command.params if p.name == name)


@pytest.mark.parametrize(("command", "required"), [(check, True), (prepare, True), (verify, False)])
def test_model_kit_and_terminal_come_from_the_shared_options(command, required):
    model, kit, terminal = (_param(command, n) for n in ("model", "kit", "terminal"))
    assert model.help == MODEL_HELP and model.required is required
    assert kit.help.startswith("OCPP kit version, 3 digits (e.g. 318)") and kit.required is required
    assert terminal.help == _param(check, "terminal").help and not terminal.required


def test_verify_kit_is_a_version_not_latest(run_stager, tmp_path):
    r = run_stager("verify", "--target", tmp_path, "--model", "p22", "--kit", "latest")
    assert r.code == 2 and "kit" in r.err and "Traceback" not in r.err


def test_verify_kit_without_model_is_bad_input(run_stager, tmp_path):
    r = run_stager("verify", "--target", tmp_path, "--kit", "318")
    assert r.code == 2 and "--model and --kit go together" in r.err
