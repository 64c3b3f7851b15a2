"""Helpers for the tests that run the library's messages in French (issue 16)."""

from __future__ import annotations

import re

from stager import i18n

#: Words of stager's English messages that no French message of stager holds, checked as
#: whole words, whatever their case (not "a", "on", "cache" or "volume", which French
#: writes too). The note's own words (PREAMBULE, NB, Read Configuration, Network, Update,
#: BootNotification, true, false) and the shared ones (kit, terminal, version, section,
#: note, catalog names) are not among them. The one list for every French test: the
#: library's messages (english_words, assert_french) and the CLI's (tests/cli:
#: test_cli_languages.py takes them as marks, with click's own).
ENGLISH = frozenset(
    """the an is are was were be been not no and or of to with without from into at by for on in
    it its this that these those which must never only still cannot could would should will
    does has have hold holds need needs use choose give check first already again then before
    after while card cards stick folder file files line lines name named found removable
    mounted insert target targets write written writes read reads free space larger another
    remove removed nothing copy copied verified run system disk fixed label unknown size bytes
    warning interrupted stopped left lock locked switch unlock charger chargers firmware bundle
    sidecar cached device back formatted safe pull eject ejected unmounted older newer refused
    installed router missing""".split()  # noqa: SIM905 (a list of words, read as one)
)


#: The note's own words for the charger's menus, which French messages quote as the
#: charger shows them.
NOTE_WORDS = re.compile(r"\b(Read Configuration|Network|Update|BootNotification)\b")


def english_words(text: str, *values: object) -> set[str]:
    """The English words (of :data:`ENGLISH`) in ``text``, once the values it names (paths,
    file names), the note's menu words and the command line's options (``--from-kit``) are
    taken out."""
    for value in sorted((str(v) for v in values), key=len, reverse=True):
        text = text.replace(value, " ")
    text = NOTE_WORDS.sub(" ", text)
    text = re.sub(r"--[A-Za-z][A-Za-z-]*", " ", text)
    return {w for w in re.findall(r"[A-Za-z]+", text.lower()) if w in ENGLISH}


def assert_french(text: str, *but: object) -> None:
    """``text`` holds no English word, once the values in ``but`` (paths...) are taken out."""
    assert text.strip(), "an empty message"
    left = english_words(text, *but)
    assert not left, f"English words {sorted(left)} in: {text}"


def in_french():
    """A fixture's body: the messages in French for one test, English again after it (the
    language the other tests expect). ``yield from in_french()``."""
    i18n.install("fr")
    yield
    i18n.install("en")
