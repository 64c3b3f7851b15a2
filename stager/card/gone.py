"""The one error of a card that is no longer the one chosen (gone, replaced, unmounted),
shared by the pin of every system (stager.card.pin, stager.card.pin_windows)."""

from __future__ import annotations

from stager.errors import MediaError
from stager.i18n import _


def card_gone(path, why: str) -> MediaError:
    return MediaError(
        _(
            "{path}: the card is no longer the one chosen ({why}). Nothing more was written to it and "
            "nothing was written anywhere else. Insert the card, check it is mounted at {path}, then run "
            "prepare again."
        ).format(path=path, why=why),
        code="card-gone",
    )
