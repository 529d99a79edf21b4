import pytest

from blogtags import normalize_tags, parse_tag_field, slugify


@pytest.mark.parametrize(
    "raw, slug",
    [("Machine Learning", "machine-learning"), ("#Python", "python"), ("C++", "c"),
     ("  dev_ops ", "dev-ops"), ("--", None)],
)
def test_slugify(raw, slug):
    assert slugify(raw) == slug


def test_duplicates_are_removed():
    assert normalize_tags(["api", "API", "#api"]) == ["api"]


def test_author_order_is_kept():
    assert normalize_tags(["Rust", "async", "Performance"]) == ["rust", "async", "performance"]


def test_main_topic_stays_first():
    assert parse_tag_field("zig, build systems, ,zig")[0] == "zig"


def test_too_many_tags():
    with pytest.raises(ValueError, match="at most 8"):
        normalize_tags([f"tag{n}" for n in range(9)])


def test_empty_field():
    assert parse_tag_field(" , ,") == []
