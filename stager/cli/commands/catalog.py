"""stager catalog list | index | verify: look after the firmware catalog folder."""

from __future__ import annotations

import sys

import click

from stager.catalog.model import status_text
from stager.cli.options import allow_rollback_option, catalog_option, epilog, parsed_by
from stager.cli.output import Reported, colon, emit_json, json_option, say, stdin_is_terminal, style
from stager.cli.progress import byte_progress
from stager.cli.render import rules_text, size_text
from stager.errors import ExitCode
from stager.i18n import _, ngettext
from stager.rules.inputs import parse_model


def _status(text: str, width: int = 14) -> str:
    colour = {"usable": "green", "not-indexed": "yellow", "damaged": "red"}.get(text, "red")
    return style(status_text(text).ljust(width), sys.stdout, fg=colour)


@click.group(
    options_metavar=_("[OPTIONS]"),
    subcommand_metavar=_("COMMAND [ARGS]..."),
    help=_(
        "Look after the firmware catalog: list it, index new files, verify the checksums, "
        "sign the index.\n\n"
        "The catalog is any folder tree of firmware files named by the convention, with "
        "its index SHA256SUMS at the root (the format of sha256sum; `sha256sum -c "
        "SHA256SUMS` checks it). A file is staged only when its name is consistent and "
        "its index line matches its content. SHA256SUMS.minisig, a minisign signature of "
        "the index, lets a machine that trusts the signing key (trusted_keys in the "
        "settings, see 'stager config show') refuse a catalog someone changed."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager catalog list --catalog /srv/firmware\n"
            "  STAGER_CATALOG=/srv/firmware stager catalog index\n"
            "  stager catalog verify --json\n"
            "  stager catalog keygen --public workshop.pub --secret workshop.key\n"
            "  stager catalog sign --key workshop.key"
        ),
    ),
)
def catalog():
    """The ``stager catalog`` group (its help is the help= above, in the user's language)."""


TABLE_WIDTH = 80


def table_lines(files: list[dict]) -> list[str]:
    """One model's files as a table that fits 80 columns: columns as wide as their
    values; the file's path (its name alone when the path would not fit); why a file is
    not usable on the lines below it, wrapped under the file column."""
    import textwrap

    rows = sorted(
        files, key=lambda f: (f["role"] != "bundle", f["kit"] or 0, f["terminal"], f["pack"] or "", f["path"])
    )
    cells = [
        (
            str(f["kit"]) if f["kit"] is not None else "hex",
            str(f["terminal"]),
            f["pack"] or "-",
            rules_text(f["rules"]) or "-",
            f["status"],
        )
        for f in rows
    ]
    # TRANSLATORS: the headings of a catalog table, short (the table fits 80 columns): kit, terminal, language pack.
    heads = (_("Kit"), _("Term"), _("Pack"), _("Rules"), _("Status"))
    widths = [max(len(h), *(len(c[i]) for c in cells)) + 2 for i, h in enumerate(heads)]
    widths[4] = max(widths[4], *(len(status_text(c[4])) + 2 for c in cells))  # as the table shows it
    lead = 2 + sum(widths)
    longest = max(len(f["path"]) for f in rows)
    shown = "path" if lead + longest <= TABLE_WIDTH else "name"
    out = ["  " + "".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)) + _("File")]
    for f, c in zip(rows, cells, strict=True):
        first = "".join(v.ljust(w) for v, w in zip(c[:4], widths, strict=False))
        out.append(f"  {first}{_status(c[4], widths[4])}{f[shown]}")
        if f["status"] != "usable" or f["duplicates"]:
            # under the file column when there is room for 30 characters there, else under the row
            indent = " " * (lead if TABLE_WIDTH - lead >= 30 else 4)
            out += textwrap.wrap(
                f["why"], TABLE_WIDTH, initial_indent=indent, subsequent_indent=indent, break_long_words=False
            )
    return out


