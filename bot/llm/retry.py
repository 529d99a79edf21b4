"""Retries with exponential backoff (tenacity) for transient model-server failures only.

A backend maps every client exception to an ``LLMError``; the retryable ones (connection
refused, timeouts, 429, 5xx) are ``TransientLLMError``. Anything else (bad key, model missing,
a request the server rejects) fails at once: retrying cannot help.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.errors import LLMError

T = TypeVar("T")

DEFAULT_ATTEMPTS = 3
CHECK_ATTEMPTS = 2  # a server that is down at the start is rarely back a second later
DEFAULT_BACKOFF = 1.0  # seconds before the first retry; doubles each time
MAX_WAIT = 30.0


class TransientLLMError(LLMError):
    """A failure that may go away on its own: worth another attempt after a pause."""

    def __init__(self, message: str, *, hint: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


def _wait_strategy(backoff: float, max_wait: float) -> Callable[[RetryCallState], float]:
    exponential = wait_exponential_jitter(multiplier=backoff, max=max_wait, jitter=backoff / 2)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, TransientLLMError) and error.retry_after is not None:
            # the server said when to come back (Retry-After); believe it, within reason
            return min(max(error.retry_after, 0.0), max_wait)
        return float(exponential(state))

    return wait


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: float = DEFAULT_BACKOFF,
    max_wait: float = MAX_WAIT,
) -> T:
    """Run ``call``, retrying on ``TransientLLMError``; after the last attempt raise LLMError."""
    retrying = Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=_wait_strategy(backoff, max_wait),
        retry=retry_if_exception_type(TransientLLMError),
        reraise=True,
    )
    try:
        return retrying(call)
    except TransientLLMError as error:
        tries = "attempt" if attempts == 1 else f"{attempts} attempts"
        raise LLMError(f"{error.message} (gave up after {tries})", hint=error.hint) from None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are rare here: ignored)."""
    if not value:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None
