import pytest

from sessions import Session, expires_at, is_expired, lifetime_seconds


def test_default_lifetime_is_half_an_hour():
    assert lifetime_seconds() == 1800


def test_expiry_time():
    assert expires_at(Session("ann", 1000.0), minutes=2) == 1120.0


def test_not_expired_within_the_lifetime():
    assert not is_expired(Session("ann", 0.0), now=59.0, minutes=1)


def test_expired_after_the_lifetime():
    assert is_expired(Session("ann", 0.0), now=60.0, minutes=1)


def test_a_lifetime_of_zero_is_refused():
    with pytest.raises(ValueError):
        lifetime_seconds(0)
