from decimal import Decimal

import pytest

from reorder import PurchaseLine, packs_for, plan_purchase, purchase_cost
from stock import StockLevel, Warehouse


def make_warehouse():
    warehouse = Warehouse()
    warehouse.add(StockLevel("BOLT-M6", on_hand=40, reorder_point=50, target=200))
    warehouse.add(StockLevel("NUT-M6", on_hand=500, reorder_point=100, target=600))
    warehouse.add(StockLevel("WASHER", on_hand=30, reserved=20, reorder_point=10, target=100))
    return warehouse


def test_packs_round_up():
    assert packs_for(1, 25) == 25
    assert packs_for(50, 25) == 50
    assert packs_for(51, 25) == 75


def test_invalid_pack_size():
    with pytest.raises(ValueError):
        packs_for(3, 0)


def test_well_stocked_items_are_not_ordered():
    lines = plan_purchase(make_warehouse(), {})
    assert "NUT-M6" not in [line.sku for line in lines]


def test_plan_without_reservations():
    warehouse = Warehouse()
    warehouse.add(StockLevel("BOLT-M6", on_hand=40, reorder_point=50, target=200))
    assert plan_purchase(warehouse, {"BOLT-M6": 50}) == [PurchaseLine("BOLT-M6", 200)]


def test_reserved_units_are_bought_back():
    lines = plan_purchase(make_warehouse(), {"BOLT-M6": 50})
    assert lines == [PurchaseLine("BOLT-M6", 200), PurchaseLine("WASHER", 90)]


def test_reservation_triggers_reorder():
    warehouse = Warehouse()
    warehouse.add(StockLevel("GEAR", on_hand=12, reorder_point=5, target=20))
    warehouse.reserve("GEAR", 8)
    assert plan_purchase(warehouse, {"GEAR": 4}) == [PurchaseLine("GEAR", 16)]


def test_cannot_reserve_more_than_available():
    warehouse = make_warehouse()
    with pytest.raises(ValueError, match="only 10"):
        warehouse.reserve("WASHER", 11)


def test_purchase_cost():
    lines = [PurchaseLine("A", 3), PurchaseLine("B", 10)]
    assert purchase_cost(lines, {"A": Decimal("2.50"), "B": Decimal("0.10")}) == Decimal("8.50")
