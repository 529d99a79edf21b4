import pytest

from rangecheck import first_error, make_range_check


def test_inside():
    assert make_range_check(1, 10)(5) is None


def test_bounds_are_inside():
    check = make_range_check(1, 10)
    assert check(1) is None
    assert check(10) is None


def test_below_and_above():
    check = make_range_check(1, 10)
    assert check(0) == "must be at least 1"
    assert check(11) == "must be at most 10"


def test_first_error():
    checks = [make_range_check(0, 100), make_range_check(10, 20)]
    assert first_error(50, checks) == "must be at most 20"


def test_empty_range_refused():
    with pytest.raises(ValueError):
        make_range_check(5, 1)
