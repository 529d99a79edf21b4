import pytest

from laps import fastest_lap, lap_times


def test_lap_times():
    assert lap_times([61.5, 120.0, 181.25]) == [61.5, 58.5, 61.25]


def test_fastest_lap():
    assert fastest_lap([61.5, 120.0, 181.25]) == 2


def test_no_splits():
    assert lap_times([]) == []


def test_splits_must_grow():
    with pytest.raises(ValueError):
        lap_times([10.0, 5.0])
