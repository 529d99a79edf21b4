import pytest

from measures import IncompatibleUnits, UnknownUnit, convert, lookup, same_dimension


def test_length_conversion():
    assert convert(2.5, "km", "m") == pytest.approx(2500.0)
    assert convert(12, "in", "ft") == pytest.approx(1.0)


def test_mass_and_time_conversion():
    assert convert(1, "lb", "oz") == pytest.approx(16.0)
    assert convert(90, "min", "h") == pytest.approx(1.5)


def test_aliases_and_case():
    assert lookup(" Meters ") == ("length", 1.0)
    assert convert(3, "FEET", "inch") == pytest.approx(36.0)


def test_unknown_unit_names_the_unit():
    with pytest.raises(UnknownUnit, match="unknown unit 'furlong'"):
        convert(1, "furlong", "m")


def test_incompatible_units_name_both_dimensions():
    with pytest.raises(IncompatibleUnits, match=r"cannot convert kg \(mass\) to m \(length\)"):
        convert(1, "kg", "m")


def test_incompatible_time_and_length():
    with pytest.raises(IncompatibleUnits, match=r"\(time\) to km \(length\)"):
        convert(5, "h", "km")


def test_same_dimension():
    assert same_dimension("g", "lb")
    assert not same_dimension("g", "s")
