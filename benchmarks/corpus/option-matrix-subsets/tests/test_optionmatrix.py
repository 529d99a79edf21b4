from optionmatrix import count, describe, matrix, subsets


def test_no_options_is_one_build():
    assert subsets([]) == [[]]


def test_two_options():
    assert subsets(["a", "b"]) == [[], ["b"], ["a"], ["a", "b"]]


def test_count_doubles():
    assert count(["x", "y", "z"]) == 8


def test_describe():
    assert describe([]) == "default"
    assert describe(["ci", "debug"]) == "ci+debug"


def test_required_flags_come_first():
    assert matrix(["debug"], ["ci"]) == [["ci"], ["ci", "debug"]]
