#!/usr/bin/env python3
"""stager's message catalogs: extract, update, compile, check (Babel; docs/i18n.md).

    .venv/bin/python scripts/i18n.py extract   # stager/locale/stager.pot from the source and click
    .venv/bin/python scripts/i18n.py update    # merge the .pot into every <lang>/LC_MESSAGES/stager.po
    .venv/bin/python scripts/i18n.py compile   # every stager.po -> stager.mo (committed, in the package)
    .venv/bin/python scripts/i18n.py check     # what tests/test_i18n.py checks: exit 1 on a problem
    .venv/bin/python scripts/i18n.py init de   # a new language: <lang>/LC_MESSAGES/stager.po from the .pot

The template holds stager's own messages (``_``, ``N_``, ``ngettext`` in stager/) and
click's (``_`` and ``ngettext`` in the installed click, located ``click/<module>.py`` with
the extracted comment ``click``): click looks its words up through ``gettext``, and
stager.i18n.install() points those look-ups at stager's catalog. Locations carry no line
numbers, so that the files change only when a message does.

The rules data holds sentences shown to the user too (the router notes' steps, the site
visit, the naming forms' labels): the keys of ``DATA_TEXTS`` in ``stager/rules/*.toml``
are extracted as messages, located at their file, and translated where they are shown
(``_(note.title)``). The note's own French (``original``, ``section``) is not among them.
"""

from __future__ import annotations

import argparse
import gettext
import io
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "stager"
LOCALE = SOURCE / "locale"
POT = LOCALE / "stager.pot"
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
CLICK_KEYWORDS = {"_": None, "ngettext": (1, 2)}
PROJECT = "stager"
DATED = ("POT-Creation-Date", "PO-Revision-Date")
#: click's messages looked up through a variable (core.py: ``_(extra["required"])``), which
#: no extractor can see: (module, message).
CLICK_DYNAMIC = [("core.py", "required")]
#: The sentences of the rules data shown to the user: file -> key paths ("*" is every table).
DATA_TEXTS = {
    "rules/rules.toml": ["latest.section"],
    "rules/routers.toml": ["site_visit", "routers.*.description", "notes.*.title", "notes.*.steps", "notes.*.after"],
    "rules/names.toml": ["tokens.*.meaning", "forms.*.label"],
}
HEADER = """\
# The messages of stager, extracted by scripts/i18n.py (docs/i18n.md): do not edit,
# run `scripts/i18n.py extract`, then `update`.
#"""


def _click_dir() -> Path:
    import click

    return Path(click.__file__).resolve().parent


def _add(template: Catalog, found: Iterator, prefix: str, comment: str | None) -> None:
    for filename, lineno, message, comments, context in found:
        comments = [*comments, comment] if comment else list(comments)
        template.add(message, None, [(f"{prefix}{filename}", lineno)], auto_comments=comments, context=context)


def _values(table: object, path: list[str]) -> Iterator[str]:
    if not path:
        yield from ([table] if isinstance(table, str) else table if isinstance(table, list) else [])
    elif isinstance(table, dict):
        for key in table if path[0] == "*" else [path[0]]:
            if key in table:
                yield from _values(table[key], path[1:])


def data_texts() -> Iterator[tuple]:
    """The sentences of ``DATA_TEXTS``, as Babel's extractors give them (no line numbers)."""
    for filename, paths in DATA_TEXTS.items():
        source = SOURCE / filename
        if not source.is_file():  # a source tree without that data file (the tests' own)
            continue
        data = tomllib.loads(source.read_text(encoding="utf-8"))
        for keys in paths:
            for text in _values(data, keys.split(".")):
                yield filename, None, text, ["rules data"], None


def extract() -> Catalog:
    """The template: every message marked in stager/, then click's own."""
    template = Catalog(project=PROJECT, charset="utf-8", fuzzy=False, header_comment=HEADER)
    method_map = [("**.py", "python")]
    skip = ["locale"]
    own = extract_from_dir(
        SOURCE, method_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
    )
    _add(template, (m for m in own if m[0].split("/")[0] not in skip), "stager/", None)
    _add(template, data_texts(), "stager/", None)
    clicks = extract_from_dir(_click_dir(), method_map, keywords=CLICK_KEYWORDS)
    _add(template, clicks, "click/", "click")
    _add(template, ((module, None, message, [], None) for module, message in CLICK_DYNAMIC), "click/", "click")
    return template


