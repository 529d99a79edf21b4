from decimal import Decimal

import pytest

from loyalty import LoyaltyAccount, NotEnoughPoints


@pytest.fixture
def account():
    account = LoyaltyAccount("maria")
    account.earn(Decimal("12.80"))
    return account


def test_earn_whole_euros(account):
    assert account.points == 120


def test_redeem(account):
    account.redeem(100)
    assert account.points == 20


def test_cannot_redeem_more_than_balance(account):
    with pytest.raises(NotEnoughPoints):
        account.redeem(121)
    assert account.points == 120


def test_reversal_gives_points_back(account):
    account.redeem(100)
    account.reverse_redemption(100)
    assert account.points == 120


def test_cannot_reverse_more_than_redeemed(account):
    account.redeem(50)
    with pytest.raises(ValueError):
        account.reverse_redemption(60)


def test_statement(account):
    account.redeem(100)
    account.reverse_redemption(100)
    assert account.statement() == ["earn    +120", "redeem  -100", "reverse +100"]
