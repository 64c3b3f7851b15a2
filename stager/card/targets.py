"""Which folders `prepare` writes to: the one removable medium, or the --target folders.

The rules (cli.md, issue 5): without --target, the one removable medium mounted; none
or several -> exit 5 listing them. A --target that is not on removable media -> exit 5
unless --allow-fixed. Never the system disk by detection. A read-only medium -> exit 5.
The media probes are injected (``detect``: the volumes with their verdicts, only cards
are picked; ``medium_for_path``) so tests replay them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stager.errors import MediaError


@dataclass(frozen=True)
class TargetPlan:
    path: Path
    device: str | None = None
    label: str | None = None
    fstype: str | None = None
    free_bytes: int | None = None
    size_bytes: int | None = None
    removable: bool = False
    why: str | None = None
    read_only: bool = False

    @classmethod
    def from_medium(cls, path: Path, medium) -> TargetPlan:
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
        )

    def describe(self) -> str:
        bits = [b for b in (self.label, self.device, self.fstype) if b]
        return f"{self.path} ({', '.join(bits)})" if bits else str(self.path)

    def to_json(self) -> dict:
        return {
            "path": str(self.path),
            "device": self.device,
            "label": self.label,
            "fstype": self.fstype,
            "free_bytes": self.free_bytes,
            "size_bytes": self.size_bytes,
            "removable": self.removable,
            "why": self.why,
            "read_only": self.read_only,
        }


def _is_candidate(m) -> bool:
    """A volume detection may pick (``detect`` may give every volume, with verdicts)."""
    return bool(m.removable) and not getattr(m, "is_system", False) and getattr(m, "verdict", "card") == "card"


def _advice(m) -> str | None:
    advice = getattr(m, "advice", None)
    return advice() if callable(advice) else None


def _medium_line(m) -> str:
    size = f"{m.size_bytes / 1e9:.1f} GB" if getattr(m, "size_bytes", None) else "size unknown"
    label = f"'{m.label}'" if m.label else "no label"
    return f"{m.mountpoint} ({m.device}, {label}, {m.fstype}, {size})"


def resolve_targets(
    paths, allow_fixed: bool = False, *, detect=None, medium_for_path=None, local: bool = True
) -> list[TargetPlan]:
    """The targets to write, checked before a byte is written (MediaError otherwise).
    ``local=False``: the volumes are a replayed machine's (``--replay``), so a --target
    is one of its recorded volumes and nothing is looked up on this machine's disks."""
    if detect is None or medium_for_path is None:
        from stager.card import media

        detect = detect or media.all_volumes
        medium_for_path = medium_for_path or media.medium_for_path
    if not paths:
        plan = _the_one_card(detect())
        _check_writable(plan, local)
        return [plan]
    if not local:
        return [_replayed_target(raw, allow_fixed, medium_for_path) for raw in paths]

    plans, seen = [], set()
    for raw in paths:
        path = Path(os.path.expanduser(str(raw)))
        if not path.exists():
            raise MediaError(
                f"Target {raw} does not exist: is the card inserted and mounted there?", code="target-missing"
            )
        if not path.is_dir():
            raise MediaError(
                f"Target {raw} is not a folder: name the card's folder (its mount point).", code="target-not-folder"
            )
        real = path.resolve()
        if real in seen:
            raise MediaError(f"Target {raw} is named twice.", code="target-twice")
        seen.add(real)
        medium = medium_for_path(real)
        if getattr(medium, "is_system", False) and real == Path(medium.mountpoint).resolve():
            raise MediaError(
                f"Target {raw} is the root of the system disk: never a target, even with "
                f"--allow-fixed. Name the card's folder.",
                code="system-disk",
            )
        plan = TargetPlan.from_medium(real, medium)
        if not plan.removable and not allow_fixed:
            where = f" ({medium.device})" if medium is not None and medium.device else ""
            system = " It is the system disk." if getattr(medium, "is_system", False) else ""
            raise MediaError(
                f"Target {raw} is on a fixed disk{where}, not on a removable card or stick.{system} "
                f"Insert the card and name its folder, or add --allow-fixed to write to this folder anyway.",
                code="not-removable",
            )
        _check_writable(plan)
        plans.append(plan)
    return plans


def _the_one_card(volumes) -> TargetPlan:
    """Without --target: the one card among the volumes (MediaError when none or several)."""
    found = [m for m in volumes if _is_candidate(m)]
    if not found:
        set_aside = " ".join(a for m in volumes if (a := _advice(m)) and m.verdict != "empty-slot")
        raise MediaError(
            "No removable card or USB stick is mounted. "
            + (f"{set_aside} " if set_aside else "")
            + "Insert the card (and mount it if your system does not), or name its folder with --target.",
            code="no-media",
        )
    if len(found) > 1:
        listing = "; ".join(_medium_line(m) for m in found)
        raise MediaError(
            f"Several removable media are mounted: {listing}. Name the one to write with "
            f"--target (repeat --target to write several cards at once).",
            code="several-media",
            details=[m.to_json() for m in found],
        )
    return TargetPlan.from_medium(Path(found[0].mountpoint), found[0])


def _replayed_target(raw, allow_fixed: bool, medium_for_path) -> TargetPlan:
    medium = medium_for_path(str(raw))
    if medium is None:
        raise MediaError(
            f"Target {raw} is on none of the recorded machine's volumes: name one of the mount points "
            f"'stager media --replay FILE' lists.",
            code="target-missing",
        )
    if getattr(medium, "is_system", False):
        raise MediaError(
            f"Target {raw} is on {medium.mountpoint}, a volume of the recorded machine's system disk: "
            f"never a target by stager's checks here. Name the card's folder.",
            code="system-disk",
        )
    plan = TargetPlan.from_medium(Path(str(raw)), medium)
    if not plan.removable and not allow_fixed:
        raise MediaError(
            f"Target {raw} is on {medium.mountpoint} ({medium.verdict}), not on a removable card or stick. "
            f"Insert the card and name its folder, or add --allow-fixed to write to this folder anyway.",
            code="not-removable",
        )
    _check_writable(plan, local=False)
    return plan


def _check_writable(plan: TargetPlan, local: bool = True) -> None:
    if plan.read_only or (local and not os.access(plan.path, os.W_OK)):
        raise MediaError(
            f"{plan.describe()} is read-only. Slide the card's lock switch to unlocked (or remount it "
            f"read-write), then try again.",
            code="read-only",
        )
