"""Whether the catalog's index can be trusted: the one place where it is decided.

With no trusted key in the settings, the index is used as before (it guards against
accidental damage only) and a one-line notice says so. With at least one, the index
``SHA256SUMS`` must carry ``SHA256SUMS.minisig``, a minisign signature of exactly the
bytes stager parsed, by a trusted key, with a ``timestamp:`` in its trusted comment not
older than the newest already accepted for that key and catalog name (no rollback);
otherwise CatalogError, exit 4: ``index-unsigned``, ``signature-invalid``,
``key-untrusted``, ``signature-no-time``, ``index-rollback``.

:func:`open_trusted` is what `prepare`, `plan --catalog`, `catalog verify` and
`verify --catalog` open the catalog with.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from stager.catalog.index import INDEX_NAME, write_atomic
from stager.errors import BadInput, CatalogError
from stager.fileio import os_reason, read_regular
from stager.i18n import N_, _
from stager.i18n_format import format_datetime
from stager.value import value

SIG_NAME = INDEX_NAME + ".minisig"
NO_KEY_NOTICE = N_(
    "Notice: no trusted key is set, so {index} is checked against accidental damage only, not for who "
    "wrote it (add trusted_keys to the settings: see 'stager config show')."
)


@value
class Trust:
    enforced: bool
    key: str | None = None  # key id, as minisign prints it
    key_source: str | None = None
    signed_at: int | None = None  # the trusted comment's timestamp (seconds since 1970, UTC)
    name: str | None = None  # the trusted comment's catalog name
    trusted_comment: str | None = None
    rolled_back_from: int | None = None  # the newer time accepted before, when --allow-rollback was used

    def to_json(self) -> dict:
        return {
            "enforced": self.enforced,
            "key": self.key,
            "key_source": self.key_source,
            "signed_at": when(self.signed_at) if self.signed_at is not None else None,
            "name": self.name,
            "trusted_comment": self.trusted_comment,
            "rolled_back_from": when(self.rolled_back_from) if self.rolled_back_from is not None else None,
        }


def when(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def shown_time(ts: int) -> str:
    """A signing time as the reader writes it, in local time ('1er décembre 2026 19:15')."""
    return format_datetime(dt.datetime.fromtimestamp(ts, dt.UTC))


def comment_fields(comment: str) -> dict[str, str]:
    """``timestamp:1700000000\\tfile:SHA256SUMS\\thashed\\tcatalog:NAME`` -> its fields."""
    out: dict[str, str] = {}
    for part in comment.split("\t"):
        key, sep, value = part.partition(":")
        if sep:
            out.setdefault(key.strip(), value.strip())
    return out


def trusted_comment(name: str, now: int | None = None) -> str:
    """The trusted comment stager signs: minisign's default fields, then the catalog's name."""
    ts = int(dt.datetime.now(dt.UTC).timestamp()) if now is None else now
    return f"timestamp:{ts}\tfile:{INDEX_NAME}\thashed\tcatalog:{name}"


# --------------------------------------------------------------------------- rollback state
def _read_state(path: Path) -> dict:
    try:
        doc = json.loads(read_regular(path, 16 << 20).decode("utf-8"))
        return doc.get("accepted", {}) if isinstance(doc, dict) else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise CatalogError(
            _(
                "the record of accepted signatures {path} cannot be read ({error}): without it an older catalog "
                "could not be told from a newer one. Mend or remove it (it is rebuilt from the next catalog)."
            ).format(path=path, error=e),
            code="trust-state-unreadable",
        ) from None


def _record(path: Path, slot: str, ts: int, warn) -> None:
    accepted = _read_state(path)
    if accepted.get(slot, {}).get("time", -1) >= ts:
        return
    accepted[slot] = {"time": ts, "signed_at": when(ts)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"accepted": accepted}, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, path)
    except OSError as e:
        if warn:
            warn(
                _(
                    "Warning: the signature time could not be remembered in {path} ({error}): "
                    "an older catalog would not be refused next time."
                ).format(path=path, error=os_reason(e))
            )
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------- the check
def _signature(catalog):
    from stager.catalog.signature import FormatError, Signature, text_of

    root = catalog.root
    if not catalog.index_present:
        raise CatalogError(
            _(
                "{folder} has no readable {index}, and this machine trusts only signed catalogs: nothing is used."
            ).format(folder=root, index=INDEX_NAME),
            code="index-unsigned",
        )
    path = root / SIG_NAME
    try:
        data = read_regular(path, 1 << 16)
    except FileNotFoundError:
        raise CatalogError(
            _(
                "{index} is not signed (no {signature} beside it), and this machine trusts only signed "
                "catalogs: nothing is used. Get the signed catalog from its source, or have it signed with "
                "'stager catalog sign --key FILE' by the holder of a trusted key."
            ).format(index=root / INDEX_NAME, signature=SIG_NAME),
            code="index-unsigned",
        ) from None
    except OSError as e:
        raise CatalogError(
            _("cannot read {path}: {error}.").format(path=path, error=os_reason(e)), code="signature-invalid"
        ) from None
    try:
        return Signature.from_file_text(text_of(data))
    except FormatError as e:
        raise CatalogError(
            _(
                "{path} is not a minisign signature ({error}): nothing is used. Get the catalog again from its source."
            ).format(path=path, error=e),
            code="signature-invalid",
        ) from None


def _verified(catalog, sig, keys):
    from stager.catalog.signature import BadSignature, verify

    try:
        return verify(catalog.index_bytes, sig, [k.key for k in keys])
    except BadSignature as e:
        what = (
            _(
                "Someone may have changed the catalog; get it again from its source, or trust the new key in the "
                "settings if the workshop changed keys."
            )
            if e.code == "key-untrusted"
            else _(
                "The index or its signature was changed after signing: nothing is used. Get the catalog "
                "again from its source (or, if you changed the index yourself, sign it again)."
            )
        )
        raise CatalogError(
            _("{path}: {problem}. {todo}").format(path=catalog.root / SIG_NAME, problem=e, todo=what), code=e.code
        ) from None


def check_trust(catalog, settings, *, allow_rollback: bool = False, warn=None) -> Trust:
    """The catalog's index checked against the trusted keys (see the module's note)."""
    if not settings.trusted_keys:
        if warn:
            warn(_(NO_KEY_NOTICE).format(index=INDEX_NAME))
        return Trust(enforced=False)
    sig = _signature(catalog)
    key = _verified(catalog, sig, settings.trusted_keys)
    fields = comment_fields(sig.trusted_comment)
    if not fields.get("timestamp", "").isdigit():
        raise CatalogError(
            _(
                "the trusted comment of {path} has no 'timestamp:' ({comment}): without a signing time an older "
                "catalog cannot be refused. Sign it with 'stager catalog sign' or minisign's default trusted comment."
            ).format(path=catalog.root / SIG_NAME, comment=repr(sig.trusted_comment)),
            code="signature-no-time",
        )
    ts, name = int(fields["timestamp"]), fields.get("catalog", "")
    slot = f"{key.id}/{name}"
    newest = _read_state(settings.state_file).get(slot, {}).get("time")
    rolled = None
    if isinstance(newest, int) and ts < newest:
        if not allow_rollback:
            raise CatalogError(
                _(
                    "the catalog's index was signed on {signed}, but this machine has already accepted one signed "
                    "on {newest} by the same key (key {key}, catalog '{name}'): this is an older catalog, which may "
                    "still hold a file since withdrawn. Get the current catalog; only if you mean to use the older "
                    "one, give --allow-rollback."
                ).format(signed=shown_time(ts), newest=shown_time(newest), key=key.id, name=name),
                code="index-rollback",
                details={"signed_at": when(ts), "newest_accepted": when(newest), "key": key.id, "name": name},
            )
        rolled = newest
    _record(settings.state_file, slot, ts, warn)
    source = next(k.source for k in settings.trusted_keys if k.key.key_id == key.key_id)
    return Trust(True, key.id, source, ts, name or None, sig.trusted_comment, rolled)


def catalog_value(path, settings) -> str | None:
    """--catalog, else STAGER_CATALOG, else the settings' catalog (None when none is given)."""
    if path:
        return str(path)
    return settings.catalog if settings is not None else None


