from tabular import COMMA, PIPES, TABS, Dialect, read_records, read_rows, split_line

TEXT = "name, qty\n\n# totals follow\napple, 3\n   \npear, 5\n"


def test_comma_dialect_skips_blank_lines_and_comments():
    assert read_rows(TEXT) == [["name", "qty"], ["apple", "3"], ["pear", "5"]]


def test_tab_dialect():
    assert read_rows("a\tb\n\nc\td\n", TABS) == [["a", "b"], ["c", "d"]]


def test_pipe_dialect_has_its_own_comments():
    text = "-- exported\nx | y\n# not a comment here\n"
    assert read_rows(text, PIPES) == [["x", "y"], ["# not a comment here"]]


def test_blank_lines_can_be_kept_as_empty_rows():
    keeping = Dialect("keeping", skip_blank=False)
    assert read_rows("a,b\n\nc,d\n", keeping) == [["a", "b"], [], ["c", "d"]]


def test_fields_can_keep_their_spaces():
    raw = Dialect("raw", strip=False)
    assert split_line(" a , b", raw) == [" a ", " b"]
    assert split_line(" a , b", COMMA) == ["a", "b"]


def test_records_use_the_header():
    assert read_records(TEXT) == [{"name": "apple", "qty": "3"}, {"name": "pear", "qty": "5"}]
    assert read_records("") == []


def test_dialects_have_names():
    assert repr(TABS) == "Dialect('tabs')"
