"""Helpers for the tests that run the library's messages in French (issue 16)."""

from __future__ import annotations

import re

from stager import i18n

#: Words of the English messages that no French message of the library holds. The note's
#: own words (PREAMBULE, NB, Read Configuration, Network, Update, BootNotification, true,
#: false) and the shared ones (kit, terminal, version, section, note, catalog names) are not
#: among them.
ENGLISH = frozenset(
    """the is are not and with must never only cannot use choose first from this that which give
    check file files card older newer already nothing refused installed charger router missing
    unknown line lines folder found name does has have holds need needs will was were been of
    to for or on in at by it its""".split()  # noqa: SIM905 (a list of words, read as one)
)


def english_words(text: str) -> set[str]:
    """The English words (of :data:`ENGLISH`) in ``text``, its options (``--from-kit``) left out."""
    text = re.sub(r"--[A-Za-z][A-Za-z-]*", " ", text)
    return {w for w in re.findall(r"[A-Za-z]+", text.lower()) if w in ENGLISH}


def assert_french(text: str, *but: object) -> None:
    """``text`` holds no English word, once the values in ``but`` (paths...) are taken out."""
    assert text.strip(), "an empty message"
    for value in but:
        text = text.replace(str(value), " ")
    left = english_words(text)
    assert not left, f"English words {sorted(left)} in: {text}"


def in_french():
    """A fixture's body: the messages in French for one test, English again after it (the
    language the other tests expect). ``yield from in_french()``."""
    i18n.install("fr")
    yield
    i18n.install("en")
