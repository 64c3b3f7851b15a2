"""A demo catalog: small files named by the convention for every model, clearly not firmware.

Every file holds the marker ``STAGER DEMO - NOT FIRMWARE`` where anyone sees it: plain
text in the ``.bin`` and ``.hex`` files (no kit or ST-LINK tool would load them), the
gzip header's file name and the members of the ``.tar.gz`` archives. The content is
deterministic (fixed times in tar and gzip headers, sorted index), so the checksums are
the same on every run of the same stager.

What is written, from the rules data and the naming data:
- for each model and each OK cell of its table (never a forbidden kit such as 314),
  a bundle per language pack (FR and EN where the language matters, FR alone where it
  does not), in ``<model>/``: ``.bin`` or a real ``.tar.gz`` as the kit's family requires;
- the ``.hex`` of every terminal of those cells, in ``<model>/hex/`` (one per pack for
  terminals whose form carries a pack);
- ``README.txt`` saying DEMO, and ``SHA256SUMS`` (``sha256sum -c`` accepts it).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

from stager.catalog.index import INDEX_NAME, format_index_line, write_atomic
from stager.errors import BadInput
from stager.i18n import _
from stager.rules import names
from stager.rules.loader import rules as _rules

MARKER = "STAGER DEMO - NOT FIRMWARE"
MTIME = 1704067200  # 2024-01-01T00:00:00Z, in every tar and gzip header
FILE_BYTES = 2048
PACKS = ("FR", "EN")  # where the language matters; the first alone where it does not

README = f"""{MARKER}

This folder is a DEMO catalog written by stager (`stager demo`): DEMO, not real firmware.
Each of its files only holds the text "{MARKER}" and a short manifest.
Never copy them to a charger's card or load them with an ST-LINK probe.

The names follow stager's default naming convention (stager/rules/names.toml), one file for
every allowed kit/terminal pair of the manufacturer's tables, so that every command can
be tried: stager catalog list, stager catalog verify, stager prepare --dry-run.
SHA256SUMS is the index; `sha256sum -c SHA256SUMS` checks it in this folder.
"""


def _manifest(name: str, model, kit, terminal: int, pack) -> str:
    lines = [MARKER, f"file: {name}", f"model: {model.name} ({model.id})"]
    if kit is not None:
        lines.append(f"kit: {kit}")
    lines += [
        f"terminal: {terminal}",
        f"language pack: {pack or 'none'}",
        "written by `stager demo`: not firmware, never load it on a charger",
    ]
    return "\n".join(lines) + "\n"


def _padded(text: str, size: int = FILE_BYTES) -> bytes:
    data = text.encode()
    i = 0
    while len(data) < size:
        i += 1
        data += f"{MARKER} {i:04d}\n".encode()
    return data


def _hex_record(rtype: int, address: int, payload: bytes) -> str:
    body = bytes([len(payload), address >> 8, address & 0xFF, rtype]) + payload
    return ":" + (body + bytes([-sum(body) & 0xFF])).hex().upper() + "\n"


def _intel_hex(manifest: str) -> bytes:
    """The manifest as a valid Intel HEX file (the catalog checks every record), its data
    at 0xFFFF0000, where no STM32 has flash: an ST-LINK tool would not program it."""
    data = manifest.encode()
    out = [_hex_record(4, 0, b"\xff\xff")]
    out += [_hex_record(0, i, data[i : i + 16]) for i in range(0, len(data), 16)]
    out.append(_hex_record(1, 0, b""))
    return "".join(out).encode("ascii")


def _tar_gz(manifest: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for member, data in (("manifest.txt", manifest.encode()), ("STAGER-DEMO-NOT-FIRMWARE.txt", _padded(manifest))):
            info = tarfile.TarInfo(member)
            info.size, info.mtime, info.mode = len(data), MTIME, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "stager-demo"
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename=f"{MARKER}.tar", mode="wb", fileobj=out, mtime=MTIME, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def demo_files(rules=None) -> list[tuple[str, bytes]]:
    """(relative path, content) of every demo file, sorted, README included."""
    rules = rules or _rules()
    conv = names.convention()
    files = [("README.txt", README.encode())]
    for model in rules.models.values():
        packs = PACKS if model.languages_matter else PACKS[:1]
        terminals = set()
        for kit in model.kits:
            if kit in rules.forbidden_kits:
                continue
            for terminal in model.compatible(kit):
                terminals.add(terminal)
                for pack in packs:
                    name = names.format_name(model.id, terminal, kit, pack)
                    manifest = _manifest(name, model, kit, terminal, pack)
                    data = _tar_gz(manifest) if name.endswith(".tar.gz") else _padded(manifest)
                    files.append((f"{model.id}/{name}", data))
        for terminal in sorted(terminals):
            form = conv.form_for("hex", None, terminal)
            hex_packs: tuple[str | None, ...] = packs if form is not None and "LANG" in form.tokens else (None,)
            for hex_pack in hex_packs:
                name = names.format_name(model.id, terminal, None, hex_pack or ())
                files.append((f"{model.id}/hex/{name}", _intel_hex(_manifest(name, model, None, terminal, hex_pack))))
    return sorted(files)


def _is_demo(dest: Path) -> bool:
    readme = dest / "README.txt"
    try:
        return readme.is_file() and readme.read_text(errors="replace").startswith(MARKER)
    except OSError:
        return False


def build_demo_catalog(dest: Path) -> Path:
    """Write the demo catalog into ``dest`` (created if needed; an existing demo there is
    rewritten, any other non-empty folder refused) and return its root."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise BadInput(
            _("{folder} is not a folder: give a new or empty folder for the demo catalog.").format(folder=dest)
        )
    if dest.is_dir() and any(dest.iterdir()) and not _is_demo(dest):
        raise BadInput(
            _("{folder} is not empty and holds no stager demo catalog: give a new or empty folder.").format(folder=dest)
        )
    lines = []
    for relpath, data in demo_files():
        path = dest.joinpath(*relpath.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        lines.append(format_index_line(hashlib.sha256(data).hexdigest(), relpath))
    write_atomic(dest / INDEX_NAME, b"".join(lines))
    return dest
