"""Feed items and the filters the reader applies to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedkit.dates import parse_rfc822


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    published: datetime


def parse_item(fields: dict[str, str]) -> Item:
    """Build an item from the text of its ``title``, ``link`` and ``pubDate`` elements."""
    missing = [name for name in ("title", "link", "pubDate") if not fields.get(name, "").strip()]
    if missing:
        raise ValueError(f"feed item lacks {', '.join(missing)}")
    return Item(
        title=" ".join(fields["title"].split()),
        link=fields["link"].strip(),
        published=parse_rfc822(fields["pubDate"]),
    )


def newest_first(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda item: item.published, reverse=True)


def since(items: list[Item], moment: datetime) -> list[Item]:
    """Items published at or after ``moment`` (an aware datetime), newest first."""
    return newest_first([item for item in items if item.published >= moment])
