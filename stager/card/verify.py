"""`stager verify`: "this card is right", reading every firmware file back from it.

For each firmware-like file on the card root (hidden ones included): its sidecar
``<name>.sha256``, its hash read back from the medium (:func:`stager.card.readback.read_back`,
which says which method took effect: ``read_back`` in each file's JSON; where only a cache
could be read, the report says so and tells how to prove the card), what its name says
and what the rules say of it (a refusal explained as `check` explains it). Then the
one-firmware-set rule of `prepare`: exactly one bundle, optionally its terminal's .hex,
nothing else firmware-like. With a charger (``charger``: a rules Decision), the card
must hold what the rules choose for it. Exit code: 0 all good; 6 a mismatch, a missing
or bad sidecar; 4 (with a catalog) a file the catalog lacks; 5 not one firmware set (or
no firmware, or the card cannot be read); 3 a file the rules refuse, or not the
charger's file.

The sidecar only proves that the card matches itself (whoever wrote the file wrote the
sidecar). With a catalog (opened with the trust settings), each file read back must also
be the catalog's file of that name, per its index line: 6 when it differs, 4 when the
catalog (its signed index, when keys are trusted) has no such file.
"""

from __future__ import annotations

from pathlib import Path

from stager.card.staging import FileOps, is_temp_name, media_error, read_sidecar
from stager.card.targets import card_folder, check_card_filesystem
from stager.errors import ExitCode, MediaError
from stager.fileio import Stopped
from stager.i18n import _
from stager.i18n_format import format_list
from stager.rules.names import is_firmware_name
from stager.value import field, value


@value
class CardFile:
    name: str
    size: int
    status: str  # ok | mismatch | no-sidecar | bad-sidecar | unreadable
    sha256: str | None  # read back from the card
    expected: str | None  # from the sidecar
    parsed: dict | None = None  # what the name says (None: unrecognised)
    rules: str | None = None  # ok | ko | forbidden | unknown-kit | unknown-terminal
    why: str = ""
    read_back: str | None = None  # readback.METHODS: how the bytes were read
    read_back_why: str = ""
    catalog: str | None = None  # with a catalog: match | differs | not-in-index
    catalog_line: int | None = None  # the index line it matches
    refusals: tuple = ()  # the rules' reasons, as `check` gives them: (code, message)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "bytes": self.size,
            "status": self.status,
            "sha256": self.sha256,
            "sidecar_sha256": self.expected,
            "name_says": self.parsed,
            "rules": self.rules,
            "why": self.why,
            "read_back": self.read_back,
            "read_back_why": self.read_back_why,
            "catalog": self.catalog,
            "catalog_line": self.catalog_line,
            "refusals": [{"code": c, "message": t} for c, t in self.refusals],
        }


@value
class CardReport:
    target: str
    files: tuple = ()
    leftovers: tuple = field(default=())  # temporary files of an interrupted staging
    catalog: object = None  # the Catalog checked against (with --catalog)
    set_problems: tuple = ()  # the one-firmware-set rule, broken: why, one sentence each
    charger: dict | None = None  # what the rules choose for the charger asked, and whether the card holds it

    @property
    def checked_catalog(self) -> bool:
        return self.catalog is not None

    @property
    def read_back(self) -> str | None:
        """The weakest method over the files read (None when none was read)."""
        from stager.card.readback import METHODS

        got = [f.read_back for f in self.files if f.read_back]
        return next((m for m in reversed(METHODS) if m in got), None)

    @property
    def exit_code(self) -> int:
        if any(f.status != "ok" or f.catalog == "differs" for f in self.files):
            return ExitCode.VERIFY
        if any(f.catalog == "not-in-index" for f in self.files):
            return ExitCode.CATALOG
        if self.set_problems:
            return ExitCode.MEDIA
        if any(f.rules not in ("ok", None) for f in self.files):
            return ExitCode.REFUSED
        if self.charger is not None and not self.charger["matches"]:
            return ExitCode.REFUSED
        return ExitCode.OK

    def to_json(self) -> dict:
        return {
            "ok": self.exit_code == 0,
            "target": self.target,
            "files": [f.to_json() for f in self.files],
            "leftovers": list(self.leftovers),
            "read_back": self.read_back,
            "one_firmware_set": not self.set_problems,
            "set_problems": list(self.set_problems),
            "charger": self.charger,
            **self._catalog_json(),
        }

    def _catalog_json(self) -> dict:
        if self.catalog is None:
            return {"catalog": None}
        cat = self.catalog
        doc: dict = {"catalog": {"path": str(cat.root), "trust": cat.trust.to_json() if cat.trust else None}}  # type: ignore[attr-defined]
        if self.exit_code == ExitCode.CATALOG:
            missing = [f.name for f in self.files if f.catalog == "not-in-index"]
            code = "not-in-signed-index" if cat.signed else "not-in-catalog"  # type: ignore[attr-defined]
            doc["error"] = {
                "code": code,
                "message": _("not in the catalog's index: {files}. Do not use the card.").format(
                    files=", ".join(missing)
                ),
            }
        return doc


