"""stager media: the removable cards and sticks stager can see (or a recorded machine saw)."""

from __future__ import annotations

import sys

import click

from stager.cli.output import emit_json, json_option, say, style
from stager.errors import BadInput, ExitCode


@click.command(
    epilog="""\b
Examples:
  stager media
  stager media --json | jq '.media[].mountpoint'
  stager media --record machine.json          (attach machine.json to a bug report)
  stager media --replay machine.json --json   (what stager decides on that machine)""",
)
@click.option(
    "--record",
    "record_file",
    metavar="FILE",
    help="Also write everything this system's probes said into FILE (one JSON document, docs/media-record.md).",
)
@click.option(
    "--replay",
    "replay_file",
    metavar="FILE",
    help="Detect from a record written by --record (on any system) instead of this machine.",
)
@json_option
def media(record_file, replay_file, as_json):
    """List the removable media mounted now (SD cards, USB sticks): mount point, device,
    label, file system, size, free space, why it counts as removable, and the firmware
    files already on its root. The system disk is never listed. The other volumes are
    named with their verdict (system, fixed, empty slot, locked, network...)."""
    from stager.card import media as probe

    if record_file and replay_file:
        raise BadInput("--record and --replay exclude each other: record this machine, or replay a record.")
    if replay_file:
        machine = probe.replay(replay_file)
        system, volumes = machine.system, list(machine.volumes)
    elif record_file:
        system, volumes = probe.current_system(), probe.record_to(record_file)
    else:
        system, volumes = probe.current_system(), probe.all_volumes()
    found = probe.candidates(volumes)
    if as_json:
        emit_json({"media": [m.to_json() for m in found], "system": system, "volumes": [v.to_json() for v in volumes]})
        return ExitCode.OK
    _listing(found, [v for v in volumes if v not in found])
    if record_file:
        say(f"Recorded what the probes said in {record_file}.")
    return ExitCode.OK


def _listing(found, others) -> None:
    from stager.cli.render import human_bytes

    if not found:
        say(
            "No removable card or USB stick is mounted. Insert the card (and mount it if your "
            "system does not), then run 'stager media' again."
        )
    for m in found:
        ro = style(" READ-ONLY", sys.stdout, fg="red", bold=True) if m.read_only else ""
        say(style(m.mountpoint, sys.stdout, bold=True) + ro)
        say(f"  device {m.device} (disk {m.disk}), label {m.label or '-'}, file system {m.fstype}")
        say(f"  size {human_bytes(m.size_bytes)}, free {human_bytes(m.free_bytes)}; removable: {m.why}")
        vendor = " ".join(x for x in (m.vendor, m.model) if x)
        if vendor:
            say(f"  {vendor}")
        say(f"  firmware on it: {', '.join(m.firmware_files) if m.firmware_files else 'none'}")
    for v in others:
        if v.advice():
            say(f"Not a target: {v.advice()}")
