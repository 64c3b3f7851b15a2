"""Parse what a user types (model, versions, month, protocol, router) into values.

Each parser raises :class:`~stager.errors.BadInput` (a ``ValueError``) naming the bad
value and what is expected; the CLI turns it into exit 2. Pure: reads only the rules.
"""

from __future__ import annotations

import datetime as _dt
import re

from stager.errors import BadInput
from stager.i18n import N_, _, ngettext
from stager.i18n_format import format_int
from stager.rules.loader import Rules
from stager.rules.loader import rules as _rules
from stager.value import value

_VERSION = re.compile(r"^[1-9]\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def parse_model(text: str, rules: Rules | None = None) -> str:
    """'Pulse-22', 'p22', 'PULSE 22 GL' -> 'p22'."""
    rules = rules or _rules()
    key = _squash(text or "")
    for model in rules.models.values():
        if key == model.id or key in (_squash(a) for a in model.aliases):
            return model.id
    valid = ", ".join(f"{m.id} ({m.name})" for m in rules.models.values())
    choices = [a for m in rules.models.values() for a in (m.id, *m.aliases)]
    import difflib  # only for a model that is not one: the start-up of every command stays lean

    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    if close:
        owner = next(m.id for m in rules.models.values() if close[0] in (m.id, *m.aliases))
        raise BadInput(
            _("unknown model '{model}'. Did you mean {guess}? Valid models: {valid}.").format(
                model=_shown(str(text)), guess=owner, valid=valid
            )
        )
    raise BadInput(_("unknown model '{model}'. Valid models: {valid}.").format(model=_shown(str(text)), valid=valid))


#: parse_version's refusal, for each kind of version it reads (whole sentences).
_NOT_A_VERSION = {
    "kit": N_("kit version '{value}' is not a 3-digit number from 100 to 999 (for example 318)."),
    "terminal": N_("terminal version '{value}' is not a 3-digit number from 100 to 999 (for example 318)."),
    "current kit": N_("current kit version '{value}' is not a 3-digit number from 100 to 999 (for example 318)."),
    "target kit": N_("target kit version '{value}' is not a 3-digit number from 100 to 999 (for example 318)."),
}
_NOT_A_VERSION_ANY = N_("version '{value}' is not a 3-digit number from 100 to 999 (for example 318).")


def parse_version(text, what: str = "kit") -> int:
    """A kit or terminal version: exactly three digits ('318')."""
    value = str(text).strip()
    if not _VERSION.match(value):
        raise BadInput(_(_NOT_A_VERSION.get(what, _NOT_A_VERSION_ANY)).format(value=_shown(str(text))))
    return int(value)


#: ``--kit latest``: the newest kit the rules allow for the charger's other options.
LATEST = "latest"


def parse_kit(text) -> int | str:
    """A kit version ('318'), or 'latest' (any case) for the newest kit the rules allow."""
    if str(text).strip().lower() == LATEST:
        return LATEST
    return parse_version(text, "kit")


def parse_month(text: str, today: _dt.date | None = None) -> tuple[int, int]:
    """A build month 'YYYY-MM' that is a real month, not in the future."""
    m = _MONTH.match((text or "").strip())
    if not m:
        raise BadInput(_("build month '{month}' is not of the form YYYY-MM (for example 2023-04).").format(month=text))
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise BadInput(
            _("build month '{month}' has no month {number}: months run from 01 to 12.").format(
                month=text, number=f"{month:02d}"
            )
        )
    today = today or _dt.date.today()
    if year < 2000 or (year, month) > (today.year, today.month):
        raise BadInput(
            _("build month '{month}' is not a real build month (from 2000 to this month).").format(month=text)
        )
    return year, month


def parse_ocpp(text: str) -> str:
    value = (text or "").strip()
    if value in ("1.5", "1.6"):
        return value
    raise BadInput(_("OCPP protocol '{protocol}' is not 1.5 (SOAP) or 1.6 (JSON).").format(protocol=text))


@value
class RouterSpec:
    router: str  # router id in the rules ('f3426', 'f3x26q')
    version: int

    def __str__(self) -> str:
        return f"{self.router}:{self.version}"


def parse_router(text: str, rules: Rules | None = None) -> RouterSpec:
    """'f3426:9' -> RouterSpec('f3426', 9). The router must be one of section 7."""
    rules = rules or _rules()
    names = ", ".join(r.id for r in rules.routers.values())
    value = (text or "").strip()
    name, sep, version = value.partition(":")
    if not sep or not version.strip():
        raise BadInput(
            _("router '{router}' has no firmware version: write NAME:VERSION, for example f3426:9 ({names}).").format(
                router=_shown(text), names=names
            )
        )
    key = _squash(name)
    router = next((r for r in rules.routers.values() if key == r.id or key in r.aliases), None)
    if router is None:
        raise BadInput(
            _("unknown router '{router}': the note (section 7) knows {names}.").format(router=_shown(name), names=names)
        )
    version = version.strip()
    if not re.fullmatch(r"[0-9]+", version):
        raise BadInput(
            _("router version '{version}' is not a number (for example f3426:9).").format(version=_shown(version))
        )
    if len(version) > 3:
        raise BadInput(
            _(
                "router version '{version}' is not a router firmware version: the note (section 7) "
                "knows small numbers such as 7, 8 or 9 (for example f3426:9)."
            ).format(version=_shown(version))
        )
    return RouterSpec(router.id, int(version))


def _shown(text: str, limit: int = 40) -> str:
    """A user's value as it is quoted in a message: cut after ``limit`` characters."""
    if len(text) <= limit:
        return text
    count = ngettext("{n} character", "{n} characters", len(text)).format(n=format_int(len(text)))
    return f"{text[:limit]}... ({count})"