def _cap(sentence: str) -> str:
    """A sentence of ours begun with a capital (messages are written to be joined in a
    clause too, so they start lower case)."""
    return sentence[:1].upper() + sentence[1:]


def _name_facts(name: str):
    from stager.rules.engine import table_cell
    from stager.rules.names import parse

    p = parse(name)
    if not p.ok or p.model is None or p.terminal is None:
        # TRANSLATORS: {status} is the name's status code (unknown-kit, not-firmware...), {why} why.
        return None, None, _cap(_("the name is {status}: {why}").format(status=p.status, why=getattr(p, "why", "")))
    return p.to_json(), table_cell(p.model, p.kit, p.terminal), ""


def _refusals(parsed) -> tuple:
    """What `check` says of the kit/terminal pair a name carries, when the rules refuse it."""
    from stager.rules.engine import Query, decide

    if not parsed or parsed.get("kit") is None:
        return ()
    d = decide(Query(model=parsed["model"], kit=parsed["kit"], terminal=parsed["terminal"]))
    return tuple((r.code, r.message) for r in d.refusals)


def against_catalog(catalog, name: str, got: str | None) -> tuple[str, int | None, str]:
    """(match | differs | not-in-index, index line, why) of a file read back from the card."""
    from stager.catalog.index import INDEX_NAME

    lines = [e for e in catalog.entries if e.name == name and e.status == "usable"]
    if not lines:
        if catalog.signed:
            text = _(
                "the catalog {catalog} has no usable {name} in its signed {index}: "
                "nothing proves this file is the manufacturer's. Do not use the card; prepare it again."
            )
        else:
            text = _(
                "the catalog {catalog} has no usable {name} in its {index}: "
                "nothing proves this file is the manufacturer's. Do not use the card; prepare it again."
            )
        return "not-in-index", None, text.format(catalog=catalog.root, name=name, index=INDEX_NAME)
    hit = next((e for e in lines if e.sha256 == got), None)
    if hit is None:
        if catalog.signed:
            text = _(
                "the bytes read back are not the catalog's {name} (line {line} of its signed {index}), "
                "even if the sidecar agrees with them. Prepare the card again."
            )
        else:
            text = _(
                "the bytes read back are not the catalog's {name} (line {line} of its {index}), "
                "even if the sidecar agrees with them. Prepare the card again."
            )
        return "differs", None, text.format(name=name, line=lines[0].line, index=INDEX_NAME)
    return "match", hit.line, ""


def verify_card(
    target,
    ops: FileOps | None = None,
    progress_factory=None,
    stop=None,
    catalog=None,
    charger=None,
    *,
    allow_any_fs: bool = False,
) -> CardReport:
    """Read back and judge every firmware-like file on the card root; ``charger`` (a rules
    Decision, allowed) asks whether the card holds what the rules choose for it. A card
    formatted other than FAT32 or exFAT is refused as prepare refuses it, unless
    ``allow_any_fs``."""
    from stager.card.pin import pin_card

    folder = Path(target)
    card_folder(folder)
    if not allow_any_fs:
        check_card_filesystem(folder)
    pin = pin_card(folder)
    try:
        return _verify(pin, ops or FileOps(), progress_factory, stop, catalog, charger)
    finally:
        pin.close()


