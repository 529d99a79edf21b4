from reportrows import data_rows, total

REPORT = ["label; amount", "rent; 1200.00", "", "power; 80.50"]


def test_rows_after_one_header():
    assert data_rows(REPORT) == [("rent", 1200.0), ("power", 80.5)]


def test_two_header_lines():
    lines = ["Monthly report", *REPORT]
    assert data_rows(lines, header_rows=2) == [("rent", 1200.0), ("power", 80.5)]


def test_total():
    assert total(REPORT) == 1280.5


def test_no_header():
    assert data_rows(["fees; 3.5"], header_rows=0) == [("fees", 3.5)]


def test_blank_lines_are_skipped():
    assert total(["", "a; 1.10", "  ", "b; 2.20"], header_rows=0) == 3.3