def list_lines(doc: dict) -> list[str]:
    out = [style(_("Catalog {folder}").format(folder=doc["catalog"]), sys.stdout, bold=True)]
    idx = doc["index"]
    if idx["present"]:
        index = ngettext("index: SHA256SUMS, {n} lines", "index: SHA256SUMS, {n} lines", idx["lines"]).format(
            n=idx["lines"]
        )
    else:
        index = _("index: {problem}").format(
            problem=idx["error"] or _("no SHA256SUMS yet (stager catalog index writes it)")
        )
    out.append("  " + index)
    for m in doc["models"]:
        out += ["", style(f"{m['name']} ({m['model']})", sys.stdout, bold=True)]
        if not m["files"]:
            out.append("  " + _("no files"))
            continue
        out += table_lines(m["files"])
    from stager.rules.names import is_firmware_name

    unrecognised = [f for f in doc["unrecognised"] if is_firmware_name(f["path"])]
    others = [f for f in doc["unrecognised"] if not is_firmware_name(f["path"])]
    for files, title in (
        (doc["inconsistent"], _("Inconsistent names (never used)")),
        (unrecognised, _("Unrecognised names (never used)")),
    ):
        if files:
            out += ["", style(title, sys.stdout, bold=True)]
            out += ["  " + colon(f["path"], f["why"]) for f in files]
    if others:
        out += [
            "",
            style(_("Other files (not firmware names, never used)"), sys.stdout, bold=True),
            "  " + ", ".join(f["path"] for f in others),
        ]
    if doc["bad_lines"] or doc["missing"]:
        out += ["", style(_("Index problems (SHA256SUMS)"), sys.stdout, bold=True)]
        out += ["  " + _line(b["line"], b["code"], b["message"]) for b in doc["bad_lines"]]
        out += ["  " + _line(p["line"], "missing", p["why"]) for p in doc["missing"]]
    if doc["skipped"]:
        out += ["", style(_("Not used"), sys.stdout, bold=True)]
        out += ["  " + colon(p["path"], p["why"]) for p in doc["skipped"]]
    # TRANSLATORS: a count of catalog files with one status ("83 usable"); French: "utilisable : 83".
    counts = ", ".join(_("{n} {status}").format(n=n, status=status_text(k)) for k, n in sorted(doc["counts"].items()))
    counts = counts or _("no files")
    out += ["", _("Files: {counts}.").format(counts=counts)]
    if doc["counts"].get("not-indexed"):
        out.append(_("Not-indexed files are not used until 'stager catalog index' gives them a line."))
    return out


@catalog.command(
    "list",
    help=_(
        "List the catalog by model (kit, terminal, pack, status, file), then the names "
        "that are never used and why, and the index's bad lines. Reads names and sizes "
        "only, never the files' contents."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager catalog list --catalog /srv/firmware\n"
            "  stager catalog list --model p50 --json | jq '.models[0].files'"
        ),
        _("Exit codes: 0 listed, 2 bad input or no catalog given, 4 the catalog folder does not exist."),
    ),
)
@catalog_option
@click.option(
    "--model",
    "-m",
    metavar=_("MODEL"),
    callback=parsed_by(parse_model),
    help=_("List only this model's files (p22, p50, wbac); problems are always listed."),
)
@json_option
def list_(catalog_dir, model, as_json):
    from stager.catalog.trust import open_configured

    doc = open_configured(catalog_dir).to_json(model)
    if as_json:
        emit_json(doc)
    else:
        from stager.cli.render import say_lines

        say_lines(list_lines(doc), sys.stdout)  # wrapped to the terminal
    return ExitCode.OK


def _line(number, code, message) -> str:
    """A line of SHA256SUMS and what is wrong with it: 'line 3 [bad-hash]: ...'."""
    return _("line {line} [{code}]: {message}").format(line=number, code=code, message=message)


def _finish(doc: dict, error, as_json: bool, lines: list[str]) -> int:
    """Print a report (its JSON, or its lines) and return its exit code; a report that
    ends in an error is printed by run(), with the error (cli.output.Reported)."""
    if error is not None:
        raise Reported(error, doc=doc, lines=lines)
    if as_json:
        emit_json(doc)
    else:
        from stager.cli.render import say_lines

        say_lines(lines, sys.stdout)
    return ExitCode.OK