def _verify(pin, ops, progress_factory, stop, catalog, charger=None) -> CardReport:
    folder = pin.path
    try:
        entries = pin.files()
    except OSError as e:
        raise media_error(e, folder, _("listing the card")) from None
    firmware = [(n, size) for n, size in entries if is_firmware_name(n)]  # hidden ones too: a charger may try them
    leftovers = tuple(n for n, _ in entries if is_temp_name(n))
    odd = _odd_entries(pin)
    if not firmware and not odd:
        left = (
            " "
            + _(
                "It holds leftovers of an interrupted staging ({files}): 'stager prepare' "
                "removes them before it copies."
            ).format(files=", ".join(leftovers))
            if leftovers
            else ""
        )
        raise MediaError(
            _(
                "{card} holds no firmware file (.bin, .tar.gz or .hex) on its root: "
                "nothing to verify.{leftovers} Stage one with 'stager prepare'."
            ).format(card=folder, leftovers=left),
            code="no-firmware",
            details={"leftovers": list(leftovers)} if leftovers else None,
        )
    out = [
        _one(pin, ops, name, size, pin.exists(f"{name}.sha256"), progress_factory, stop, catalog)
        for name, size in firmware
    ]
    wanted = charger_match(out, charger) if charger is not None else None
    problems = (set_problems(out) if out else []) + odd
    return CardReport(str(folder), tuple(out), leftovers, catalog, tuple(problems), wanted)


def _odd_entries(pin) -> list[str]:
    """A folder, FIFO or link under a firmware name on the root, one sentence each."""
    from stager.card.pin import firmware_like_entries

    try:
        odd = firmware_like_entries(pin)
    except OSError as e:
        raise media_error(e, pin.path, _("listing the card")) from None
    return [
        _(
            "{name} is {kind} under a firmware name, not a firmware file: a charger may try it. "
            "Remove it from the card by hand."
        ).format(name=name, kind=kind)
        for name, kind in odd
    ]


def _one(pin, ops, name: str, size: int, has_sidecar: bool, progress_factory, stop, catalog) -> CardFile:
    """One firmware file of the card: read back, against its sidecar, the rules and (with a catalog) the index."""
    parsed, rules, why = _name_facts(name)
    refusals = _refusals(parsed) if rules not in (None, "ok") else ()
    side = read_sidecar(pin, f"{name}.sha256")
    expected = side[0] if side else None
    # TRANSLATORS: a progress bar's label: reading {name} back from the card to verify it.
    bar = progress_factory(size, _("verify {name}").format(name=name)) if progress_factory else None
    try:
        rb = ops.read_back(pin, name, progress=bar.update if bar else None, stop=stop)
    except OSError as err:
        message = media_error(err, pin.path, _("reading {name}").format(name=name), reading=True).message
        return CardFile(name, size, "unreadable", None, expected, parsed, rules, message)
    except Stopped:
        raise KeyboardInterrupt from None
    finally:
        if bar is not None:
            bar.close()
    if not has_sidecar:
        status = "no-sidecar"
        why = _cap(_("no {name}.sha256 beside it: its origin cannot be proved.").format(name=name)) + " " + why
    elif side is None or side[1] != name:
        status = "bad-sidecar"
        why = _("{name}.sha256 is not one '<sha256>  {name}' line.").format(name=name) + " " + why
    elif side[0] != rb.sha256:
        status = "mismatch"
        why = (
            _cap(
                _(
                    "the bytes read back do not match the checksum in {name}.sha256: the file is damaged. "
                    "Prepare the card again."
                ).format(name=name)
            )
            + " "
            + why
        )
    else:
        status = "ok"
    if rules not in (None, "ok") and not refusals:
        # TRANSLATORS: {rules} is the rules' verdict code (ko, forbidden, unknown-kit, unknown-terminal).
        said = _cap(_("the rules say '{rules}' for what this name carries.").format(rules=rules))
        why = (why.strip() + " " if why.strip() else "") + said
    cat_status, cat_line, cat_why = against_catalog(catalog, name, rb.sha256) if catalog else (None, None, "")
    why = (why.strip() + " " + _cap(cat_why)).strip()
    return CardFile(
        name, size, status, rb.sha256, expected, parsed, rules, why, rb.method, rb.why, cat_status, cat_line, refusals
    )


