"""stager catalog list | index | verify: look after the firmware catalog folder."""

from __future__ import annotations

import sys

import click

from stager.cli.options import parsed_by
from stager.cli.output import emit_json, error_line, json_option, say, stdin_is_terminal, style
from stager.cli.progress import byte_progress
from stager.cli.render import human_bytes
from stager.errors import ExitCode
from stager.i18n import _
from stager.rules.inputs import parse_model


def _lang(value):
    from stager.rules.names import parse_lang

    return parse_lang(value)


#: ``--catalog DIR`` (parameter ``catalog_dir``); None means $STAGER_CATALOG (see open_catalog).
catalog_option = click.option(
    "--catalog",
    "catalog_dir",
    metavar="DIR",
    help="The firmware catalog folder (default: the STAGER_CATALOG environment variable, then "
    "catalog = in the settings file).",
)
#: ``--allow-rollback`` (parameter ``allow_rollback``): accept a signed index older than one accepted before.
allow_rollback_option = click.option(
    "--allow-rollback",
    is_flag=True,
    help="Accept a signed index older than the newest this machine has accepted (an old catalog on purpose).",
)
#: ``--lang L`` (parameter ``lang``), parsed to a pack such as 'FR' or 'FR-EN'.
lang_option = click.option(
    "--lang",
    "lang",
    metavar="L",
    callback=parsed_by(_lang),
    help="Terminal language pack, e.g. FR or FR-EN-DE. Default: the only pack in the catalog.",
)


def _status(text: str, width: int = 14) -> str:
    colour = {"usable": "green", "not-indexed": "yellow", "damaged": "red"}.get(text, "red")
    return style(text.ljust(width), sys.stdout, fg=colour)


@click.group(
    epilog="""\b
Examples:
  stager catalog list --catalog /srv/firmware
  STAGER_CATALOG=/srv/firmware stager catalog index
  stager catalog verify --json
  stager catalog keygen --public workshop.pub --secret workshop.key
  stager catalog sign --key workshop.key""",
)
def catalog():
    """Look after the firmware catalog: list it, index new files, verify the checksums, sign the index.

    The catalog is any folder tree of firmware files named by the convention, with its
    index SHA256SUMS at the root (the format of sha256sum; `sha256sum -c SHA256SUMS`
    checks it). A file is staged only when its name is consistent and its index line
    matches its content. SHA256SUMS.minisig, a minisign signature of the index, lets a
    machine that trusts the signing key (trusted_keys in the settings, see 'stager
    config show') refuse a catalog someone changed.
    """


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
            f["rules"],
            f["status"],
        )
        for f in rows
    ]
    heads = ("Kit", "Term", "Pack", "Rules", "Status")
    widths = [max(len(h), *(len(c[i]) for c in cells)) + 2 for i, h in enumerate(heads)]
    lead = 2 + sum(widths)
    longest = max(len(f["path"]) for f in rows)
    shown = "path" if lead + longest <= TABLE_WIDTH else "name"
    out = ["  " + "".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)) + "File"]
    for f, c in zip(rows, cells, strict=True):
        first = "".join(v.ljust(w) for v, w in zip(c[:4], widths, strict=False))
        out.append(f"  {first}{_status(c[4], widths[4])}{f[shown]}")
        if f["status"] != "usable" or f["duplicates"]:
            room = max(30, TABLE_WIDTH - lead)
            out += textwrap.wrap(f["why"], room, initial_indent=" " * lead, subsequent_indent=" " * lead) or []
    return out


