import pytest

from histogram import Histogram


def filled(*values):
    histogram = Histogram()
    for value in values:
        histogram.observe(value)
    return histogram


def test_values_land_in_their_buckets():
    histogram = filled(3, 5, 7, 2000)
    assert histogram.buckets[0] == 2
    assert histogram.buckets[1] == 1
    assert histogram.buckets[-1] == 1


def test_count_and_mean():
    histogram = filled(10, 20, 30)
    assert histogram.count == 3
    assert histogram.mean == pytest.approx(20.0)


def test_empty_histogram():
    histogram = Histogram()
    assert histogram.mean is None
    assert histogram.quantile(0.5) is None


def test_quantiles_use_bucket_bounds():
    histogram = filled(*([4] * 90), *([400] * 10))
    assert histogram.quantile(0.5) == 5.0
    assert histogram.quantile(0.95) == 500.0


def test_cumulative_counts():
    histogram = filled(1, 6, 6, 700)
    assert histogram.cumulative()[:3] == [(5.0, 1), (10.0, 3), (25.0, 3)]
    assert histogram.cumulative()[-1] == (float("inf"), 4)


def test_invalid_input():
    with pytest.raises(ValueError):
        Histogram((10.0, 5.0))
    with pytest.raises(ValueError):
        Histogram().observe(-1)
