"""Small dense matrices for the layout engine's transform and solver code.

Entries are kept exact (ints or Fractions), so determinants and inverses have no
rounding error.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Rational


class Matrix:
    def __init__(self, rows: list[list[Rational | int]]) -> None:
        if not rows or not rows[0] or any(len(row) != len(rows[0]) for row in rows):
            raise ValueError("a matrix needs equally long, non-empty rows")
        self.rows = [list(row) for row in rows]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Matrix) and self.rows == other.rows

    def __matmul__(self, other: Matrix) -> Matrix:
        if self.shape[1] != other.shape[0]:
            raise ValueError(f"cannot multiply {self.shape} by {other.shape}")
        columns = list(zip(*other.rows))
        return Matrix([[sum(a * b for a, b in zip(row, col)) for col in columns] for row in self.rows])

    def transpose(self) -> Matrix:
        return Matrix([list(column) for column in zip(*self.rows)])

    @classmethod
    def identity(cls, size: int) -> Matrix:
        return cls([[int(i == j) for j in range(size)] for i in range(size)])

    def determinant(self) -> Fraction:
        """Determinant of a square matrix: products along the wrapped diagonals."""
        size, columns = self.shape
        if size != columns:
            raise ValueError("only square matrices have a determinant")
        if size == 1:
            return Fraction(self.rows[0][0])
        if size == 2:
            (a, b), (c, d) = self.rows
            return Fraction(a * d - b * c)
        result = Fraction(0)
        for shift in range(size):
            down = up = Fraction(1)
            for row in range(size):
                down *= self.rows[row][(shift + row) % size]
                up *= self.rows[row][(shift - row) % size]
            result += down - up
        return result
