import pytest

from samplestats import mean, sample_stdev, spread


def test_mean():
    assert mean([1.0, 2.0, 3.0]) == 2.0


def test_stdev():
    assert sample_stdev([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == pytest.approx(2.138, abs=1e-3)


def test_two_samples():
    assert sample_stdev([1.0, 3.0]) == pytest.approx(1.4142, abs=1e-4)


def test_empty_is_refused():
    with pytest.raises(ValueError, match="two samples"):
        sample_stdev([])


def test_single_sample_is_refused():
    with pytest.raises(ValueError, match="two samples"):
        sample_stdev([4.0])


def test_spread():
    assert spread([3.0, 1.0, 2.0]) == 2.0
