from datetime import datetime

import pytest

from cronfields import CronError, Schedule, expand_field


def test_star_step_and_list():
    assert expand_field("*/15", 0, 59) == {0, 15, 30, 45}
    assert expand_field("1,3,5", 0, 6) == {1, 3, 5}


def test_range_with_step():
    assert expand_field("10-30/10", 0, 59) == {10, 20, 30}


def test_single_value_with_step_runs_to_the_end():
    assert expand_field("50/5", 0, 59) == {50, 55}


@pytest.mark.parametrize("text", ["60", "5-2", "*/0", "x"])
def test_invalid_fields(text):
    with pytest.raises(ValueError):
        expand_field(text, 0, 59)


def test_schedule_matches_weekday_office_hours():
    schedule = Schedule.parse("*/15 9-17 * * 1-5")
    assert schedule.matches(datetime(2024, 5, 6, 9, 30))
    assert not schedule.matches(datetime(2024, 5, 6, 9, 31))
    assert not schedule.matches(datetime(2024, 5, 5, 9, 30))


def test_schedule_needs_five_fields():
    with pytest.raises(CronError, match="5 fields"):
        Schedule.parse("* * *")
