import pytest

from versionspec import newest_matching, parse_version, satisfies

RELEASES = ["0.9.0", "1.0.0", "1.2.0", "1.2.7", "1.3.0", "2.0.0", "2.1.0"]


def test_parse_version_fills_missing_parts():
    assert parse_version("1.2") == (1, 2, 0)
    with pytest.raises(ValueError):
        parse_version("1.x")


def test_comparison_clauses():
    assert satisfies("1.4.0", ">=1.2, <2.0")
    assert not satisfies("2.0.0", ">=1.2, <2.0")
    assert satisfies("1.4.1", "1.4.1") and satisfies("1.4.1", "!=1.4.0")


def test_versions_compare_numerically():
    assert satisfies("1.10.0", ">1.9")


def test_caret_keeps_the_major_version():
    assert [satisfies(v, "^1.2") for v in ("1.1.9", "1.2.0", "1.9.3", "2.0.0")] == [
        False, True, True, False
    ]


def test_caret_below_one_keeps_the_minor_version():
    assert satisfies("0.3.5", "^0.3.1") and not satisfies("0.4.0", "^0.3.1")


def test_tilde_allows_patch_releases_only():
    assert newest_matching(RELEASES, "~1.2.0") == "1.2.7"


def test_newest_matching():
    assert newest_matching(RELEASES, ">=1.0, <2") == "1.3.0"
    assert newest_matching(RELEASES, ">3") is None


def test_garbage_constraint():
    with pytest.raises(ValueError):
        satisfies("1.0.0", ">= 1.0 beta")
