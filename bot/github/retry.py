"""When a failed GitHub API call is worth another attempt, and how long to wait before it.

GitHub's own guidance, followed here: a ``Retry-After`` header says how long to wait (429, or a
403 secondary rate limit); a primary rate limit (``x-ratelimit-remaining: 0``) lasts until
``x-ratelimit-reset``; a secondary rate limit without either header wants at least a minute;
5xx answers and dropped connections get an exponential backoff. Every other answer (401, a
plain 403, 404, 422) fails at once: retrying cannot help.

All the pauses of one call together stay under ``RetryPolicy.max_total_wait``: a wait that
would go past it is not started, and the error says how long GitHub asked to wait.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from github import GithubException, RateLimitExceededException

SECONDARY_RATE_WAIT = 60.0  # GitHub: without a header, wait at least one minute


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one API call is tried: ``retries`` more attempts, pauses within a total."""

    retries: int = 3
    backoff: float = 2.0  # the first pause after a 5xx or a dropped connection; doubles
    max_total_wait: float = 90.0  # all the pauses of one call together, in seconds

    @property
    def attempts(self) -> int:
        return 1 + max(0, self.retries)


def lowered_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in (headers or {}).items()}


def retry_after(headers: Mapping[str, Any] | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), None without one."""
    value = lowered_headers(headers).get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(moment.timestamp()) - (time.time() if now is None else now))


def reset_in(headers: Mapping[str, Any] | None, now: float | None = None) -> float | None:
    """Seconds until an exhausted primary rate limit resets, None when it is not exhausted."""
    lowered = lowered_headers(headers)
    reset = lowered.get("x-ratelimit-reset", "")
    if lowered.get("x-ratelimit-remaining") != "0" or not reset.isdigit():
        return None
    return max(0.0, int(reset) - (time.time() if now is None else now))


def is_rate_limit(error: GithubException) -> bool:
    data = error.data if isinstance(error.data, Mapping) else {}
    message = str(data.get("message") or "").lower()
    return (
        isinstance(error, RateLimitExceededException)
        or error.status == 429
        or (error.status == 403 and "rate limit" in message)
    )


def pause_before_retry(error: BaseException, attempt: int, backoff: float) -> float | None:
    """Seconds to wait before trying again after ``attempt`` failed, None: do not retry."""
    exponential = float(backoff * 2.0 ** max(0, attempt - 1))
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return exponential
    if not isinstance(error, GithubException):
        return None
    headers = error.headers or {}
    asked = retry_after(headers)
    if error.status in (403, 429):
        if asked is not None:
            return asked
        if not is_rate_limit(error):
            return None  # a permission error
        reset = reset_in(headers)
        if reset is not None:
            return reset + 1.0  # it is not known when in that second the limit resets
        return SECONDARY_RATE_WAIT
    if error.status >= 500:
        return asked if asked is not None else exponential
    return None
