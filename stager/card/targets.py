"""Which folders `prepare` writes to: the one removable medium, or the --target folders.

The rules (cli.md, issues 5 and 13): without --target, the one removable medium mounted
(several: the caller's picker ``choose``, else exit 5 listing them). A --target that is
not on removable media -> exit 5 unless --allow-fixed (then the folder stands for the
card's root). On a removable medium the target is the volume's root (a subfolder -> exit
5 naming the root; two targets on one volume -> exit 5), formatted FAT32 or exFAT (any
other -> exit 5 with how to format it, unless --allow-any-fs). Never the system disk by
detection. A read-only medium -> exit 5. The media probes are injected (``detect``,
``medium_for_path``) so tests replay them; ``local=False`` replays a recorded machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stager.card.media import fs_name, short_size, verdict_text
from stager.errors import MediaError
from stager.fileio import os_error_text, path_kind
from stager.i18n import _
from stager.quoting import command
from stager.value import value

CARD_FILESYSTEMS = {"vfat", "fat", "fat12", "fat16", "fat32", "msdos", "exfat"}


@value
class CardTarget:
    path: Path
    device: str | None = None
    label: str | None = None
    fstype: str | None = None
    free_bytes: int | None = None
    size_bytes: int | None = None
    removable: bool = False
    why: str | None = None
    read_only: bool = False
    uuid: str | None = None
    fs_version: str | None = None

    @classmethod
    def from_medium(cls, path: Path, medium) -> CardTarget:
        if medium is None:
            return cls(path=path)
        return cls(
            path=path,
            device=medium.device,
            label=medium.label,
            fstype=medium.fstype,
            free_bytes=medium.free_bytes,
            size_bytes=medium.size_bytes,
            removable=bool(medium.removable),
            why=medium.why,
            read_only=bool(medium.read_only),
            uuid=getattr(medium, "uuid", None),
            fs_version=getattr(medium, "fs_version", None),
        )

    @property
    def filesystem(self) -> str | None:
        """FAT32, exFAT, NTFS... as people know it (None for a plain folder's unknown)."""
        return fs_name(self.fstype, self.fs_version) if self.fstype else None

    def identity(self) -> str:
        """The card's stable identity: its volume UUID or serial, label and size."""
        return medium_identity(self.uuid, self.label, self.size_bytes)

    def bar_name(self) -> str:
        """How a progress bar names this card: label (or folder) and device."""
        name = self.label or self.path.name or str(self.path)
        dev = os.path.basename(self.device) if self.device else ""
        return f"{name} {dev}".strip()

    def describe(self) -> str:
        fs = self.filesystem if self.filesystem != "unknown" else None
        bits = [b for b in (self.label, self.device, fs) if b]
        return f"{self.path} ({', '.join(bits)})" if bits else str(self.path)

    def to_json(self) -> dict:
        return {
            "path": str(self.path),
            "device": self.device,
            "label": self.label,
            "fstype": self.fstype,
            "filesystem": self.filesystem,
            "uuid": self.uuid,
            "identity": self.identity(),
            "free_bytes": self.free_bytes,
            "size_bytes": self.size_bytes,
            "removable": self.removable,
            "why": self.why,
            "read_only": self.read_only,
        }


def medium_identity(uuid, label, size_bytes) -> str:
    serial = _("volume {uuid}").format(uuid=uuid) if uuid else _("no volume serial")
    name = _("label '{label}'").format(label=label) if label else _("no label")
    size = short_size(size_bytes)
    # TRANSLATORS: a card's identity: "volume 1234-ABCD, label 'PULSE', 7.4 GiB".
    return _("{serial}, {name}, {size}").format(serial=serial, name=name, size=size)


def medium_line(m) -> str:
    """One medium as the listings show it: mount point, device, label, file system, size,
    identity and the firmware it holds."""
    size = short_size(getattr(m, "size_bytes", None) or None)
    label = _("'{label}'").format(label=m.label) if m.label else _("no label")
    fs = fs_name(m.fstype, getattr(m, "fs_version", None))
    if fs == "unknown":
        fs = _("file system unknown")
    uuid = getattr(m, "uuid", None)
    held = tuple(getattr(m, "firmware_files", ()) or ())
    holds = _("holds {files}").format(files=", ".join(held)) if held else _("no firmware on it")
    if uuid:
        # TRANSLATORS: one medium: mount point (device, label, file system, size, volume serial; firmware).
        text = _("{mountpoint} ({device}, {label}, {fs}, {size}, volume {uuid}; {holds})")
    else:
        text = _("{mountpoint} ({device}, {label}, {fs}, {size}; {holds})")
    return text.format(mountpoint=m.mountpoint, device=m.device, label=label, fs=fs, size=size, uuid=uuid, holds=holds)


def resolve_targets(
    paths,
    allow_fixed: bool = False,
    *,
    detect=None,
    medium_for_path=None,
    local: bool = True,
    allow_any_fs: bool = False,
    choose=None,
    unmounted=None,
) -> list[CardTarget]:
    """The targets to write, checked before a byte is written (MediaError otherwise).
    ``choose(found) -> [media]`` picks among several cards (a terminal's picker);
    ``unmounted() -> [str]`` lists cards inserted but not mounted, for the messages.
    ``local=False``: the volumes are a replayed machine's (``--replay``), so a --target
    is one of its recorded volumes and nothing is looked up on this machine's disks."""
    if detect is None or medium_for_path is None:
        from stager.card import media

        detect = detect or media.all_volumes
        medium_for_path = medium_for_path or media.medium_for_path
    if not paths:
        plans = [CardTarget.from_medium(Path(m.mountpoint), m) for m in _detected(detect(), choose, unmounted)]
        for plan in plans:
            if local:
                card_folder(plan.path)  # a dead mount says so, not "read-only"
    elif not local:
        plans = [_replayed_target(raw, allow_fixed, medium_for_path) for raw in paths]
    else:
        plans = [_named_target(raw, allow_fixed, medium_for_path) for raw in paths]
        _one_target_a_volume(plans, paths, medium_for_path)
    _check_each(plans, allow_any_fs, local)
    return plans


def _check_each(plans, allow_any_fs: bool, local: bool) -> None:
    """The file-system and writable checks of every card: each refused card is named
    (one error for one card; for several, one error listing each)."""
    refused = []
    for plan in plans:
        try:
            if not allow_any_fs:
                _check_filesystem(plan)
            _check_writable(plan, local)
        except MediaError as e:
            refused.append(e)
    if len(refused) == 1:
        raise refused[0]
    if refused:
        raise MediaError(
            _("{count} of the cards chosen cannot be written:").format(count=len(refused))
            + "".join("\n  - " + e.message for e in refused),
            code=refused[0].code,
            details={"refused": [{"code": e.code, "message": e.message} for e in refused]},
        )


def _is_candidate(m) -> bool:
    """A volume detection may pick (``detect`` may give every volume, with verdicts)."""
    return bool(m.removable) and not getattr(m, "is_system", False) and getattr(m, "verdict", "card") == "card"


def _advice(m) -> str | None:
    advice = getattr(m, "advice", None)
    return advice() if callable(advice) else None


def _detected(volumes, choose, unmounted) -> list:
    found = [m for m in volumes if _is_candidate(m)]
    waiting = list(unmounted()) if unmounted else []
    if not found:
        set_aside = " ".join(a for m in volumes if (a := _advice(m)) and getattr(m, "verdict", "") != "empty-slot")
        extra = (" " + _("Inserted but not mounted: {cards}.").format(cards="; ".join(waiting))) if waiting else ""
        raise MediaError(
            _("No removable card or USB stick is mounted.")
            + (f" {set_aside}" if set_aside else "")
            + " "
            + _("Insert the card (and mount it if your system does not), or name its folder with --target.")
            + extra,
            code="no-media",
            details={"unmounted": waiting} if waiting else None,
        )
    if len(found) > 1:
        if choose is not None:
            unusable = [a for m in volumes if getattr(m, "verdict", "") == "gone" and (a := _advice(m))]
            return list(choose(found, unusable=unusable) if unusable else choose(found))
        listing = "; ".join(medium_line(m) for m in found)
        raise MediaError(
            _(
                "Several removable media are mounted: {listing}. Name the one to write with "
                "--target (repeat --target to write several cards at once)."
            ).format(listing=listing),
            code="several-media",
            details=[m.to_json() for m in found],
        )
    return found


def _named_target(raw, allow_fixed: bool, medium_for_path) -> CardTarget:
    path = Path(os.path.expanduser(str(raw)))
    card_folder(path, raw)
    real = path.resolve()
    medium = medium_for_path(real)
    if getattr(medium, "is_system", False) and real == Path(medium.mountpoint).resolve():
        raise MediaError(
            _(
                "Target {target} is the root of the system disk: never a target, even with "
                "--allow-fixed. Name the card's folder."
            ).format(target=raw),
            code="system-disk",
        )
    plan = CardTarget.from_medium(real, medium)
    if not plan.removable and not allow_fixed:
        if medium is not None and medium.device:
            first = _("Target {target} is on a fixed disk ({device}), not on a removable card or stick.")
        else:
            first = _("Target {target} is on a fixed disk, not on a removable card or stick.")
        system = " " + _("It is the system disk.") if getattr(medium, "is_system", False) else ""
        raise MediaError(
            first.format(target=raw, device=getattr(medium, "device", None))
            + system
            + " "
            + _("Insert the card and name its folder, or add --allow-fixed to write to this folder anyway."),
            code="not-removable",
        )
    if plan.removable and real != Path(medium.mountpoint).resolve():
        root = medium.mountpoint
        raise MediaError(
            _(
                "Target {target} is a folder inside the card {root}, not the card itself: the charger reads "
                "the firmware from the card's root only. Name the card's root: --target {quoted}."
            ).format(target=raw, root=root, quoted=command(root)),
            code="not-card-root",
            details={"root": str(root)},
        )
    return plan


def _one_target_a_volume(plans, paths, medium_for_path) -> None:
    seen: dict = {}
    for raw, plan in zip(paths, plans, strict=True):
        if plan.path in seen:
            raise MediaError(_("Target {target} is named twice.").format(target=raw), code="target-twice")
        seen[plan.path] = raw
    volumes: dict = {}
    for raw, plan in zip(paths, plans, strict=True):
        if not plan.removable:
            continue
        key = plan.device or plan.path
        if key in volumes:
            raise MediaError(
                _(
                    "Targets {first} and {second} are on the same card ({device}): a card is "
                    "written once, at its root. Name each card once."
                ).format(first=volumes[key], second=raw, device=plan.device),
                code="same-card-twice",
            )
        volumes[key] = raw


def format_command(plan: CardTarget, platform: str | None = None) -> str:
    """How to format this card as FAT32 on this system (the card's data is erased)."""
    platform = platform or sys.platform
    label = fat_label(plan.label or "PULSECARD")
    if platform.startswith("win"):
        drive = str(plan.path).rstrip("\\/")
        if not label:
            return _("format {drive} /FS:FAT32 /Q (over 32 GB: /FS:exFAT)").format(drive=drive)
        return _("format {drive} /FS:FAT32 /V:{label} /Q (over 32 GB: /FS:exFAT)").format(drive=drive, label=label)
    if platform == "darwin":  # diskutil needs a name
        name = label or "PULSECARD"
        return command("diskutil", "eraseVolume", "FAT32", name, plan.device or str(plan.path), system="posix")
    dev = plan.device or "/dev/sdX1"
    mkfs = ["mkfs.vfat", "-F", "32", *(["-n", label] if label else []), dev]
    return f"sudo {command('umount', str(plan.path))} && sudo {command(*mkfs)}"


_FAT_LABEL_FORBIDDEN = set('*?.,;:/\\|+=<>[]"')


def fat_label(label: str) -> str:
    """A FAT volume label every formatting tool accepts (mkfs.vfat, format, diskutil):
    ASCII upper case, accents dropped (é -> E), no character FAT forbids, 11 at most;
    empty when nothing is left (the command is then given without a label)."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii")
    kept = "".join(c for c in plain.upper() if " " <= c <= "~" and c not in _FAT_LABEL_FORBIDDEN)
    return kept[:11].strip()


def _check_filesystem(plan: CardTarget) -> None:
    """A card the chargers cannot read is refused; an unknown type is never refused."""
    kind = (plan.fstype or "").lower()
    if not plan.removable or not kind or kind in ("unknown", "fuseblk") or kind in CARD_FILESYSTEMS:
        return
    raise MediaError(
        _(
            "{card} is formatted {filesystem}: the chargers read only FAT32 or exFAT "
            "cards, so this card would not be read on site. Copy off anything you need, then format it "
            "as FAT32: {command}. Or add --allow-any-fs if you know this charger reads {filesystem}."
        ).format(card=plan.describe(), filesystem=plan.filesystem, command=format_command(plan)),
        code="wrong-filesystem",
        details={"filesystem": plan.filesystem},
    )


def check_card_filesystem(path: Path, medium_for_path=None) -> None:
    """prepare's file-system rule for a card named to `stager verify`: a removable medium
    formatted other than FAT32 or exFAT is refused (MediaError, exit 5), as prepare refuses
    it; a folder on a fixed disk, or a medium that cannot be told, is not."""
    if medium_for_path is None:
        from stager.card import media

        medium_for_path = media.medium_for_path
    real = Path(path).resolve()
    _check_filesystem(CardTarget.from_medium(real, medium_for_path(real)))


def _replayed_target(raw, allow_fixed: bool, medium_for_path) -> CardTarget:
    medium = medium_for_path(str(raw))
    if medium is None:
        raise MediaError(
            _(
                "Target {target} is on none of the recorded machine's volumes: name one of the mount points "
                "'stager media --replay FILE' lists."
            ).format(target=raw),
            code="target-missing",
        )
    if getattr(medium, "is_system", False):
        raise MediaError(
            _(
                "Target {target} is on {mountpoint}, a volume of the recorded machine's system disk: "
                "never a target by stager's checks here. Name the card's folder."
            ).format(target=raw, mountpoint=medium.mountpoint),
            code="system-disk",
        )
    plan = CardTarget.from_medium(Path(str(raw)), medium)
    if not plan.removable and not allow_fixed:
        raise MediaError(
            _(
                "Target {target} is on {mountpoint} ({verdict}), not on a removable card or stick. "
                "Insert the card and name its folder, or add --allow-fixed to write to this folder anyway."
            ).format(target=raw, mountpoint=medium.mountpoint, verdict=verdict_text(medium.verdict)),
            code="not-removable",
        )
    _check_writable(plan, local=False)
    return plan


def card_folder(path: Path, raw=None) -> None:
    """MediaError (exit 5) unless ``path`` is a folder that answers: missing, not a
    folder, a name too long, a dead mount (ENOTCONN), no permission."""
    raw = path if raw is None else raw
    try:
        kind = path_kind(path)
        if kind == "dir":
            os.listdir(path)  # a dead mount can still stat as a folder: ask for its content
            return
    except OSError as e:
        # TRANSLATORS: {problem} is "<folder>: <what the system said>."
        problem = _("Target {problem}").format(problem=os_error_text(e, raw))
        raise MediaError(problem, code="target-unreadable") from None
    if kind == "missing":
        raise MediaError(
            _("Target {target} does not exist: is the card inserted and mounted there?").format(target=raw),
            code="target-missing",
        )
    raise MediaError(
        _("Target {target} is not a folder: name the card's folder (its mount point).").format(target=raw),
        code="target-not-folder",
    )


def _check_writable(plan: CardTarget, local: bool = True) -> None:
    if plan.read_only or (local and not os.access(plan.path, os.W_OK)):
        raise MediaError(
            _(
                "{card} is read-only. Slide the card's lock switch to unlocked (or remount it "
                "read-write), then try again."
            ).format(card=plan.describe()),
            code="read-only",
        )
