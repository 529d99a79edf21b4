"""Split result lists into numbered pages for listing endpoints and HTML tables."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any


class InvalidPage(LookupError):
    """A page number outside ``1..num_pages`` was requested."""


@dataclass(frozen=True)
class Page:
    """One page of results plus what a template needs to draw navigation links."""

    items: list[Any]
    number: int
    num_pages: int
    first_index: int

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def last_index(self) -> int:
        """1-based position of the last item on this page (0 for an empty page)."""
        return self.first_index + len(self.items) - 1 if self.items else 0


class Paginator:
    """Pages of ``per_page`` items; an empty list still has one (empty) page."""

    def __init__(self, items: Sequence[Any], per_page: int) -> None:
        if per_page < 1:
            raise ValueError("per_page must be at least 1")
        self._items = list(items)
        self.per_page = per_page

    @property
    def count(self) -> int:
        return len(self._items)

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))

    @property
    def page_range(self) -> range:
        """The valid page numbers, for rendering "1 2 3" links."""
        return range(1, self.num_pages)

    def page(self, number: int) -> Page:
        if number < 1 or number > self.num_pages:
            raise InvalidPage(f"page {number} is not between 1 and {self.num_pages}")
        start = (number - 1) * self.per_page
        chunk = self._items[start : start + self.per_page]
        return Page(chunk, number, self.num_pages, start + 1 if chunk else 0)

    def __iter__(self) -> Iterator[Page]:
        for number in self.page_range:
            yield self.page(number)
