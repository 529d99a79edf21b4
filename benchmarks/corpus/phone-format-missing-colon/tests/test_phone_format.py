import pytest

from phone_format import PhoneError, digits_of, display, to_e164


def test_digits_keep_the_plus():
    assert digits_of(" +49 (151) 1234") == "+491511234"
    assert digits_of("0151-12") == "015112"


@pytest.mark.parametrize(
    "text", ["0151 / 123 456-78", "+49 151 12345678", "0049 151 12345678"]
)
def test_to_e164(text):
    assert to_e164(text) == "+4915112345678"


def test_other_country_code():
    assert to_e164("01 23 45 67 89", country_code="33") == "+33123456789"


def test_rejects_numbers_without_country():
    with pytest.raises(PhoneError, match="country"):
        to_e164("151 1234567")


def test_rejects_wrong_length():
    with pytest.raises(PhoneError, match="number of digits"):
        to_e164("0151 12")


def test_display():
    assert display("+4915112345678") == "0151 12345678"
    assert display("+33123456789") == "+33 123456789"
