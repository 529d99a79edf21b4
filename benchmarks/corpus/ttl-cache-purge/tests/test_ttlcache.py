import pytest

from ttlcache import TTLCache


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_get_returns_fresh_values():
    cache = TTLCache(10, clock=Clock())
    cache.set("a", 1)
    assert cache.get("a") == 1
    assert "a" in cache


def test_entries_expire_after_ttl():
    clock = Clock()
    cache = TTLCache(10, clock=clock)
    cache.set("a", 1)
    clock.now = 10.0
    assert cache.get("a", "gone") == "gone"
    assert "a" not in cache


def test_oldest_entry_is_evicted_when_full():
    cache = TTLCache(10, max_entries=2, clock=Clock())
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("c", 3)
    assert cache.get("a") is None and cache.get("c") == 3


def test_setting_again_refreshes_the_entry():
    clock = Clock()
    cache = TTLCache(10, clock=clock)
    cache.set("a", 1)
    clock.now = 8.0
    cache.set("a", 2)
    clock.now = 15.0
    assert cache.get("a") == 2


def test_purge_drops_only_expired_entries():
    clock = Clock()
    cache = TTLCache(10, clock=clock)
    cache.set("old", 1)
    clock.now = 6.0
    cache.set("new", 2)
    clock.now = 11.0
    assert cache.purge() == 1
    assert len(cache) == 1
    assert cache.get("new") == 2


def test_purge_on_fresh_cache_removes_nothing():
    cache = TTLCache(10, clock=Clock())
    cache.set("a", 1)
    assert cache.purge() == 0
    assert len(cache) == 1


@pytest.mark.parametrize("ttl, size", [(0, 5), (-1, 5), (5, 0)])
def test_invalid_settings(ttl, size):
    with pytest.raises(ValueError):
        TTLCache(ttl, max_entries=size)
