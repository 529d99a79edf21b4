import pytest

from recordfilter import FilterSyntaxError, compile_filter, tokenize

PEOPLE = [
    {"name": "Ada", "age": 36, "city": "London"},
    {"name": "Olav", "age": 29, "city": "Oslo"},
    {"name": "Ingrid", "age": 41, "city": "Oslo"},
    {"name": "Kim", "age": 52},
]


def matching(text):
    predicate = compile_filter(text)
    return [person["name"] for person in PEOPLE if predicate(person)]


def test_numeric_comparisons():
    assert matching("age >= 36") == ["Ada", "Ingrid", "Kim"]
    assert matching("age < 30 or age > 50") == ["Olav", "Kim"]


def test_string_equality():
    assert matching("city = 'Oslo'") == ["Olav", "Ingrid"]


def test_combined_filter_with_double_quotes():
    assert matching('city != "London" and not age > 40') == ["Olav"]


def test_missing_field_never_matches():
    assert "Kim" not in matching("city != 'Paris'")


def test_operators_are_read_whole():
    assert [t.text for t in tokenize("a<=1 and b!=2")] == ["a", "<=", "1", "and", "b", "!=", "2"]


@pytest.mark.parametrize("text", ["age >=", "city = 'Oslo", "age ~ 3", "age > 3 4"])
def test_syntax_errors(text):
    with pytest.raises(FilterSyntaxError):
        compile_filter(text)
