import pytest

from roads import RoadMap, UnknownPlace
from routing import NoRoute, cheapest_route, route_summary


@pytest.fixture
def city():
    return RoadMap(
        [
            ("depot", "mill", 4),
            ("mill", "harbour", 30),
            ("depot", "market", 9),
            ("market", "harbour", 8),
            ("mill", "quarry", 3),
        ]
    )


def test_roads_are_two_way_and_keep_the_fastest(city):
    city.add_road("harbour", "market", 6)
    assert city.neighbours("harbour") == {"mill": 30, "market": 6}


def test_direct_neighbour(city):
    assert cheapest_route(city, "depot", "mill") == (["depot", "mill"], 4)


def test_cheapest_route_avoids_the_slow_road(city):
    assert cheapest_route(city, "depot", "harbour") == (["depot", "market", "harbour"], 17)


def test_route_through_a_dead_end_area(city):
    assert cheapest_route(city, "quarry", "market") == (["quarry", "mill", "depot", "market"], 16)


def test_summary(city):
    assert route_summary(city, "market", "mill") == "market -> depot -> mill (13 min)"


def test_unreachable_place(city):
    city.add_road("island", "lighthouse", 5)
    with pytest.raises(NoRoute):
        cheapest_route(city, "depot", "island")


def test_unknown_place(city):
    with pytest.raises(UnknownPlace):
        cheapest_route(city, "depot", "airport")


def test_invalid_roads():
    with pytest.raises(ValueError):
        RoadMap([("a", "b", 0)])
