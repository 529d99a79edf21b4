from stock import Item, skus_to_reorder, units_in_stock


def test_units_of_a_plain_catalogue():
    assert units_in_stock([Item("A-1", 4), Item("B-2", 6)]) == 10


def test_discontinued_items_are_skipped_not_the_end_of_the_count():
    items = [Item("A-1", 4), Item("OLD-7", 50, discontinued=True), Item("B-2", 6)]
    assert units_in_stock(items) == 10


def test_empty_catalogue():
    assert units_in_stock([]) == 0


def test_reorder_list():
    items = [Item("A-1", 1), Item("OLD-7", 0, discontinued=True), Item("B-2", 9)]
    assert skus_to_reorder(items, 2) == ["A-1"]