@catalog.command(
    "index",
    help=_(
        "Add a SHA256SUMS line for every file that has none.\n\n"
        "Existing lines are never rewritten: a file whose content no longer matches its "
        "line is reported as damaged, not re-indexed. Hidden files, *.sha256 sidecars and "
        "unfinished downloads (*.part, *.tmp...) get no line. Index only files you trust: "
        "the index is what stager checks every copy against."
    ),
    epilog=epilog(
        _("Examples:\n  stager catalog index --catalog /srv/firmware\n  stager catalog index --json"),
        _("Exit codes: 0 done, 2 no catalog given, 4 a file no longer matches its line\n(damaged) or cannot be read."),
    ),
)
@catalog_option
@json_option
def index(catalog_dir, as_json):
    from stager.catalog.trust import open_configured

    cat = open_configured(catalog_dir)
    # TRANSLATORS: a progress bar's label, at most 34 characters with the file's name.
    with byte_progress(cat.bytes_to_index(), not as_json, _("Indexing")) as progress:
        report = cat.index(progress)
    doc, error = report.to_json(), report.error()
    lines = []
    if report.added:
        # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
        text = ngettext(
            "Added {n} line(s) to {folder}/SHA256SUMS:", "Added {n} line(s) to {folder}/SHA256SUMS:", len(report.added)
        )
        lines.append(text.format(n=len(report.added), folder=report.catalog))
        lines += [f"  {c.path}" for c in report.added]
    else:
        lines.append(_("Nothing to add: every file already has a line."))
    lines += _index_check_lines(report)
    if report.excluded:
        text = _("Given no line (hidden, sidecar or unfinished): {files}")
        lines.append(text.format(files=", ".join(report.excluded)))
    lines += _malformed_lines(report.malformed)
    if report.signature == "stale":
        text = _(
            "SIGNATURE NOW STALE: {folder}/SHA256SUMS changed, so SHA256SUMS.minisig no longer matches "
            "it. A machine that trusts a key refuses this catalog until it is signed again: "
            "'stager catalog sign --key FILE --catalog {folder}' (or minisign -Sm SHA256SUMS)."
        ).format(folder=report.catalog)
        lines.append(style(text, sys.stdout, fg="red", bold=True))
        if as_json:
            say(text, err=True)
    return _finish(doc, error, as_json, lines)


def _index_check_lines(report) -> list[str]:
    """What ``catalog index`` found checking the files that already had a line."""
    checked = [c for c in report.checked if c.line is not None]
    bad = report.damaged + report.unreadable
    if not bad:
        # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
        text = ngettext(
            "Checked {n} indexed file(s): all match.", "Checked {n} indexed file(s): all match.", len(checked)
        )
    else:
        # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
        text = ngettext(
            "Checked {n} indexed file(s): {bad} problem(s):",
            "Checked {n} indexed file(s): {bad} problem(s):",
            len(checked),
        )
    lines = [text.format(n=len(checked), bad=len(bad))]
    lines += [f"  {style(_status_word(c.status), sys.stdout, fg='red')} " + colon(c.path, c.why) for c in bad]
    if report.bad_lines or report.missing:
        lines.append(_("Index problems (SHA256SUMS; index never rewrites a line: mend or delete these by hand):"))
    lines += ["  " + _line(b.line, b.code, b.message) for b in report.bad_lines]
    lines += ["  " + _line(p.line, "missing", p.why) for p in report.missing]
    return lines


def _status_word(status: str) -> str:
    """A file's status in capitals, as a mark at the head of its line: DAMAGED, UNREADABLE."""
    return status_text(status).upper()


def _malformed_lines(malformed) -> list[str]:
    if not malformed:
        return []
    out = [_("Not whole or not well formed (given no line; never staged):")]
    out += [_malformed(m) for m in malformed]
    return out


def _malformed(m) -> str:
    return "  " + style(_("MALFORMED"), sys.stdout, fg="red") + " " + colon(m.path, f"{m.what} ({m.where})")


