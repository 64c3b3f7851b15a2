"""The workshop's settings: one TOML file for the machine, one for the user.

Read in this order, each where the platform's conventions put it (platformdirs on Windows
and macOS, the XDG Base Directory Specification elsewhere: :func:`platform_dirs`):

1. the machine-wide file, ``stager.toml`` in the site configuration folder
   (Linux ``/etc/xdg/stager``, Windows ``C:\\ProgramData\\stager``, macOS
   ``/Library/Application Support/stager``): what the workshop set up;
2. the user's file in the user configuration folder (Linux ``~/.config/stager``,
   Windows ``%LOCALAPPDATA%\\stager``, macOS ``~/Library/Application Support/stager``).

``STAGER_CONFIG=FILE`` reads that one file instead of both (as pip's ``PIP_CONFIG_FILE``).

Keys: ``catalog = "DIR"`` (the user's wins over the machine's; ``--catalog`` and
``STAGER_CATALOG`` win over both) and ``trusted_keys = [...]``, each a minisign public key
(its base64 line, or the path of its ``.pub`` file, relative to the settings file's folder).
The user's file may add trusted keys, never remove the machine's.

The staging history's folder and the remembered signature times (no rollback) live in the
user's data and state folders, or in ``$STAGER_HOME`` when it is set.
"""

from __future__ import annotations

import os
import posixpath
import sys
from pathlib import Path

from stager.errors import BadInput
from stager.fileio import os_reason, read_regular
from stager.i18n import _, ngettext
from stager.value import value

APP = "stager"
FILE_NAME = "stager.toml"
CONFIG_ENV = "STAGER_CONFIG"
HOME_ENV = "STAGER_HOME"
CATALOG_ENV = "STAGER_CATALOG"
STATE_FILE = "trusted-signatures.json"
_KNOWN = ("catalog", "trusted_keys")


def platform_dirs(platform: str | None = None):
    """The platform's folders for stager (or the named platform's: win32, darwin, linux):
    an object with ``site_config_dir``, ``user_config_dir``, ``user_data_dir`` and
    ``user_state_dir``. Windows and macOS: platformdirs, which asks the system (the known
    folders of Windows). Elsewhere: :class:`XdgDirs`."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        from platformdirs.windows import Windows as Dirs
    elif platform == "darwin":
        from platformdirs.macos import MacOS as Dirs  # type: ignore[assignment]
    else:
        return XdgDirs()
    return Dirs(appname=APP, appauthor=False)


class XdgDirs:
    """stager's folders by the XDG Base Directory Specification (Linux, the BSDs), as
    platformdirs places them: a variable counts only when it holds an absolute path (the
    specification ignores any other), ``XDG_CONFIG_DIRS`` gives its first absolute entry,
    and ``~`` is ``$HOME`` when absolute, else the user's entry in the password database.
    One difference, on purpose: with neither (no such user, or an empty home in its
    entry), platformdirs makes the home ``/`` and its folders ``/.config/stager`` and so
    on; stager stops with exit 2 saying what to set (:func:`_home`). Each is read from
    the environment when asked, as platformdirs reads it. Written here rather than
    imported because platformdirs and the ``tempfile`` and ``random`` it imports cost a
    1 KiB staging 7 ms for these four paths; tests/catalog/test_settings.py compares
    them with platformdirs' case by case."""

    @property
    def site_config_dir(self) -> str:
        dirs = os.environ.get("XDG_CONFIG_DIRS", "").split(":")
        return posixpath.join(next((d for d in dirs if posixpath.isabs(d)), "/etc/xdg"), APP)

    @property
    def user_config_dir(self) -> str:
        return _xdg_user("XDG_CONFIG_HOME", ".config")

    @property
    def user_data_dir(self) -> str:
        return _xdg_user("XDG_DATA_HOME", ".local/share")

    @property
    def user_state_dir(self) -> str:
        return _xdg_user("XDG_STATE_HOME", ".local/state")


def _xdg_user(variable: str, default: str) -> str:
    path = os.environ.get(variable, "")
    return posixpath.join(path if posixpath.isabs(path) else posixpath.join(_home(), default), APP)


def _home() -> str:
    """The user's home folder: $HOME when absolute, else the password database's."""
    home = os.environ.get("HOME", "")
    if not posixpath.isabs(home):
        try:
            import pwd

            home = pwd.getpwuid(os.getuid()).pw_dir
        except (ImportError, KeyError, AttributeError):  # no pwd, no such user
            home = ""
    if not posixpath.isabs(home):
        raise BadInput(
            _(
                "cannot tell your home folder, where stager keeps its settings and history: HOME is not "
                "an absolute path and the system names none. Set HOME, or STAGER_CONFIG and STAGER_HOME."
            ),
            code="no-home",
        )
    return home.rstrip("/") or "/"


def config_files(environ=None, platform: str | None = None) -> list[tuple[str, Path]]:
    """[(scope, path)] in reading order: ("STAGER_CONFIG", file) alone, else machine then user."""
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV, "").strip():
        return [(CONFIG_ENV, Path(env[CONFIG_ENV]).expanduser())]
    dirs = platform_dirs(platform)
    return [("machine", Path(dirs.site_config_dir) / FILE_NAME), ("user", Path(dirs.user_config_dir) / FILE_NAME)]


def history_dir(environ=None, platform: str | None = None) -> Path:
    """Where the staging history lives: $STAGER_HOME, else the user's data folder."""
    env = os.environ if environ is None else environ
    if env.get(HOME_ENV):
        return Path(env[HOME_ENV])
    return Path(platform_dirs(platform).user_data_dir)


