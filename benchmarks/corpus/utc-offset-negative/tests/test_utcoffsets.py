import pytest

from utcoffsets import format_offset, parse_offset, shift_minutes


@pytest.mark.parametrize(
    "text, minutes", [("+05:30", 330), ("-0800", -480), ("Z", 0), ("-03:30", -210)]
)
def test_parse(text, minutes):
    assert parse_offset(text) == minutes


@pytest.mark.parametrize("text", ["5:30", "+25:00", "+05:75"])
def test_parse_rejects(text):
    with pytest.raises(ValueError):
        parse_offset(text)


def test_format_positive_and_zero():
    assert format_offset(330) == "+05:30"
    assert format_offset(0) == "+00:00"


def test_format_negative():
    assert format_offset(-210) == "-03:30"
    assert format_offset(-480) == "-08:00"


def test_format_rejects_out_of_range():
    with pytest.raises(ValueError):
        format_offset(15 * 60)


def test_shift_across_midnight():
    assert shift_minutes(23 * 60, 0, 120) == (60, 1)
    assert shift_minutes(30, 60, 0) == (24 * 60 - 30, -1)
