import pytest

from timespans import format_seconds, parse_duration


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("15m", 900), (" 2H ", 7200), ("1d", 86400)])
def test_single_units(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "h1"])
def test_garbage_is_rejected(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_compound_durations():
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d 4h") == 2 * 86400 + 4 * 3600


def test_fractional_amounts():
    assert parse_duration("1.5h") == 5400


def test_units_out_of_order_are_rejected():
    with pytest.raises(ValueError):
        parse_duration("30m1h")
    with pytest.raises(ValueError):
        parse_duration("1h 1h")


def test_format_round_trips():
    assert format_seconds(5400) == "1h30m"
    assert parse_duration(format_seconds(93784)) == 93784
