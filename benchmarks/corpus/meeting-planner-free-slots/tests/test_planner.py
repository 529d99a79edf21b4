import pytest

from planner import format_clock, free_slots, parse_clock


def test_parse_and_format_round_trip():
    assert parse_clock("09:30") == 570
    assert format_clock(570) == "09:30"


@pytest.mark.parametrize("text", ["9", "24:00", "12:60", "ab:cd", "7:5"])
def test_parse_rejects_bad_times(text):
    with pytest.raises(ValueError):
        parse_clock(text)


def test_gap_between_meetings():
    busy = [("09:00", "10:00"), ("11:00", "17:00")]
    assert free_slots(busy) == [("10:00", "11:00")]


def test_short_gaps_are_ignored():
    busy = [("09:00", "10:00"), ("10:15", "17:00")]
    assert free_slots(busy) == []


def test_overlapping_meetings_merge():
    busy = [("13:00", "15:00"), ("09:00", "12:00"), ("11:00", "12:30")]
    assert free_slots(busy, day_end="15:00") == [("12:30", "13:00")]


def test_free_time_at_the_end_of_the_day():
    busy = [("09:00", "12:00"), ("12:30", "15:30")]
    assert free_slots(busy) == [("12:00", "12:30"), ("15:30", "17:00")]


def test_empty_calendar_is_one_slot():
    assert free_slots([], "08:00", "12:00") == [("08:00", "12:00")]
