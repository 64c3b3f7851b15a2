"""Firmware file names: parse and format them by the convention of ``stager/rules/names.toml``.

Pure: the only input is the naming data (``names.toml``, loaded once and validated
with file and line) and the models' TYPE values and KIPX letters from the rules data
(``rules.toml``: one source of truth). Matching is case-insensitive.

- :func:`parse` gives a :class:`ParsedName` (a usable name) or a :class:`BadName`
  (``inconsistent``: its parts disagree; ``unrecognised``: it matches no form), each
  saying why.
- :func:`format_name` writes the canonical name; ``canonical(parse(n)) == n`` for every
  canonical name ``n``.
"""

from __future__ import annotations

import functools
import os
import re
import string
from pathlib import Path
from typing import Any, ClassVar, Literal

from stager.errors import BadInput
from stager.i18n import _, ngettext
from stager.rules.loader import _Source, data_dir, family
from stager.rules.loader import rules as _rules
from stager.value import field, value

#: the parts of a name the program understands (named groups of the token regexes)
FIELDS = ("type", "kit", "terminal", "letter", "lang")
ROLES = ("bundle", "hex")
FIRMWARE_EXTENSIONS = (".bin", ".tar.gz", ".hex")


# --------------------------------------------------------------------------- values
@value
class ParsedName:
    """A recognised, consistent firmware name."""

    model: str
    kit: int | None  # None for a terminal-only .hex
    terminal: int
    langs: tuple[str, ...]  # the language pack, () when the form has none
    role: str  # "bundle" | "hex"
    format: str  # "bin" | "tar.gz" | "hex"
    name: str  # canonical spelling

    ok: ClassVar[Literal[True]] = True
    status: ClassVar[str] = "ok"

    @property
    def pack(self) -> str | None:
        return "-".join(self.langs) if self.langs else None

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "kit": self.kit,
            "terminal": self.terminal,
            "langs": list(self.langs),
            "pack": self.pack,
            "role": self.role,
            "format": self.format,
            "name": self.name,
        }


@value
class BadName:
    """A name that is never used: ``inconsistent`` or ``unrecognised``, and why.

    The parts that could be read are kept (for "what exists nearby" hints)."""

    filename: str
    status: str  # "inconsistent" | "unrecognised"
    why: str
    model: str | None = None
    kit: int | None = None
    terminal: int | None = None
    langs: tuple[str, ...] = ()
    role: str | None = None

    ok: ClassVar[Literal[False]] = False

    def to_json(self) -> dict:
        return {
            "filename": self.filename,
            "status": self.status,
            "why": self.why,
            "model": self.model,
            "kit": self.kit,
            "terminal": self.terminal,
            "langs": list(self.langs),
            "role": self.role,
        }


@value
class Token:
    name: str
    meaning: str
    regex: str
    format: str
    groups: tuple[str, ...]


@value
class Form:
    id: str
    role: str
    template: str
    tokens: tuple[str, ...]
    format: str  # extension without the dot
    family_of: str  # "kit" | "terminal"
    family_min: int
    family_max: int
    label: str
    example: str

    def holds(self, fam: int) -> bool:
        return self.family_min <= fam <= self.family_max


@value
class Shape:
    """The loose pattern of one role: every form's tokens, some optional."""

    role: str
    tokens: tuple[tuple[str, bool], ...]  # (token, optional)
    formats: tuple[str, ...]
    regex: re.Pattern
    owners: dict = field(default_factory=dict, compare=False)  # regex group -> the tokens holding it

    def present(self, groups) -> set[str]:
        """The tokens a match holds, from the groups it matched."""
        return {n for g in groups for n in self.owners.get(g, ())}


@value
class Convention:
    tokens: dict
    forms: tuple[Form, ...]
    shapes: tuple[Shape, ...]
    types: dict  # TYPE -> model id
    letters: dict  # KIPX letter -> model id
    model_type: dict  # model id -> TYPE
    model_letter: dict  # model id -> letter
    model_names: dict  # model id -> "Pulse 22 GL / WL"
    lang_regex: re.Pattern
    #: what a recognised name's parts give, but its language pack (see :func:`_classify`)
    known: dict = field(default_factory=dict, compare=False, repr=False)

    def form_for(self, role: str, kit: int | None, terminal: int) -> Form | None:
        for f in self.forms:
            value = kit if f.family_of == "kit" else terminal
            if f.role == role and value is not None and f.holds(family(value)):
                return f
        return None


