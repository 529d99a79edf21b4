import pytest

from track import Point, bounds, haversine, legs, pace, total_distance

PARIS = Point(48.8566, 2.3522)
LONDON = Point(51.5074, -0.1278)


def test_distance_to_itself_is_zero():
    assert haversine(PARIS, PARIS) == 0.0


def test_paris_to_london():
    assert haversine(PARIS, LONDON) == pytest.approx(343.5, abs=1.0)


def test_invalid_positions_are_rejected():
    with pytest.raises(ValueError):
        Point(91.0, 0.0)


def test_empty_track_has_no_distance():
    assert total_distance([]) == 0.0


def test_one_leg_per_pair_of_points():
    track = [Point(0.0, 0.0), Point(0.0, 1.0), Point(1.0, 1.0)]
    assert len(legs(track)) == 2
    assert total_distance(track) == pytest.approx(2 * 111.19, abs=0.1)


def test_single_point_track_has_no_pace():
    assert pace([Point(10.0, 10.0, seconds=5)]) is None


def test_pace_in_minutes_per_km():
    track = [Point(0.0, 0.0, seconds=0), Point(0.0, 0.05, seconds=1668)]
    assert pace(track) == pytest.approx(5.0, rel=0.01)


def test_bounds():
    assert bounds([PARIS, LONDON]) == (48.8566, -0.1278, 51.5074, 2.3522)
    with pytest.raises(ValueError):
        bounds([])
