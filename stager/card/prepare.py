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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stager.catalog.select import select
from stager.errors import ExitCode, Interrupted, MediaError, Refused, StagerError, stopped_by_signal
from stager.fileio import is_under
from stager.i18n import _
from stager.value import field, value

if TYPE_CHECKING:
    from stager.card.preflight import Preflight
    from stager.card.targets import CardTarget
    from stager.catalog.model import Selection
    from stager.rules.engine import Decision


@value
class Preparation:
    decision: Decision
    catalog_root: str
    selection: Selection
    targets: tuple = ()  # CardTarget
    target_problem: MediaError | None = field(default=None, compare=False)
    devices: dict = field(default_factory=dict, compare=False)  # str(path) -> st_dev when it was chosen
    trust: object = field(default=None, compare=False)  # stager.catalog.trust.Trust

    @property
    def files(self):
        return tuple(self.selection.files)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

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
            doc["error"] = max(failed, key=lambda e: (stopped_by_signal(e.exit_code), e.exit_code)).to_json()
        return doc


def refusal_error(decision) -> Refused:
    first = decision.refusals[0]
    summary = " ".join(r.message.splitlines()[0] for r in decision.refusals)
    return Refused(
        # TRANSLATORS: {reasons} are the rules' reasons, one sentence each (translated themselves).
        _("Refused: nothing was written. {reasons}").format(reasons=summary),
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
) -> Preparation:
    """Everything `prepare` will do, decided before any medium is touched. The catalog is
    opened with the trust settings (:func:`stager.catalog.trust.open_trusted`) unless
    ``trusted`` is False (the demo's own catalog)."""
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
    chosen, problem = _chosen_targets(
        targets,
        dry_run,
        allow_fixed=allow_fixed,
        detect=detect,
        medium_for_path=medium_for_path,
        local=local,
        allow_any_fs=allow_any_fs,
        choose=choose,
        unmounted=unmounted,
    )
    _never_the_catalog(catalog.root, chosen)
    from stager.card.pin import device_id

    return Preparation(
        decision=decision,
        catalog_root=str(catalog.root),
        selection=selection,
        targets=tuple(chosen),
        target_problem=problem,
        devices={str(t.path): device_id(t.path) for t in chosen},
        trust=catalog.trust,
    )


def _chosen_targets(targets, dry_run: bool, **resolve) -> tuple[list, MediaError | None]:
    """The targets resolved; a dry run without --target still shows the plan when no card
    (or several) is in, with that problem beside it."""
    from stager.card.lock import hold_here
    from stager.card.targets import resolve_targets

    for folder in targets:  # a run that has this card unmounted for a moment still holds it here
        hold_here(folder).release()
    try:
        return resolve_targets(list(targets), **resolve), None
    except MediaError as e:
        if not (dry_run and not targets and e.code in ("no-media", "several-media")):
            raise
        return [], e


def _never_the_catalog(root, targets) -> None:
    """A card is never the catalog, inside it, or around it: --clean there would remove
    the catalog's own firmware."""
    cat = os.path.realpath(root)
    for t in targets:
        path = os.path.realpath(t.path)
        if is_under(path, cat) or is_under(cat, path):
            raise MediaError(
                _(
                    "Target {target} is the firmware catalog {root}, or holds it, or lies inside it: "
                    "a card must be a folder of its own. Name the card's folder with --target."
                ).format(target=t.path, root=root),
                code="target-is-catalog",
            )


def _sources(plan: Preparation) -> list:
    from stager.card.staging import Source

    return [
        Source(path=f.path, name=f.name, sha256=f.sha256, size=f.size, role=f.role, catalog_file=f) for f in plan.files
    ]


