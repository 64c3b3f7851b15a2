"""stager media: the removable cards and sticks stager can see."""

from __future__ import annotations

import sys

import click

from stager.cli.output import emit_json, json_option, style
from stager.errors import ExitCode


@click.command(
    epilog="""\b
Examples:
  stager media
  stager media --json | jq '.media[].mountpoint'""",
)
@json_option
def media(as_json):
    """List the removable media mounted now (SD cards, USB sticks): mount point, device,
    label, file system, size, free space, why it counts as removable, and the firmware
    files already on its root. The system disk is never listed."""
    from stager.card.media import detect, fs_name, unmounted, unmounted_line
    from stager.card.targets import medium_identity
    from stager.cli.render import exact_bytes, say_lines

    found = detect()
    waiting = unmounted()
    if as_json:
        emit_json({"media": [m.to_json() for m in found], "unmounted": waiting})
        return ExitCode.OK
    lines = []
    if not found:
        lines.append(
            "No removable card or USB stick is mounted. Insert the card (and mount it if your "
            "system does not), then run 'stager media' again."
        )
    for m in found:
        ro = style(" READ-ONLY", sys.stdout, fg="red", bold=True) if m.read_only else ""
        lines.append(style(m.mountpoint, sys.stdout, bold=True) + ro)
        fs = fs_name(m.fstype, getattr(m, "fs_version", None))
        lines.append(f"  device {m.device} (disk {m.disk}), label {m.label or '-'}, file system {fs}")
        ident = medium_identity(getattr(m, "uuid", None), m.label, m.size_bytes)
        lines.append(f"  identity: {ident}")
        lines.append(f"  size {exact_bytes(m.size_bytes)}, free {exact_bytes(m.free_bytes)}; removable: {m.why}")
        vendor = " ".join(x for x in (m.vendor, m.model) if x)
        if vendor:
            lines.append(f"  {vendor}")
        lines.append(f"  firmware on it: {', '.join(m.firmware_files) if m.firmware_files else 'none'}")
    if waiting:
        lines.append("Inserted but not mounted:")
        lines.extend(f"  {unmounted_line(v)}" for v in waiting)
    say_lines(lines, sys.stdout)
    return ExitCode.OK
