"""The rules files: loaded from the installed package, validated with file and line."""

import shutil
from pathlib import Path

import pytest

import stager
from stager.errors import DataError
from stager.rules.loader import data_dir, load_rules

REPO = Path(__file__).resolve().parents[2]


def test_rules_are_read_from_the_installed_package():
    folder = data_dir()
    assert (folder / "rules.toml").is_file() and (folder / "routers.toml").is_file()
    package = Path(stager.__file__).resolve().parent
    if package.parent != REPO:  # a real (non-editable) install, as on CI
        assert folder == package / "rules"


@pytest.fixture
def data_copy(tmp_path):
    for name in ("rules.toml", "routers.toml"):
        shutil.copy(REPO / "stager" / "rules" / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(needle))


def test_the_shipped_copy_loads(data_copy):
    assert set(load_rules(data_copy).models) == {"p22", "p50", "wbac"}


@pytest.mark.parametrize(
    "old,new,message",
    [
        ("318  KO  KO  KO  KO  OK  OK  KO", "318  KO  KO  KO  KO  OK  OK", "has 6 cells"),
        ("318  KO  KO  KO  KO  OK  OK  KO", "318  KO  KO  KO  KO  OK  OJ  KO", "cell 'OJ'"),
        ("318  KO  KO  KO  KO  OK  OK  KO", "316  KO  KO  KO  KO  OK  OK  KO", "duplicate row 316"),
        ("318  KO  KO  KO  KO  OK  OK  KO", "31a  KO  KO  KO  KO  OK  OK  KO", "kit '31a'"),
    ],
)
def test_a_damaged_grid_names_file_and_line(data_copy, old, new, message):
    rules_file = data_copy / "rules.toml"
    line = _line_of(rules_file, old)
    _edit(rules_file, old, new)
    with pytest.raises(DataError) as e:
        load_rules(data_copy)
    assert f"rules.toml:{line}:" in e.value.message
    assert message in e.value.message


def test_a_damaged_router_cell_names_file_and_line(data_copy):
    f = data_copy / "routers.toml"
    line = _line_of(f, "9        KO   KO   OK:1")
    _edit(f, "9        KO   KO   OK:1", "9        KO   KO   OK:7")
    with pytest.raises(DataError) as e:
        load_rules(data_copy)
    assert f"routers.toml:{line}:" in e.value.message and "OK:7" in e.value.message


def test_a_missing_key_is_named(data_copy):
    _edit(data_copy / "rules.toml", "min_kit = 310", "minimum = 310")
    with pytest.raises(DataError, match=r"\[mid\] lacks the key 'min_kit'"):
        load_rules(data_copy)


def test_invalid_toml_is_named(data_copy):
    _edit(data_copy / "rules.toml", "[forbidden]", "[forbidden")
    with pytest.raises(DataError, match=r"rules.toml: not valid TOML"):
        load_rules(data_copy)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="cannot read the rules file"):
        load_rules(tmp_path)


def test_cli_reports_damaged_data_with_exit_2(data_copy, run_stager):
    _edit(data_copy / "rules.toml", "212  OK  KO  KO  KO  KO  KO  KO\n", "212  OK  KO\n")
    r = run_stager("check", "--model", "p22", "--kit", "318", env={"STAGER_DATA_DIR": str(data_copy)})
    assert r.code == 2, r
    assert "rules.toml:" in r.err and "has 2 cells" in r.err
    assert "Traceback" not in r.err


def test_a_package_in_a_zip_is_read_through_importlib_resources(tmp_path, monkeypatch):
    """package_folder: beside the module for a package installed as files; from a zip
    (no folder beside the module), through importlib.resources."""
    import importlib
    import sys
    import zipfile

    from stager.i18n import package_folder

    assert package_folder("stager.rules") == Path(stager.__file__).parent / "rules"
    archive = tmp_path / "packed.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zpacked/__init__.py", "")
        z.writestr("zpacked/names.toml", "carried = true\n")
    monkeypatch.syspath_prepend(str(archive))
    monkeypatch.delitem(sys.modules, "zpacked", raising=False)
    importlib.invalidate_caches()
    folder = package_folder("zpacked")
    assert not isinstance(folder, Path) and (folder / "names.toml").read_text() == "carried = true\n"