@value(frozen=False)
class CardCheck:
    """One card's pre-flight, before the question: what will be written, what --clean
    removes, the warnings; or why the card cannot be written (``error``). A card that
    passed stays pinned (and, for a real run, locked) until :func:`release` or :func:`run`."""

    target: CardTarget
    pre: Preflight | None = None
    error: StagerError | None = None
    holds_both: bool | None = None  # the new files fit beside the old firmware (None: unknown)
    pin: Any = field(default=None, repr=False)  # stager.card.pin.CardPin
    lock: Any = field(default=None, repr=False)  # stager.card.lock's held lock (a real run)

    @property
    def ready(self) -> bool:
        return self.error is None

    def writes(self, plan: Preparation) -> list:
        already = set(self.pre.already) if self.pre else set()
        return [f for f in plan.files if f.name not in already]

    @property
    def removes(self) -> list[str]:
        return list(self.pre.removed) if self.pre else []

    @property
    def warnings(self) -> list[str]:
        return list(self.pre.warnings) if self.pre else []


def check_cards(plan: Preparation, *, clean: bool = False, probe: bool = True, preflight=None, report=None) -> list:
    """Every card pinned and pre-flighted, nothing written or removed. With ``probe`` (a
    real run) each card is also locked (one run per card) and a hidden probe file is
    created and removed to prove it takes writes. A card that fails does not stop the
    others. One CardCheck a target, in the plan's order; release them with :func:`release`."""
    from stager.card.preflight import preflight as card_preflight
    from stager.card.stop import STATE

    preflight = preflight or card_preflight
    sources = _sources(plan)
    out: list[CardCheck] = []
    STATE.begin_run()
    for t in plan.targets:
        try:
            out.append(_check_card(plan, t, sources, clean, probe, preflight, report))
        except KeyboardInterrupt:
            from stager.card.stop import STATE, closing

            STATE.started_cleanup()
            release(out)
            raise closing() from None
    return out


def _check_card(plan: Preparation, t, sources, clean: bool, probe: bool, preflight, report) -> CardCheck:
    from stager.card import clean as cleaning
    from stager.card.preflight import check_writable
    from stager.card.staging import media_error

    pin = lock = None
    try:
        pin, lock = _pin_and_lock(plan, t, not probe, report)
        if probe:
            check_writable(pin)
        pre = preflight(
            sources,
            t.path,
            fstype=t.fstype,
            free_bytes=t.free_bytes,
            size_bytes=t.size_bytes,
            clean=clean,
            dry_run=True,  # nothing removed before the question (--clean acts after the proof)
            pin=pin,
        )
    except KeyboardInterrupt:
        _release([(t, None, pin, lock)])
        raise
    except StagerError as e:  # this target only: the others go on
        _release([(t, None, pin, lock)])
        return CardCheck(target=t, error=e)
    except OSError as e:  # the card failed while being checked (a dead mount, an I/O error)
        _release([(t, None, pin, lock)])
        return CardCheck(target=t, error=media_error(e, Path(t.path), _("checking the card")))
    both = cleaning.holds_both(Path(t.path), t.free_bytes, sources, pre.already) if pre.removed else True
    return CardCheck(target=t, pre=pre, holds_both=both, pin=pin, lock=lock)


def _pin_and_lock(plan: Preparation, t, dry_run: bool, report):
    """The card pinned (the one chosen: same device as when the plan was made) and, for a
    real run, locked: one run per card."""
    from stager.card import lock as card_lock
    from stager.card.pin import pin_card

    pin = pin_card(t.path, plan.devices.get(str(t.path)))
    if dry_run:
        return pin, None
    here = card_lock.hold_here(t.path)  # before the card's own lock, held till the end (lock.HereLock)
    try:
        held = card_lock.take(pin)
    except BaseException:
        here.release()
        pin.close()
        raise
    held.here = here
    if report and held.message():
        report(held.message())
    return pin, held


def release(checks) -> None:
    """Give back the cards' locks and pins (after the run, a dry run, or a "no")."""
    _release([(c.target, c.pre, c.pin, c.lock) for c in checks if c.pin is not None or c.lock is not None])


