from datetime import datetime, timedelta, timezone

import pytest

from feedkit import newest_first, parse_item, since

UTC = timezone.utc


def item(title, date):
    return parse_item({"title": title, "link": f"https://blog.example/{title}", "pubDate": date})


def test_item_fields_are_cleaned():
    parsed = item("  Release\n notes ", "Tue, 05 Mar 2024 14:30:00 GMT")
    assert parsed.title == "Release notes"
    assert parsed.link.startswith("https://blog.example/")


def test_published_date_is_parsed():
    parsed = item("a", "Tue, 05 Mar 2024 14:30:00 +0100")
    assert parsed.published == datetime(2024, 3, 5, 13, 30, tzinfo=UTC)


def test_missing_fields_are_named():
    with pytest.raises(ValueError, match="lacks link, pubDate"):
        parse_item({"title": "x", "link": " "})


def test_unknown_zone_is_rejected():
    with pytest.raises(ValueError, match="time zone"):
        item("a", "05 Mar 2024 14:30 CEST")


def test_newest_first_across_zones():
    early = item("early", "05 Jun 2024 10:00:00 -0500")
    late = item("late", "05 Jun 2024 16:30:00 +0100")
    assert [i.title for i in newest_first([early, late])] == ["late", "early"]


def test_since_keeps_recent_items():
    items = [item("old", "28 Feb 2024 23:00:00 GMT"), item("new", "01 Mar 2024 08:00:00 GMT")]
    cutoff = datetime(2024, 3, 1, tzinfo=UTC)
    assert [i.title for i in since(items, cutoff)] == ["new"]


def test_two_digit_year_and_no_seconds():
    parsed = item("a", "Sat, 07 Sep 24 09:15 EDT")
    assert parsed.published.astimezone(UTC) == datetime(2024, 9, 7, 13, 15, tzinfo=UTC)
    assert parsed.published.utcoffset() == timedelta(hours=-4)
