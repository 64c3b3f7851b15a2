"""stager media: the removable cards and sticks stager can see (or a recorded machine saw)."""

from __future__ import annotations

import sys

import click

from stager.cli.options import epilog
from stager.cli.output import emit_json, json_option, say, style
from stager.errors import BadInput, ExitCode
from stager.i18n import _


@click.command(
    help=_(
        "List the removable media mounted now (SD cards, USB sticks): mount point, "
        "device, label, file system, size, free space, why it counts as removable, and "
        "the firmware files already on its root. The system disk is never listed. The "
        "other volumes are named with their verdict (system, fixed, empty slot, locked, "
        "network...); then the cards inserted but not mounted, with how to mount them."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager media\n"
            "  stager media --json | jq '.media[].mountpoint'\n"
            "  stager media --record machine.json          (attach machine.json to a bug report)\n"
            "  stager media --replay machine.json --json   (what stager decides on that machine)"
        ),
    ),
)
@click.option(
    "--record",
    "record_file",
    metavar=_("FILE"),
    help=_("Also write everything this system's probes said into FILE (one JSON document, docs/media-record.md)."),
)
@click.option(
    "--replay",
    "replay_file",
    metavar=_("FILE"),
    help=_("Detect from a record written by --record (on any system) instead of this machine."),
)
@json_option
def media(record_file, replay_file, as_json):
    from stager.card import media as probe

    if record_file and replay_file:
        raise BadInput(_("--record and --replay exclude each other: record this machine, or replay a record."))
    if replay_file:
        machine = probe.replay(replay_file)
        system, volumes = machine.system, list(machine.volumes)
    elif record_file:
        system, volumes = probe.current_system(), probe.record_to(record_file)
    else:
        system, volumes = probe.current_system(), probe.all_volumes()
    found = probe.candidates(volumes)
    waiting = probe.unmounted() if not replay_file else []
    if as_json:
        doc = {"media": [m.to_json() for m in found], "system": system, "volumes": [v.to_json() for v in volumes]}
        emit_json({**doc, "unmounted": waiting})
        return ExitCode.OK
    _listing(found, [v for v in volumes if v not in found], waiting)
    if record_file:
        say(_("Recorded what the probes said in {file}.").format(file=record_file))
    return ExitCode.OK


def _listing(found, others, waiting) -> None:
    from stager.card.media import fs_name, unmounted_line
    from stager.card.targets import medium_identity
    from stager.cli.render import say_lines, size_text

    lines = []
    if not found:
        lines.append(
            _(
                "No removable card or USB stick is mounted. Insert the card (and mount it if your "
                "system does not), then run 'stager media' again."
            )
        )
    for m in found:
        ro = " " + style(_("READ-ONLY"), sys.stdout, fg="red", bold=True) if m.read_only else ""
        lines.append(style(m.mountpoint, sys.stdout, bold=True) + ro)
        fs = fs_name(m.fstype, getattr(m, "fs_version", None))
        text = _("device {device} (disk {disk}), label {label}, file system {fs}")
        lines.append("  " + text.format(device=m.device, disk=m.disk, label=m.label or "-", fs=fs))
        ident = medium_identity(getattr(m, "uuid", None), m.label, m.size_bytes)
        lines.append("  " + _("identity: {identity}").format(identity=ident))
        text = _("size {size}, free {free}; removable: {why}")
        lines.append("  " + text.format(size=size_text(m.size_bytes), free=size_text(m.free_bytes), why=m.why_text()))
        vendor = " ".join(x for x in (m.vendor, m.model) if x)
        if vendor:
            lines.append(f"  {vendor}")
        if m.firmware_files:
            lines.append("  " + _("firmware on it: {files}").format(files=", ".join(m.firmware_files)))
        else:
            # TRANSLATORS: a whole sentence, so that "none" agrees with "firmware" (French: aucune).
            lines.append("  " + _("firmware on it: none"))
    lines += [_("Not a target: {advice}").format(advice=v.advice()) for v in others if v.advice()]
    if waiting:
        lines.append(_("Inserted but not mounted:"))
        lines.extend(f"  {unmounted_line(v)}" for v in waiting)
    say_lines(lines, sys.stdout)