# --------------------------------------------------------------------------- loading
def _key_line(src: _Source, header: str, key: str) -> int | None:
    start = src.header_line(header)
    if start is None:
        return None
    for i in range(start, len(src.lines)):
        text = src.lines[i].strip()
        if text.startswith("["):
            break
        if re.match(rf"^{re.escape(key)}\s*=", text):
            return i + 1
    return start


def _load_tokens(src: _Source) -> dict:
    tokens: dict = {}
    owner: dict[str, str] = {}
    for name, t in src.table("", "tokens").items():
        header = f"tokens.{name}"
        if not isinstance(t, dict):
            src.fail(_("[{header}] must be a table").format(header=header))
        regex = src.need(t, "regex", str, header)
        try:
            compiled = re.compile(regex)
        except re.error as e:
            src.fail(
                _("[{header}] regex is not valid: {error}").format(header=header, error=e),
                _key_line(src, header, "regex"),
            )
        groups = tuple(compiled.groupindex)
        for g in groups:
            if g not in FIELDS:
                src.fail(
                    _("[{header}] regex group '{group}' is not one of {fields}").format(
                        header=header, group=g, fields=", ".join(FIELDS)
                    ),
                    _key_line(src, header, "regex"),
                )
            if g in owner:
                src.fail(
                    _("[{header}] regex group '{group}' is already given by token {token}").format(
                        header=header, group=g, token=owner[g]
                    ),
                    _key_line(src, header, "regex"),
                )
            owner[g] = name
        fmt = src.need(t, "format", str, header)
        _check_format(src, header, fmt)
        tokens[name] = Token(name, t.get("meaning", ""), regex, fmt, groups)
    if not tokens:
        src.fail(_("no [tokens.*] table"))
    return tokens


#: A value of each part, to try a token's format on when it is loaded.
_SAMPLE = {"type": "PULSE22", "kit": 318, "terminal": 313, "letter": "A", "lang": "FR"}


def _check_format(src: _Source, header: str, fmt: str) -> None:
    """A token's ``format`` must write the parts it names (type, kit, terminal, letter, lang)."""
    try:
        fields = [f for _text, f, _spec, _conv in string.Formatter().parse(fmt) if f is not None]
        unknown = [f for f in fields if f.split(".")[0].split("[")[0] not in _SAMPLE]
        if unknown:
            src.fail(
                _("[{header}] format names the field '{{{field}}}': the fields are {fields}").format(
                    header=header, field=unknown[0], fields=", ".join(_SAMPLE)
                ),
                _key_line(src, header, "format"),
            )
        fmt.format(**_SAMPLE)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as e:
        src.fail(
            _("[{header}] format '{fmt}' is not valid: {error}").format(
                header=header, fmt=fmt, error=_format_reason(e)
            ),
            _key_line(src, header, "format"),
        )


def _format_reason(e: Exception) -> str:
    """Why Python refused a format, in the user's language where its words are known (a
    lone brace, a brace not closed, a format code that does not fit), else its own words."""
    text = str(e)
    if text.startswith("Single "):  # "Single '{' encountered in format string"
        brace = "{" if "'{'" in text else "}"
        return _("a single '{brace}' (write '{double}' for the character itself)").format(brace=brace, double=brace * 2)
    if text.startswith(("expected '}'", "unmatched '{'")):
        return _("a '{open}' is not closed by a '{close}'").format(open="{", close="}")
    if text.startswith("Unknown format code"):
        return _("a format code that does not fit its field (for a number: {example})").format(example="{kit:03d}")
    return text


def _load_forms(src: _Source, tokens: dict) -> tuple[Form, ...]:
    forms = [_load_form(src, fid, t, tokens) for fid, t in src.table("", "forms").items()]
    if not forms:
        src.fail(_("no [forms.*] table"))
    for a in forms:
        for b in forms:
            if (
                a.id < b.id
                and a.role == b.role
                and a.family_of == b.family_of
                and a.family_min <= b.family_max
                and b.family_min <= a.family_max
            ):
                src.fail(
                    _("[forms.{second}] families overlap those of [forms.{first}]").format(second=b.id, first=a.id),
                    src.header_line(f"forms.{b.id}"),
                )
    return tuple(forms)


