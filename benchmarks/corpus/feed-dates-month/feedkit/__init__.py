"""Read RSS feed items and keep the recent ones."""

from feedkit.dates import parse_rfc822
from feedkit.items import Item, newest_first, parse_item, since

__all__ = ["Item", "newest_first", "parse_item", "parse_rfc822", "since"]
