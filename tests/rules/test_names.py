"""Firmware names: the naming table of names.md, odd case, inconsistent and unrecognised
names, the round trip, and the naming data validated with file and line."""

import re
import shutil
from pathlib import Path

import pytest

from stager import i18n, value
from stager.errors import BadInput, DataError
from stager.rules import names
from stager.rules.loader import data_dir, rules
from stager.rules.names import BadName, ParsedName, format_name, is_firmware_name, load_convention, parse

REPO = Path(__file__).resolve().parents[2]


# Every row (and every example) of names.md's naming table.
@pytest.mark.parametrize(
    "name,model,kit,terminal,langs,role,fmt",
    [
        ("OCPP212_KIP241A_FR.bin", "p22", 212, 241, ("FR",), "bundle", "bin"),
        ("OCPP212_KIP220B_EN.bin", "p50", 212, 220, ("EN",), "bundle", "bin"),
        ("PULSE22_OCPP318_KIP313A_FR.tar.gz", "p22", 318, 313, ("FR",), "bundle", "tar.gz"),
        ("WBAC_OCPP317_KIP124W_FR.tar.gz", "wbac", 317, 124, ("FR",), "bundle", "tar.gz"),
        ("KIP241A.hex", "p22", None, 241, (), "hex", "hex"),
        ("KIP313A_FR-EN.hex", "p22", None, 313, ("FR", "EN"), "hex", "hex"),
        # the other models in each form
        ("PULSE50_OCPP400_KIP400B_FR-EN-DE.tar.gz", "p50", 400, 400, ("FR", "EN", "DE"), "bundle", "tar.gz"),
        ("KIP220B.hex", "p50", None, 220, (), "hex", "hex"),
        ("KIP311B_EN.hex", "p50", None, 311, ("EN",), "hex", "hex"),
        ("KIP124W.hex", "wbac", None, 124, (), "hex", "hex"),
        ("KIP200W.hex", "wbac", None, 200, (), "hex", "hex"),
    ],
)
def test_naming_table(name, model, kit, terminal, langs, role, fmt):
    p = parse(name)
    assert p == ParsedName(model, kit, terminal, langs, role, fmt, name)
    assert p.ok and p.pack == ("-".join(langs) or None)
    assert names.canonical(p) == name
    assert format_name(model, terminal, kit, langs) == name


def _every_canonical_name():
    r = rules()
    conv = names.convention()
    for m in r.models.values():
        for kit in m.kits:
            for t in m.compatible(kit):
                yield format_name(m.id, t, kit, "FR")
        for t in m.terminals:
            form = conv.form_for("hex", None, t)
            yield format_name(m.id, t, None, "FR-EN" if "LANG" in form.tokens else ())


def test_round_trip_for_every_cell_of_every_table():
    seen = list(_every_canonical_name())
    assert len(seen) > 40
    for n in seen:
        p = parse(n)
        assert p.ok, (n, p)
        assert names.canonical(p) == n


@pytest.mark.parametrize(
    "odd,canonical",
    [
        ("pulse22_ocpp318_kip313a_fr.TAR.GZ", "PULSE22_OCPP318_KIP313A_FR.tar.gz"),
        ("Ocpp212_Kip241a_Fr.BIN", "OCPP212_KIP241A_FR.bin"),
        ("kip313a_fr-en.Hex", "KIP313A_FR-EN.hex"),
        ("wbac_ocpp400_kip200w_en.tar.gz", "WBAC_OCPP400_KIP200W_EN.tar.gz"),
    ],
)
def test_odd_case_is_recognised(odd, canonical):
    p = parse(odd)
    assert p.ok and p.name == canonical


def test_parse_takes_the_last_part_of_a_path():
    assert parse("sub/dir/KIP241A.hex").name == "KIP241A.hex"


@pytest.mark.parametrize(
    "name,needles",
    [
        ("PULSE22_OCPP318_KIP313A_FR.bin", ["kit 318 is 3XX", ".bin instead of .tar.gz"]),
        ("OCPP212_KIP241A_FR.tar.gz", ["kit 212 is 2XX", ".tar.gz instead of .bin"]),
        ("PULSE50_OCPP318_KIP313A_FR.tar.gz", ["TYPE PULSE50 is the Pulse 50", "letter A is the Pulse 22"]),
        ("WBAC_OCPP318_KIP313B_FR.tar.gz", ["TYPE WBAC", "letter B is the Pulse 50"]),
        ("KIP313A.hex", ["terminal 313 is 3XX", "no LANG"]),
        ("KIP241A_FR.hex", ["terminal 241 is 2XX", "a LANG this form does not have"]),
        ("OCPP318_KIP313A_FR.tar.gz", ["no TYPE"]),
        ("PULSE22_OCPP212_KIP241A_FR.bin", ["a TYPE this form does not have"]),
        ("OCPP400_KIP400A_FR.bin", ["kit 400 is 4XX", ".bin instead of .tar.gz", "no TYPE"]),
    ],
)
def test_inconsistent_names_say_why(name, needles):
    p = parse(name)
    assert isinstance(p, BadName) and not p.ok
    assert p.status == "inconsistent"
    for n in needles:
        assert n in p.why, p.why


