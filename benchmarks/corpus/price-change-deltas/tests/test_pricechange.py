import pytest

from pricechange import biggest_move, daily_changes


def test_no_change_for_a_single_price():
    assert daily_changes([10.0]) == []


def test_one_step():
    assert daily_changes([10.0, 11.0]) == [10.0]


def test_each_day_against_the_day_before():
    assert daily_changes([100.0, 110.0, 99.0]) == [10.0, -10.0]


def test_flat_prices():
    assert daily_changes([5.0, 5.0, 5.0]) == [0.0, 0.0]


def test_zero_price_is_refused():
    with pytest.raises(ValueError):
        daily_changes([0.0, 1.0])


def test_biggest_move():
    assert biggest_move([100.0, 110.0, 88.0]) == 20.0
    assert biggest_move([]) == 0.0
