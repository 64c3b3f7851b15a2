"""The questions stager asks at a terminal, in both languages (acceptance of issue 16, F10):
the confirmation says [y/N] in English and [o/N] in French and takes y/yes and o/oui in
both; a wrong answer says what to type; the picker's question ends with the language's colon."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from stager import i18n
from stager.cli.commands import prepare


@pytest.fixture
def french():
    i18n.install("fr")
    yield
    i18n.install("en")


def _ask(answers: str) -> tuple[bool | None, str]:
    got = {}

    @click.command()
    def asking():
        got["verdict"] = prepare.ask_yes_no("Write this card?")

    result = CliRunner().invoke(asking, input=answers)
    return got.get("verdict"), result.output


@pytest.mark.parametrize("answer", ["y", "yes", "Y", "o", "oui", "OUI"])
def test_yes_in_either_language(answer):
    assert prepare.yes_or_no(answer) is True


@pytest.mark.parametrize("answer", ["n", "no", "non", "", "  "])
def test_no_or_nothing_is_no(answer):
    assert prepare.yes_or_no(answer) is False


def test_anything_else_is_asked_again():
    assert prepare.yes_or_no("peut-être") is None and prepare.yes_or_no("ja") is None


def test_the_english_question_is_unchanged():
    verdict, shown = _ask("y\n")
    assert verdict is True and "Write this card? [y/N]: " in shown


def test_the_french_question_takes_o(french):
    verdict, shown = _ask("o\n")
    assert verdict is True and "Write this card? [o/N] : " in shown, shown


def test_a_wrong_answer_says_what_to_type(french):
    verdict, shown = _ask("x\noui\n")
    assert verdict is True and "Répondez o (oui) ou n (non)." in shown, shown


def test_the_default_is_no(french):
    assert _ask("\n")[0] is False


def test_the_picker_asks_with_the_french_colon(french, monkeypatch):
    monkeypatch.setattr("stager.card.media.unmounted", lambda: [])
    monkeypatch.setattr("stager.card.targets.medium_line", lambda m: str(m))
    got = {}

    @click.command()
    def picking():
        got["chosen"] = prepare.pick_cards(["A", "B"])

    shown = CliRunner().invoke(picking, input="tout\n").output
    assert got["chosen"] == ["A", "B"]
    assert "ou « tout » : " in shown or "» : " in shown, shown
