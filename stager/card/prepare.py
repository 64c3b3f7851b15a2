"""The whole job of `stager prepare`, as a library: decide everything, then stage.

The order (issue 13: every check before the question, nothing lost to --clean):

1. :func:`make_plan` (no medium touched): the rules decision (refused -> exit 3), the
   catalog's files (exit 4), the targets (exit 5: file system, card root, one target a
   volume, read-only).
2. :func:`check_files`: each file hashed once and compared with its index line (exit 4).
3. :func:`check_cards`: every card's pre-flight (space, FAT32 limit, firmware present,
   writable), nothing written or removed: what will be written and what --clean removes.
4. The caller asks its one question.
5. :func:`run` stages onto the cards that passed; the old firmware is removed only once
   the new file is verified on that card (or first, where the card cannot hold both:
   the source was proved in step 2). Each staging is recorded in the history.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stager.catalog.select import select
from stager.errors import ExitCode, Interrupted, MediaError, Refused, StagerError
from stager.fileio import is_under

if TYPE_CHECKING:
    from stager.card.preflight import Preflight
    from stager.card.targets import TargetPlan
    from stager.catalog.model import Selection
    from stager.rules.engine import Decision


@dataclass(frozen=True)
class Plan:
    decision: Decision
    catalog_root: str
    selection: Selection
    targets: tuple = ()  # TargetPlan
    target_problem: MediaError | None = field(default=None, compare=False)
    trust: object = field(default=None, compare=False)  # stager.catalog.trust.Trust

    @property
    def files(self):
        return tuple(self.selection.files)

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def to_json(self, *, dry_run: bool, results=None) -> dict:
        by_path = {str(r.path): r for r in results or ()}
        targets = []
        for t in self.targets:
            r = by_path.get(str(t.path))
            entry = {
                "path": str(t.path),
                "staged": list(r.staged) if r else [],
                "verified": bool(r and r.verified),
                "device": t.device,
                "label": t.label,
                "fstype": t.fstype,
                "filesystem": t.filesystem,
                "uuid": t.uuid,
                "size_bytes": t.size_bytes,
                "identity": t.identity(),
            }
            if r is not None and dry_run:  # what the card check found; nothing was done
                entry.update({"already_staged": list(r.already), "would_remove": list(r.removed)})
                if r.error is not None:
                    entry["error"] = r.error.to_json()
            elif r is not None:
                entry.update(r.extra_json())
            targets.append(entry)
        failed = [r.error for r in results or () if r.error is not None]
        staged = dry_run or results is None or all(r.verified for r in results)
        doc = {
            "ok": staged and not failed,
            "dry_run": dry_run,
            "decision": self.decision.to_json(),
            "files": [f.to_json() for f in self.files],
            "targets": targets,
            "catalog": self.catalog_root,
            "notes": [n.to_json() for n in self.selection.notes],
            "trust": self.trust.to_json() if self.trust is not None else None,  # type: ignore[attr-defined]
        }
        if results is not None and not dry_run:
            doc["summary"] = {"ready": sum(1 for r in results if r.ok), "cards": len(results)}
        if self.target_problem is not None:
            doc["target_problem"] = self.target_problem.to_json()
        if failed:  # the contract's failure envelope: the worst target's error
            doc["error"] = max(failed, key=lambda e: (e.exit_code == 130, e.exit_code)).to_json()
        return doc


def refusal_error(decision) -> Refused:
    first = decision.refusals[0]
    summary = " ".join(r.message.splitlines()[0] for r in decision.refusals)
    return Refused(
        f"Refused: nothing was written. {summary}",
        decision=decision,
        code=first.code,
    )


def make_plan(
    query,
    *,
    catalog_dir=None,
    lang=None,
    with_hex=False,
    targets=(),
    allow_fixed=False,
    dry_run=False,
    detect=None,
    medium_for_path=None,
    allow_any_fs=False,
    choose=None,
    unmounted=None,
    local=True,
    trusted=True,
    allow_rollback=False,
    warn=None,
) -> Plan:
    """Everything `prepare` will do, decided before any medium is touched. The catalog is
    opened with the trust settings (:func:`stager.catalog.trust.open_trusted`) unless
    ``trusted`` is False (the demo's own catalog)."""
    from stager.card.targets import resolve_targets
    from stager.catalog.folder import open_catalog
    from stager.catalog.trust import open_trusted
    from stager.rules.engine import decide

    decision = decide(query)
    if not decision.allowed:
        raise refusal_error(decision)
    if trusted:
        catalog = open_trusted(catalog_dir, allow_rollback=allow_rollback, warn=warn)
    else:
        catalog = open_catalog(catalog_dir)
    selection = select(catalog, decision, lang=lang, with_hex=with_hex)
    problem = None
    try:
        chosen = resolve_targets(
            list(targets),
            allow_fixed,
            detect=detect,
            medium_for_path=medium_for_path,
            local=local,
            allow_any_fs=allow_any_fs,
            choose=choose,
            unmounted=unmounted,
        )
    except MediaError as e:
        # A dry run without --target still shows the plan when no card (or several) is in.
        if not (dry_run and not targets and e.code in ("no-media", "several-media")):
            raise
        chosen, problem = [], e
    _never_the_catalog(catalog.root, chosen)
    return Plan(
        decision=decision,
        catalog_root=str(catalog.root),
        selection=selection,
        targets=tuple(chosen),
        target_problem=problem,
        trust=catalog.trust,
    )


def _never_the_catalog(root, targets) -> None:
    """A card is never the catalog, inside it, or around it: --clean there would remove
    the catalog's own firmware."""
    cat = os.path.realpath(root)
    for t in targets:
        path = os.path.realpath(t.path)
        if is_under(path, cat) or is_under(cat, path):
            raise MediaError(
                f"Target {t.path} is the firmware catalog {root}, or holds it, or lies inside it: "
                f"a card must be a folder of its own. Name the card's folder with --target.",
                code="target-is-catalog",
            )


def _sources(plan: Plan) -> list:
    from stager.card.staging import Source

    return [
        Source(path=f.path, name=f.name, sha256=f.sha256, bytes=f.bytes, role=f.role, catalog_file=f)
        for f in plan.files
    ]


@dataclass
class CardCheck:
    """One card's pre-flight, before the question: what will be written, what --clean
    removes, the warnings; or why the card cannot be written (``error``)."""

    target: TargetPlan
    pre: Preflight | None = None
    error: StagerError | None = None
    holds_both: bool | None = None  # the new files fit beside the old firmware (None: unknown)

    @property
    def ready(self) -> bool:
        return self.error is None

    def writes(self, plan: Plan) -> list:
        already = set(self.pre.already) if self.pre else set()
        return [f for f in plan.files if f.name not in already]

    @property
    def removes(self) -> list[str]:
        return list(self.pre.removed) if self.pre else []

    @property
    def warnings(self) -> list[str]:
        return list(self.pre.warnings) if self.pre else []


def check_cards(plan: Plan, *, clean: bool = False, probe: bool = True, preflight=None) -> list[CardCheck]:
    """Every card's pre-flight, nothing written or removed (with ``probe`` a hidden probe
    file is created and removed to prove the card takes writes). A card that fails does
    not stop the others. One CardCheck a target, in the plan's order."""
    from stager.card import clean as cleaning
    from stager.card.preflight import check_writable
    from stager.card.preflight import preflight as card_preflight
    from stager.card.staging import media_error

    preflight = preflight or card_preflight
    sources = _sources(plan)
    out = []
    for t in plan.targets:
        try:
            if probe:
                check_writable(t.path)
            pre = preflight(
                sources,
                t.path,
                fstype=t.fstype,
                free_bytes=t.free_bytes,
                size_bytes=t.size_bytes,
                clean=clean,
                dry_run=True,
            )
        except KeyboardInterrupt:
            raise Interrupted("Interrupted before copying: no firmware file was written to the card.") from None
        except StagerError as e:  # this target only: the others go on
            out.append(CardCheck(target=t, error=e))
            continue
        except OSError as e:  # the card failed while being checked (a dead mount, an I/O error)
            out.append(CardCheck(target=t, error=media_error(e, Path(t.path), "checking the card")))
            continue
        both = cleaning.holds_both(Path(t.path), t.free_bytes, sources, pre.already) if pre.removed else True
        out.append(CardCheck(target=t, pre=pre, holds_both=both))
    return out


def check_results(checks) -> list:
    """The cards' checks as results (the dry run's answer): errors, or what --clean would remove."""
    from stager.card.staging import TargetResult

    return [
        TargetResult.failed(c.target.path, c.error)
        if c.error is not None
        else TargetResult(path=c.target.path, already=list(c.pre.already), removed=c.removes)
        for c in checks
    ]


def check_files(plan: Plan, progress_factory=None) -> None:
    """The content check before the question: each file read once and compared with its
    index line (exit 4 on a difference: nothing is asked, nothing touched)."""
    from stager.catalog.index import check_content

    for f in plan.files:
        bar = progress_factory(f.bytes, f"check {f.name}") if progress_factory else None
        try:
            check_content(f, bar.update if bar else None)
        finally:
            if bar:
                bar.close()


def run(
    plan: Plan,
    *,
    checks=None,
    clean: bool = False,
    progress_factory=None,
    report=None,
    stage=None,
    preflight=None,
    history_path=None,
    settled=None,
    ops=None,
):
    """Stage the plan onto every card that passed its checks (``checks`` from
    :func:`check_cards`; made here, with the files' content check, when not given).
    ``settled`` is called once every card's outcome is known, before the history is
    written (the CLI stops taking Ctrl-C there). Returns one result per target."""
    from stager.card import history, staging

    sources = _sources(plan)
    if checks is None:
        check_files(plan, progress_factory)
        checks = check_cards(plan, clean=clean, preflight=preflight)
        if report:
            for c in checks:
                for w in c.warnings:
                    report(f"Warning: {c.target.describe()}: {w}")
    results = [staging.TargetResult.failed(c.target.path, c.error) for c in checks if not c.ready]
    ready = [c for c in checks if c.ready]
    if ready:
        results.extend(_stage_cards(ready, sources, stage or staging.stage, progress_factory, ops))
    if settled:
        settled()
    for r in results:
        target = next(t for t in plan.targets if str(t.path) == str(r.path))
        history.record(plan.decision, target, sources, r, path=history_path)
    order = {str(t.path): i for i, t in enumerate(plan.targets)}
    return sorted(results, key=lambda r: order[str(r.path)])


def _stage_cards(ready, sources, stage, progress_factory, ops) -> list:
    """Copy and verify; the old firmware after the proof (see the module doc)."""
    from stager.card import clean as cleaning
    from stager.card import staging

    first = {str(c.target.path) for c in ready if c.removes and c.holds_both is False}
    removed: dict[str, list] = {}
    failed = {}
    for c in ready:
        _drop_leftovers(Path(c.target.path))
        if str(c.target.path) in first:  # cannot hold both: the source was proved against its index
            done, err = cleaning.remove_files(Path(c.target.path), c.removes, ops)
            removed[str(c.target.path)] = done
            if err is not None:
                failed[str(c.target.path)] = staging.TargetResult(path=Path(c.target.path), error=err, removed=done)
    todo = [c for c in ready if str(c.target.path) not in failed]
    results = _stage_round(todo, sources, stage, progress_factory)
    for c in todo:
        r = results[str(c.target.path)]
        key = str(c.target.path)
        if r.ok and c.removes and key not in removed:
            _clean_after(c, r, sources, ops)
            continue
        r.removed = removed.get(key, [])
        if r.error is not None and c.removes and key not in removed:
            kept = ", ".join(cleaning.old_files(c.removes, sources)) or ", ".join(c.removes)
            r.error = type(r.error)(
                f"{r.error.message} The old firmware is still on the card, untouched ({kept}).",
                code=r.error.code,
                details=r.error.details,
            )
    return [results.get(str(c.target.path)) or failed[str(c.target.path)] for c in ready]


def _stage_round(checks, sources, stage, progress_factory) -> dict:
    from stager.card import staging

    targets = [
        staging.Target(path=c.target.path, device=c.target.device, label=c.target.bar_name(), preflight=c.pre)
        for c in checks
    ]
    if not targets:
        return {}
    return {str(r.path): r for r in stage(sources, targets, progress_factory=progress_factory)}


def _clean_after(check: CardCheck, result, sources, ops) -> None:
    """The new files are verified on this card: now the old firmware goes. If it cannot,
    the new files are taken back off, so the card holds what it held before."""
    from stager.card import clean as cleaning

    folder = Path(check.target.path)
    done, err = cleaning.remove_files(folder, cleaning.old_files(check.removes, sources), ops)
    result.removed = done
    if err is None:
        return
    new = [s for s in sources if s.name not in result.already]
    taken = cleaning.take_back(folder, new, ops)
    result.cleaned.extend(taken)
    result.verified = False
    result.staged = []
    gone = f" Already removed: {', '.join(done)}." if done else ""
    result.error = MediaError(
        f"{err.message} The new firmware was verified, but a charger must find only one firmware "
        f"set, so it was taken back off the card.{gone} Remove the old file by hand (or use another "
        f"card), then run prepare again.",
        code="clean-failed",
    )


def _drop_leftovers(folder: Path) -> None:
    """Temporary files of an interrupted earlier run (our own names only)."""
    from stager.card.staging import is_temp_name

    try:
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False) and is_temp_name(entry.name):
                os.unlink(entry.path)
    except OSError:
        pass  # the copy meets the same fault and reports it


def exit_code(results) -> int:
    """The worst exit code of the targets (0 when all are staged and verified)."""
    codes = [r.error.exit_code for r in results if r.error is not None]
    if ExitCode.INTERRUPTED in codes:
        return ExitCode.INTERRUPTED
    return max(codes, default=ExitCode.OK)


def eject_all(plan: Plan, report) -> list[tuple[str, bool, str]]:
    """Unmount/eject each target where the system allows, and say when it is safe:
    (path, ejected, message) for each."""
    from stager.card.eject import eject

    done = []
    for t in plan.targets:
        ok, message = eject(t)
        report(message)
        done.append((str(t.path), ok, message))
    return done
