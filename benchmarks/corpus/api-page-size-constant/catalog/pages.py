"""Splitting a product listing into pages the API returns one at a time."""

from __future__ import annotations

import math
from dataclasses import dataclass

from catalog import settings


@dataclass(frozen=True)
class Page:
    number: int
    items: list[str]
    total_pages: int

    @property
    def has_next(self) -> bool:
        return self.number < self.total_pages


def page_size(requested: int | None) -> int:
    """The page size to use: the default when none is asked for, never below one and never
    above the API's largest page."""
    if requested is None:
        return settings.DEFAULT_PAGE_SIZE
    return max(1, min(requested, 50))


def page(items: list[str], number: int, requested_size: int | None = None) -> Page:
    """Page ``number`` (from 1) of ``items``."""
    size = page_size(requested_size)
    total = max(1, math.ceil(len(items) / size))
    if not 1 <= number <= total:
        raise ValueError(f"page {number} does not exist: there are {total}")
    start = (number - 1) * size
    return Page(number, items[start : start + size], total)


def search_terms(query: str) -> list[str]:
    """The words of a search query, lower-cased, the query cut at the API's limit."""
    return query[: settings.MAX_QUERY_LENGTH].lower().split()