def open_configured(path=None, *, settings=None):
    """The catalog given by --catalog, STAGER_CATALOG or the settings; scanned, not trust-checked."""
    from stager.catalog.folder import open_catalog
    from stager.catalog.settings import load_settings

    settings = settings or load_settings()
    value = catalog_value(path, settings)
    if value is None:
        raise BadInput(
            _(
                'no catalog folder: give --catalog DIR, set STAGER_CATALOG, or put catalog = "DIR" in the '
                "settings file (see 'stager config show')."
            ),
            code="no-catalog",
        )
    return open_catalog(value, environ={})


def open_trusted(path=None, *, settings=None, allow_rollback: bool = False, warn=None):
    """:func:`open_configured`, then :func:`check_trust`; the result is in ``catalog.trust``."""
    from stager.catalog.settings import load_settings

    settings = settings or load_settings()
    catalog = open_configured(path, settings=settings)
    catalog.trust = check_trust(catalog, settings, allow_rollback=allow_rollback, warn=warn)
    return catalog


# --------------------------------------------------------------------------- keys and signing
_EXISTS = N_("{path} already exists: give another name, or --force to replace it.")


def _write_new(path: Path, text: str, mode: int, force: bool) -> None:
    if os.path.lexists(path) and not force:
        raise BadInput(_(_EXISTS).format(path=path), code="key-exists")
    try:
        if force and os.path.lexists(path):
            os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="ascii", newline="\n") as f:
            f.write(text)
    except OSError as e:
        raise BadInput(
            _("cannot write {path}: {error}.").format(path=path, error=os_reason(e)), code="key-not-written"
        ) from None


