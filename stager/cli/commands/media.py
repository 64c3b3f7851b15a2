"""stager media: the removable cards and sticks stager can see."""

from __future__ import annotations

import sys

import click

from stager.cli.output import emit_json, json_option, say, style
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
    from stager.card.media import detect
    from stager.cli.render import human_bytes

    found = detect()
    if as_json:
        emit_json({"media": [m.to_json() for m in found]})
        return ExitCode.OK
    if not found:
        say(
            "No removable card or USB stick is mounted. Insert the card (and mount it if your "
            "system does not), then run 'stager media' again."
        )
        return ExitCode.OK
    for m in found:
        ro = style(" READ-ONLY", sys.stdout, fg="red", bold=True) if m.read_only else ""
        say(style(m.mountpoint, sys.stdout, bold=True) + ro)
        say(f"  device {m.device} (disk {m.disk}), label {m.label or '-'}, file system {m.fstype}")
        say(f"  size {human_bytes(m.size_bytes)}, free {human_bytes(m.free_bytes)}; removable: {m.why}")
        vendor = " ".join(x for x in (m.vendor, m.model) if x)
        if vendor:
            say(f"  {vendor}")
        say(f"  firmware on it: {', '.join(m.firmware_files) if m.firmware_files else 'none'}")
    return ExitCode.OK
