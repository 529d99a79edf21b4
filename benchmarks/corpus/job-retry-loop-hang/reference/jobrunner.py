"""Run background jobs with a bounded number of attempts and record their outcome."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Job:
    name: str
    action: Callable[[], Any]
    status: str = "pending"  # pending, done, failed
    attempts: int = 0
    result: Any = None
    last_error: str = ""


class JobRunner:
    def __init__(self, max_attempts: int = 3) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self._queue: deque[Job] = deque()

    def submit(self, name: str, action: Callable[[], Any]) -> Job:
        job = Job(name, action)
        self._queue.append(job)
        return job

    def run_job(self, job: Job) -> bool:
        """Try ``job`` up to ``max_attempts`` times; return whether it succeeded."""
        attempt = 0
        while attempt < self.max_attempts:
            job.attempts += 1
            try:
                job.result = job.action()
            except Exception as error:
                job.last_error = f"{type(error).__name__}: {error}"
                attempt += 1
            else:
                job.status = "done"
                return True
        job.status = "failed"
        return False

    def run_all(self) -> dict[str, str]:
        """Run every queued job in submission order; return each job's final status."""
        outcome = {}
        while self._queue:
            job = self._queue.popleft()
            self.run_job(job)
            outcome[job.name] = job.status
        return outcome

    @property
    def pending(self) -> int:
        return len(self._queue)