def pot_text(template: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, template, width=100, include_lineno=False, omit_header=False)
    return _without_dates(out.getvalue())


def _without_dates(text: bytes) -> bytes:
    """The header without POT-Creation-Date / PO-Revision-Date lines (they change on every run)."""
    lines = text.split(b"\n")
    return b"\n".join(line for line in lines if not line.startswith(tuple(b'"' + d.encode() for d in DATED)))


def languages() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/stager.po"))


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "stager.po"


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)


def write(catalog: Catalog, path: Path) -> None:
    out = io.BytesIO()
    write_po(out, catalog, width=100, include_lineno=False, ignore_obsolete=True)
    path.write_bytes(_without_dates(out.getvalue()))


def update(template: Catalog) -> None:
    for language in languages():
        path = po_path(language)
        catalog = read(path, language)
        catalog.update(template, update_header_comment=False)
        write(catalog, path)


def init(language: str) -> Path:
    """A new catalog for ``language`` (its plural rule from CLDR), every entry still to translate."""
    path = po_path(language)
    if path.exists():
        raise SystemExit(f"{path.relative_to(ROOT)} exists: run update instead")
    with POT.open("rb") as fp:
        catalog = read_po(fp, locale=language)
    catalog.locale = language
    catalog.fuzzy = False
    path.parent.mkdir(parents=True, exist_ok=True)
    write(catalog, path)
    return path


def mo_bytes(language: str) -> bytes:
    out = io.BytesIO()
    write_mo(out, read(po_path(language), language), use_fuzzy=False)
    return out.getvalue()


def mo_content(data: bytes) -> dict:
    """What a .mo says, as gettext reads it, without the header's dates (Babel writes the time of the run)."""
    words = gettext.GNUTranslations(io.BytesIO(data))
    content = dict(words._catalog)  # type: ignore[attr-defined]
    header = content.pop("", "")
    content[""] = "\n".join(line for line in header.split("\n") if not line.startswith(DATED))
    return content


def compile_all() -> None:
    for language in languages():
        po_path(language).with_suffix(".mo").write_bytes(mo_bytes(language))


def _key(message: Message) -> tuple[str, str | None]:
    ident = message.id if isinstance(message.id, str) else message.id[0]
    return ident, message.context


def problems() -> list[str]:
    """Everything that keeps the catalogs from matching the source, one line each."""
    template = extract()
    found = []
    if not POT.is_file() or POT.read_bytes() != pot_text(template):
        found.append(f"{POT.relative_to(ROOT)} is not the extraction of the source: run scripts/i18n.py extract")
    wanted = {_key(m) for m in template if m.id}
    for language in languages():
        path = po_path(language)
        catalog = read(path, language)
        name = path.relative_to(ROOT)
        have = {_key(m): m for m in catalog if m.id}
        found += [f"{name}: no entry for {k[0]!r} (run update)" for k in sorted(wanted - have.keys(), key=str)]
        found += [f"{name}: stale entry {k[0]!r} (run update)" for k in sorted(have.keys() - wanted, key=str)]
        found += [f"{name}: obsolete entry {m.id!r}" for m in catalog.obsolete.values()]
        for key in sorted(wanted & have.keys(), key=str):
            message = have[key]
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings):
                found.append(f"{name}: {key[0]!r} has no translation")
            if message.fuzzy:
                found.append(f"{name}: {key[0]!r} is fuzzy (review it, then remove the fuzzy flag)")
        mo = path.with_suffix(".mo")
        if not mo.is_file() or mo_content(mo.read_bytes()) != mo_content(mo_bytes(language)):
            found.append(f"{mo.relative_to(ROOT)} is not the compiled {path.name}: run scripts/i18n.py compile")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["extract", "update", "compile", "check", "init"])
    parser.add_argument("language", nargs="?", help="init: the new language's code (de, es...)")
    args = parser.parse_args(argv)
    action = args.action
    if action == "init":
        if not args.language:
            parser.error("init needs the language's code")
        print(init(args.language))
    elif action == "extract":
        POT.write_bytes(pot_text(extract()))
    elif action == "update":
        update(extract())
    elif action == "compile":
        compile_all()
    else:
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