@pytest.mark.parametrize(
    "name,needle",
    [
        ("README.txt", "not a firmware file name"),
        ("PULSE22_OCPP318_KIP313A_FR.tar.gz.part", "not a firmware file name"),
        ("PULSE22_OCPP318_KIP313A_FR.tgz", "not a firmware file name"),
        ("PULSE22_OCPP318_KIP313A.tar.gz", "matches none"),
        ("PULSE22_OCPP318_KIP313A_FR (1).tar.gz", "matches none"),
        ("PULSE22_OCPP31_KIP313A_FR.tar.gz", "matches none"),
        ("PULSE22_OCPP318_KIP313A_FRA.tar.gz", "matches none"),
        ("firmware.bin", "matches none"),
        ("KIP313.hex", "matches none"),
        ("OCPP318_KIP313A_FR.hex", "matches none"),
        ("._PULSE22_OCPP318_KIP313A_FR.tar.gz", "matches none"),
        ("PUL\u017fE22_OCPP318_KIP313A_FR.tar.gz", "matches none"),  # long s, upper-cases to S
        ("\u212aIP241A.hex", "matches none"),  # Kelvin sign, lower-cases to k
        ("OCPP212_KIP241A_FR.bin\n", "not a firmware file name"),
        ("OCPP２１２_KIP241A_FR.bin", "matches none"),  # full-width digits
        ("PULSE99_OCPP318_KIP313A_FR.tar.gz", "'PULSE99' is not a charger type"),
        ("OCPP212_KIP241Z_FR.bin", "letter 'Z' names no charger"),
        ("OCPP012_KIP241A_FR.bin", "no naming form for kit 012"),
    ],
)
def test_unrecognised_names(name, needle):
    p = parse(name)
    assert p.status == "unrecognised" and not p.ok
    assert needle in p.why, p.why


@pytest.mark.parametrize(
    "name,expected",
    [
        ("a.bin", True),
        ("A.TAR.GZ", True),
        ("x.Hex", True),
        ("x.tar", False),
        ("x.gz", False),
        ("x.bin.sha256", False),
        ("SHA256SUMS", False),
    ],
)
def test_is_firmware_name(name, expected):
    assert is_firmware_name(name) is expected


def test_format_name_refuses_what_the_convention_cannot_name():
    with pytest.raises(BadInput, match="language pack is needed"):
        format_name("p22", 313, 318)
    with pytest.raises(BadInput, match="no language pack"):
        format_name("p22", 241, None, "FR")
    with pytest.raises(BadInput, match="unknown model"):
        format_name("p99", 241, 212, "FR")
    assert format_name("p22", 313, None, "fr-en") == "KIP313A_FR-EN.hex"


def test_expected_name_marks_the_unknown_pack():
    assert names.expected_name("p22", 313, 318) == "PULSE22_OCPP318_KIP313A_<LANG>.tar.gz"
    assert names.expected_name("p50", 220, None) == "KIP220B.hex"


@pytest.mark.parametrize("text,pack", [("fr", "FR"), (" fr-en ", "FR-EN"), ("FR-EN-DE", "FR-EN-DE")])
def test_parse_lang(text, pack):
    assert names.parse_lang(text) == pack


@pytest.mark.parametrize("text", ["", "F", "FRA", "FR_EN", "FR-", "12", "\u017fV"])
def test_parse_lang_rejects(text):
    with pytest.raises(BadInput, match="language pack"):
        names.parse_lang(text)


def test_letters_and_types_come_from_the_rules_data():
    """One source of truth: change a model's letter in the rules and the names follow."""
    r = rules()
    p50 = value.replace(r.models["p50"], kipx_letter="Q", type="P50X")
    changed = value.replace(r, models={**r.models, "p50": p50})
    conv = load_convention(rules=changed)
    assert parse("P50X_OCPP318_KIP313Q_FR.tar.gz", conv).model == "p50"
    assert parse("PULSE50_OCPP318_KIP313B_FR.tar.gz", conv).status == "unrecognised"
    assert format_name("p50", 220, 212, "FR", conv=conv) == "OCPP212_KIP220Q_FR.bin"
    # names.toml names no charger type or letter outside its examples and comments
    data = [
        line
        for line in (REPO / "stager" / "rules" / "names.toml").read_text().splitlines()
        if not line.startswith(("#", "example", "meaning"))
    ]
    assert not re.search(r"PULSE|WBAC|KIP\d{3}[A-Z]", "\n".join(data))


def test_names_file_is_shipped_with_the_rules():
    assert (data_dir() / "names.toml").is_file()


