"""The run's time budget as one object that every stage and every wait consults.

A ``Deadline`` is made once, when a run starts, from ``--time-budget``. Nothing a run waits
for may outlive it: each sandboxed command is cut at the deadline by ``BoundedSandbox`` (so no
stage can forget the budget, whatever timeout it asked for), the engines stop proposing, the
LLM backends shorten their calls, and a proof that cannot finish in the time left is not
started. What is left after the deadline is the run's own bookkeeping (the result, the run
record, removing the worktree): a second or two.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.models import ProcessResult
from bot.sandbox.base import Sandbox, SandboxCommand

# A sandboxed command is never given less than this, so that one that starts right at the
# deadline still reports cleanly instead of being killed before it can write anything.
MINIMUM_COMMAND_SECONDS = 0.5


@dataclass(frozen=True)
class Deadline:
    """``at`` is a ``time.monotonic()`` value; ``budget`` the seconds the run was given."""

    at: float
    budget: float

    @classmethod
    def start(cls, budget: float) -> Deadline:
        return cls(at=time.monotonic() + budget, budget=budget)

    @classmethod
    def unbounded(cls) -> Deadline:
        return cls(at=float("inf"), budget=float("inf"))

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def elapsed(self) -> float:
        return self.budget - (self.at - time.monotonic())

    def limit(self, wanted: float | None = None) -> float:
        """A timeout that ends by the deadline: ``wanted`` or the time left, whichever is less."""
        left = self.remaining()
        return left if wanted is None else min(wanted, left)

    def fits(self, seconds: float) -> bool:
        """Whether something expected to take ``seconds`` can finish before the deadline."""
        return seconds <= self.remaining()


class BoundedSandbox:
    """A sandbox whose every command ends by the run's deadline.

    It wraps the configured backend for the length of one run. A command cut by the deadline
    comes back like any other timeout (``timed_out``); the callers treat a run that did not
    finish as proving nothing, never as a regression.
    """

    def __init__(self, inner: Sandbox, deadline: Deadline) -> None:
        self.inner = inner
        self.deadline = deadline
        self.name = inner.name

    def run(self, command: SandboxCommand) -> ProcessResult:
        timeout = max(MINIMUM_COMMAND_SECONDS, self.deadline.limit(command.timeout))
        if timeout < command.timeout:
            command = dataclasses.replace(command, timeout=timeout)
        return self.inner.run(command)

    def warnings(self) -> Sequence[str]:
        return self.inner.warnings()

    def __getattr__(self, name: str) -> Any:
        # backend-specific capabilities (``persistent_workers``, the docker image, ...)
        return getattr(self.inner, name)


def bounded(sandbox: Sandbox, deadline: Deadline) -> Sandbox:
    """``sandbox`` with every command cut at ``deadline`` (wrapped once, never twice)."""
    if isinstance(sandbox, BoundedSandbox):
        if sandbox.deadline == deadline:
            return sandbox
        sandbox = sandbox.inner
    return BoundedSandbox(sandbox, deadline)
