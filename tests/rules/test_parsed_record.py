"""stager/rules/parsed.json: the shipped TOML files as parsed, used only for exactly their text."""

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from stager.errors import DataError
from stager.rules import loader, names
from stager.rules.loader import DATA_FILES, PARSED_FILE, data_dir, load_rules, parsed_record


def test_the_record_is_current():
    """The record matches the three files byte for byte: run scripts/parse_rules.py after editing one."""
    folder = data_dir()
    assert (folder / PARSED_FILE).read_text(encoding="utf-8") == parsed_record(folder), (
        "stager/rules/parsed.json is not current: run scripts/parse_rules.py"
    )


@pytest.mark.parametrize("name", DATA_FILES)
def test_each_recorded_document_is_tomllibs_to_the_type(name):
    """JSON gives back what tomllib gave: the same keys in the same order, ints, texts, lists
    and true/false (repr tells 1 from True and 1.0, which == would not)."""
    text = (data_dir() / name).read_text(encoding="utf-8")
    recorded = json.loads((data_dir() / PARSED_FILE).read_text(encoding="utf-8"))[name]["doc"]
    assert repr(recorded) == repr(tomllib.loads(text))
    assert repr(loader._parse(data_dir() / name, text)) == repr(tomllib.loads(text))


def test_a_run_reads_the_rules_and_names_without_the_toml_parser():
    probe = (
        "import sys; from stager.rules import loader, names; loader.rules(); names.convention(); "
        "print('tomllib' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_a_checkout_with_windows_line_ends_uses_the_same_record(tmp_path):
    """Git for Windows checks text out with CRLF line ends (core.autocrlf): the files then
    differ byte for byte from the recorded text but say the same TOML, so the record is
    used for them, is written the same by scripts/parse_rules.py, and is tomllib's."""
    for name in DATA_FILES:
        text = (data_dir() / name).read_text(encoding="utf-8")
        assert "\r" not in text
        (tmp_path / name).write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert parsed_record(tmp_path) == parsed_record(data_dir())
    probe = (
        "import sys; from pathlib import Path; from stager.rules import loader, names; "
        f"folder = Path({str(tmp_path)!r}); "
        "docs = [loader._parse(folder / n, (folder / n).read_bytes().decode()) for n in loader.DATA_FILES]; "
        "print('tomllib' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
    for name in DATA_FILES:
        crlf = (tmp_path / name).read_bytes().decode("utf-8")
        assert repr(loader._parse(tmp_path / name, crlf)) == repr(tomllib.loads(crlf))
    assert repr(load_rules(tmp_path)) == repr(load_rules())
    assert repr(names.load_convention(tmp_path)) == repr(names.load_convention())


@pytest.fixture
def data_copy(tmp_path):
    for name in DATA_FILES:
        shutil.copy(data_dir() / name, tmp_path / name)
    return tmp_path


def test_an_edited_copy_is_parsed_as_it_is(data_copy):
    """A file whose text differs from the recorded one by one word is read from its text."""
    path = data_copy / "rules.toml"
    text = path.read_text(encoding="utf-8")
    model = load_rules(data_copy).models["p22"]
    assert text.count(f'name = "{model.name}"') == 1
    path.write_text(text.replace(f'name = "{model.name}"', 'name = "Pulse 22 (workshop copy)"'), encoding="utf-8")
    assert load_rules(data_copy).models["p22"].name == "Pulse 22 (workshop copy)"
    assert load_rules().models["p22"].name == model.name


def test_a_damaged_copy_is_still_named_as_bad_toml(data_copy):
    (data_copy / "routers.toml").write_text("[routers\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"routers\.toml: not valid TOML"):
        load_rules(data_copy)


@pytest.mark.parametrize(
    "record",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"rules.toml": 1}',
        b'{"rules.toml": {"sha256": "00", "doc": {}}}',
        b"\xff\xfe",
        b"[" * 100_000,  # nested too deep for json to decode: RecursionError, not ValueError
    ],
)
def test_a_missing_or_damaged_record_only_costs_the_parse(tmp_path, monkeypatch, record):
    """Whatever parsed.json holds, only a document recorded for exactly the file's text is used."""
    expected = repr(load_rules())
    expected_names = repr(names.load_convention())
    if record:
        (tmp_path / PARSED_FILE).write_bytes(record)
    monkeypatch.setattr(loader, "package_folder", lambda package: tmp_path)
    assert repr(load_rules(data_dir_of_package())) == expected
    assert repr(names.load_convention(data_dir_of_package())) == expected_names


def test_a_recorded_document_for_the_same_text_but_not_a_table_is_not_used(tmp_path, monkeypatch):
    text = (data_dir() / "rules.toml").read_text(encoding="utf-8")
    sha = json.loads(parsed_record(data_dir()))["rules.toml"]["sha256"]
    (tmp_path / PARSED_FILE).write_text(json.dumps({"rules.toml": {"sha256": sha, "doc": [1]}}), encoding="utf-8")
    monkeypatch.setattr(loader, "package_folder", lambda package: tmp_path)
    assert repr(loader._parse(data_dir_of_package() / "rules.toml", text)) == repr(tomllib.loads(text))


def test_each_load_gets_documents_of_its_own():
    """A document is never shared between two loads: changing one changes nothing after."""
    path = data_dir() / "rules.toml"
    text = path.read_text(encoding="utf-8")
    first = loader._parse(path, text)
    first["models"].clear()
    assert loader._parse(path, text)["models"]


def data_dir_of_package() -> Path:
    """The shipped files' folder, found from the module (package_folder is patched in some tests)."""
    return Path(loader.__file__).resolve().parent