def _load_form(src: _Source, fid: str, t, tokens: dict) -> Form:
    """One ``[forms.<fid>]`` table, checked against the tokens."""
    header = f"forms.{fid}"
    if not isinstance(t, dict):
        src.fail(_("[{header}] must be a table").format(header=header))
    role = src.need(t, "role", str, header)
    if role not in ROLES:
        src.fail(
            _("[{header}] role '{role}' is not one of {roles}").format(
                header=header, role=role, roles=", ".join(ROLES)
            ),
            _key_line(src, header, "role"),
        )
    template = src.need(t, "template", str, header)
    stem, dot, ext = template.partition(".")
    line = _key_line(src, header, "template")
    if not dot or not ext:
        src.fail(_("[{header}] template '{template}' has no extension").format(header=header, template=template), line)
    names = tuple(stem.split("_"))
    for n in names:
        if n not in tokens:
            src.fail(
                _("[{header}] template token '{token}' is not a [tokens.*] table").format(header=header, token=n),
                line,
            )
    if len(set(names)) != len(names):
        src.fail(_("[{header}] template repeats a token").format(header=header), line)
    groups = {g for n in names for g in tokens[n].groups}
    need = {"terminal", "letter"} | ({"kit"} if role == "bundle" else set())
    if not need <= groups:
        src.fail(
            _("[{header}] template lacks {missing}").format(header=header, missing=", ".join(sorted(need - groups))),
            line,
        )
    family_of = src.need(t, "family_of", str, header)
    if family_of not in ("kit", "terminal") or family_of not in groups:
        src.fail(
            _("[{header}] family_of must be kit or terminal, named in the template").format(header=header),
            _key_line(src, header, "family_of"),
        )
    lo, hi = src.need(t, "family_min", int, header), src.need(t, "family_max", int, header)
    if not 0 <= lo <= hi <= 9:
        src.fail(
            _("[{header}] family_min..family_max must lie within 0..9").format(header=header),
            _key_line(src, header, "family_min"),
        )
    return Form(
        fid,
        role,
        template,
        names,
        ext.lower(),
        family_of,
        lo,
        hi,
        src.need(t, "label", str, header),
        src.need(t, "example", str, header),
    )


def _shape(src: _Source, role: str, forms: list[Form], tokens: dict) -> Shape:
    full = max((f.tokens for f in forms), key=len)
    for f in forms:
        it = iter(full)
        if not all(n in it for n in f.tokens):  # f.tokens must be a subsequence of full
            src.fail(
                _("[forms.{form}] tokens are not in the same order as the other {role} forms").format(
                    form=f.id, role=role
                ),
                _key_line(src, f"forms.{f.id}", "template"),
            )
    marked = tuple((n, any(n not in f.tokens for f in forms)) for n in full)
    if all(opt for _name, opt in marked):
        src.fail(_("the {role} forms share no token").format(role=role), src.header_line(f"forms.{forms[0].id}"))
    parts, seen_required = [], False
    for n, optional in marked:
        rx = tokens[n].regex
        if optional:
            parts.append(f"(?:_{rx})?" if seen_required else f"(?:{rx}_)?")
        else:
            parts.append(f"_{rx}" if seen_required else rx)
            seen_required = True
    formats = tuple(dict.fromkeys(f.format for f in forms))
    ext = "|".join(re.escape(x) for x in formats)
    # ASCII: under IGNORECASE alone, [A-Z] would also match the Kelvin sign or a long s.
    regex = re.compile("".join(parts) + rf"\.(?P<ext>{ext})", re.IGNORECASE | re.ASCII)
    owners: dict[str, list[str]] = {}
    for n, _optional in marked:
        for g in tokens[n].groups:
            owners.setdefault(g, []).append(n)
    return Shape(role, marked, formats, regex, {g: tuple(ns) for g, ns in owners.items()})


