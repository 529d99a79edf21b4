"""Call a function until it succeeds or the retry policy gives up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from retrykit.policy import RetryPolicy

T = TypeVar("T")


class RetryError(RuntimeError):
    """Every attempt failed; ``attempts`` says how many were made."""

    def __init__(self, attempts: int, last: BaseException) -> None:
        super().__init__(f"gave up after {attempts} attempts: {last}")
        self.attempts = attempts


class Retrier:
    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        retry_on: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.retry_on = retry_on
        self._sleep = sleep

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Return ``function(*args, **kwargs)``, retrying on the configured errors.

        Errors that are not retryable propagate at once.
        """
        waits = self.policy.delays()
        attempt = 0
        while True:
            attempt += 1
            try:
                return function(*args, **kwargs)
            except self.retry_on as error:
                if attempt >= self.policy.attempts:
                    raise RetryError(attempt, error) from error
                self._sleep(next(waits))
