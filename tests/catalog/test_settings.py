"""The workshop's settings: machine file then user file, STAGER_CONFIG alone, the
command line and STAGER_CATALOG over both; the folders of each platform by their
documented paths (platformdirs with the platform named; stager's own XDG folders against
platformdirs' case by case)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path, PureWindowsPath

import pytest

from stager.catalog.settings import config_files, history_dir, load_settings, platform_dirs, state_file
from stager.catalog.signature import SecretKey
from stager.errors import BadInput


def key_line() -> str:
    return SecretKey.generate().public_key.line()


@pytest.fixture
def linux(tmp_path, monkeypatch):
    """XDG folders of a Linux machine: the site one (/etc/xdg) and the user's (~/.config)."""
    site, user = tmp_path / "etc-xdg", tmp_path / "home" / ".config"
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(site))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user))
    for name in ("STAGER_CONFIG", "STAGER_CATALOG", "STAGER_HOME"):
        monkeypatch.delenv(name, raising=False)
    (site / "stager").mkdir(parents=True)
    (user / "stager").mkdir(parents=True)
    return site / "stager" / "stager.toml", user / "stager" / "stager.toml"


def test_files_are_read_machine_first_then_user(linux):
    machine, user = linux
    assert config_files(platform="linux") == [("machine", machine), ("user", user)]
    k1, k2 = key_line(), key_line()
    machine.write_text(f'catalog = "/srv/firmware"\ntrusted_keys = ["{k1}"]\n')
    user.write_text(f'catalog = "/home/tech/firmware"\ntrusted_keys = ["{k2}"]\n')
    s = load_settings(platform="linux")
    assert s.catalog == "/home/tech/firmware" and s.catalog_source == str(user)
    assert [k.key.line() for k in s.trusted_keys] == [k1, k2]
    assert s.trusted_keys[0].source.startswith(str(machine))
    assert [f[2] for f in s.files] == ["read", "read"]


def test_the_user_cannot_remove_a_machine_key(linux):
    machine, user = linux
    k1 = key_line()
    machine.write_text(f'trusted_keys = ["{k1}"]\n')
    user.write_text("trusted_keys = []\n")
    assert [k.key.line() for k in load_settings(platform="linux").trusted_keys] == [k1]
    user.write_text(f'trusted_keys = ["{k1}"]\n')  # the same key twice is one key
    assert len(load_settings(platform="linux").trusted_keys) == 1


def test_a_pub_file_path_is_relative_to_the_settings_file(linux):
    machine, _ = linux
    pub = SecretKey.generate().public_key
    (machine.parent / "workshop.pub").write_text(pub.file_text())
    machine.write_text('trusted_keys = ["workshop.pub"]\n')
    (key,) = load_settings(platform="linux").trusted_keys
    assert key.key == pub and str(machine.parent / "workshop.pub") in key.source