def load_convention(directory: Path | None = None, rules=None) -> Convention:
    """Read and validate ``names.toml`` from ``directory`` (default: the data folder)."""
    directory = Path(directory) if directory is not None else data_dir()
    rules = rules or _rules()
    src = _Source(directory / "names.toml")
    tokens = _load_tokens(src)
    forms = _load_forms(src, tokens)
    shapes = tuple(
        _shape(src, role, [f for f in forms if f.role == role], tokens)
        for role in ROLES
        if any(f.role == role for f in forms)
    )
    types: dict[str, str] = {}
    letters: dict[str, str] = {}
    for m in rules.models.values():
        for table, part in ((types, m.type.upper()), (letters, m.kipx_letter.upper())):
            if part in table:
                src.fail(
                    _("models {first} and {second} of rules.toml share the name part '{value}'").format(
                        first=table[part], second=m.id, value=part
                    )
                )
            table[part] = m.id
    lang = tokens.get("LANG")
    lang_regex = re.compile(lang.regex if lang else r"(?P<lang>[A-Z]{2}(?:-[A-Z]{2})*)", re.IGNORECASE | re.ASCII)
    conv = Convention(
        tokens=tokens,
        forms=forms,
        shapes=shapes,
        types=types,
        letters=letters,
        model_type={m.id: m.type.upper() for m in rules.models.values()},
        model_letter={m.id: m.kipx_letter.upper() for m in rules.models.values()},
        model_names={m.id: m.name for m in rules.models.values()},
        lang_regex=lang_regex,
    )
    _check_examples(src, forms, conv)
    return conv


def _check_examples(src: _Source, forms, conv: Convention) -> None:
    """Every form's example must read back as itself, in its own form."""
    for f in forms:  # every example must read back as itself, in its own form
        got = parse(f.example, conv)
        line = _key_line(src, f"forms.{f.id}", "example")
        if not got.ok:
            src.fail(
                _("[forms.{form}] example '{example}' is {status}: {why}").format(
                    form=f.id, example=f.example, status=got.status, why=got.why
                ),
                line,
            )
        if got.role != f.role or got.format != f.format or got.name != f.example:
            src.fail(
                _("[forms.{form}] example '{example}' reads back as '{name}' ({role}, .{format})").format(
                    form=f.id, example=f.example, name=got.name, role=got.role, format=got.format
                ),
                line,
            )
        written = canonical(got, conv) if isinstance(got, ParsedName) else f.example
        if written != f.example:  # each token's format writes back what its regex read
            src.fail(
                _("[forms.{form}] example '{example}' is written back as '{written}'").format(
                    form=f.id, example=f.example, written=written
                ),
                line,
            )


@functools.cache
def _cached(directory: str) -> Convention:
    return load_convention(Path(directory))


_current: dict = {}


def convention() -> Convention:
    """The naming convention in force, loaded once per process (and per data folder:
    ``data_dir()`` depends only on ``STAGER_DATA_DIR``, so it is asked once per value)."""
    key = os.environ.get("STAGER_DATA_DIR")
    if key not in _current:
        _current[key] = _cached(str(data_dir()))
    return _current[key]


# --------------------------------------------------------------------------- parsing
def is_firmware_name(filename: str) -> bool:
    """True for a name ending in .bin, .tar.gz or .hex (any case)."""
    return str(filename).lower().endswith(FIRMWARE_EXTENSIONS)


def firmware_format(filename: str) -> str | None:
    """A firmware name's format by its extension ("bin", "tar.gz", "hex", any case), else None."""
    low = str(filename).lower()
    return next((ext[1:] for ext in FIRMWARE_EXTENSIONS if low.endswith(ext)), None)


def _forms_text(conv: Convention) -> str:
    return ", ".join(f.template for f in conv.forms)


def parse(filename: str, conv: Convention | None = None) -> ParsedName | BadName:
    """Read a file name (the last part of a catalog path, parts joined by '/') by the
    convention. That part must be one plain name: one holding a backslash or a control
    character is never a firmware name (on Windows or on the card it would not be the
    name the charger reads)."""
    conv = conv or convention()
    base = str(filename).rsplit("/", 1)[-1]
    not_plain = _not_plain(base)
    if not_plain:
        why = _("{problem}: not a firmware file name (one plain name); rename the file").format(problem=not_plain)
        return BadName(base, "unrecognised", why)
    for shape in conv.shapes:
        m = shape.regex.fullmatch(base)
        if m:
            return _classify(conv, shape, m, base)
    if not is_firmware_name(base):
        why = _("not a firmware file name (.bin, .tar.gz or .hex)")
    else:
        why = _("matches none of the naming forms ({forms})").format(forms=_forms_text(conv))
    odd = [c for c in base if not c.isascii()]
    if odd:  # a look-alike (Kelvin sign, long s, fullwidth digit) prints like the real name
        look_alike = ngettext(
            "{why}; it holds {n} non-ASCII character that may look like a letter or a digit: {chars}: rename the file",
            "{why}; it holds {n} non-ASCII characters that may look like letters or digits: {chars}: rename the file",
            len(odd),
        )
        chars = ", ".join(f"'{c}' ({_char_name(c)})" for c in dict.fromkeys(odd))
        why = look_alike.format(why=why, n=len(odd), chars=chars)
    return BadName(base, "unrecognised", why)


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _not_plain(name: str) -> str:
    """Why ``name`` is not one plain path component, or ''."""
    if "\\" in name:
        return _("the name holds a backslash (\\), a folder separator on Windows")
    control = _CONTROL.search(name)
    if control:
        return _("the name holds a control character ({char})").format(char=_char_name(control.group()))
    return ""


