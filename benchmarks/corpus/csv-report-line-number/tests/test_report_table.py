from decimal import Decimal

import pytest

from report_table import TableError, column_total, read_table

EXPORT = """Monthly expenses
Period: 2024-03
date,account,amount
2024-03-01,rent,1200.00
2024-03-04,travel,85.50

2024-03-09,travel,14.25
"""


def test_reads_records_after_banner():
    records = read_table(EXPORT, skip_rows=2)
    assert len(records) == 3
    assert records[0] == {"date": "2024-03-01", "account": "rent", "amount": "1200.00"}


def test_other_delimiter_and_whitespace():
    records = read_table("name ; qty\n bolt ; 4 \n", delimiter=";")
    assert records == [{"name": "bolt", "qty": "4"}]


def test_column_total():
    records = read_table(EXPORT, skip_rows=2)
    assert column_total(records, "amount") == Decimal("1299.75")


def test_empty_cells_count_as_zero():
    records = read_table("item,amount\na,\nb,2.5\n")
    assert column_total(records, "amount") == Decimal("2.5")


def test_bad_number_names_the_column():
    records = read_table("item,amount\na,ten\n")
    with pytest.raises(TableError, match="column 'amount'"):
        column_total(records, "amount")


def test_missing_header_is_reported():
    with pytest.raises(TableError, match="line 3: expected a header"):
        read_table("banner\nmore banner\n", skip_rows=2)


def test_short_record_names_its_line():
    text = "date,account,amount\n2024-03-01,rent,1200\n2024-03-02,food\n"
    with pytest.raises(TableError, match="line 3: expected 3 fields, got 2"):
        read_table(text)


def test_line_numbers_count_banner_and_blank_lines():
    text = "Report\ndate,amount\n\n2024-01-01,5,extra\n"
    with pytest.raises(TableError, match="line 4:"):
        read_table(text, skip_rows=1)


def test_duplicate_columns_are_rejected():
    with pytest.raises(TableError, match="duplicate"):
        read_table("a,b,a\n1,2,3\n")
