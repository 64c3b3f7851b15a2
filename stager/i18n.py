"""The interface language: which one the user reads, and the words in it.

The language is chosen the way the system chooses it (docs/i18n.md):

* ``STAGER_UI_LANG=fr|en`` overrides everything (the name keeps clear of ``--lang``,
  the firmware's language pack); any other value means English.
* On Windows, the user's display language (``GetUserDefaultUILanguage``); the
  environment variables are not read there (Git Bash and MSYS set ``LANG`` on their own).
* Elsewhere, the POSIX variables as GNU gettext reads them: the message locale is the
  first set of ``LC_ALL``, ``LC_MESSAGES``, ``LANG``; if it is the C locale (``C``,
  ``POSIX``, ``C.UTF-8``, or nothing set), English, and ``LANGUAGE`` is ignored;
  otherwise ``LANGUAGE`` (a colon list, first language stager speaks wins) comes before it.
* A language stager does not speak is English, silently.

The words come from GNU gettext catalogs read with the standard :mod:`gettext` module
(``stager/locale/<lang>/LC_MESSAGES/stager.mo``). Mark a message with :func:`_` (or
:func:`ngettext` for a plural) where it is used; :func:`N_` marks a message defined
before :func:`install` runs, to translate later with ``_(message)``.

:func:`install` (called once by the CLI before its commands are defined) chooses the
language, loads its catalog and gives click its own words in that language: click looks
its messages up with ``gettext.gettext``/``gettext.ngettext`` bound at import under the
names ``_`` and ``ngettext`` in each of its modules, so those names are pointed at the
catalog (whose ``click`` entries are extracted from click's source).
"""

from __future__ import annotations

import gettext
import importlib
import os
import re
import sys
from collections.abc import Callable, Mapping

DOMAIN = "stager"
ENGLISH = "en"
#: The languages stager speaks: English is the source text, the others have a catalog.
LANGUAGES = ("en", "fr")
OVERRIDE = "STAGER_UI_LANG"

#: Windows primary language identifiers (PRIMARYLANGID = LANGID & 0x3FF, winnt.h).
WINDOWS_PRIMARY = {0x09: "en", 0x0C: "fr"}

#: click's modules that can be imported after start-up (a progress bar, shell completion):
#: imported by install() so that their words are in the user's language too. Not for
#: English: a click module imported later has gettext's own lookups, which are English,
#: and importing them costs every run about 5 ms.
_CLICK_LATE = ("click._termui_impl", "click.shell_completion")

_catalogs: dict[str, gettext.NullTranslations] = {}
_current: gettext.NullTranslations = gettext.NullTranslations()
_language = ENGLISH


def language_of(tag: str) -> str | None:
    """'fr_FR.UTF-8', 'fr-CA', 'fr@euro', 'FR' -> 'fr'; a language stager does not speak -> None."""
    code = re.split(r"[_.@-]", tag.strip(), maxsplit=1)[0].lower()
    return code if code in LANGUAGES else None


def _is_c_locale(value: str) -> bool:
    return value in ("C", "POSIX") or value.startswith("C.")


def posix_language(environ: Mapping[str, str]) -> str:
    """The language GNU gettext would pick from these variables (empty means unset)."""
    locale = next((environ[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(name)), "C")
    if _is_c_locale(locale):
        return ENGLISH
    wanted = [entry for entry in environ.get("LANGUAGE", "").split(":") if entry]
    if wanted:
        return next((found for found in map(language_of, wanted) if found), ENGLISH)
    return language_of(locale) or ENGLISH


def windows_language(ui_language: Callable[[], int]) -> str:
    """The language of the user's display language, from its LANGID."""
    try:
        langid = int(ui_language())
    except (OSError, AttributeError, ValueError, TypeError):
        return ENGLISH
    return WINDOWS_PRIMARY.get(langid & 0x3FF, ENGLISH)


def _user_default_ui_language() -> int:
    """GetUserDefaultUILanguage() from kernel32 (a LANGID, a 16-bit WORD)."""
    if sys.platform == "win32":
        import ctypes

        call = ctypes.windll.kernel32.GetUserDefaultUILanguage
        call.restype = ctypes.c_ushort
        call.argtypes = []
        return int(call())
    raise OSError("GetUserDefaultUILanguage exists only on Windows")


def choose(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    ui_language: Callable[[], int] | None = None,
) -> str:
    """The interface language: 'en' or 'fr' (see the module's documentation)."""
    env = os.environ if environ is None else environ
    override = env.get(OVERRIDE, "").strip()
    if override:
        return language_of(override) or ENGLISH
    if (platform or sys.platform) == "win32":
        return windows_language(ui_language or _user_default_ui_language)
    return posix_language(env)


def package_folder(package: str):
    """The folder of one of stager's packages, to read the data it carries: next to its
    module (a package installed as files, as pip installs it), else through
    importlib.resources (from a zip or another loader; importing it costs start-up
    about 3 ms, so it is asked only then)."""
    from pathlib import Path

    module = sys.modules.get(package) or importlib.import_module(package)
    where = getattr(module, "__file__", None)
    if where and os.path.isdir(os.path.dirname(where)):
        return Path(os.path.dirname(where))
    from importlib import resources

    return resources.files(package)


def catalog(language: str) -> gettext.NullTranslations:
    """The translations of one language (English, or a missing catalog: the messages as written)."""
    if language not in _catalogs:
        found: gettext.NullTranslations = gettext.NullTranslations()
        if language != ENGLISH:
            mo = package_folder(__package__ + ".locale") / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
            try:
                with mo.open("rb") as fp:
                    found = gettext.GNUTranslations(fp)
            except (FileNotFoundError, NotADirectoryError):
                pass
        _catalogs[language] = found
    return _catalogs[language]


def _install_in_click(translations: gettext.NullTranslations) -> None:
    if type(translations) is not gettext.NullTranslations:  # words to give, not English
        for name in _CLICK_LATE:
            importlib.import_module(name)
    for name, module in list(sys.modules.items()):
        if name != "click" and not name.startswith("click."):
            continue
        found = vars(module)
        if _is_lookup(found.get("_"), "gettext"):
            module._ = translations.gettext  # type: ignore[attr-defined]
        if _is_lookup(found.get("ngettext"), "ngettext"):
            module.ngettext = translations.ngettext  # type: ignore[attr-defined]


def _is_lookup(value: object, name: str) -> bool:
    """Is ``value`` gettext's own ``name`` function, or that method of a catalog installed before?"""
    if value is getattr(gettext, name):
        return True
    owner = getattr(value, "__self__", None)
    return isinstance(owner, gettext.NullTranslations) and getattr(value, "__name__", "") == name


def install(language: str | None = None) -> str:
    """Choose the language (or take ``language``), load its words, give click its words; returns it."""
    global _current, _language
    chosen = (language_of(language) or ENGLISH) if language else choose()
    _current = catalog(chosen)
    _language = chosen
    _install_in_click(_current)
    return chosen


def lang() -> str:
    """The language of the messages now: the JSON documents' ``"lang"`` ('en' until install())."""
    return _language


def _(message: str) -> str:
    """``message`` in the user's language."""
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the user's language (its own plural rule)."""
    return _current.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the user's language, where the same English needs other words in
    another context (``pgettext("heading", "kit {kit}")``: French drops the article there)."""
    return _current.pgettext(context, message)


def N_(message: str) -> str:
    """Marks ``message`` for extraction without translating it (translate it where used)."""
    return message