def _char_name(c: str) -> str:
    import unicodedata

    return f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}"


def _classify(conv: Convention, shape: Shape, m: re.Match, base: str) -> ParsedName | BadName:
    """A name matched by ``shape``, read. Whether it is a consistent firmware name, and
    what it names, depends on its parts but not on its language pack's value: a
    recognised reading is kept by those parts (:attr:`Convention.known`), so the 5,000
    names of a catalog that differ only by language are each read in one look-up."""
    groups = m.groupdict()
    lang = groups.get("lang")
    key = (shape.role, lang is None, *[v if v is None else v.upper() for k, v in groups.items() if k != "lang"])
    known = conv.known.get(key)
    if known is not None:
        model, kit, terminal, fmt, before, after = known
        langs = tuple(lang.upper().split("-")) if lang is not None else ()
        name = before + "-".join(langs) + after if after is not None else before
        return ParsedName(model, kit, terminal, langs, shape.role, fmt, name)
    found = _read_parts(conv, shape, m, base)
    form = conv.form_for(shape.role, found.kit, found.terminal) if found.ok else None
    if found.ok and form is not None:
        before, sep, after = _render(conv, form, found.model, found.kit, found.terminal, ("\0",)).partition("\0")
        conv.known[key] = (found.model, found.kit, found.terminal, found.format, before, after if sep else None)
    return found


def _read_parts(conv: Convention, shape: Shape, m: re.Match, base: str) -> ParsedName | BadName:
    g = {k: v.upper() for k, v in m.groupdict().items() if v is not None}
    ext = g.pop("ext").lower()
    kit = int(g["kit"]) if "kit" in g else None
    terminal = int(g["terminal"])
    langs = tuple(g["lang"].split("-")) if "lang" in g else ()
    present = shape.present(g)
    letter, typ = g["letter"], g.get("type")
    model = conv.letters.get(letter)
    partial: dict[str, Any] = {"kit": kit, "terminal": terminal, "langs": langs, "role": shape.role}
    if model is None:
        known = ", ".join(f"{L} ({conv.model_names[i]})" for L, i in conv.letters.items())
        no_model = _("the KIPX letter '{letter}' names no charger (known: {known})").format(letter=letter, known=known)
        return BadName(base, "unrecognised", no_model, **partial)
    partial["model"] = model
    if typ is not None and typ not in conv.types:
        known = ", ".join(conv.types)
        no_type = _("'{type}' is not a charger type (known: {known})").format(type=typ, known=known)
        return BadName(base, "unrecognised", no_type, **partial)
    form = conv.form_for(shape.role, kit, terminal)
    if form is None:
        by_kit = shape.role == "bundle" and kit is not None
        value = kit if by_kit and kit is not None else terminal
        text = (
            _("no naming form for kit {version} ({family}XX)")
            if by_kit
            else _("no naming form for terminal {version} ({family}XX)")
        )
        no_form = text.format(version=f"{value:03d}", family=family(value))
        return BadName(base, "unrecognised", no_form, **partial)

    why: list[str] = []
    problems = _form_problems(shape, form, ext, present)
    value = kit if form.family_of == "kit" and kit is not None else terminal
    if problems:
        text = (
            _("kit {version} is {family}XX and {label} are named {template}: this name has {problems}")
            if form.family_of == "kit"
            else _("terminal {version} is {family}XX and {label} are named {template}: this name has {problems}")
        )
        why.append(
            text.format(
                version=value,
                family=family(value),
                label=_(form.label),
                template=form.template,
                problems=", ".join(problems),
            )
        )
    if typ is not None and conv.types[typ] != model:
        why.append(
            _("the TYPE {type} is the {type_model} but the KIPX letter {letter} is the {model}").format(
                type=typ, type_model=conv.model_names[conv.types[typ]], letter=letter, model=conv.model_names[model]
            )
        )
        partial["model"] = None
    if why:
        return BadName(base, "inconsistent", "; ".join(why), **partial)
    name = _render(conv, form, model, kit, terminal, langs)
    return ParsedName(model, kit, terminal, langs, shape.role, form.format, name)


