"""`stager verify`: check a card on site, reading every firmware file back from it.

For each firmware file on the card root: its sidecar ``<name>.sha256``, its hash read
back from the medium (:func:`stager.card.readback.read_back`, which says which method took
effect: ``read_back`` in each file's JSON), what its name says and whether the rules allow
that kit/terminal pair. Where only a cache could be read, the report says so and tells
how to prove the card. Exit code: 0 all good; 6 a mismatch, a missing or bad sidecar;
3 a file the rules refuse; 5 no firmware on the card (or the card cannot be read).

The sidecar only proves that the card matches itself (whoever wrote the file wrote the
sidecar). With a catalog (opened with the trust settings), each file read back must also
be the catalog's file of that name, per its index line: 6 when it differs, 4 when the
catalog (its signed index, when keys are trusted) has no such file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stager.card.staging import FileOps, is_temp_name, media_error, read_sidecar
from stager.card.targets import card_folder
from stager.errors import ExitCode, MediaError
from stager.fileio import Stopped
from stager.rules.names import is_firmware_name


@dataclass(frozen=True)
class CardFile:
    name: str
    bytes: int
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

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "bytes": self.bytes,
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
        }


@dataclass(frozen=True)
class CardReport:
    target: str
    files: tuple = ()
    leftovers: tuple = field(default=())  # temporary files of an interrupted staging
    catalog: object = None  # the Catalog checked against (with --catalog)

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
        if any(f.rules not in ("ok", None) for f in self.files):
            return ExitCode.REFUSED
        return ExitCode.OK

    def to_json(self) -> dict:
        return {
            "ok": self.exit_code == 0,
            "target": self.target,
            "files": [f.to_json() for f in self.files],
            "leftovers": list(self.leftovers),
            "read_back": self.read_back,
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
                "message": f"not in the catalog's index: {', '.join(missing)}. Do not use the card.",
            }
        return doc


def _name_facts(name: str):
    from stager.rules.engine import table_cell
    from stager.rules.names import parse

    p = parse(name)
    if not p.ok:
        return None, None, f"the name is {p.status}: {p.why}"
    return p.to_json(), table_cell(p.model, p.kit, p.terminal), ""


def against_catalog(catalog, name: str, got: str | None) -> tuple[str, int | None, str]:
    """(match | differs | not-in-index, index line, why) of a file read back from the card."""
    from stager.catalog.index import INDEX_NAME

    lines = [e for e in catalog.entries if e.name == name and e.status == "usable"]
    signed = "signed " if catalog.signed else ""
    if not lines:
        return (
            "not-in-index",
            None,
            f"the catalog {catalog.root} has no usable {name} in its {signed}{INDEX_NAME}: "
            f"nothing proves this file is the manufacturer's. Do not use the card; prepare it again.",
        )
    hit = next((e for e in lines if e.sha256 == got), None)
    if hit is None:
        return (
            "differs",
            None,
            f"the bytes read back are not the catalog's {name} (line {lines[0].line} of its {signed}{INDEX_NAME}), "
            f"even if the sidecar agrees with them. Prepare the card again.",
        )
    return "match", hit.line, ""


def verify_card(target, ops: FileOps | None = None, progress_factory=None, stop=None, catalog=None) -> CardReport:
    from stager.card.pin import pin_card

    folder = Path(target)
    card_folder(folder)
    pin = pin_card(folder)
    try:
        return _verify(pin, ops or FileOps(), progress_factory, stop, catalog)
    finally:
        pin.close()


def _verify(pin, ops, progress_factory, stop, catalog) -> CardReport:
    folder = pin.path
    try:
        entries = pin.files()
    except OSError as e:
        raise media_error(e, folder, "listing the card") from None
    firmware = [(n, size) for n, size in entries if is_firmware_name(n) and not n.startswith(".")]
    leftovers = tuple(n for n, _ in entries if is_temp_name(n))
    if not firmware:
        left = (
            f" It holds leftovers of an interrupted staging ({', '.join(leftovers)}): 'stager prepare' "
            f"removes them before it copies."
            if leftovers
            else ""
        )
        raise MediaError(
            f"{folder} holds no firmware file (.bin, .tar.gz or .hex) on its root: "
            f"nothing to verify.{left} Stage one with 'stager prepare'.",
            code="no-firmware",
            details={"leftovers": list(leftovers)} if leftovers else None,
        )
    out = [
        _one(pin, ops, name, size, pin.exists(f"{name}.sha256"), progress_factory, stop, catalog)
        for name, size in firmware
    ]
    return CardReport(str(folder), tuple(out), leftovers, catalog)


def _one(pin, ops, name: str, size: int, has_sidecar: bool, progress_factory, stop, catalog) -> CardFile:
    """One firmware file of the card: read back, against its sidecar, the rules and (with a catalog) the index."""
    parsed, rules, why = _name_facts(name)
    side = read_sidecar(pin, f"{name}.sha256")
    expected = side[0] if side else None
    bar = progress_factory(size, f"verify {name}") if progress_factory else None
    try:
        rb = ops.read_back(pin, name, progress=bar.update if bar else None, stop=stop)
    except OSError as err:
        message = media_error(err, pin.path, f"reading {name}").message
        return CardFile(name, size, "unreadable", None, expected, parsed, rules, message)
    except Stopped:
        raise KeyboardInterrupt from None
    finally:
        if bar is not None:
            bar.close()
    if not has_sidecar:
        status, why = "no-sidecar", f"no {name}.sha256 beside it: its origin cannot be proved. " + why
    elif side is None or side[1] != name:
        status, why = "bad-sidecar", f"{name}.sha256 is not one '<sha256>  {name}' line. " + why
    elif side[0] != rb.sha256:
        status = "mismatch"
        why = (
            "the bytes read back differ from the sidecar's checksum: the file is damaged. Prepare the card again. "
            + why
        )
    else:
        status = "ok"
    if rules not in (None, "ok"):
        why = (why + " " if why else "") + f"the rules say '{rules}' for what this name carries."
    cat_status, cat_line, cat_why = against_catalog(catalog, name, rb.sha256) if catalog else (None, None, "")
    why = (why.strip() + " " + cat_why).strip()
    return CardFile(
        name, size, status, rb.sha256, expected, parsed, rules, why, rb.method, rb.why, cat_status, cat_line
    )