def test_stager_config_reads_that_file_alone(linux, tmp_path, monkeypatch):
    machine, _user = linux
    machine.write_text(f'trusted_keys = ["{key_line()}"]\n')
    only = tmp_path / "only.toml"
    only.write_text('catalog = "/mnt/cat"\n')
    monkeypatch.setenv("STAGER_CONFIG", str(only))
    s = load_settings(platform="linux")
    assert s.trusted_keys == () and s.catalog == "/mnt/cat"
    assert s.files == (("STAGER_CONFIG", str(only), "read"),)
    monkeypatch.setenv("STAGER_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(BadInput, match="does not exist"):
        load_settings(platform="linux")


def test_stager_catalog_wins_over_the_files(linux, monkeypatch):
    _, user = linux
    user.write_text('catalog = "/from/file"\n')
    monkeypatch.setenv("STAGER_CATALOG", "/from/env")
    s = load_settings(platform="linux")
    assert (s.catalog, s.catalog_source) == ("/from/env", "STAGER_CATALOG")


@pytest.mark.parametrize(
    "text,words",
    [
        ("catalog = ", "not valid TOML"),
        ('trusted_keys = "RWQ"', "must be a list"),
        ("trusted_keys = [1]", "is not a text"),
        ('trusted_keys = ["nothing.pub"]', "neither a minisign public key line nor a readable .pub file"),
        ('catalogue = "/x"', "unknown setting"),
        ("catalog = 3", "catalog must be"),
    ],
)
def test_a_bad_settings_file_is_named_with_its_problem(linux, text, words):
    _, user = linux
    user.write_text(text + "\n")
    with pytest.raises(BadInput) as e:
        load_settings(platform="linux")
    assert words in e.value.message and str(user) in e.value.message and e.value.exit_code == 2


def test_linux_folders(linux, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert history_dir(platform="linux") == tmp_path / "data" / "stager"
    assert state_file(platform="linux") == tmp_path / "state" / "stager" / "trusted-signatures.json"
    monkeypatch.setenv("STAGER_HOME", str(tmp_path / "h"))
    assert history_dir(platform="linux") == tmp_path / "h"
    assert state_file(platform="linux") == tmp_path / "h" / "trusted-signatures.json"


#: the folders Windows gives for these CSIDL names (SHGetKnownFolderPath), for a user 'tech'
WINDOWS = {
    "CSIDL_APPDATA": r"C:\Users\tech\AppData\Roaming",
    "CSIDL_LOCAL_APPDATA": r"C:\Users\tech\AppData\Local",
    "CSIDL_COMMON_APPDATA": r"C:\ProgramData",
}


def test_windows_folders(monkeypatch):
    import platformdirs.windows

    monkeypatch.setattr(platformdirs.windows, "_RESOLVE_WIN_FOLDER", WINDOWS.__getitem__)
    d = platform_dirs("win32")
    assert PureWindowsPath(d.site_config_dir) == PureWindowsPath(r"C:\ProgramData\stager")
    assert PureWindowsPath(d.user_config_dir) == PureWindowsPath(r"C:\Users\tech\AppData\Local\stager")
    assert PureWindowsPath(d.user_data_dir) == PureWindowsPath(r"C:\Users\tech\AppData\Local\stager")
    files = config_files({}, "win32")
    assert [PureWindowsPath(p) for _, p in files] == [
        PureWindowsPath(r"C:\ProgramData\stager\stager.toml"),
        PureWindowsPath(r"C:\Users\tech\AppData\Local\stager\stager.toml"),
    ]


def test_macos_folders(monkeypatch, tmp_path):
    """A Mac's own folders (platformdirs also follows XDG variables on macOS when set: none here)."""
    monkeypatch.setenv("HOME", "/Users/tech")
    for name in ("XDG_CONFIG_DIRS", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    d = platform_dirs("darwin")
    assert d.site_config_dir == "/Library/Application Support/stager"
    assert d.user_config_dir == "/Users/tech/Library/Application Support/stager"
    assert d.user_data_dir == "/Users/tech/Library/Application Support/stager"
    assert [p for _, p in config_files({}, "darwin")] == [
        Path("/Library/Application Support/stager/stager.toml"),
        Path("/Users/tech/Library/Application Support/stager/stager.toml"),
    ]


XDG_VARIABLES = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
FOLDERS = ("site_config_dir", "user_config_dir", "user_data_dir", "user_state_dir")


def _platformdirs_and_ours(monkeypatch, env: dict) -> tuple[dict, dict]:
    """The four folders by platformdirs' Unix class and by stager's, in one environment."""
    from platformdirs.unix import Unix

    for name in ("HOME", "XDG_CONFIG_DIRS", *XDG_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    theirs, ours = Unix(appname="stager", appauthor=False), platform_dirs("linux")
    return {f: getattr(theirs, f) for f in FOLDERS}, {f: getattr(ours, f) for f in FOLDERS}


def _cases(homes, values, site_values):
    for home, xdg, site in itertools.product(homes, values, site_values):
        env = {} if home is None else {"HOME": home}
        for i, name in enumerate(XDG_VARIABLES):  # each variable its own value in turn
            value = xdg[i % len(xdg)] if isinstance(xdg, tuple) else xdg
            if value is not None:
                env[name] = value.replace("NAME", name.lower())
        if site is not None:
            env["XDG_CONFIG_DIRS"] = site
        yield env


#: cases every platformdirs since 3 answers alike: absolute, empty and unset values
SAME_IN_EVERY_VERSION = list(
    _cases(
        homes=("/home/tech", "/home/tech/", "/", None),
        values=(None, "", "/x/NAME", "/x/NAME/", (None, "/x/NAME", "")),
        site_values=(None, "", "/etc/site", "/etc/a:/etc/b"),
    )
)
#: relative values, which the XDG specification says to ignore (platformdirs 4.14 does)
RELATIVE = list(
    _cases(
        homes=("tech", "", "/home/tech"),
        values=("relative/NAME", "~/NAME", (".", "/x/NAME", "x")),
        site_values=("relative", "rel:/etc/a:/etc/b", ":/etc/a"),
    )
)


@pytest.mark.skipif(os.name == "nt", reason="the XDG folders of a POSIX system (the password database)")
@pytest.mark.parametrize("env", SAME_IN_EVERY_VERSION, ids=str)
def test_xdg_folders_are_platformdirs(monkeypatch, env):
    theirs, ours = _platformdirs_and_ours(monkeypatch, env)
    assert ours == theirs


@pytest.mark.skipif(os.name == "nt", reason="the XDG folders of a POSIX system (the password database)")
@pytest.mark.parametrize("env", RELATIVE, ids=str)
def test_xdg_folders_ignore_a_relative_path(monkeypatch, env):
    """A relative XDG value counts as unset; a relative or empty HOME gives way to the
    user's home in the password database."""
    import pwd

    import platformdirs

    theirs, ours = _platformdirs_and_ours(monkeypatch, env)
    home = env["HOME"] if env["HOME"].startswith("/") else pwd.getpwuid(os.getuid()).pw_dir.rstrip("/")
    defaults = {"XDG_CONFIG_HOME": ".config", "XDG_DATA_HOME": ".local/share", "XDG_STATE_HOME": ".local/state"}
    expected = {
        f"user_{kind}_dir": (env[name] if env[name].startswith("/") else f"{home}/{defaults[name]}") + "/stager"
        for kind, name in zip(("config", "data", "state"), XDG_VARIABLES, strict=True)
    }
    site = next((d for d in env["XDG_CONFIG_DIRS"].split(":") if d.startswith("/")), "/etc/xdg")
    assert ours == {"site_config_dir": f"{site}/stager", **expected}
    if tuple(int(n) for n in platformdirs.__version__.split(".")[:2]) >= (4, 14):
        assert ours == theirs


@pytest.mark.skipif(os.name == "nt", reason="the XDG folders of a POSIX system (the password database)")
@pytest.mark.parametrize("entry", ["no such user", "an empty home"])
def test_no_home_folder_is_bad_input_that_says_what_to_set(monkeypatch, entry):
    """No absolute HOME and no home in the password database: where platformdirs (and
    os.path.expanduser) make an empty home "/" and write under /.config, stager asks."""
    import pwd

    def user(uid):
        if entry == "no such user":
            raise KeyError(uid)
        return pwd.struct_passwd(("tech", "x", uid, uid, "", "", "/bin/sh"))

    monkeypatch.setenv("HOME", "relative")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", user)
    with pytest.raises(BadInput) as e:
        config_files({}, "linux")
    assert e.value.exit_code == 2 and e.value.code == "no-home"
    assert "HOME" in e.value.message and "STAGER_CONFIG" in e.value.message
    assert config_files({"STAGER_CONFIG": "/etc/stager.toml"}, "linux") == [("STAGER_CONFIG", Path("/etc/stager.toml"))]
    monkeypatch.setenv("XDG_CONFIG_HOME", "/x/config")
    assert [p for _, p in config_files({}, "linux")][1] == Path("/x/config/stager/stager.toml")
