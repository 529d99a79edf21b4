"""Normalize phone numbers typed into the CRM to E.164 (``+4915112345678``) and back
into a readable grouping for display."""

from __future__ import annotations

DEFAULT_COUNTRY_CODE = "49"
TRUNK_PREFIX = "0"


class PhoneError(ValueError):
    pass


def digits_of(text: str) -> str:
    """The digits of ``text``, keeping a leading ``+``."""
    kept = "".join(char for char in text if char.isdigit())
    return "+" + kept if text.strip().startswith("+") else kept


def to_e164(text: str, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """``"0151 / 123 456-78"`` -> ``"+4915112345678"``; ``"0049..."`` and ``"+49..."`` too."""
    number = digits_of(text)
    if number.startswith("+"):
        result = number
    elif number.startswith("00"):
        result = "+" + number[2:]
    elif number.startswith(TRUNK_PREFIX):
        result = "+" + country_code + number[1:]
    else:
        raise PhoneError(f"cannot tell the country of {text!r}")
    if not 8 <= len(result) - 1 <= 15:
        raise PhoneError(f"{text!r} has the wrong number of digits")
    return result


def display(e164: str, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """Group a number for display; national format for the home country."""
    if not e164.startswith("+"):
        raise PhoneError("expected an E.164 number starting with +")
    if e164.startswith("+" + country_code):
        national = TRUNK_PREFIX + e164[1 + len(country_code) :]
        return f"{national[:4]} {national[4:]}"
    return f"{e164[:3]} {e164[3:]}"
