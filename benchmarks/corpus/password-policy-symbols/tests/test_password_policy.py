from password_policy import Policy, is_acceptable, problems, strength


def test_good_password_has_no_problems():
    assert problems("correct-horse-42") == []


def test_short_password():
    assert problems("ab1!") == ["use at least 10 characters"]


def test_missing_digit_and_symbol():
    assert problems("abcdefghijkl") == ["add a digit", "add a symbol such as ! or #"]


def test_spaces_do_not_count_as_symbols():
    assert "add a symbol such as ! or #" in problems("open sesame 12")


def test_username_is_forbidden_case_insensitively():
    assert problems("Alice-2024-pw", username="alice") == ["do not include your username"]


def test_relaxed_policy_without_symbols():
    policy = Policy(min_length=8, require_symbol=False)
    assert problems("sunshine7", policy) == []


def test_relaxed_policy_still_checks_length():
    policy = Policy(min_length=8, require_digit=False, require_symbol=False)
    assert problems("short", policy) == ["use at least 8 characters"]
    assert is_acceptable("longenough", policy)


def test_strength_meter():
    assert strength("abc") == 0
    assert strength("Abcdefghijk1!") == 4