def list_lines(doc: dict) -> list[str]:
    out = [style(f"Catalog {doc['catalog']}", sys.stdout, bold=True)]
    idx = doc["index"]
    out.append(
        f"  index: SHA256SUMS, {idx['lines']} lines"
        if idx["present"]
        else f"  index: {idx['error'] or 'no SHA256SUMS yet (stager catalog index writes it)'}"
    )
    for m in doc["models"]:
        out += ["", style(f"{m['name']} ({m['model']})", sys.stdout, bold=True)]
        if not m["files"]:
            out.append("  no files")
            continue
        out += table_lines(m["files"])
    from stager.rules.names import is_firmware_name

    unrecognised = [f for f in doc["unrecognised"] if is_firmware_name(f["path"])]
    others = [f for f in doc["unrecognised"] if not is_firmware_name(f["path"])]
    for files, title in (
        (doc["inconsistent"], "Inconsistent names (never used)"),
        (unrecognised, "Unrecognised names (never used)"),
    ):
        if files:
            out += ["", style(title, sys.stdout, bold=True)]
            out += [f"  {f['path']}: {f['why']}" for f in files]
    if others:
        out += [
            "",
            style("Other files (not firmware names, never used)", sys.stdout, bold=True),
            "  " + ", ".join(f["path"] for f in others),
        ]
    if doc["bad_lines"] or doc["missing"]:
        out += ["", style("Index problems (SHA256SUMS)", sys.stdout, bold=True)]
        out += [f"  line {b['line']} [{b['code']}]: {b['message']}" for b in doc["bad_lines"]]
        out += [f"  line {p['line']} [missing]: {p['why']}" for p in doc["missing"]]
    if doc["skipped"]:
        out += ["", style("Not used", sys.stdout, bold=True)]
        out += [f"  {p['path']}: {p['why']}" for p in doc["skipped"]]
    counts = ", ".join(f"{n} {k}" for k, n in sorted(doc["counts"].items())) or "no files"
    out += ["", f"Files: {counts}."]
    if doc["counts"].get("not-indexed"):
        out.append("Not-indexed files are not used until 'stager catalog index' gives them a line.")
    return out


@catalog.command(
    "list",
    epilog="""\b
Examples:
  stager catalog list --catalog /srv/firmware
  stager catalog list --model p50 --json | jq '.models[0].files'

\b
Exit codes: 0 listed, 2 bad input or no catalog given, 4 the catalog folder does not exist.""",
)
@catalog_option
@click.option(
    "--model",
    "-m",
    metavar="MODEL",
    callback=parsed_by(parse_model),
    help="List only this model's files (p22, p50, wbac); problems are always listed.",
)
@json_option
def list_(catalog_dir, model, as_json):
    """List the catalog by model (kit, terminal, pack, status, file), then the names
    that are never used and why, and the index's bad lines. Reads names and sizes
    only, never the files' contents."""
    from stager.catalog.trust import open_configured

    doc = open_configured(catalog_dir).to_json(model)
    if as_json:
        emit_json(doc)
    else:
        from stager.cli.render import say_lines

        say_lines(list_lines(doc), sys.stdout)  # wrapped to the terminal
    return ExitCode.OK


def _finish(doc: dict, error, as_json: bool, lines: list[str]) -> int:
    """Print a report (its JSON, or its lines) and return its exit code."""
    if as_json:
        if error is not None:
            doc = {"ok": False, "error": error.to_json(), **{k: v for k, v in doc.items() if k != "ok"}}
        emit_json(doc)
    else:
        from stager.cli.render import say_lines

        say_lines(lines, sys.stdout)
    if error is None:
        return ExitCode.OK
    say(error_line(error.message), err=True)
    return error.exit_code


