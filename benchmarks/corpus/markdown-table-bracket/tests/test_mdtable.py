import pytest

from mdtable import column_widths, escape_cell, render_table


def test_escape_cell():
    assert escape_cell("a|b\nc") == "a\\|b c"
    assert escape_cell(None) == ""
    assert escape_cell(3.5) == "3.5"


def test_column_widths_have_a_minimum():
    assert column_widths([["a", "long"], ["bb", "x"]]) == [3, 4]


def test_render_simple_table():
    table = render_table(["name", "qty"], [["bolt", 12], ["nut", 7]], align=["left", "right"])
    assert table.splitlines() == [
        "| name | qty |",
        "| :--- | --: |",
        "| bolt |  12 |",
        "| nut  |   7 |",
    ]


def test_header_only_table():
    assert render_table(["a"], []).splitlines() == ["| a   |", "| :-- |"]


def test_ragged_rows_are_rejected():
    with pytest.raises(ValueError, match="one cell per header"):
        render_table(["a", "b"], [["only one"]])


def test_unknown_alignment_is_rejected():
    with pytest.raises(ValueError, match="align"):
        render_table(["a"], [["x"]], align=["justify"])