@catalog.command(
    "verify",
    help=_(
        "Re-read every indexed file and compare it with its SHA256SUMS line.\n\n"
        "A progress bar over bytes is shown on a terminal. Damaged, missing and "
        "unreadable files and bad index lines are listed; files with no line are named "
        "(not a failure)."
    ),
    epilog=epilog(
        _("Examples:\n  stager catalog verify --catalog /srv/firmware\n  stager catalog verify --json | jq '.damaged'"),
        _(
            "Exit codes: 0 every indexed file matches, 2 no catalog given, 4 a file is damaged,\n"
            "missing or unreadable, or the index has bad lines."
        ),
    ),
)
@catalog_option
@allow_rollback_option
@json_option
def verify(catalog_dir, allow_rollback, as_json):
    from stager.catalog.trust import open_trusted
    from stager.cli.output import warn

    cat = open_trusted(catalog_dir, allow_rollback=allow_rollback, warn=warn)
    # TRANSLATORS: a progress bar's label, at most 34 characters with the file's name.
    with byte_progress(cat.total_indexed_bytes(), not as_json, _("Verifying")) as progress:
        report = cat.verify(progress)
    doc, error = {**report.to_json(), "trust": cat.trust.to_json()}, report.error()
    total = sum(c.size for c in report.checks)
    bad = report.damaged + report.unreadable
    if not bad:
        # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
        text = ngettext(
            "Verified {n} file(s), {size}, against {folder}/SHA256SUMS: all match.",
            "Verified {n} file(s), {size}, against {folder}/SHA256SUMS: all match.",
            len(report.checks),
        )
    else:
        # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
        # {result} is the next message: "{bad} do not."
        text = ngettext(
            "Verified {n} file(s), {size}, against {folder}/SHA256SUMS: {result}",
            "Verified {n} file(s), {size}, against {folder}/SHA256SUMS: {result}",
            len(report.checks),
        )
    # TRANSLATORS: how many of the files verified do not match their line ("1 ne correspond pas.").
    result = ngettext("{bad} do not.", "{bad} do not.", len(bad)).format(bad=len(bad))
    lines = [text.format(n=len(report.checks), size=size_text(total), folder=report.catalog, result=result)]
    if report.missing and not bad:
        # TRANSLATORS: English writes "(s)" in both forms; the singular is for a count of one.
        but = ngettext(
            "But {count} indexed file(s) are missing or not regular files:",
            "But {count} indexed file(s) are missing or not regular files:",
            len(report.missing),
        )
        lines[0] += " " + but.format(count=len(report.missing))
    lines += [f"  {style(_status_word(c.status), sys.stdout, fg='red')} " + colon(c.path, c.why) for c in bad]
    lines += [f"  {_status_word('missing')} " + colon(p.path, p.why) for p in report.missing]
    if report.bad_lines:
        lines.append(_("Bad lines in SHA256SUMS (the files they name are never used):"))
    lines += ["  " + _line(b.line, b.code, b.message) for b in report.bad_lines]
    if report.not_indexed:
        lines.append(_("No line yet (not used until indexed): {files}").format(files=", ".join(report.not_indexed)))
    lines += [_malformed(m) for m in report.malformed]
    lines.append(trust_line(cat.trust))
    return _finish(doc, error, as_json, lines)


def trust_line(trust) -> str:
    """One line on what the index's signature proved (or that no key is trusted)."""
    if not trust.enforced:
        return _("Signature: not checked (no trusted key is set).")
    if trust.name:
        text = _("Signature: SHA256SUMS signed by trusted key {key} on {time}, catalog '{name}'.")
    else:
        text = _("Signature: SHA256SUMS signed by trusted key {key} on {time}.")
    text = text.format(key=trust.key, time=when(trust.signed_at), name=trust.name)
    if trust.rolled_back_from is not None:
        older = _("Older than the one accepted before ({time}): accepted by --allow-rollback.")
        text += " " + older.format(time=when(trust.rolled_back_from))
    return text


def when(ts: int) -> str:
    """A signature's time (Unix seconds) in the user's local time and language."""
    import datetime as dt

    from stager.i18n_format import format_datetime

    return format_datetime(dt.datetime.fromtimestamp(ts, dt.UTC))


def _password(prompt: str, confirm: bool) -> bytes:
    """The key's password: asked on a terminal (twice for a new key), else read from
    standard input (one line, and the confirmation on the next)."""
    from stager.errors import BadInput

    if stdin_is_terminal():
        text = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    else:
        lines = sys.stdin.read().splitlines() if sys.stdin is not None else []
        if not lines:
            raise BadInput(
                _(
                    "no password was given: there is no terminal to ask for it and standard input is "
                    "empty or closed. Give it on standard input (one line; for a new key, the same "
                    "password again on the next line)."
                ),
                code="no-password",
            )
        text = lines[0]
        if confirm and (len(lines) < 2 or lines[1] != text):
            raise BadInput(_("the password and its confirmation (the next line) differ."), code="password-mismatch")
    if not text:
        text = _("an empty password: give one, or make a key without one with --unencrypted.")
        raise BadInput(text, code="no-password")
    return text.encode("utf-8")