@catalog.command(
    "index",
    epilog="""\b
Examples:
  stager catalog index --catalog /srv/firmware
  stager catalog index --json

\b
Exit codes: 0 done, 2 no catalog given, 4 a file no longer matches its line
(damaged) or cannot be read.""",
)
@catalog_option
@json_option
def index(catalog_dir, as_json):
    """Add a SHA256SUMS line for every file that has none.

    Existing lines are never rewritten: a file whose content no longer matches its
    line is reported as damaged, not re-indexed. Hidden files, *.sha256 sidecars and
    unfinished downloads (*.part, *.tmp...) get no line. Index only files you trust:
    the index is what stager checks every copy against.
    """
    from stager.catalog.trust import open_configured

    cat = open_configured(catalog_dir)
    with byte_progress(cat.bytes_to_index(), not as_json, "Indexing") as progress:
        report = cat.index(progress)
    doc, error = report.to_json(), report.error()
    lines = []
    if report.added:
        lines.append(f"Added {len(report.added)} line(s) to {report.catalog}/SHA256SUMS:")
        lines += [f"  {c.path}" for c in report.added]
    else:
        lines.append("Nothing to add: every file already has a line.")
    checked = [c for c in report.checked if c.line is not None]
    bad = report.damaged + report.unreadable
    lines.append(f"Checked {len(checked)} indexed file(s): " + ("all match." if not bad else f"{len(bad)} problem(s):"))
    lines += [f"  {style(c.status.upper(), sys.stdout, fg='red')} {c.path}: {c.why}" for c in bad]
    if report.bad_lines or report.missing:
        lines.append("Index problems (SHA256SUMS; index never rewrites a line: mend or delete these by hand):")
    lines += [f"  line {b.line} [{b.code}]: {b.message}" for b in report.bad_lines]
    lines += [f"  line {p.line} [missing]: {p.why}" for p in report.missing]
    if report.excluded:
        lines.append(f"Given no line (hidden, sidecar or unfinished): {', '.join(report.excluded)}")
    lines += _malformed_lines(report.malformed)
    if report.signature == "stale":
        text = (
            f"SIGNATURE NOW STALE: {report.catalog}/SHA256SUMS changed, so SHA256SUMS.minisig no longer matches "
            f"it. A machine that trusts a key refuses this catalog until it is signed again: "
            f"'stager catalog sign --key FILE --catalog {report.catalog}' (or minisign -Sm SHA256SUMS)."
        )
        lines.append(style(text, sys.stdout, fg="red", bold=True))
        if as_json:
            say(text, err=True)
    return _finish(doc, error, as_json, lines)


def _malformed_lines(malformed) -> list[str]:
    if not malformed:
        return []
    out = ["Not whole or not well formed (given no line; never staged):"]
    out += [f"  {style('MALFORMED', sys.stdout, fg='red')} {m.path}: {m.what} ({m.where})" for m in malformed]
    return out


@catalog.command(
    "verify",
    epilog="""\b
Examples:
  stager catalog verify --catalog /srv/firmware
  stager catalog verify --json | jq '.damaged'

\b
Exit codes: 0 every indexed file matches, 2 no catalog given, 4 a file is damaged,
missing or unreadable, or the index has bad lines.""",
)
@catalog_option
@allow_rollback_option
@json_option
def verify(catalog_dir, allow_rollback, as_json):
    """Re-read every indexed file and compare it with its SHA256SUMS line.

    A progress bar over bytes is shown on a terminal. Damaged, missing and unreadable
    files and bad index lines are listed; files with no line are named (not a failure).
    """
    from stager.catalog.trust import open_trusted
    from stager.cli.output import warn

    cat = open_trusted(catalog_dir, allow_rollback=allow_rollback, warn=warn)
    with byte_progress(cat.total_indexed_bytes(), not as_json, "Verifying") as progress:
        report = cat.verify(progress)
    doc, error = {**report.to_json(), "trust": cat.trust.to_json()}, report.error()
    total = sum(c.bytes for c in report.checks)
    bad = report.damaged + report.unreadable
    lines = [
        f"Verified {len(report.checks)} file(s), {human_bytes(total)}, against {report.catalog}/SHA256SUMS: "
        + ("all match." if not bad else f"{len(bad)} do not.")
    ]
    if report.missing and not bad:
        lines[0] += " " + _("But {count} indexed file(s) are missing or not regular files:").format(
            count=len(report.missing)
        )
    lines += [f"  {style(c.status.upper(), sys.stdout, fg='red')} {c.path}: {c.why}" for c in bad]
    lines += [f"  MISSING {p.path}: {p.why}" for p in report.missing]
    if report.bad_lines:
        lines.append("Bad lines in SHA256SUMS (the files they name are never used):")
    lines += [f"  line {b.line} [{b.code}]: {b.message}" for b in report.bad_lines]
    if report.not_indexed:
        lines.append(f"No line yet (not used until indexed): {', '.join(report.not_indexed)}")
    lines += [f"  {style('MALFORMED', sys.stdout, fg='red')} {m.path}: {m.what} ({m.where})" for m in report.malformed]
    lines.append(trust_line(cat.trust))
    return _finish(doc, error, as_json, lines)


