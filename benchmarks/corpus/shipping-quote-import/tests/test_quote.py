import pytest

from quote import Quote, quote, split_parcels
from rates import NoRate, band_for, parcel_rate


def test_band_for_edges():
    assert band_for(1.0) == 0
    assert band_for(1.01) == 1
    with pytest.raises(NoRate):
        band_for(40)


def test_parcel_rate():
    assert parcel_rate("fr", 4.2) == 1499


def test_heavy_orders_are_split_evenly():
    assert split_parcels(70.0) == pytest.approx([70 / 3] * 3)


def test_quote_prices_every_parcel():
    assert quote("AT", 40.0, 5000) == Quote(2, 2 * 3299)


def test_free_shipping_at_home():
    assert quote("de", 3.0, 15000).label() == "Free shipping"


def test_unknown_country():
    with pytest.raises(NoRate, match="no shipping"):
        quote("XX", 1.0, 100)


def test_label():
    assert Quote(2, 4198).label() == "2 parcels: €41.98"