def write_key_pair(public_path, secret_path, password: bytes | None, *, force: bool = False):
    """A new minisign key pair written to both files (the secret one readable by its owner only)."""
    from stager.catalog.signature import SecretKey

    public_path, secret_path = Path(public_path), Path(secret_path)
    if public_path.resolve() == secret_path.resolve():
        raise BadInput(_("the public and the secret key need two different files."), code="bad-input")
    for path in (public_path, secret_path):
        if os.path.lexists(path) and not force:
            raise BadInput(_(_EXISTS).format(path=path), code="key-exists")
    key = SecretKey.generate()
    _write_new(secret_path, key.file_text(password), 0o600, force)
    _write_new(public_path, key.public_key.file_text(), 0o644, force)
    return key.public_key


def read_secret_key(path, ask_password):
    """The secret key in ``path``; ``ask_password()`` is called only when it is encrypted."""
    from stager.catalog.signature import FormatError, SecretKey, text_of

    try:
        text = text_of(read_regular(path, 1 << 16))
    except OSError as e:
        raise BadInput(
            _("cannot read the secret key {path}: {error}.").format(path=path, error=os_reason(e)), code="bad-key"
        ) from None
    try:
        password = ask_password() if SecretKey.is_encrypted(text) else None
        return SecretKey.from_file_text(text, password)
    except FormatError as e:
        raise BadInput(_("{path}: {error}.").format(path=path, error=e), code="bad-key") from None


def sign_index(catalog, key, name: str | None = None, *, prehashed: bool = True, progress=None, now=None) -> dict:
    """Verify every indexed file, then write SHA256SUMS.minisig over exactly the bytes verified."""
    from stager.catalog.signature import sign

    report = catalog.verify(progress)
    error = report.error()
    if error is not None:
        raise CatalogError(_("not signed: {problem}").format(problem=error.message), code=error.code)
    name = name or catalog.root.name
    if "\t" in name or "\n" in name or not name.strip():
        raise BadInput(_("the catalog's name is one line of text without tabs."), code="bad-input")
    sig = sign(catalog.index_bytes, key, trusted_comment(name, now), prehashed=prehashed)
    path = catalog.root / SIG_NAME
    write_atomic(path, sig.file_text().encode("utf-8"), expect=None)
    if (catalog.root / INDEX_NAME).read_bytes() != catalog.index_bytes:
        path.unlink()
        raise CatalogError(
            _("{index} changed while it was signed: run the command again.").format(index=catalog.root / INDEX_NAME),
            code="index-changed",
        )
    ts = int(comment_fields(sig.trusted_comment)["timestamp"])
    return {
        "key": sig.key,
        "time": ts,
        "signed_at": when(ts),
        "name": name,
        "signature": str(path),
        "trusted_comment": sig.trusted_comment,
        "not_indexed": list(report.not_indexed),
    }