def trust_line(trust) -> str:
    """One line on what the index's signature proved (or that no key is trusted)."""
    from stager.catalog.trust import when

    if not trust.enforced:
        return "Signature: not checked (no trusted key is set)."
    name = f", catalog '{trust.name}'" if trust.name else ""
    text = f"Signature: SHA256SUMS signed by trusted key {trust.key} on {when(trust.signed_at)}{name}."
    if trust.rolled_back_from is not None:
        text += f" Older than the one accepted before ({when(trust.rolled_back_from)}): accepted by --allow-rollback."
    return text


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
            raise BadInput("the password and its confirmation (the next line) differ.", code="password-mismatch")
    if not text:
        raise BadInput("an empty password: give one, or make a key without one with --unencrypted.", code="no-password")
    return text.encode("utf-8")


@catalog.command(
    "keygen",
    epilog="""\b
Examples:
  stager catalog keygen --public workshop.pub --secret workshop.key
  stager catalog keygen --public workshop.pub --secret workshop.key --unencrypted

\b
The files are minisign's: 'minisign -S -s workshop.key' signs with the secret key and
'minisign -V -p workshop.pub' checks with the public one.
Exit codes: 0 written, 2 bad input (a file already exists, passwords differ).""",
)
@click.option("--public", "public_path", required=True, metavar="FILE.pub", help="Where to write the public key.")
@click.option("--secret", "secret_path", required=True, metavar="FILE", help="Where to write the secret key.")
@click.option(
    "--unencrypted", is_flag=True, help="Write the secret key without a password (anyone who reads it can sign)."
)
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
@json_option
def keygen(public_path, secret_path, unencrypted, force, as_json):
    """Make a minisign key pair for signing the catalog's index.

    The secret key is protected by a password as minisign does (scrypt), unless
    --unencrypted. Keep it off the shared catalog folder: whoever holds it can make
    any catalog trusted. Give the public key (its file, or its base64 line) to every
    machine's settings, trusted_keys = [...].
    """
    from stager.catalog.trust import write_key_pair

    password = None if unencrypted else _password("Password for the new secret key", True)
    key = write_key_pair(public_path, secret_path, password, force=force)
    doc = {"ok": True, "key": key.id, "public_key": key.line(), "public": public_path, "secret": secret_path}
    if as_json:
        emit_json(doc)
        return ExitCode.OK
    say(f"Wrote the public key {public_path} and the secret key {secret_path} (key {key.id}).")
    say(f"Trust it on each machine: trusted_keys = [\"{key.line()}\"] in the settings file ('stager config show').")
    return ExitCode.OK


@catalog.command(
    "sign",
    epilog="""\b
Examples:
  stager catalog sign --key workshop.key --catalog /srv/firmware
  minisign -Vm /srv/firmware/SHA256SUMS -p workshop.pub      (checks it without stager)

\b
Exit codes: 0 signed, 2 bad input (no such key, wrong password), 4 a catalog problem
(the index does not verify: nothing is signed).""",
)
@catalog_option
@click.option("--key", "key_path", required=True, metavar="FILE", help="The minisign secret key file.")
@click.option("--name", metavar="NAME", help="The catalog's name in the trusted comment (default: its folder's name).")
@click.option("--legacy", is_flag=True, help="Sign in minisign's legacy form ('Ed', not prehashed).")
@json_option
def sign(catalog_dir, key_path, name, legacy, as_json):
    """Sign SHA256SUMS: write SHA256SUMS.minisig beside it (minisign's format).

    Every indexed file is verified first (content and structure): an index that does
    not verify is not signed. The trusted comment holds the time and the catalog's name:
    machines refuse an index signed earlier than one they already accepted.
    """
    from stager.catalog.trust import open_configured, read_secret_key, sign_index, when

    key = read_secret_key(key_path, lambda: _password("Password of the secret key", False))
    cat = open_configured(catalog_dir)
    with byte_progress(cat.total_indexed_bytes(), not as_json, "Verifying") as progress:
        signed = sign_index(cat, key, name, prehashed=not legacy, progress=progress)
    doc = {"ok": True, "catalog": str(cat.root), **signed}
    if as_json:
        emit_json(doc)
        return ExitCode.OK
    say(
        f"Signed {cat.root}/SHA256SUMS with key {signed['key']} on {when(signed['time'])} as catalog "
        f"'{signed['name']}': {signed['signature']}."
    )
    if signed["not_indexed"]:
        say(
            "Not in the signed index (never used on a machine that trusts this key): "
            + ", ".join(signed["not_indexed"])
        )
    return ExitCode.OK
