import pytest

from urlbuild import join_url, path_segments, with_query


def test_join_simple():
    assert join_url("https://api.example.com", "v1", "users") == "https://api.example.com/v1/users"


def test_join_base_with_trailing_slash():
    assert join_url("https://api.example.com/", "v1") == "https://api.example.com/v1"
    assert join_url("https://api.example.com/v2/", "/items/") == "https://api.example.com/v2/items"


def test_join_relative_base():
    assert join_url("/api/", "users", 7) == "/api/users/7"


def test_segments_are_encoded_and_empty_ones_skipped():
    assert join_url("http://h", "a b", "", 42) == "http://h/a%20b/42"


def test_empty_base_is_rejected():
    with pytest.raises(ValueError):
        join_url("", "x")


def test_query_parameters():
    url = with_query("http://h/search", {"q": "tea pot", "page": 2, "sort": None})
    assert url == "http://h/search?q=tea+pot&page=2"
    assert with_query("http://h/s?x=1", {"y": [1, 2]}) == "http://h/s?x=1&y=1&y=2"
    assert with_query("http://h", {"a": None}) == "http://h"


def test_path_segments():
    assert path_segments("/v1//users/42/") == ["v1", "users", "42"]
