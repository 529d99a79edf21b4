from jobqueue import run_all, run_named


def test_limit_stops_early():
    assert run_all([lambda: 1, lambda: 2, lambda: 3], limit=2) == [1, 2]


def test_all_jobs_run():
    assert run_all([lambda: "a", lambda: "b"]) == ["a", "b"]


def test_no_jobs():
    assert run_all([]) == []


def test_named():
    assert run_named({"b": lambda: 2, "a": lambda: 1}) == {"a": 1, "b": 2}


def test_limit_of_one():
    assert run_all([lambda: "x", lambda: "y"], limit=1) == ["x"]
