import pytest

from gradebook import category_score, final_grade, letter, weighted_average

WEIGHTS = {"homework": 0.3, "quizzes": 0.2, "exam": 0.5}


def test_category_score_drops_the_lowest():
    assert category_score([50, 80, 90], drop_lowest=1) == 85
    assert category_score([70], drop_lowest=1) is None


def test_weighted_average():
    scores = {"homework": 90, "quizzes": 70, "exam": 60}
    assert weighted_average(scores, WEIGHTS) == pytest.approx(71.0)


def test_missing_category_rescales_weights():
    assert weighted_average({"homework": 100, "exam": 60, "quizzes": None}, WEIGHTS) == (
        pytest.approx(75.0)
    )


def test_no_weighted_category():
    with pytest.raises(ValueError):
        weighted_average({"exam": None}, WEIGHTS)


@pytest.mark.parametrize("score, grade", [(95, "A"), (90, "A"), (89.9, "B"), (59, "F")])
def test_letters(score, grade):
    assert letter(score) == grade


def test_final_grade():
    categories = {"homework": [80, 90], "quizzes": [40, 90, 100], "exam": [78]}
    assert final_grade(categories, WEIGHTS) == (83.5, "B")
