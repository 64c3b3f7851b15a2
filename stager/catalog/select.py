"""Selection: from an allowed rules decision to the one bundle (and the terminal's
.hex) in the catalog, or an exit-4 error that says what exists nearby. Works on a scanned
:class:`stager.catalog.folder.Catalog`; reads no file contents."""

from __future__ import annotations

from stager.catalog.folder import Catalog
from stager.catalog.index import INDEX_NAME
from stager.catalog.model import CatalogFile, Entry, Selection, status_text
from stager.errors import CatalogError, Refused
from stager.i18n import _, ngettext
from stager.quoting import command
from stager.rules import names
from stager.rules.engine import Reason
from stager.rules.loader import rules as _rules


# --------------------------------------------------------------------------- selection
def _listing(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    if len(items) <= limit:
        return shown
    more = len(items) - limit
    # TRANSLATORS: {items} is a list of file names, cut after a few.
    return ngettext("{items} and {n} more", "{items} and {n} more", more).format(items=shown, n=more)


def _catalog_file(e: Entry) -> CatalogFile:
    """A usable entry as the file to stage (usable: it has its index line)."""
    if e.sha256 is None or e.line is None:
        raise TypeError(f"{e.relpath} has no index line: it is not usable")
    return CatalogFile(e.name, e.relpath, e.path, e.firmware.role, e.size, e.sha256, e.firmware, e.line)


def _one(cat: Catalog, cands: list[Entry], notes: list) -> CatalogFile:
    """The file among same-named candidates (see the module's note on duplicates)."""
    cands = sorted(cands, key=lambda e: (e.relpath.count("/"), e.relpath))
    if all(c.status == "usable" for c in cands):
        first = cands[0]
        if len(cands) > 1:
            notes.append(
                Reason(
                    "identical-copies",
                    _("{name} is in the catalog {n} times with the same checksum: took {path} (also {others}).").format(
                        name=first.firmware.name,
                        n=len(cands),
                        path=first.relpath,
                        others=_listing([c.relpath for c in cands[1:]]),
                    ),
                )
            )
        return _catalog_file(first)
    if len(cands) == 1:
        c = cands[0]
        if c.status == "not-indexed" and cat.signed:
            raise CatalogError(
                _(
                    "{path} is in the catalog but has no line in its signed {index}, so it is never used: nothing "
                    "vouches for a file without a signed line. If it belongs there, '{command}' checks it and adds "
                    "its line (a file cut short or malformed gets none), then the index must be signed again."
                ).format(path=c.relpath, index=INDEX_NAME, command=f"stager catalog index --catalog {cat.root}"),
                code="not-in-signed-index",
            )
        if c.status == "not-indexed":
            raise CatalogError(
                _(
                    "{path} is in the catalog but has no line in {index}, so it is not used: check where it comes "
                    "from, then run: {command}"
                ).format(
                    path=c.relpath,
                    index=INDEX_NAME,
                    command=command("stager", "catalog", "index", "--catalog", cat.root),
                ),
                code="not-indexed",
            )
        raise CatalogError(_("{path}: {why}.").format(path=c.relpath, why=c.why), code=c.status)
    listed = [
        f"{c.relpath} ({status_text(c.status if c.status != 'ambiguous' else 'indexed')}"
        f"{', ' + c.sha256[:12] + '...' if c.sha256 else ''})"
        for c in cands
    ]
    raise CatalogError(
        _(
            "{n} files are named {name}: {files}. They are not one indexed content, so none is used: keep one "
            "copy (or index them all if they are the same file)."
        ).format(n=len(cands), name=cands[0].firmware.name, files=_listing(listed)),
        code="several-files",
        details={"files": [c.relpath for c in cands]},
    )


def _usable_first(cands: list[Entry], packs: list) -> str | None:
    ok = {e.firmware.pack for e in cands if e.status == "usable"}
    return sorted(packs, key=lambda p: (p not in ok, p or ""))[0]


def _choose_pack(model, cands: list[Entry], wanted, notes: list, what: str):
    packs = sorted({e.firmware.pack for e in cands}, key=lambda p: p or "")
    shown = ", ".join(p or _("(none)") for p in packs)
    if wanted is not None and wanted in packs:
        return wanted
    if len(packs) == 1 and (wanted is None or packs[0] is None):
        return packs[0]
    if not model.languages_matter:
        pick = _usable_first(cands, packs)
        others = [p or _("(none)") for p in packs if p != pick]
        notes.append(Reason("any-pack", _any_pack(model.name, wanted, pick, what, others)))
        return pick
    files = [e.relpath for e in cands]
    if wanted is not None:
        hint = [p for p in packs if p and set(wanted.split("-")) <= set(p.split("-"))]
        text = _("no {pack} language pack of {what} for the {model}: the catalog has {packs} ({files}).").format(
            pack=wanted, what=what, model=model.name, packs=shown, files=_listing(files)
        )
        if hint:
            text += " " + _("Pack {pack} holds {wanted}: use --lang {pack}.").format(pack=hint[0], wanted=wanted)
        raise CatalogError(
            text,
            code="no-matching-file",
            details={"packs": packs, "files": files},
        )
    raise CatalogError(
        _(
            "{what} for the {model} comes in {n} language packs: {packs} ({files}). Say which with --lang "
            "(for example --lang {first})."
        ).format(what=what, model=model.name, n=len(packs), packs=shown, files=_listing(files), first=packs[0]),
        code="several-files",
        details={"packs": packs, "files": files},
    )


def _any_pack(model: str, wanted, pick, what: str, others: list[str]) -> str:
    """The note on a pack taken where the language does not matter (the WB-AC)."""
    facts = {"model": model, "wanted": wanted, "pick": pick, "what": what, "others": ", ".join(others)}
    if wanted and others:
        text = _(
            "The language pack does not matter for the {model}: no {wanted} pack; took {pick} for {what} "
            "(the catalog also has {others})."
        )
    elif wanted:
        text = _("The language pack does not matter for the {model}: no {wanted} pack; took {pick} for {what}.")
    elif others:
        text = _(
            "The language pack does not matter for the {model}: took {pick} for {what} (the catalog also has {others})."
        )
    else:
        text = _("The language pack does not matter for the {model}: took {pick} for {what}.")
    return text.format(**facts)


def _no_match(cat: Catalog, model, what: str, expected: str, nearby: list[str]) -> CatalogError:
    near = _("Nearby: {nearby}.").format(nearby="; ".join(nearby)) if nearby else _("Nothing like it in the catalog.")
    return CatalogError(
        _("no file in the catalog {catalog} for the {model}, {what}: expected {expected}. {nearby}").format(
            catalog=cat.root, model=model.name, what=what, expected=expected, nearby=near
        ),
        code="no-matching-file",
        details={"expected": expected, "nearby": nearby},
    )


def _nearby(cat: Catalog, model, role: str, kit, terminal, compatible=()) -> list[str]:
    """What the catalog has near a file it lacks: other terminals or kits of the model,
    the file for another model, names never used that look like it."""
    ok = [e for e in cat.entries if e.parsed.ok and e.firmware.role == role]
    mine = [e for e in ok if e.firmware.model == model.id]
    out = (
        _nearby_bundles(mine, kit, terminal, compatible)
        if role == "bundle"
        else _nearby_hexes(mine, kit, terminal, compatible)
    )
    other_model = [
        _("{path} (for the {model})").format(path=e.relpath, model=_rules().models[e.firmware.model].name)
        for e in ok
        if e.firmware.model != model.id and e.firmware.terminal == terminal and (role == "hex" or e.firmware.kit == kit)
    ]
    if other_model:
        out.append(_("for other models: {files}").format(files=_listing(other_model)))
    return out + _never_used_like(cat, model, role, kit, terminal)


def _nearby_bundles(mine: list[Entry], kit, terminal, compatible) -> list[str]:
    out = []
    same_kit = [e for e in mine if e.firmware.kit == kit and e.firmware.terminal != terminal]
    if same_kit:
        allowed = sorted({e.firmware.terminal for e in same_kit if e.firmware.terminal in compatible})
        listed = [
            _("{path} (terminal {terminal})").format(path=e.relpath, terminal=e.firmware.terminal) for e in same_kit
        ]
        if allowed:
            text = _(
                "other terminals for kit {kit}: {files} (the rules allow it: give --terminal {terminal} to take it)"
            )
        else:
            text = _("other terminals for kit {kit}: {files}")
        out.append(text.format(kit=kit, files=_listing(listed), terminal=allowed[-1] if allowed else None))
    same_term = [e.relpath for e in mine if e.firmware.terminal == terminal and e.firmware.kit != kit]
    if same_term:
        out.append(
            _("terminal {terminal} with other kits: {files}").format(terminal=terminal, files=_listing(same_term))
        )
    return out


def _nearby_hexes(mine: list[Entry], kit, terminal, compatible) -> list[str]:
    out = []
    others = [e.relpath for e in mine if e.firmware.terminal == terminal]
    if others:
        out.append(_("terminal {terminal} in other packs: {files}").format(terminal=terminal, files=_listing(others)))
    near = [e.relpath for e in mine if e.firmware.terminal in compatible and e.firmware.terminal != terminal]
    if near:
        out.append(_("other terminals for kit {kit}: {files}").format(kit=kit, files=_listing(near)))
    return out


def _never_used_like(cat: Catalog, model, role: str, kit, terminal) -> list[str]:
    """Names that look like the wanted file but are never used, and links not followed."""
    looks = [
        _("{path} is never used ({status}: {why})").format(path=e.relpath, status=status_text(e.status), why=e.why)
        for e in cat.entries
        if not e.parsed.ok
        and e.parsed.terminal == terminal
        and e.parsed.role == role
        and (role == "hex" or e.parsed.kit == kit)
    ][:6]
    for p in cat.skipped:  # e.g. a link out of the catalog bearing the very name wanted
        parsed = names.parse(p.path.rsplit("/", 1)[-1])
        if (
            parsed.ok
            and parsed.model == model.id
            and parsed.role == role
            and parsed.terminal == terminal
            and (role == "hex" or parsed.kit == kit)
        ):
            looks.append(_("{path} is never used ({why})").format(path=p.path, why=p.why))
    return looks


def select(cat: Catalog, decision, lang: str | None = None, with_hex: bool = False) -> Selection:
    if not decision.allowed or decision.terminal is None:
        codes = ", ".join(r.code for r in decision.refusals) or _("no terminal")
        raise Refused(
            _("the rules refuse this choice ({codes}): nothing is taken from the catalog.").format(codes=codes),
            decision=decision,
            code=decision.refusals[0].code if decision.refusals else "refused",
        )
    model = _rules().models[decision.model]
    kit, terminal = decision.kit, decision.terminal
    wanted = names.parse_lang(lang) if lang else None
    notes: list[Reason] = []
    what = _("kit {kit} + terminal {terminal}").format(kit=kit, terminal=terminal)
    bundles = [
        e
        for e in cat.entries
        if e.parsed.ok
        and e.firmware.role == "bundle"
        and e.firmware.model == model.id
        and e.firmware.kit == kit
        and e.firmware.terminal == terminal
    ]
    if not bundles:
        raise _no_match(
            cat,
            model,
            what,
            names.expected_name(model.id, terminal, kit, wanted),
            _nearby(cat, model, "bundle", kit, terminal, decision.compatible_terminals),
        )
    pack = _choose_pack(model, bundles, wanted, notes, what)
    files = [_one(cat, [e for e in bundles if e.firmware.pack == pack], notes)]
    if with_hex:
        files.append(select_hex(cat, decision, pack, notes))
    return Selection(tuple(files), pack, tuple(notes))


def select_hex(cat: Catalog, decision, pack: str | None = None, notes: list | None = None) -> CatalogFile:
    """The terminal's .hex for the ST-LINK probe: of the bundle's ``pack`` for a 3XX
    terminal (any pack on a WB-AC; with no pack known, the catalog's only one). Notes on
    the choice are appended to ``notes`` when given."""
    notes = [] if notes is None else notes
    model = _rules().models[decision.model]
    kit, terminal = decision.kit, decision.terminal
    form = names.convention().form_for("hex", None, terminal)
    needs_pack = form is not None and "LANG" in form.tokens
    hex_pack = pack if needs_pack else None
    hexes = [
        e
        for e in cat.entries
        if e.parsed.ok and e.firmware.role == "hex" and e.firmware.model == model.id and e.firmware.terminal == terminal
    ]
    if (
        needs_pack
        and hexes
        and (hex_pack is None or (not model.languages_matter and not any(e.firmware.pack == hex_pack for e in hexes)))
    ):
        hex_pack = _choose_pack(
            model, hexes, hex_pack, notes, _("the terminal {terminal} .hex").format(terminal=terminal)
        )
    chosen = [e for e in hexes if e.firmware.pack == hex_pack]
    if not chosen:
        raise _no_match(
            cat,
            model,
            _("terminal {terminal} (.hex for the ST-LINK probe)").format(terminal=terminal),
            names.expected_name(model.id, terminal, None, hex_pack),
            _nearby(cat, model, "hex", kit, terminal, decision.compatible_terminals),
        )
    return _one(cat, chosen, notes)
