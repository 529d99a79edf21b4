from datetime import date, datetime

from support_hours import SupportCalendar

# 2024-05-06 is a Monday
MONDAY = date(2024, 5, 6)


def at(hour, minute, day=6):
    return datetime(2024, 5, day, hour, minute)


def test_open_during_the_day():
    calendar = SupportCalendar()
    assert calendar.is_open(at(9, 1))
    assert calendar.is_open(at(13, 0))
    assert calendar.is_open(at(17, 29))


def test_closed_outside_hours():
    calendar = SupportCalendar()
    assert not calendar.is_open(at(8, 59))
    assert not calendar.is_open(at(17, 31))
    assert not calendar.is_open(at(22, 0))


def test_opening_and_closing_minutes():
    calendar = SupportCalendar()
    assert [calendar.is_open(at(9, 0)), calendar.is_open(at(17, 30))] == [True, False]


def test_closed_on_weekends_and_holidays():
    calendar = SupportCalendar(holidays={MONDAY})
    assert not calendar.is_open(at(11, 0, day=4))
    assert not calendar.is_open(at(11, 0))
    assert calendar.is_open(at(11, 0, day=7))


def test_next_opening_after_closing_skips_the_weekend():
    calendar = SupportCalendar()
    assert calendar.next_opening(at(18, 0, day=10)) == at(9, 0, day=13)


def test_next_opening_early_in_the_morning():
    calendar = SupportCalendar()
    assert calendar.next_opening(at(7, 45, day=8)) == at(9, 0, day=8)
    assert calendar.next_opening(at(10, 0, day=8)) == at(10, 0, day=8)
