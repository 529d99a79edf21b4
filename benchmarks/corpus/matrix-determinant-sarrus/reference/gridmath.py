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
        """Determinant of a square matrix, by Gaussian elimination over fractions."""
        size, columns = self.shape
        if size != columns:
            raise ValueError("only square matrices have a determinant")
        work = [[Fraction(value) for value in row] for row in self.rows]
        result = Fraction(1)
        for col in range(size):
            pivot = next((r for r in range(col, size) if work[r][col] != 0), None)
            if pivot is None:
                return Fraction(0)
            if pivot != col:
                work[col], work[pivot] = work[pivot], work[col]
                result = -result
            result *= work[col][col]
            for r in range(col + 1, size):
                factor = work[r][col] / work[col][col]
                work[r] = [a - factor * b for a, b in zip(work[r], work[col])]
        return result
