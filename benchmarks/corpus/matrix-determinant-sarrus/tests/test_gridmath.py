from fractions import Fraction

import pytest

from gridmath import Matrix


def test_shape_and_validation():
    assert Matrix([[1, 2, 3], [4, 5, 6]]).shape == (2, 3)
    with pytest.raises(ValueError):
        Matrix([[1, 2], [3]])


def test_multiply_and_identity():
    a = Matrix([[1, 2], [3, 4]])
    assert a @ Matrix.identity(2) == a
    assert a @ Matrix([[0, 1], [1, 0]]) == Matrix([[2, 1], [4, 3]])


def test_transpose():
    assert Matrix([[1, 2, 3]]).transpose() == Matrix([[1], [2], [3]])


def test_small_determinants():
    assert Matrix([[7]]).determinant() == 7
    assert Matrix([[1, 2], [3, 4]]).determinant() == -2


def test_three_by_three():
    assert Matrix([[2, 0, 1], [1, 3, 2], [1, 1, 2]]).determinant() == 6


def test_four_by_four():
    m = Matrix([[1, 0, 2, -1], [3, 0, 0, 5], [2, 1, 4, -3], [1, 0, 5, 0]])
    assert m.determinant() == 30


def test_singular_and_identity():
    assert Matrix([[1, 2, 3, 4], [2, 4, 6, 8], [0, 1, 0, 1], [5, 5, 5, 5]]).determinant() == 0
    assert Matrix.identity(5).determinant() == 1


def test_determinant_is_exact():
    m = Matrix([[Fraction(1, 3), 1, 0], [0, 1, 0], [0, 0, 3]])
    assert m.determinant() == 1


def test_non_square_has_no_determinant():
    with pytest.raises(ValueError):
        Matrix([[1, 2, 3]]).determinant()
