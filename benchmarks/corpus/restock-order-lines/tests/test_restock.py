from restock import Item, order_lines, packs_needed


def test_packs_needed():
    assert packs_needed(Item("a", 3, 10, 4)) == 2
    assert packs_needed(Item("a", 20, 10, 4)) == 0


def test_nothing_to_order():
    assert order_lines([Item("a", 20, 10, 4)]) == []


def test_lines_in_order():
    items = [Item("a", 3, 10, 4), Item("b", 50, 10, 5), Item("c", 0, 2, 6)]
    assert order_lines(items) == [("a", 8), ("c", 6)]


def test_exactly_at_the_reorder_point_orders_one_pack():
    assert packs_needed(Item("a", 10, 10, 4)) == 1