def _release(entries) -> None:
    """Release the locks and pins, in a thread and for a few seconds at most (more while a
    slow card is seen moving data): a card that hangs keeps its lock file (the next run
    names it as stale and replaces it)."""
    from stager.card.staging import _spawn

    def release():
        for _t, _check, pin, held in entries:
            if held is not None:
                held.release()
            if pin is not None:
                pin.close()

    if entries:
        from stager.card.stop import STATE

        STATE.wait_cleanup([_spawn(release)])


def removes_first(checks) -> bool:
    """True when --clean must remove old firmware before the copy on some card (it cannot
    hold both): the catalog's files must then be proved against their index first."""
    return any(c.ready and c.removes and c.holds_both is False for c in checks)


def check_results(checks) -> list:
    """The cards' checks as results (the dry run's answer): errors, or what --clean would
    remove, with the read-back method of a file already there."""
    from stager.card.staging import TargetResult

    return [
        TargetResult.failed(c.target.path, c.error)
        if c.error is not None
        else TargetResult(
            path=c.target.path, already=list(c.pre.already), removed=c.removes, read_back=dict(c.pre.read_back)
        )
        for c in checks
    ]


def check_files(plan: Preparation, progress_factory=None) -> None:
    """The content check before the question: each file read once and compared with its
    index line (exit 4 on a difference: nothing is asked, nothing touched)."""
    from stager.catalog.index import check_content

    for f in plan.files:
        # TRANSLATORS: a progress bar's label: checking the catalog's file {name} against its index.
        bar = progress_factory(f.size, _("check {name}").format(name=f.name)) if progress_factory else None
        try:
            check_content(f, bar.update if bar else None)
        finally:
            if bar:
                bar.close()


def run(
    plan: Preparation,
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
    :func:`check_cards`, released here; made here, with the files' content check, when
    not given). ``settled`` is called once every card's outcome is known, before the
    history is written (the CLI stops taking Ctrl-C there). Returns one result per target."""
    from stager.card import history, staging

    sources = _sources(plan)
    if checks is None:
        check_files(plan, progress_factory)
        checks = check_cards(plan, clean=clean, preflight=preflight, report=report)
        if report:
            for c in checks:
                for w in c.warnings:
                    report(_("Warning: {card}: {warning}").format(card=c.target.describe(), warning=w))
    results = [staging.TargetResult.failed(c.target.path, c.error) for c in checks if not c.ready]
    ready = [c for c in checks if c.ready]
    try:
        if ready:
            results.extend(_stage_cards(ready, sources, stage or staging.stage, progress_factory, ops))
    except Interrupted:
        from stager.card.stop import closing

        release(checks)  # the locks too, in what is left of the stop's cleanup time
        raise closing() from None
    finally:
        release(checks)
    _name_locks_left(checks, results)
    if settled:
        settled()
    for r in results:
        target = next(t for t in plan.targets if str(t.path) == str(r.path))
        history.record(plan.decision, target, sources, r, path=history_path)
    order = {str(t.path): i for i, t in enumerate(plan.targets)}
    return sorted(results, key=lambda r: order[str(r.path)])


def _name_locks_left(checks, results) -> None:
    """A failed card whose lock file could not be removed says so among what is left on it;
    on a card that failed under the run, the lock's removal proves nothing (a failing FAT
    card answers "no such file" and keeps it): it is listed as maybe still there. The next
    run replaces a lock of a run that is over, but the technician is told."""
    from stager.card.lock import LOCK_NAME

    by_path = {str(c.target.path): c for c in checks}
    for r in results:
        held = getattr(by_path.get(str(r.path)), "lock", None)
        if r.ok or held is None:
            continue
        if getattr(held, "not_removed", None) is not None:
            text = _("{path} (this run's lock on the card; could not be removed: {error})")
            r.left.append(text.format(path=held.pin.where(LOCK_NAME), error=held.not_removed))
        elif r.card_failed and LOCK_NAME not in r.unconfirmed:
            r.unconfirmed.append(LOCK_NAME)


def _stage_cards(ready, sources, stage, progress_factory, ops) -> list:
    """Copy and verify; the old firmware after the proof (see the module doc)."""
    from stager.card import clean as cleaning
    from stager.card import staging

    first = {str(c.target.path) for c in ready if c.removes and c.holds_both is False}
    removed: dict[str, list] = {}
    failed = {}
    for c in ready:
        _drop_leftovers(c.pin)
        if str(c.target.path) in first:  # cannot hold both: the source was proved against its index
            done, err = cleaning.remove_files(c.pin, c.removes, ops)
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
                _("{message} The old firmware is still on the card, untouched ({files}).").format(
                    message=r.error.message, files=kept
                ),
                code=r.error.code,
                details=r.error.details,
            )
    return [results.get(str(c.target.path)) or failed[str(c.target.path)] for c in ready]


def _stage_round(checks, sources, stage, progress_factory) -> dict:
    from stager.card import staging

    targets = [
        staging.Target(
            path=c.target.path,
            device=c.target.device,
            label=c.target.bar_name(),
            preflight=c.pre,
            pin=c.pin,
            removable=c.target.removable,
        )
        for c in checks
    ]
    if not targets:
        return {}
    results = stage(sources, targets, progress_factory=progress_factory)
    return {str(r.path): r for r in _with_already(results, checks)}


def _with_already(results, checks) -> list:
    """The re-verify method of files already staged joins each card's read-back methods."""
    pres = {str(c.target.path): c.pre for c in checks}
    for r in results:
        pre = pres.get(str(r.path))
        if pre is not None:
            for name, method in pre.read_back.items():
                r.read_back.setdefault(name, method)
                r.read_back_why.setdefault(name, pre.read_back_why.get(name, ""))
    return results


