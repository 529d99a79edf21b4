import pytest

from retrykit import RetryError, Retrier, RetryPolicy, backoff_delay


class Flaky:
    """Fails with ``error`` the first ``failures`` times, then returns "ok"."""

    def __init__(self, failures, error=ConnectionError):
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return "ok"


def make_retrier(policy=None):
    sleeps = []
    return Retrier(policy, sleep=sleeps.append), sleeps


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, factor=3.0, max_delay=5.0)
    assert [backoff_delay(policy, n) for n in (1, 2, 3)] == [1.0, 3.0, 5.0]


def test_success_needs_no_wait():
    retrier, sleeps = make_retrier()
    assert retrier.call(Flaky(0)) == "ok"
    assert sleeps == []


def test_retries_until_success():
    retrier, sleeps = make_retrier(RetryPolicy(attempts=4))
    flaky = Flaky(2)
    assert retrier.call(flaky) == "ok"
    assert flaky.calls == 3
    assert sleeps == [0.1, 0.2]


def test_gives_up_after_all_attempts():
    retrier, sleeps = make_retrier(RetryPolicy(attempts=3))
    with pytest.raises(RetryError, match="after 3 attempts"):
        retrier.call(Flaky(10))
    assert len(sleeps) == 2


def test_other_errors_are_not_retried():
    retrier, sleeps = make_retrier()
    flaky = Flaky(1, error=KeyError)
    with pytest.raises(KeyError):
        retrier.call(flaky)
    assert flaky.calls == 1 and sleeps == []


def test_single_attempt_policy_never_waits():
    retrier, sleeps = make_retrier(RetryPolicy(attempts=1))
    with pytest.raises(RetryError):
        retrier.call(Flaky(1))
    assert sleeps == []


@pytest.mark.parametrize("options", [{"attempts": 0}, {"factor": 0.5}, {"base_delay": -1}])
def test_invalid_policies(options):
    with pytest.raises(ValueError):
        RetryPolicy(**options)
