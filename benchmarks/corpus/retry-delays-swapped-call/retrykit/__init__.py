"""Retry flaky calls with exponential backoff."""

from retrykit.policy import RetryPolicy, backoff_delay
from retrykit.runner import RetryError, Retrier

__all__ = ["RetryError", "RetryPolicy", "Retrier", "backoff_delay"]