def _clean_after(check: CardCheck, result, sources, ops) -> None:
    """The new files are verified on this card: now the old firmware goes. If it cannot,
    the new files are taken back off, so the card holds what it held before."""
    from stager.card import clean as cleaning

    done, err = cleaning.remove_files(check.pin, cleaning.old_files(check.removes, sources), ops)
    result.removed = done
    if err is None:
        return
    new = [s for s in sources if s.name not in result.already]
    taken = cleaning.take_back(check.pin, new, ops)
    result.cleaned.extend(taken)
    result.verified = False
    result.staged = []
    gone = " " + _("Already removed: {files}.").format(files=", ".join(done)) if done else ""
    result.error = MediaError(
        _(
            "{message} The new firmware was verified, but a charger must find only one firmware "
            "set, so it was taken back off the card.{removed} Remove the old file by hand (or use another "
            "card), then run prepare again."
        ).format(message=err.message, removed=gone),
        code="clean-failed",
    )


def _drop_leftovers(pin) -> None:
    """Temporary files of an earlier run that is over (we hold the card's lock): our own
    names only."""
    from stager.card.staging import is_temp_name

    try:
        for name, _size in pin.files():
            if is_temp_name(name):
                pin.unlink(name)
    except OSError:
        pass  # the copy meets the same fault and reports it


def exit_code(results) -> int:
    """The worst exit code of the targets (0 when all are staged and verified)."""
    codes = [r.error.exit_code for r in results if r.error is not None]
    stopped = [c for c in codes if stopped_by_signal(c)]  # interrupted (128 + the signal's number)
    if stopped:
        return stopped[0]
    return max(codes, default=ExitCode.OK)


def eject_all(plan: Preparation, report) -> list[tuple[str, bool, str]]:
    """Unmount/eject each target where the system allows, and say when it is safe:
    (path, ejected, message) for each."""
    from stager.card.eject import eject

    done = []
    for t in plan.targets:
        ok, message = eject(t)
        report(message)
        done.append((str(t.path), ok, message))
    return done