def _form_problems(shape: Shape, form: Form, ext: str, present: set) -> list[str]:
    """What a name read by ``shape`` has that its naming ``form`` does not (or lacks)."""
    problems = []
    if ext != form.format:
        problems.append(_(".{ext} instead of .{wanted}").format(ext=ext, wanted=form.format))
    for n, _optional in shape.tokens:
        if n in form.tokens and n not in present:
            problems.append(_("no {token}").format(token=n))
        elif n not in form.tokens and n in present:
            problems.append(_("a {token} this form does not have").format(token=n))
    return problems


# --------------------------------------------------------------------------- formatting
def _render(conv: Convention, form: Form, model: str, kit, terminal: int, langs) -> str:
    values = {
        "type": conv.model_type[model],
        "kit": kit,
        "terminal": terminal,
        "letter": conv.model_letter[model],
        "lang": "-".join(langs),
    }
    return "_".join(conv.tokens[n].format.format(**values) for n in form.tokens) + "." + form.format


def format_name(
    model: str, terminal: int, kit: int | None = None, langs=(), role: str | None = None, conv: Convention | None = None
) -> str:
    """The canonical name of a file: a bundle when ``kit`` is given, else a terminal .hex.

    ``langs`` is a tuple of codes or a pack ("FR-EN"). Raises :class:`BadInput` when the
    convention has no such name (unknown model, a pack missing or not expected)."""
    conv = conv or convention()
    role = role or ("bundle" if kit is not None else "hex")
    if isinstance(langs, str):
        langs = tuple(parse_lang(langs, conv).split("-"))
    langs = tuple(x.upper() for x in langs)
    if model not in conv.model_type:
        raise BadInput(
            _("unknown model '{model}' (known: {known})").format(model=model, known=", ".join(conv.model_type))
        )
    if role == "bundle" and kit is None:
        raise BadInput(_("a bundle name needs a kit version"))
    form = conv.form_for(role, kit, terminal)
    if form is None:
        text = (
            _("no naming form for a bundle with kit {kit} and terminal {terminal}")
            if role == "bundle"
            else _("no naming form for a .hex with kit {kit} and terminal {terminal}")
        )
        raise BadInput(text.format(kit=kit, terminal=terminal))
    if "LANG" in form.tokens and not langs:
        raise BadInput(
            _("{label} are named {template}: a language pack is needed").format(
                label=_(form.label), template=form.template
            )
        )
    if "LANG" not in form.tokens and langs:
        raise BadInput(
            _("{label} are named {template}: no language pack").format(label=_(form.label), template=form.template)
        )
    return _render(conv, form, model, kit, terminal, langs)


def expected_name(
    model: str, terminal: int, kit: int | None = None, pack: str | None = None, conv: Convention | None = None
) -> str:
    """The name a file should have, with ``<LANG>`` where a pack is needed but not known
    (for messages: "expected PULSE22_OCPP318_KIP313A_<LANG>.tar.gz")."""
    conv = conv or convention()
    form = conv.form_for("bundle" if kit is not None else "hex", kit, terminal)
    if form is None or model not in conv.model_type:
        return "?"
    langs = tuple(pack.split("-")) if pack else (("<LANG>",) if "LANG" in form.tokens else ())
    return _render(conv, form, model, kit, terminal, langs)


def canonical(parsed: ParsedName, conv: Convention | None = None) -> str:
    """The canonical name of a parsed name: ``canonical(parse(n)) == n`` for canonical ``n``."""
    return format_name(parsed.model, parsed.terminal, parsed.kit, parsed.langs, parsed.role, conv)


def parse_lang(text: str, conv: Convention | None = None) -> str:
    """A language pack as typed ('fr', 'fr-en') -> 'FR', 'FR-EN'; BadInput otherwise."""
    conv = conv or convention()
    value = (text or "").strip()
    if not conv.lang_regex.fullmatch(value):
        raise BadInput(
            _("language pack '{pack}' is not 2-letter codes joined by '-' (for example FR or FR-EN-DE).").format(
                pack=text
            )
        )
    return value.upper()
