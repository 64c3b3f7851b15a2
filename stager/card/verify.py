"""`stager verify`: "this card is right", reading every firmware file back from it.

For each firmware-like file on the card root (hidden ones included): its sidecar
``<name>.sha256``, its hash read back from the medium (cache evicted), what its name says
and what the rules say of it (a refusal explained as `check` explains it). Then the
one-firmware-set rule of `prepare`: exactly one bundle, optionally its terminal's .hex,
nothing else firmware-like. With a charger (``charger``: a rules Decision), the card
must hold what the rules choose for it. Exit code: 0 all good; 6 a mismatch, a missing
or bad sidecar; 5 not one firmware set (or no firmware, or the card cannot be read);
3 a file the rules refuse, or not the charger's file.
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
    refusals: tuple = ()  # the rules' reasons, as `check` gives them: (code, message)

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
            "refusals": [{"code": c, "message": m} for c, m in self.refusals],
        }


@dataclass(frozen=True)
class CardReport:
    target: str
    files: tuple = ()
    leftovers: tuple = field(default=())  # temporary files of an interrupted staging
    set_problems: tuple = ()  # the one-firmware-set rule, broken: why, one sentence each
    charger: dict | None = None  # what the rules choose for the charger asked, and whether the card holds it

    @property
    def exit_code(self) -> int:
        if any(f.status != "ok" for f in self.files):
            return ExitCode.VERIFY
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
            "one_firmware_set": not self.set_problems,
            "set_problems": list(self.set_problems),
            "charger": self.charger,
        }


def _name_facts(name: str):
    from stager.rules.engine import table_cell
    from stager.rules.names import parse

    p = parse(name)
    if not p.ok or p.model is None or p.terminal is None:
        return None, None, f"the name is {p.status}: {getattr(p, 'why', '')}"
    return p.to_json(), table_cell(p.model, p.kit, p.terminal), ""


def _refusals(parsed) -> tuple:
    """What `check` says of the kit/terminal pair a name carries, when the rules refuse it."""
    from stager.rules.engine import Query, decide

    if not parsed or parsed.get("kit") is None:
        return ()
    d = decide(Query(model=parsed["model"], kit=parsed["kit"], terminal=parsed["terminal"]))
    return tuple((r.code, r.message) for r in d.refusals)


def _list_card(folder: Path):
    if not folder.is_dir():
        raise MediaError(f"{folder} is not a folder: is the card inserted and mounted there?", code="target-missing")
    try:
        return sorted((e for e in os.scandir(folder) if e.is_file(follow_symlinks=False)), key=lambda e: e.name)
    except OSError as e:
        raise media_error(e, folder, "listing the card") from None


def _no_firmware(folder: Path, leftovers) -> MediaError:
    left = (
        f" It holds leftovers of an interrupted staging ({', '.join(leftovers)}): 'stager prepare' "
        f"removes them before it copies."
        if leftovers
        else ""
    )
    return MediaError(
        f"{folder} holds no firmware file (.bin, .tar.gz or .hex) on its root: nothing to verify.{left} "
        f"Stage one with 'stager prepare'.",
        code="no-firmware",
        details={"leftovers": list(leftovers)} if leftovers else None,
    )


def verify_card(target, ops: FileOps | None = None, progress_factory=None, charger=None) -> CardReport:
    """Read back and judge every firmware-like file on the card root; ``charger`` (a rules
    Decision, allowed) asks whether the card holds what the rules choose for it."""
    folder = Path(target)
    entries = _list_card(folder)
    firmware = [e for e in entries if is_firmware_name(e.name)]
    leftovers = tuple(e.name for e in entries if is_temp_name(e.name))
    if not firmware:
        raise _no_firmware(folder, leftovers)
    out = [_check_file(folder, e, ops, progress_factory) for e in firmware]
    problems = tuple(set_problems(out))
    wanted = charger_match(out, charger) if charger is not None else None
    return CardReport(str(folder), tuple(out), leftovers, problems, wanted)


def _check_file(folder: Path, e, ops, progress_factory) -> CardFile:
    size = e.stat(follow_symlinks=False).st_size
    parsed, rules, why = _name_facts(e.name)
    refusals = _refusals(parsed) if rules not in (None, "ok") else ()
    side = read_sidecar(folder / f"{e.name}.sha256")
    expected = side[0] if side else None
    bar = progress_factory(size, f"verify {e.name}") if progress_factory else None
    try:
        got = hash_from_medium(folder / e.name, ops, bar)
    except OSError as err:
        text = media_error(err, folder, f"reading {e.name}").message
        return CardFile(e.name, size, "unreadable", None, expected, parsed, rules, text, refusals)
    finally:
        if bar is not None:
            bar.close()
    if not (folder / f"{e.name}.sha256").exists():
        status, why = "no-sidecar", f"no {e.name}.sha256 beside it: its origin cannot be proved. " + why
    elif side is None or side[1] != e.name:
        status, why = "bad-sidecar", f"{e.name}.sha256 is not one '<sha256>  {e.name}' line. " + why
    elif side[0] != got:
        status = "mismatch"
        why = (
            "the bytes read back differ from the sidecar's checksum: the file is damaged. Prepare the card again. "
            + why
        )
    else:
        status = "ok"
    if rules not in (None, "ok") and not refusals:
        why = (why + " " if why else "") + f"the rules say '{rules}' for what this name carries."
    return CardFile(e.name, size, status, got, expected, parsed, rules, why.strip(), refusals)


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
            f"The card holds {len(bundles)} firmware bundles ({names}): a charger must find exactly one. "
            f"Prepare it again with 'stager prepare --clean'."
        )
    if not bundles:
        out.append("The card holds no firmware bundle (.bin or .tar.gz): a .hex alone does not update a charger.")
    bundle = bundles[0].parsed if len(bundles) == 1 else None
    for h in hexes:
        if bundle is not None and (h.parsed["model"], h.parsed["terminal"]) != (bundle["model"], bundle["terminal"]):
            out.append(
                f"{h.name} is the .hex of terminal {h.parsed['terminal']}, but the bundle carries terminal "
                f"{bundle['terminal']}: only the bundle's own terminal .hex may be beside it."
            )
    if len(hexes) > 1:
        out.append(f"The card holds {len(hexes)} .hex files ({', '.join(h.name for h in hexes)}): at most one.")
    for f in others:
        hidden = " (a hidden file; macOS writes '._' copies on cards)" if f.name.startswith(".") else ""
        out.append(
            f"{f.name} is firmware-like but not a firmware name{hidden}: a charger may try it. Remove it from the card."
        )
    return out


def charger_match(files, decision) -> dict:
    """Whether the card's bundle is what the rules choose for this charger."""
    q = decision.query
    want = {"model": q.model, "kit": q.kit, "terminal": decision.terminal}
    bundles = [f.parsed for f in files if f.parsed and f.parsed.get("role") == "bundle"]
    held = [{"model": b["model"], "kit": b["kit"], "terminal": b["terminal"]} for b in bundles]
    matches = len(held) == 1 and held[0] == want
    if matches:
        why = (
            f"The card holds kit {q.kit} + terminal {decision.terminal} for the {decision.model_name}, "
            f"as the rules choose."
        )
    elif not held:
        why = f"The card holds no bundle; the rules choose kit {q.kit} + terminal {decision.terminal}."
    else:
        have = "; ".join(f"{h['model']} kit {h['kit']} + terminal {h['terminal']}" for h in held)
        why = (
            f"The card holds {have}; for the {decision.model_name} the rules choose kit {q.kit} + terminal "
            f"{decision.terminal}. This is not the card for this charger: prepare one with 'stager prepare'."
        )
    return {"wanted": want, "held": held, "matches": matches, "why": why}
