"""stager matrix: the note's tables, drawn as grids a technician reads at a glance."""

from __future__ import annotations

import sys

import click

from stager.cli.options import epilog
from stager.cli.output import emit_json, json_option, say, style
from stager.errors import ExitCode
from stager.i18n import _


def matrix_document(rules, model_ids) -> dict:
    models = []
    for mid in model_ids:
        m = rules.models[mid]
        models.append(
            {
                "model": m.id,
                "name": m.name,
                "section": m.section,
                "terminals": list(m.terminals),
                "kits": [
                    {
                        "kit": k,
                        "compatible_terminals": list(m.compatible(k)),
                        "cells": {str(t): ("OK" if m.cell(k, t) else "KO") for t in m.terminals},
                    }
                    for k in m.kits
                ],
            }
        )
    routers = []
    for r in rules.routers.values():
        routers.append(
            {
                "router": r.id,
                "name": r.name,
                "description": _(r.description),
                "section": r.section,
                "classes": [
                    {"id": c, "label": rules.classes[c].label, "min": rules.classes[c].min, "max": rules.classes[c].max}
                    for c in r.classes
                ],
                "versions": [
                    {
                        "version": v,
                        "cells": {
                            c: {
                                "ok": r.cell(v, c).ok,
                                "condition": rules.notes[r.cell(v, c).note].code if r.cell(v, c).note else None,
                            }
                            for c in r.classes
                        },
                    }
                    for v in r.versions
                ],
            }
        )
    return {
        "models": models,
        "forbidden_kits": sorted(rules.forbidden_kits),
        "forbidden_section": rules.forbidden.section,
        "routers": routers,
        "notes": notes_document(rules),
        "site_visit": _(rules.site_visit),
    }


def notes_document(rules) -> list[dict]:
    """The router notes, their texts in the user's language (their codes stay English)."""
    return [
        {"note": n.number, "code": n.code, "title": _(n.title), "steps": [_(s) for s in n.steps], "after": _(n.after)}
        for n in rules.notes.values()
    ]


def _cell(text: str, ok: bool, width: int) -> str:
    padded = text.ljust(width)
    return style(padded, sys.stdout, fg="green", bold=True) if ok else style(padded, sys.stdout, fg="red", dim=True)


def model_lines(rules, m) -> list[str]:
    width = 5
    # TRANSLATORS: the headings of a compatibility grid: columns are terminal versions, rows kit versions.
    column, row = _("Terminal"), _("Kit")
    head = _("{name}  ({model}; note section {section})").format(name=m.name, model=m.id, section=m.section)
    lines = [
        style(head, sys.stdout, bold=True),
        f"{'':9}{column}",
        (f"{row:9}" + "".join(str(t).ljust(width) for t in m.terminals)).rstrip(),
    ]
    for k in m.kits:
        row = "".join(_cell("OK" if m.cell(k, t) else "KO", m.cell(k, t), width) for t in m.terminals)
        lines.append(f"{k:<9}" + row.rstrip())
    forbidden = ", ".join(map(str, sorted(rules.forbidden_kits)))
    text = _("Kit {kits}: never to be used (section {section}).")
    lines.append(text.format(kits=forbidden, section=rules.forbidden.section))
    return lines


def router_lines(rules, r) -> list[str]:
    width = 14
    # TRANSLATORS: the headings of a router grid: columns are kit classes, rows router firmware versions.
    column, row = _("Kit"), _("Version")
    head = _("Router {name}: {description}  (note section {section})")
    lines = [
        style(head.format(name=r.name, description=_(r.description), section=r.section), sys.stdout, bold=True),
        f"{'':9}{column}",
        (f"{row:9}" + "".join(rules.classes[c].label.ljust(width) for c in r.classes)).rstrip(),
    ]
    for v in r.versions:
        cells = []
        for c in r.classes:
            cell = r.cell(v, c)
            text = "OK" if cell.ok else "KO"
            if cell.note:
                text = _("{cell} (note {note})").format(cell=text, note=cell.note)
            cells.append(_cell(text, cell.ok, width))
        lines.append(f"{v:<9}" + "".join(cells).rstrip())
    return lines


def notes_lines(rules) -> list[str]:
    lines = [style(_("Router notes"), sys.stdout, bold=True)]
    for n in rules.notes.values():
        lines.append(_("Note {number} [{code}]: {title}").format(number=n.number, code=n.code, title=_(n.title)))
        lines.extend(f"  {i}. {_(s)}" for i, s in enumerate(n.steps, 1))
        lines.append(f"  {_(n.after)}")
    lines.append(_(rules.site_visit))
    return lines


@click.command(
    help=_(
        "Draw the kit/terminal compatibility tables and the router tables of the note.\n\n"
        "OK cells are green and KO cells red on a colour terminal; plain text when piped "
        "or when NO_COLOR is set."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager matrix                 (every model's table and both router tables)\n"
            "  stager matrix --model wbac\n"
            "  stager matrix --json | jq '.models[0].kits'"
        ),
    ),
)
@click.option("--model", "-m", metavar=_("MODEL"), help=_("Show only this model's table (p22, p50, wbac)."))
@json_option
def matrix(model, as_json):
    from stager.rules.inputs import parse_model
    from stager.rules.loader import rules as load

    rules = load()
    ids = [parse_model(model, rules)] if model else list(rules.models)
    if as_json:
        emit_json(matrix_document(rules, ids))
        return ExitCode.OK
    blocks = [model_lines(rules, rules.models[i]) for i in ids]
    blocks += [router_lines(rules, r) for r in rules.routers.values()]
    blocks.append(notes_lines(rules))
    say("\n\n".join("\n".join(b) for b in blocks))
    return ExitCode.OK
