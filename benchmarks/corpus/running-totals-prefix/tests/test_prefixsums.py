import pytest

from prefixsums import prefix_sums, range_total


def test_empty():
    assert prefix_sums([]) == [0]


def test_table():
    assert prefix_sums([3, 1, 4]) == [0, 3, 4, 8]


def test_range_total():
    table = prefix_sums([3, 1, 4, 1, 5])
    assert range_total(table, 1, 4) == 6
    assert range_total(table, 0, 5) == 14
    assert range_total(table, 2, 2) == 0


def test_range_outside():
    with pytest.raises(IndexError):
        range_total(prefix_sums([1, 2]), 0, 3)


def test_range_total_of_a_known_table():
    assert range_total([0, 3, 4, 8], 1, 3) == 5
