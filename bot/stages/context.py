"""What a run carries through its stages: the adapters (``Ports``), the run's context built
once (``Run``: settings, workspace, runner, validator, the one ``Deadline``, the trust gates,
the state the stages add to) and the small value of one round (``RoundInputs``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot import workspace as ws
from bot.config import Settings
from bot.deadline import Deadline
from bot.engines.base import Engine
from bot.engines.mutations.learned import NO_LEARNED_PRIORS, LearnedPriors
from bot.gates import flaky as flaky_gate
from bot.gates.behaviour import Prober
from bot.gates.causes import RoundCauses
from bot.gates.keeper import Keeper
from bot.gates.overfit import Literal
from bot.gates.reach import Reach
from bot.models import Analysis, Round, TestRun, Trigger, Workspace
from bot.sandbox.base import Sandbox
from bot.testing.runner import TestRunner
from bot.trace import Trace
from bot.validate import Validator, per_test_timeout


class Progress(Protocol):
    def stage(self, name: str, detail: str = "") -> None: ...

    def note(self, message: str) -> None: ...


class SilentProgress:
    def stage(self, name: str, detail: str = "") -> None:
        return None

    def note(self, message: str) -> None:
        return None


@dataclass
class Ports:
    """The adapters a run uses; built by the CLI (or a test), never inside the stages."""

    sandbox: Sandbox
    engines: Sequence[Engine]
    progress: Progress = field(default_factory=SilentProgress)
    trace: Trace = field(default_factory=lambda: Trace(None))
    notes: Sequence[str] = ()  # said once in the result (e.g. "no LLM configured")


@dataclass
class RunState:
    """What the stages learn and add to as the run goes on."""

    suite_seconds: float = 0.0  # how long the whole selection took at the baseline
    candidates_tried: int = 0
    rounds: list[Round] = field(default_factory=list)
    fingerprints: dict[str, int] = field(default_factory=dict)
    flakiness: flaky_gate.Flakiness = field(default_factory=flaky_gate.Flakiness)
    base_sources: dict[str, str] = field(default_factory=dict)  # code at the base commit
    gates: list[dict[str, object]] = field(default_factory=list)  # gates of kept rounds
    runners_up: list[dict[str, object]] = field(default_factory=list)
    ranking: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said in the result's warnings
    cut_short: bool = False  # the budget ended a run (baseline or proof) before it finished
    out_of_time: bool = False  # the time left could not hold a proof, so none was started
    guard: ws.MetadataGuard | None = None  # the worktree's git metadata, as mendbot left it
    start_head: str = ""  # the branch's commit before the first round
    test_files: frozenset[str] = frozenset()  # the files the baseline collected tests from
    causes: RoundCauses = field(default_factory=RoundCauses)  # of the round under way
    learned: LearnedPriors = NO_LEARNED_PRIORS  # read from the earlier runs before round 1

    @property
    def excluded(self) -> frozenset[str]:
        return self.flakiness.excluded


@dataclass
class Trust:
    """The gates and the behaviour probe of one run."""

    keeper: Keeper
    prober: Prober
    reach: Reach


@dataclass(frozen=True)
class Run:
    """One run's context, built once when its workspace is open; every stage reads it."""

    trigger: Trigger
    settings: Settings
    ports: Ports
    workspace: Workspace
    runner: TestRunner
    validator: Validator
    clock: Deadline  # the run's one time budget
    trust: Trust
    state: RunState
    started: float  # ``time.monotonic()`` when the run began

    def stage(self, name: str, detail: str = "") -> None:
        self.ports.progress.stage(name, detail)

    def test_timeout(self, run: TestRun) -> float:
        """The per-test limit for runs judged against ``run``."""
        return per_test_timeout(run, self.settings.test_timeout)


@dataclass(frozen=True)
class RoundInputs:
    """What every step of one round reads: its number, the run it starts from, its sources."""

    number: int
    current: TestRun
    analysis: Analysis
    code: dict[str, str]
    tests: dict[str, str]
    targets: tuple[str, ...]  # the failing tests and the test files that did not collect
    literals: frozenset[Literal]  # written in the failing tests (special-casing guard)

    @property
    def stage(self) -> str:
        return f"round {self.number}"


def tampered(state: RunState) -> str:
    """What the tests changed of the worktree's git metadata (restored), "" when nothing."""
    changed = state.guard.check() if state.guard is not None else []
    return ws.tampering_message(changed).removeprefix("the tests ") if changed else ""
