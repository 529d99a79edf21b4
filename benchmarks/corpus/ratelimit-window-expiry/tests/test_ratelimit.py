import pytest

from ratelimit import RateLimitExceeded, SlidingWindowLimiter


class FakeClock:
    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def test_allows_up_to_the_limit():
    limiter = SlidingWindowLimiter(3, 10.0, clock=FakeClock())
    assert [limiter.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_remaining_counts_down():
    limiter = SlidingWindowLimiter(2, 5.0, clock=FakeClock())
    assert limiter.remaining == 2
    limiter.acquire()
    assert limiter.remaining == 1


def test_acquire_raises_with_retry_time():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock=clock)
    limiter.acquire()
    clock.advance(4.0)
    with pytest.raises(RateLimitExceeded) as caught:
        limiter.acquire()
    assert caught.value.retry_after == pytest.approx(6.0)


def test_slot_is_still_taken_just_before_the_window_ends():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock=clock)
    limiter.acquire()
    clock.advance(9.5)
    assert limiter.retry_after() == pytest.approx(0.5)
    assert limiter.remaining == 0
    assert limiter.try_acquire() is False


def test_slot_frees_exactly_when_the_window_has_passed():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock=clock)
    limiter.acquire()
    clock.advance(10.0)
    assert limiter.try_acquire() is True
    assert limiter.remaining == 0


def test_old_requests_expire_one_by_one():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 10.0, clock=clock)
    limiter.acquire()
    clock.advance(3.0)
    limiter.acquire()
    clock.advance(8.0)
    assert limiter.remaining == 1


@pytest.mark.parametrize("limit, window", [(0, 1.0), (1, 0.0), (2, -5.0)])
def test_rejects_invalid_settings(limit, window):
    with pytest.raises(ValueError):
        SlidingWindowLimiter(limit, window)
