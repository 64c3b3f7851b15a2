"""Numbers, sizes and dates as a reader of the interface language writes them.

``8,0 Mio (8 391 753 octets)`` and ``1er décembre 2026 19:15`` in French;
``8.0 MiB (8,391,753 bytes)`` and ``1 December 2026 19:15`` in English. The number
symbols and month names are CLDR's (the data Babel carries): tests/test_i18n.py compares
these formatters with Babel's output for many values. Babel itself is not imported here:
it costs stager's start-up more than the whole budget allows (scripts/bench_i18n.py).

The French group separator is CLDR's narrow no-break space (U+202F). A console or file
whose encoding cannot carry it (a Windows code page such as cp1252 or cp850) gets a
no-break space, or a space, through :func:`fit`.
"""

from __future__ import annotations

import datetime as dt

from stager import i18n
from stager.i18n import N_

NNBSP = "\u202f"
NBSP = "\u00a0"

#: CLDR's decimal and group symbols of each language (latn number system).
SYMBOLS = {"en": (".", ","), "fr": (",", NNBSP)}

#: CLDR's month names (format context, wide): French months are written in lower case.
MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
}

#: Binary units (IEC), their symbols translated by the catalog (French: Kio, Mio, Gio, Tio).
UNITS = (N_("KiB"), N_("MiB"), N_("GiB"), N_("TiB"))


def _language(language: str | None) -> str:
    return language if language in SYMBOLS else (i18n.lang() if language is None else i18n.ENGLISH)


def _with_symbols(text: str, language: str) -> str:
    """'1,234.5' (Python's own format) with the language's decimal and group symbols."""
    decimal, group = SYMBOLS[language]
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


def format_int(n: int, language: str | None = None) -> str:
    """8391753 -> '8 391 753' (fr, narrow no-break spaces) or '8,391,753' (en)."""
    return _with_symbols(f"{n:,d}", _language(language))


def format_size(n: int, language: str | None = None) -> str:
    """8391753 -> '8,0 Mio (8 391 753 octets)' (fr) or '8.0 MiB (8,391,753 bytes)' (en); under 1 KiB, the bytes."""
    language = _language(language)
    words = i18n.catalog(language)
    count = words.ngettext("{n} byte", "{n} bytes", n).format(n=format_int(n, language))
    if n < 1024:
        return count
    size, power = _figure(n, language)
    return words.gettext("{size} {unit} ({count})").format(size=size, unit=words.gettext(UNITS[power - 1]), count=count)


def short_size(n: int, language: str | None = None) -> str:
    """A size in one figure: '7.4 GiB' (en), '7,4 Gio' (fr); under 1 KiB, '512 B' / '512 o'.
    The one short form of a size (a card's, a progress bar's)."""
    language = _language(language)
    words = i18n.catalog(language)
    if n < 1024:
        # TRANSLATORS: a number of bytes in one figure ("512 B"); French "512 o".
        return words.gettext("{n} B").format(n=format_int(n, language))
    size, power = _figure(n, language)
    # TRANSLATORS: a size and its unit (KiB, MiB...): "7.4 GiB"; French puts a no-break space between them.
    return words.gettext("{size} {unit}").format(size=size, unit=words.gettext(UNITS[power - 1]))


def _figure(n: int, language: str) -> tuple[str, int]:
    """``n`` (at least 1 KiB) in its unit with one decimal, rounded half to even exactly
    (integers only, as Babel rounds the exact value), and the unit's power of 1024:
    1023.96 KiB is written 1.0 MiB."""
    power = 1
    while power < len(UNITS) and n >= 1024 ** (power + 1):
        power += 1
    tenths = _tenths(n, 1024**power)
    if tenths >= 10240 and power < len(UNITS):
        power += 1
        tenths = _tenths(n, 1024**power)
    whole, tenth = divmod(tenths, 10)
    return format_int(whole, language) + SYMBOLS[language][0] + str(tenth), power


def _tenths(n: int, divisor: int) -> int:
    """n / divisor in tenths, rounded half to even, exactly (integers only)."""
    tenths, rest = divmod(n * 10, divisor)
    if 2 * rest > divisor or (2 * rest == divisor and tenths % 2):
        tenths += 1
    return tenths


def format_datetime(moment: dt.datetime, language: str | None = None, tz: dt.tzinfo | None = None) -> str:
    """A moment in local time (or ``tz``): '1er décembre 2026 19:15' (fr), '1 December 2026 19:15' (en).

    A naive datetime is taken as UTC (what stager records)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(tz)
    return f"{format_date(local.date(), language)} {local:%H:%M}"


def format_date(day: dt.date, language: str | None = None) -> str:
    """'1er décembre 2026' (fr: the first of the month is 1er), '1 December 2026' (en)."""
    language = _language(language)
    number = "1er" if language == "fr" and day.day == 1 else str(day.day)
    return f"{number} {MONTHS[language][day.month - 1]} {day.year}"


def format_month(year: int, month: int, language: str | None = None) -> str:
    """'avril 2023' (fr), 'April 2023' (en): a terminal's build month."""
    return f"{MONTHS[_language(language)][month - 1]} {year}"


def format_list(items, conjunction: str = "and") -> str:
    """'312', '312 or 313', '312, 313 or 314' ("or"); "and" joins with 'and' ('et' in French)."""
    items = [str(item) for item in items]
    if len(items) < 2:
        return "".join(items)
    rest, last = ", ".join(items[:-1]), items[-1]
    if conjunction == "or":
        # TRANSLATORS: the end of a list of choices: "312, 313 or 314".
        return i18n._("{items} or {last}").format(items=rest, last=last)
    # TRANSLATORS: the end of a list: "p22 kit 318 + terminal 313 and wbac kit 318 + terminal 124".
    return i18n._("{items} and {last}").format(items=rest, last=last)


#: Words that keep their capital at the start of a clause (names, not sentence capitals).
PROPER_NAMES = frozenset({"Pulse", "Windows", "Linux", "Git", "Babel", "Python"})


def after_colon(text: str, language: str | None = None) -> str:
    """``text`` as it goes after a heading's colon ("Erreur : la cible ..."): French goes on in
    lower case (a colon does not end a sentence), unless the first word is a name (Pulse,
    MASTER SD, SHA256SUMS); English keeps the sentence's own capital (docs/i18n.md)."""
    if _language(language) != "fr" or not text:
        return text
    word = text.split(" ", 1)[0].rstrip(",.:;")
    common = len(word) > 1 and word[0].isupper() and word[1:].replace("'", "").replace("’", "").islower()
    if (common and word not in PROPER_NAMES) or word == "\u00c0":  # "\u00c0 partir de ..."
        return text[0].lower() + text[1:]
    return text


def fit(text: str, encoding: str | None) -> str:
    """``text`` as a stream in ``encoding`` can carry it: U+202F, else U+00A0, else a space."""
    if not encoding:
        return text
    for wide, narrower in ((NNBSP, NBSP), (NBSP, " ")):
        if wide in text:
            try:
                wide.encode(encoding)
            except (UnicodeEncodeError, LookupError):
                text = text.replace(wide, narrower)
    return text
