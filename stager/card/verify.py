"""`stager verify`: check a card on site, reading every firmware file back from it.

For each firmware file on the card root: its sidecar ``<name>.sha256``, its hash read
back from the medium (cache evicted), what its name says and whether the rules allow
that kit/terminal pair. Exit code: 0 all good; 6 a mismatch, a missing or bad sidecar;
3 a file the rules refuse; 5 no firmware on the card (or the card cannot be read).

The sidecar only proves that the card matches itself (whoever wrote the file wrote the
sidecar). With a catalog (opened with the trust settings), each file read back must also
be the catalog's file of that name, per its index line: 6 when it differs, 4 when the
catalog (its signed index, when keys are trusted) has no such file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from stager.card.staging import FileOps, hash_from_medium, is_temp_name, media_error, read_sidecar
from stager.errors import ExitCode, MediaError
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


def _card_file(folder: Path, e, ops, progress_factory, catalog) -> CardFile:
    """One firmware file of the card: read back, against its sidecar, the rules and (with a catalog) the index."""
    size = e.stat(follow_symlinks=False).st_size
    parsed, rules, why = _name_facts(e.name)
    side = read_sidecar(folder / f"{e.name}.sha256")
    bar = progress_factory(size, f"verify {e.name}") if progress_factory else None
    try:
        got = hash_from_medium(folder / e.name, ops, bar)
    except OSError as err:
        message = media_error(err, folder, f"reading {e.name}").message
        return CardFile(e.name, size, "unreadable", None, side[0] if side else None, parsed, rules, message)
    finally:
        if bar is not None:
            bar.close()
    if not (folder / f"{e.name}.sha256").exists():
        status, why = "no-sidecar", f"no {e.name}.sha256 beside it: its origin cannot be proved. " + why
    elif side is None or side[1] != e.name:
        status, why = "bad-sidecar", f"{e.name}.sha256 is not one '<sha256>  {e.name}' line. " + why
    elif side[0] != got:
        status, why = (
            "mismatch",
            (
                "the bytes read back differ from the sidecar's checksum: the file "
                "is damaged. Prepare the card again. " + why
            ),
        )
    else:
        status = "ok"
    if rules not in (None, "ok"):
        why = (why + " " if why else "") + f"the rules say '{rules}' for what this name carries."
    cat_status, cat_line, cat_why = against_catalog(catalog, e.name, got) if catalog else (None, None, "")
    why = (why + " " + cat_why).strip()
    return CardFile(e.name, size, status, got, side[0] if side else None, parsed, rules, why, cat_status, cat_line)


def verify_card(target, ops: FileOps | None = None, progress_factory=None, catalog=None) -> CardReport:
    folder = Path(target)
    if not folder.is_dir():
        raise MediaError(f"{folder} is not a folder: is the card inserted and mounted there?", code="target-missing")
    try:
        entries = sorted((e for e in os.scandir(folder) if e.is_file(follow_symlinks=False)), key=lambda e: e.name)
    except OSError as e:
        raise media_error(e, folder, "listing the card") from None
    firmware = [e for e in entries if is_firmware_name(e.name) and not e.name.startswith(".")]
    leftovers = tuple(e.name for e in entries if is_temp_name(e.name))
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
    out = [_card_file(folder, e, ops, progress_factory, catalog) for e in firmware]
    return CardReport(str(folder), tuple(out), leftovers, catalog)
