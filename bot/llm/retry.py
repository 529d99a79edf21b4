"""Retries with exponential backoff (tenacity) for transient model-server failures only.

A backend maps every client exception to an ``LLMError``; the retryable ones (connection
refused, timeouts, 429, 5xx) are ``TransientLLMError``. Anything else (bad key, model missing,
a request the server rejects) fails at once: retrying cannot help.

No wait outlives the run: given ``remaining`` (a callable that says how many seconds the run
has left), each attempt's client timeout is the smaller of the configured one and the time
left (:func:`call_timeout`), a pause never runs past the end, and no attempt starts once the
time is up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from bot.errors import LLMError

T = TypeVar("T")

Remaining = Callable[[], float]  # seconds the run has left (may go negative)

DEFAULT_ATTEMPTS = 3
SHORTEST_CALL = 1.0  # an attempt with less time than this left is not started
CHECK_ATTEMPTS = 2  # a server that is down at the start is rarely back a second later
DEFAULT_BACKOFF = 1.0  # seconds before the first retry; doubles each time
MAX_WAIT = 30.0


class TransientLLMError(LLMError):
    """A failure that may go away on its own: worth another attempt after a pause."""

    def __init__(self, message: str, *, hint: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class BudgetSpent(LLMError):
    """The run's time budget ran out before (or while) the model could answer."""


def call_timeout(configured: float, remaining: Remaining | None) -> float:
    """The client timeout for one attempt: the configured one, bounded by the time left."""
    if remaining is None:
        return configured
    return max(0.1, min(configured, remaining()))


def _wait_strategy(
    backoff: float, max_wait: float, remaining: Remaining | None
) -> Callable[[RetryCallState], float]:
    exponential = wait_exponential_jitter(multiplier=backoff, max=max_wait, jitter=backoff / 2)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, TransientLLMError) and error.retry_after is not None:
            # the server said when to come back (Retry-After); believe it, within reason
            pause = min(max(error.retry_after, 0.0), max_wait)
        else:
            pause = float(exponential(state))
        if remaining is not None:
            pause = max(0.0, min(pause, remaining() - SHORTEST_CALL))
        return pause

    return wait


class _OutOfTime(stop_base):
    """Stop retrying when too little of the run's time is left for another attempt."""

    def __init__(self, remaining: Remaining | None) -> None:
        self.remaining = remaining

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.remaining is not None and self.remaining() < 2 * SHORTEST_CALL


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: float = DEFAULT_BACKOFF,
    max_wait: float = MAX_WAIT,
    remaining: Remaining | None = None,
) -> T:
    """Run ``call``, retrying on ``TransientLLMError``; after the last attempt raise LLMError.

    With ``remaining``, no attempt starts once the run's time is up (``BudgetSpent``), and the
    pauses between attempts end before it does.
    """
    if remaining is not None and remaining() < SHORTEST_CALL:
        raise BudgetSpent(
            "the run's time budget ran out before the model was asked",
            hint="raise --time-budget to give the model time",
        )
    made = 0

    def counted() -> T:
        nonlocal made
        made += 1
        return call()

    retrying = Retrying(
        stop=stop_any(stop_after_attempt(max(1, attempts)), _OutOfTime(remaining)),
        wait=_wait_strategy(backoff, max_wait, remaining),
        retry=retry_if_exception_type(TransientLLMError),
        reraise=True,
    )
    try:
        return retrying(counted)
    except TransientLLMError as error:
        tries = "attempt" if made == 1 else f"{made} attempts"
        if made < attempts:
            raise BudgetSpent(
                f"{error.message} (gave up after {tries}: the run's time budget ran out)",
                hint=error.hint,
            ) from None
        raise LLMError(f"{error.message} (gave up after {tries})", hint=error.hint) from None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are rare here: ignored)."""
    if not value:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None
