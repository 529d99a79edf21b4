import pytest

from humanize import format_clock, format_duration, split_duration


def test_split_zero():
    assert split_duration(0) == (0, 0, 0, 0)


def test_split_mixed_units():
    assert split_duration(93_784) == (1, 2, 3, 4)


def test_split_rejects_negative():
    with pytest.raises(ValueError):
        split_duration(-1)


def test_zero_renders_as_seconds():
    assert format_duration(0) == "0s"


def test_whole_hours_skip_empty_units():
    assert format_duration(7_200) == "2h"
    assert format_duration(86_400 + 3_600) == "1d 1h"


def test_minutes_and_seconds():
    assert format_duration(3_725) == "1h 2m 5s"


def test_max_parts_keeps_largest_units():
    assert format_duration(90_061, max_parts=2) == "1d 1h"


def test_fractions_are_dropped():
    assert format_duration(3_600.9) == "1h"


def test_invalid_max_parts():
    with pytest.raises(ValueError):
        format_duration(10, max_parts=0)


def test_clock_folds_days_into_hours():
    assert format_clock(183_845) == "51:04:05"
    assert format_clock(59) == "0:00:59"