def set_problems(files) -> list[str]:
    """The one-firmware-set rule of prepare, as sentences: exactly one bundle, optionally
    the .hex of its terminal, nothing else firmware-like (hidden files included)."""
    bundles = [f for f in files if f.parsed and f.parsed.get("role") == "bundle"]
    hexes = [f for f in files if f.parsed and f.parsed.get("role") == "hex"]
    others = [f for f in files if not f.parsed]
    out = []
    if len(bundles) > 1:
        names = ", ".join(f.name for f in bundles)
        out.append(
            _(
                "The card holds {n} firmware bundles ({files}): a charger must find exactly one. "
                "Prepare it again with 'stager prepare --clean'."
            ).format(n=len(bundles), files=names)
        )
    if not bundles:
        out.append(_("The card holds no firmware bundle (.bin or .tar.gz): a .hex alone does not update a charger."))
    bundle = bundles[0].parsed if len(bundles) == 1 else None
    for h in hexes:
        if bundle is not None and (h.parsed["model"], h.parsed["terminal"]) != (bundle["model"], bundle["terminal"]):
            out.append(
                _(
                    "{name} is the .hex of terminal {terminal}, but the bundle carries terminal "
                    "{bundle_terminal}: only the bundle's own terminal .hex may be beside it."
                ).format(name=h.name, terminal=h.parsed["terminal"], bundle_terminal=bundle["terminal"])
            )
    if len(hexes) > 1:
        out.append(
            _("The card holds {n} .hex files ({files}): at most one.").format(
                n=len(hexes), files=", ".join(h.name for h in hexes)
            )
        )
    for f in others:
        if f.name.startswith("."):
            text = _(
                "{name} is firmware-like but not a firmware name (a hidden file; macOS writes '._' copies on "
                "cards): a charger may try it. Remove it from the card."
            )
        else:
            text = _("{name} is firmware-like but not a firmware name: a charger may try it. Remove it from the card.")
        out.append(text.format(name=f.name))
    return out


def charger_match(files, decision) -> dict:
    """Whether the card's bundle is what the rules choose for this charger."""
    q = decision.query
    want = {"model": q.model, "kit": q.kit, "terminal": decision.terminal}
    bundles = [f.parsed for f in files if f.parsed and f.parsed.get("role") == "bundle"]
    held = [{"model": b["model"], "kit": b["kit"], "terminal": b["terminal"]} for b in bundles]
    matches = len(held) == 1 and held[0] == want
    if matches:
        why = _("The card holds kit {kit} + terminal {terminal} for the {model}, as the rules choose.").format(
            kit=q.kit, terminal=decision.terminal, model=decision.model_name
        )
    elif not held:
        why = _("The card holds no bundle; the rules choose kit {kit} + terminal {terminal}.").format(
            kit=q.kit, terminal=decision.terminal
        )
    else:
        have = format_list(
            _("{model} kit {kit} + terminal {terminal}").format(model=h["model"], kit=h["kit"], terminal=h["terminal"])
            for h in held
        )
        why = _(
            "The card holds {held}; for the {model} the rules choose kit {kit} + terminal "
            "{terminal}. This is not the card for this charger: prepare one with 'stager prepare'."
        ).format(held=have, model=decision.model_name, kit=q.kit, terminal=decision.terminal)
    return {"wanted": want, "held": held, "matches": matches, "why": why}
