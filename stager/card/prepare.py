"""The whole job of `stager prepare`, as a library: decide, select, choose targets, stage.

- :func:`make_plan` (no medium touched): the rules decision (refused -> exit 3), the
  catalog's files (exit 4), the targets (exit 5).
- :func:`check_files` (the dry run): each file hashed once and compared with its index
  line (exit 4 on a difference).
- :func:`run` stages the plan onto every target through :mod:`stager.card.staging` and
  records each staging in the history.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from stager.catalog.select import select
from stager.errors import ExitCode, Interrupted, MediaError, Refused, StagerError
from stager.fileio import is_under


@dataclass(frozen=True)
class Plan:
    decision: object  # stager.rules.engine.Decision
    catalog_root: str
    selection: object  # stager.catalog.folder.Selection
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
            list(targets), allow_fixed, detect=detect, medium_for_path=medium_for_path, local=local
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


def _check_cards(plan: Plan, sources, *, clean: bool, report, preflight, dry_run: bool = False):
    """Pre-flight every target: ([(target, Preflight)] ready, [TargetResult] failed);
    a card that fails does not stop the others."""
    from stager.card.staging import TargetResult

    ready, failed = [], []
    for t in plan.targets:
        try:
            check = preflight(
                sources,
                t.path,
                fstype=t.fstype,
                free_bytes=t.free_bytes,
                size_bytes=t.size_bytes,
                clean=clean,
                dry_run=dry_run,
            )
        except KeyboardInterrupt:
            raise Interrupted("Interrupted before copying: no firmware file was written to the card.") from None
        except StagerError as e:  # this target only: the others go on
            failed.append(TargetResult.failed(t.path, e))
            continue
        if report:
            for line in check.messages():
                report(line)
        ready.append((t, check))
    return ready, failed


def check_targets(plan: Plan, clean: bool = False, report=None) -> list:
    """The dry run's card check: every pre-flight check of :func:`run`, nothing written
    or removed. One TargetResult a target: its error, or what --clean would remove."""
    from stager.card.preflight import preflight
    from stager.card.staging import TargetResult

    ready, failed = _check_cards(plan, _sources(plan), clean=clean, report=report, preflight=preflight, dry_run=True)
    return failed + [TargetResult(path=t.path, already=list(c.already), removed=list(c.removed)) for t, c in ready]


def check_files(plan: Plan, progress_factory=None) -> None:
    """The dry run's content check: each file read once and compared with its line."""
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
    clean: bool = False,
    progress_factory=None,
    report=None,
    stage=None,
    preflight=None,
    history_path=None,
    settled=None,
):
    """Stage the plan's files onto every target: pre-flight all targets before a byte is
    written, then copy (source read once for all targets), read back, sidecar. Each
    staging is recorded in the history (``history_path``, default the user's history
    file). ``settled`` is called once every card's outcome is known, before the history
    is written (the CLI stops taking Ctrl-C there). Returns one result per target."""
    from stager.card import history, staging
    from stager.card.preflight import preflight as check_card

    stage = stage or staging.stage
    sources = _sources(plan)
    ready, results = _check_cards(plan, sources, clean=clean, report=report, preflight=preflight or check_card)
    if ready:
        targets = [staging.Target(path=t.path, device=t.device, label=t.label, preflight=check) for t, check in ready]
        results.extend(stage(sources, targets, progress_factory=progress_factory))
    if settled:
        settled()
    for r in results:
        target = next(t for t in plan.targets if str(t.path) == str(r.path))
        history.record(plan.decision, target, sources, r, path=history_path)
    order = {str(t.path): i for i, t in enumerate(plan.targets)}
    return sorted(results, key=lambda r: order[str(r.path)])


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
