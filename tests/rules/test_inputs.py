"""Parsing what a technician types."""

import datetime as dt

import pytest

from stager.errors import BadInput
from stager.rules.inputs import RouterSpec, parse_model, parse_month, parse_ocpp, parse_router, parse_version


@pytest.mark.parametrize(
    "text,model",
    [
        ("p22", "p22"),
        ("P22", "p22"),
        ("pulse22", "p22"),
        ("Pulse-22", "p22"),
        ("PULSE 22 GL", "p22"),
        ("pulse22wl", "p22"),
        ("p50", "p50"),
        ("pulse-50", "p50"),
        ("Pulse50", "p50"),
        ("wbac", "wbac"),
        ("wb-ac", "wbac"),
        ("WB-AC", "wbac"),
        ("Pulse WB-AC", "wbac"),
    ],
)
def test_model_spellings(text, model):
    assert parse_model(text) == model


@pytest.mark.parametrize("text", ["p23", "pulse", "", "wbdc", "50"])
def test_unknown_model_lists_the_valid_ones(text):
    with pytest.raises(BadInput) as e:
        parse_model(text)
    assert "p22" in e.value.message and "p50" in e.value.message and "wbac" in e.value.message


def test_unknown_model_suggests_the_closest():
    with pytest.raises(BadInput, match="Did you mean p22"):
        parse_model("p2")


@pytest.mark.parametrize("text", ["abc", "31", "3180", "31.8", "-18", " ", "0x1", "099", "000"])
def test_version_must_be_three_digits(text):
    with pytest.raises(BadInput, match="3-digit"):
        parse_version(text)


def test_version_ok():
    assert parse_version("318") == 318 and parse_version(" 400 ") == 400


@pytest.mark.parametrize("text", ["2023-13", "2023-00", "2023-4", "23-04", "2023/04", "april", "1999-12", "2999-01"])
def test_month_must_be_a_real_month(text):
    with pytest.raises(BadInput):
        parse_month(text, today=dt.date(2026, 11, 25))


def test_month_ok():
    assert parse_month("2023-04", today=dt.date(2026, 11, 25)) == (2023, 4)
    assert parse_month("2026-11", today=dt.date(2026, 11, 25)) == (2026, 11)


@pytest.mark.parametrize("text", ["1.7", "2.0", "16", ""])
def test_ocpp(text):
    with pytest.raises(BadInput):
        parse_ocpp(text)
    assert parse_ocpp("1.5") == "1.5" and parse_ocpp("1.6") == "1.6"


@pytest.mark.parametrize(
    "text,spec",
    [
        ("f3426:9", RouterSpec("f3426", 9)),
        ("F3X26Q:8", RouterSpec("f3x26q", 8)),
        ("f34x26q:7", RouterSpec("f3x26q", 7)),
    ],
)
def test_router(text, spec):
    assert parse_router(text) == spec


@pytest.mark.parametrize(
    "text,message",
    [
        ("f3426", "no firmware version"),
        ("f3426:", "no firmware version"),
        ("foo:7", "unknown router"),
        ("f3426:x", "not a number"),
    ],
)
def test_bad_router(text, message):
    with pytest.raises(BadInput, match=message):
        parse_router(text)
