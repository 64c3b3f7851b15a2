"""stager.fileio.temp_folder: the system's temporary folder as tempfile.gettempdir() finds
it (the per-computer hold of a card lives there: every run must name the same folder)."""

import os
import stat
import tempfile

import pytest

from stager.fileio import temp_candidates, temp_folder


def tempfiles(monkeypatch) -> str:
    """tempfile's own answer for the environment now, asked afresh (it keeps its first)."""
    monkeypatch.setattr(tempfile, "tempdir", None)
    return tempfile.gettempdir()


@pytest.fixture
def folders(tmp_path):
    """A writable folder, a read-only one, a file, a missing path and a link to a folder."""
    writable = tmp_path / "writable"
    writable.mkdir()
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(stat.S_IRUSR | stat.S_IXUSR)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "link").symlink_to(writable)
    yield {
        "writable": str(writable),
        "readonly": str(readonly),
        "file": str(tmp_path / "a-file"),
        "missing": str(tmp_path / "missing"),
        "link": str(tmp_path / "link"),
        "relative": "writable",
    }
    readonly.chmod(stat.S_IRWXU)


CASES = [
    {},
    {"TMPDIR": "writable"},
    {"TMPDIR": "missing"},
    {"TMPDIR": "file"},
    {"TMPDIR": "readonly"},
    {"TMPDIR": "link"},
    {"TMPDIR": "relative"},
    {"TMPDIR": "", "TEMP": "writable"},
    {"TMPDIR": "missing", "TEMP": "file", "TMP": "writable"},
    {"TEMP": "missing", "TMP": "missing"},
    {"TMP": "link"},
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "none")
def test_the_folder_is_tempfiles(monkeypatch, folders, tmp_path, case):
    monkeypatch.chdir(tmp_path)
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    for name, which in case.items():
        monkeypatch.setenv(name, folders.get(which, which))
    assert temp_candidates() == tempfile._candidate_tempdir_list()
    ours = temp_folder()
    assert ours == tempfiles(monkeypatch)
    if os.geteuid() != 0 and case.get("TMPDIR") == "readonly":  # root writes anywhere
        assert ours != folders["readonly"]
    assert sorted(os.listdir(folders["writable"])) == []  # the probe file is gone


def test_the_windows_candidates_are_tempfiles(monkeypatch):
    """Windows' list, with the same expanduser and expandvars calls as tempfile's (this
    system's os.path answers them here; on Windows ntpath does, for both)."""
    monkeypatch.setenv("TEMP", r"C:\Users\tech\AppData\Local\Temp")
    monkeypatch.delenv("TMPDIR", raising=False)
    monkeypatch.delenv("TMP", raising=False)
    ours = temp_candidates(windows=True)
    monkeypatch.setattr(tempfile._os, "name", "nt")  # only for this one call
    theirs = tempfile._candidate_tempdir_list()
    monkeypatch.undo()
    assert ours == theirs
    assert ours[0] == r"C:\Users\tech\AppData\Local\Temp" and ours[-3:-1] == [r"\temp", r"\tmp"]


def test_no_folder_taking_a_file_is_an_os_error(monkeypatch, tmp_path):
    """Every candidate refused (missing folders, and a current folder that is gone): the
    error tempfile gives, which the card's hold takes as 'nothing held here'."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    env = {"TMPDIR": str(tmp_path / "missing")}
    monkeypatch.setattr("stager.fileio.temp_candidates", lambda environ, windows: [env["TMPDIR"], os.curdir])
    with pytest.raises(FileNotFoundError, match="No usable temporary directory"):
        temp_folder(env)


def test_a_taken_name_is_followed_by_another(monkeypatch, tmp_path):
    """A probe name that exists already is not a refusal of the folder: another is tried."""
    names = iter([b"\x00" * 6, b"\x01" * 6])
    monkeypatch.setattr(os, "urandom", lambda n: next(names))
    (tmp_path / f"tmp{'00' * 6}").write_text("someone's")
    assert temp_folder({"TMPDIR": str(tmp_path)}) == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"tmp{'00' * 6}"]


def test_a_card_hold_with_no_temporary_folder_holds_nothing(monkeypatch, tmp_path):
    """The hold on this computer is a second guard beside the card's own lock: with no
    usable temporary folder a run goes on with the card's lock alone, as documented."""
    from stager.card import lock

    def refused(environ=None, windows=None):
        raise FileNotFoundError(2, "No usable temporary directory found in []")

    monkeypatch.setattr(lock, "temp_folder", refused)
    held = lock.hold_here(tmp_path)
    assert held.fd is None
