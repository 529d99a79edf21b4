"""Course grades: weighted averages of assessment categories and letter grades."""

from __future__ import annotations

LETTERS = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"), (0.0, "F"))


def category_score(points: list[float], drop_lowest: int = 0) -> float | None:
    """Mean of a category's scores (0-100) after dropping the lowest ``drop_lowest``."""
    if drop_lowest < 0:
        raise ValueError("drop_lowest cannot be negative")
    kept = sorted(points)[drop_lowest:]
    if not kept:
        return None
    return sum(kept) / len(kept)


def weighted_average(scores: dict[str, float | None], weights: dict[str, float]) -> float:
    """Average of category scores by weight; categories without a score are left out
    and the remaining weights are rescaled."""
    total = 0.0
    weight_sum = 0.0
    for category, score in scores.items():
        if score is None:
            continue
        weight = weights.get(category, 0.0)
        total += score * weight
        weight_sum += weight
    if weight_sum == 0:
        raise ValueError("no graded category has a weight")
    return total / weight_sum


def letter(score: float) -> str:
    if not 0 <= score <= 100:
        raise ValueError(f"score out of range: {score}")
    return next(grade for threshold, grade in LETTERS if score >= threshold)


def final_grade(
    categories: dict[str, list[float]], weights: dict[str, float], drop_lowest_quiz: int = 1
) -> tuple[float, str]:
    """The course score (rounded to one decimal) and its letter grade."""
    scores = {
        name: category_score(points, drop_lowest_quiz if name == "quizzes" else 0)
        for name, points in categories.items()
    }
    average = round(weighted_average(scores, weights), 1)
    return average, letter(average)
