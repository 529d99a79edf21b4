import pytest

from splitbill import format_shares, split_cents, split_evenly


def test_even_split_without_remainder():
    assert split_evenly(9000, 3) == [3000, 3000, 3000]


def test_weighted_split_without_remainder():
    assert split_cents(1000, [3, 1]) == [750, 250]


def test_zero_weight_pays_nothing():
    assert split_cents(500, [1, 0, 1]) == [250, 0, 250]


def test_leftover_cents_go_to_the_first_people():
    assert split_evenly(1000, 3) == [334, 333, 333]


def test_leftover_goes_to_the_largest_rounding_loss():
    assert split_cents(1000, [1, 2, 4]) == [143, 286, 571]


def test_shares_always_add_up():
    for total in (1, 99, 1001, 123457):
        for weights in ([1, 1, 1], [2, 3, 5, 7], [1, 6]):
            shares = split_cents(total, weights)
            assert sum(shares) == total
            assert all(isinstance(share, int) for share in shares)


@pytest.mark.parametrize("total, weights", [(-1, [1]), (100, []), (100, [0, 0]), (100, [2, -1])])
def test_invalid_input(total, weights):
    with pytest.raises(ValueError):
        split_cents(total, weights)


def test_format_shares():
    assert format_shares(["ana", "ben"], [1205, 7]) == ["ana: 12.05", "ben: 0.07"]
