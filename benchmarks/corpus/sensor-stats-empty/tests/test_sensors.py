import pytest

from sensors import Reading, Summary, by_sensor, mean, out_of_range, summarize

READINGS = [
    Reading("north", 21.0),
    Reading("north", 23.0),
    Reading("south", 18.5),
    Reading("north", -40.0, valid=False),
]


def test_mean_of_values():
    assert mean([1.0, 2.0, 4.5]) == pytest.approx(2.5)


def test_mean_of_nothing_is_none():
    assert mean([]) is None


def test_summary_ignores_invalid_readings():
    assert summarize(READINGS) == Summary(3, 18.5, 23.0, pytest.approx(62.5 / 3))


def test_summary_of_only_invalid_readings():
    assert summarize([Reading("x", 0.0, valid=False)]) == Summary(0, None, None, None)


def test_summary_per_sensor():
    summaries = by_sensor(READINGS)
    assert list(summaries) == ["north", "south"]
    assert summaries["north"].mean == pytest.approx(22.0)
    assert summaries["south"].count == 1


def test_out_of_range_alerts():
    alerts = out_of_range(READINGS, 19.0, 22.0)
    assert [r.value for r in alerts] == [23.0, 18.5]


def test_out_of_range_checks_bounds():
    with pytest.raises(ValueError):
        out_of_range(READINGS, 5.0, 1.0)
