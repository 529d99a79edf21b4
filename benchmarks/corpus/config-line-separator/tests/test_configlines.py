import pytest

from configlines import format_setting, format_settings, parse_settings


def test_one_line():
    assert format_setting("timeout", 30) == "timeout: 30"


def test_sorted_lines():
    assert format_settings({"b": 2, "a": "x"}) == "a: x\nb: 2"


def test_round_trip():
    settings = {"name": "demo", "retries": 3}
    assert parse_settings(format_settings(settings)) == {"name": "demo", "retries": "3"}


def test_invalid_name():
    with pytest.raises(ValueError):
        format_setting("a:b", 1)


def test_parse_skips_blank_lines():
    assert parse_settings("a: 1\n\nb: two\n") == {"a": "1", "b": "two"}