@catalog.command(
    "keygen",
    help=_(
        "Make a minisign key pair for signing the catalog's index.\n\n"
        "The secret key is protected by a password as minisign does (scrypt), unless "
        "--unencrypted. Keep it off the shared catalog folder: whoever holds it can make "
        "any catalog trusted. Give the public key (its file, or its base64 line) to every "
        "machine's settings, trusted_keys = [...]."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager catalog keygen --public workshop.pub --secret workshop.key\n"
            "  stager catalog keygen --public workshop.pub --secret workshop.key --unencrypted"
        ),
        _(
            "The files are minisign's: 'minisign -S -s workshop.key' signs with the secret key and\n"
            "'minisign -V -p workshop.pub' checks with the public one.\n"
            "Exit codes: 0 written, 2 bad input (a file already exists, passwords differ)."
        ),
    ),
)
@click.option("--public", "public_path", required=True, metavar=_("FILE.pub"), help=_("Where to write the public key."))
@click.option("--secret", "secret_path", required=True, metavar=_("FILE"), help=_("Where to write the secret key."))
@click.option(
    "--unencrypted", is_flag=True, help=_("Write the secret key without a password (anyone who reads it can sign).")
)
@click.option("--force", is_flag=True, help=_("Overwrite existing key files."))
@json_option
def keygen(public_path, secret_path, unencrypted, force, as_json):
    from stager.catalog.trust import write_key_pair

    password = None if unencrypted else _password(_("Password for the new secret key"), True)
    key = write_key_pair(public_path, secret_path, password, force=force)
    doc = {"ok": True, "key": key.id, "public_key": key.line(), "public": public_path, "secret": secret_path}
    if as_json:
        emit_json(doc)
        return ExitCode.OK
    text = _("Wrote the public key {public} and the secret key {secret} (key {key}).")
    say(text.format(public=public_path, secret=secret_path, key=key.id))
    text = _("Trust it on each machine: trusted_keys = [\"{line}\"] in the settings file ('stager config show').")
    say(text.format(line=key.line()))
    return ExitCode.OK


@catalog.command(
    "sign",
    help=_(
        "Sign SHA256SUMS: write SHA256SUMS.minisig beside it (minisign's format).\n\n"
        "Every indexed file is verified first (content and structure): an index that does "
        "not verify is not signed. The trusted comment holds the time and the catalog's "
        "name: machines refuse an index signed earlier than one they already accepted."
    ),
    epilog=epilog(
        _(
            "Examples:\n"
            "  stager catalog sign --key workshop.key --catalog /srv/firmware\n"
            "  minisign -Vm /srv/firmware/SHA256SUMS -p workshop.pub      (checks it without stager)"
        ),
        _(
            "Exit codes: 0 signed, 2 bad input (no such key, wrong password), 4 a catalog problem\n"
            "(the index does not verify: nothing is signed)."
        ),
    ),
)
@catalog_option
@click.option("--key", "key_path", required=True, metavar=_("FILE"), help=_("The minisign secret key file."))
@click.option(
    "--name", metavar=_("NAME"), help=_("The catalog's name in the trusted comment (default: its folder's name).")
)
@click.option("--legacy", is_flag=True, help=_("Sign in minisign's legacy form ('Ed', not prehashed)."))
@json_option
def sign(catalog_dir, key_path, name, legacy, as_json):
    from stager.catalog.trust import open_configured, read_secret_key, sign_index

    key = read_secret_key(key_path, lambda: _password(_("Password of the secret key"), False))
    cat = open_configured(catalog_dir)
    with byte_progress(cat.total_indexed_bytes(), not as_json, _("Verifying")) as progress:
        signed = sign_index(cat, key, name, prehashed=not legacy, progress=progress)
    doc = {"ok": True, "catalog": str(cat.root), **signed}
    if as_json:
        emit_json(doc)
        return ExitCode.OK
    text = _("Signed {folder}/SHA256SUMS with key {key} on {time} as catalog '{name}': {signature}.")
    say(
        text.format(
            folder=cat.root,
            key=signed["key"],
            time=when(signed["time"]),
            name=signed["name"],
            signature=signed["signature"],
        )
    )
    if signed["not_indexed"]:
        text = _("Not in the signed index (never used on a machine that trusts this key): {files}")
        say(text.format(files=", ".join(signed["not_indexed"])))
    return ExitCode.OK
