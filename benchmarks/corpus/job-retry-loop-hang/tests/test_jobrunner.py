import pytest

from jobrunner import JobRunner


def flaky(failures):
    calls = {"n": 0}

    def action():
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ConnectionError(f"attempt {calls['n']} failed")
        return calls["n"]

    return action


def test_successful_job():
    runner = JobRunner()
    job = runner.submit("ok", lambda: 42)
    assert runner.run_job(job) is True
    assert (job.status, job.result, job.attempts) == ("done", 42, 1)


def test_job_succeeds_after_retries():
    runner = JobRunner(max_attempts=3)
    job = runner.submit("flaky", flaky(2))
    assert runner.run_job(job) is True
    assert job.attempts == 3 and job.result == 3


def test_job_that_keeps_failing_gives_up():
    runner = JobRunner(max_attempts=3)
    job = runner.submit("broken", flaky(float("inf")))
    assert runner.run_job(job) is False
    assert job.status == "failed" and job.attempts == 3
    assert job.last_error == "ConnectionError: attempt 3 failed"


def test_run_all_reports_every_job():
    runner = JobRunner(max_attempts=2)
    runner.submit("a", lambda: 1)
    runner.submit("b", flaky(1))
    assert runner.run_all() == {"a": "done", "b": "done"}
    assert runner.pending == 0


def test_invalid_attempts():
    with pytest.raises(ValueError):
        JobRunner(max_attempts=0)