# --------------------------------------------------------------------------- damaged data
@pytest.fixture
def names_copy(tmp_path):
    shutil.copy(REPO / "stager" / "rules" / "names.toml", tmp_path / "names.toml")
    return tmp_path / "names.toml"


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(needle))


@pytest.mark.parametrize(
    "old,new,message",
    [
        ('regex = "OCPP(?P<kit>[0-9]{3})"', 'regex = "OCPP(?P<kit>[0-9]{3}"', "regex is not valid"),
        ('regex = "OCPP(?P<kit>[0-9]{3})"', 'regex = "OCPP(?P<kits>[0-9]{3})"', "group 'kits'"),
        ('template = "KIPtttL_LANG.hex"', 'template = "KIPtttL_LANGUAGE.hex"', "token 'LANGUAGE'"),
        ('template = "KIPtttL_LANG.hex"', 'template = "KIPtttL_LANG"', "has no extension"),
        ('template = "OCPPkkk_KIPtttL_LANG.bin"', 'template = "KIPtttL_OCPPkkk_LANG.bin"', "not in the same order"),
        ('example = "KIP313A_FR-EN.hex"', 'example = "KIP313A.hex"', "is inconsistent"),
        ('example = "KIP241A.hex"', 'example = "kip241a.hex"', "reads back as 'KIP241A.hex'"),
        ('role = "hex"', 'role = "terminal"', "role 'terminal'"),
        ("family_min = 3", "family_min = 2", "overlap"),
    ],
)
def test_damaged_names_file_is_named_with_its_line(names_copy, old, new, message):
    text = names_copy.read_text()
    assert old in text
    line = _line_of(names_copy, old)
    names_copy.write_text(text.replace(old, new, 1))
    with pytest.raises(DataError) as e:
        load_convention(names_copy.parent)
    assert message in e.value.message
    if message != "overlap":
        assert f"names.toml:{line}:" in e.value.message, e.value.message
    else:
        assert "names.toml:" in e.value.message


def test_names_file_that_is_not_toml(names_copy):
    names_copy.write_text("[tokens\n")
    with pytest.raises(DataError, match="not valid TOML"):
        load_convention(names_copy.parent)


def test_the_shipped_names_file_loads(names_copy):
    conv = load_convention(names_copy.parent)
    assert {f.role for f in conv.forms} == {"bundle", "hex"}
    assert len(conv.forms) == 4


def _names_to_read_twice():
    """Every canonical name, in odd case too, with other language packs, and names that
    are inconsistent or unrecognised only by a part beside the pack."""
    for n in _every_canonical_name():
        yield n
        yield n.lower()
        yield n.replace("_FR", "_DE-IT").replace("_FR-EN", "_NL")
    yield from ("KIP313A.hex", "KIP313A_FR.hex", "KIP241A_FR.hex", "KIP241A_EN.hex", "KIP241A.hex")
    yield from ("PULSE22_OCPP318_KIP313A_FR.bin", "PULSE22_OCPP318_KIP313A_EN.tar.gz", "OCPP318_KIP313A_FR.tar.gz")
    yield from ("PULSE50_OCPP318_KIP313A_FR.tar.gz", "PULSE50_OCPP318_KIP313B_FR.tar.gz", "KIP313Z_FR.hex")


def test_a_name_read_again_reads_as_it_did_the_first_time():
    """A recognised reading is kept by the name's parts but its pack (Convention.known):
    every name reads the same from a convention that has read all the others as from a
    fresh one, and a reading kept never lends its pack to another name."""
    warm = load_convention()
    every = list(_names_to_read_twice())
    for n in every:
        parse(n, warm)
    assert warm.known  # the names above were kept
    for n in every:
        assert parse(n, warm) == parse(n, load_convention()), n
    assert parse("KIP313A_DE-IT.hex", warm).langs == ("DE", "IT")
    assert parse("kip313a_nl.hex", warm).name == "KIP313A_NL.hex"


@pytest.mark.parametrize(
    ("fmt", "english"),
    [
        ("OCPP{kit:03d}{", "a single '{' (write '{{' for the character itself)"),
        ("OCPP}", "a single '}' (write '}}' for the character itself)"),
        ("OCPP{kit", "a '{' is not closed by a '}'"),
        ("OCPP{kit:03x", "a '{' is not closed by a '}'"),
        ("OCPP{type:03d}", "a format code that does not fit its field (for a number: {kit:03d})"),
    ],
)
def test_a_broken_token_format_is_said_in_stager_words_not_python_s(fmt, english):
    try:
        fmt.format(type="PULSE22", kit=318, terminal=313, letter="A", lang="FR")
    except ValueError as e:
        error = e
    else:
        pytest.fail(f"{fmt!r} was accepted by str.format")
    assert names._format_reason(error) == english
    i18n.install("fr")
    try:
        french = names._format_reason(error)
    finally:
        i18n.install("en")
    assert french != english and "format string" not in french and "encountered" not in french