def state_file(environ=None, platform: str | None = None) -> Path:
    """The remembered newest signature time per key and catalog: $STAGER_HOME, else the user's state folder."""
    env = os.environ if environ is None else environ
    if env.get(HOME_ENV):
        return Path(env[HOME_ENV]) / STATE_FILE
    return Path(platform_dirs(platform).user_state_dir) / STATE_FILE


@value
class TrustedKey:
    key: object  # stager.catalog.signature.PublicKey
    source: str  # "<settings file>: trusted_keys[<n>]" (and the .pub path)

    def to_json(self) -> dict:
        return {"id": self.key.id, "key": self.key.line(), "source": self.source}  # type: ignore[attr-defined]


@value
class Settings:
    files: tuple[tuple[str, str, str], ...]  # (scope, path, "read" | "absent")
    catalog: str | None
    catalog_source: str | None
    trusted_keys: tuple[TrustedKey, ...]
    history_dir: Path
    history_source: str
    state_file: Path

    def to_json(self) -> dict:
        return {
            "files": [{"scope": s, "path": p, "status": st} for s, p, st in self.files],
            "catalog": {"value": self.catalog, "source": self.catalog_source},
            "trusted_keys": [k.to_json() for k in self.trusted_keys],
            "history": {"value": str(self.history_dir), "source": self.history_source},
            "state_file": str(self.state_file),
        }


def _read_toml(path: Path) -> dict | None:
    try:
        data = read_regular(path, 1 << 20)  # never a FIFO's or a device's endless read
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BadInput(
            _("cannot read the settings file {path}: {error}.").format(path=path, error=os_reason(e)),
            code="bad-settings",
        ) from None
    import tomllib  # only for a file that is there: most machines have none

    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise BadInput(
            _("the settings file {path} is not valid TOML: {error}. Mend it.").format(path=path, error=e),
            code="bad-settings",
        ) from None
    unknown = sorted(set(doc) - set(_KNOWN))
    if unknown:
        text = ngettext(
            "the settings file {path} has an unknown setting, {unknown}: the known ones are {known}.",
            "the settings file {path} has unknown settings {unknown}: the known ones are {known}.",
            len(unknown),
        )
        raise BadInput(
            text.format(path=path, unknown=", ".join(unknown), known=", ".join(_KNOWN)),
            code="bad-settings",
        )
    return doc


def _key_of(entry, path: Path, num: int) -> TrustedKey:
    from stager.catalog.signature import FormatError, PublicKey, text_of

    where = f"{path}: trusted_keys[{num}]"
    if not isinstance(entry, str) or not entry.strip():
        raise BadInput(
            _("{where} is not a text (a public key line or a .pub file's path).").format(where=where),
            code="bad-settings",
        )
    text = entry.strip()
    try:
        return TrustedKey(PublicKey.from_line(text), where)
    except FormatError:
        pass  # not a key line: the path of a .pub file
    pub = (path.parent / Path(text).expanduser()).resolve()
    try:
        return TrustedKey(PublicKey.from_file_text(text_of(read_regular(pub, 1 << 16))), f"{where} ({pub})")
    except OSError as e:
        raise BadInput(
            _("{where} is neither a minisign public key line nor a readable .pub file ({pub}: {error}).").format(
                where=where, pub=pub, error=os_reason(e)
            ),
            code="bad-settings",
        ) from None
    except FormatError as e:
        raise BadInput(
            _("{where}: {pub} is not a minisign public key file: {error}.").format(where=where, pub=pub, error=e),
            code="bad-settings",
        ) from None


def load_settings(environ=None, platform: str | None = None) -> Settings:
    """The settings in force (files read in order; a damaged file is BadInput, exit 2)."""
    env = os.environ if environ is None else environ
    files: list[tuple[str, str, str]] = []
    keys: list[TrustedKey] = []
    catalog: str | None = None
    catalog_source: str | None = None
    for scope, path in config_files(env, platform):
        doc = _read_toml(path)
        if doc is None:
            if scope == CONFIG_ENV:
                raise BadInput(
                    _("{env} names {path}, which does not exist.").format(env=CONFIG_ENV, path=path),
                    code="bad-settings",
                )
            files.append((scope, str(path), "absent"))
            continue
        files.append((scope, str(path), "read"))
        if "catalog" in doc:
            if not isinstance(doc["catalog"], str) or not doc["catalog"].strip():
                raise BadInput(
                    _("{path}: catalog must be a folder's path, as text.").format(path=path), code="bad-settings"
                )
            catalog, catalog_source = doc["catalog"], str(path)
        entries = doc.get("trusted_keys", [])
        if not isinstance(entries, list):
            raise BadInput(
                _('{path}: trusted_keys must be a list, e.g. ["RWQ..."].').format(path=path), code="bad-settings"
            )
        for num, entry in enumerate(entries):
            key = _key_of(entry, path, num)
            if all(k.key.key != key.key.key for k in keys):  # type: ignore[attr-defined]
                keys.append(key)
    if env.get(CATALOG_ENV, "").strip():
        catalog, catalog_source = env[CATALOG_ENV], CATALOG_ENV
    return Settings(
        files=tuple(files),
        catalog=catalog,
        catalog_source=catalog_source,
        trusted_keys=tuple(keys),
        history_dir=history_dir(env, platform),
        history_source=HOME_ENV if env.get(HOME_ENV) else _("the user's data folder"),
        state_file=state_file(env, platform),
    )
