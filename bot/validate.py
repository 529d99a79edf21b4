"""Candidate validation: screen many candidates cheaply, then prove the winner for real.

Screening answers one question per candidate: do some of the failing tests pass now, while the
passing tests that cover the changed lines still pass? Two paths answer it:

* ``fast``: one pytest worker per batch collects the suite once and forks a child per
  candidate (see ``mendbot_pytest``), so a candidate costs a fork and its tests, not an
  interpreter and a pytest start-up. Candidates run in parallel, the verdict of each is keyed
  by its position, and the first plausible one in candidate order wins: the same run twice
  gives the same winner whatever finished first.
* ``naive``: a fresh pytest subprocess per candidate, with the files written into the
  worktree. It is the reference the fast path is measured against, and the fallback where
  the fast path cannot judge (a module that does not import, a change it cannot swap in).

Screening may only reject. The pipeline accepts a candidate only after a full pytest run in
the configured sandbox, from the committed tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.models import Candidate, Outcome, TestRun, Verdict, Workspace
from bot.testing.runner import TestRunner
from bot.workspace import restore_clean, write_files

TIMEOUT_FLOOR = 0.5


class TestSelection(Protocol):
    """Which failing tests (targets) and passing tests (guards) judge a candidate."""

    @property
    def targets(self) -> tuple[str, ...]: ...

    def targets_for(self, candidate: Candidate) -> list[str]: ...

    def guards_for(self, candidate: Candidate) -> list[str]: ...


TIMEOUT_FACTOR = 5.0


def calibrated_timeout(baseline: TestRun, nodeids: Sequence[str], cap: float) -> float:
    """A time limit for running ``nodeids``: each test's baseline duration times a factor
    plus a floor; a test that timed out at baseline gets the floor only."""
    by_id = baseline.by_id()
    total = 0.0
    for nodeid in nodeids:
        result = by_id.get(nodeid)
        duration = 0.0 if result is None or result.outcome is Outcome.TIMEOUT else result.duration
        total += TIMEOUT_FLOOR + TIMEOUT_FACTOR * duration
    return min(max(total, TIMEOUT_FLOOR), cap)


def per_test_timeout(baseline: TestRun, cap: float) -> float:
    durations = [
        r.duration for r in baseline.results if r.outcome not in (Outcome.TIMEOUT, Outcome.NOT_RUN)
    ]
    longest = max(durations, default=0.0)
    return min(TIMEOUT_FLOOR + TIMEOUT_FACTOR * longest, cap)


def complete(verdict: Verdict | None) -> bool:
    """Accepted and fixing every failing test that runs the changed lines."""
    return verdict is not None and verdict.accepted and not verdict.still_failing


@dataclass
class ScreenStats:
    screened: int = 0
    fast: int = 0
    naive: int = 0
    seconds: float = 0.0
    worker_runs: int = 0
    fallbacks: list[str] = field(default_factory=list)


@dataclass
class Validator:
    runner: TestRunner
    workspace: Workspace
    mode: str  # "fast" | "naive"
    workers: int
    test_timeout: float  # cap for any per-test limit
    stats: ScreenStats = field(default_factory=ScreenStats)

    def screen(
        self,
        candidates: Sequence[Candidate],
        selection: TestSelection,
        baseline: TestRun,
        *,
        stop_at_first: bool = True,
    ) -> list[Verdict | None]:
        """One verdict per candidate, in order; ``None`` where screening stopped early."""
        import time

        started = time.monotonic()
        verdicts: list[Verdict | None] = [None] * len(candidates)
        pending = list(range(len(candidates)))
        targets = selection.targets
        if self.mode == "fast" and targets and all("::" in t for t in targets):
            pending = self._fast(candidates, selection, baseline, verdicts, stop_at_first)
        for index in pending:
            if stop_at_first and any(complete(v) for v in verdicts[:index]):
                break
            verdicts[index] = self._naive(candidates[index], selection, baseline)
            self.stats.naive += 1
        self.stats.screened += sum(1 for v in verdicts if v is not None)
        self.stats.seconds += time.monotonic() - started
        return verdicts

    # ------------------------------------------------------------------ fast

    def _fast(
        self,
        candidates: Sequence[Candidate],
        selection: TestSelection,
        baseline: TestRun,
        verdicts: list[Verdict | None],
        stop_at_first: bool,
    ) -> list[int]:
        """Screen through the fork worker; returns the indices it could not judge."""
        entries = []
        per_candidate_targets = []
        for candidate in candidates:
            targets = selection.targets_for(candidate)
            per_candidate_targets.append(targets)
            guards = [g for g in selection.guards_for(candidate) if g not in selection.targets]
            entries.append(
                {
                    "edits": {
                        str((self.workspace.project_dir / e.path).resolve()): e.new_text
                        for e in candidate.edits
                    },
                    "targets": list(targets),
                    "guards": guards,
                    "timeout": calibrated_timeout(baseline, [*targets, *guards], self.test_timeout)
                    + 0.5,
                }
            )
        remaining = list(range(len(candidates)))
        unjudged: list[int] = []
        attempts = 0
        while remaining and attempts < 3:
            attempts += 1
            batch = [entries[i] for i in remaining]
            budget = sum(e["timeout"] for e in batch) / max(1, self.workers) + 60.0  # type: ignore[misc]
            results, error = self.runner.screen(
                batch, workers=self.workers, timeout=budget, stop_at_first=stop_at_first
            )
            self.stats.worker_runs += 1
            restore_clean(self.workspace)
            if error and not results:
                self.stats.fallbacks.append(
                    error.strip().splitlines()[-1][:200] if error.strip() else "worker failed"
                )
                return unjudged + remaining
            next_round: list[int] = []
            for position, index in enumerate(remaining):
                result = results.get(position)
                if result is None:
                    # not started (an earlier one won) or the worker died before reaching it
                    if not (stop_at_first and self._won_before(verdicts, index)):
                        next_round.append(index)
                    continue
                verdict = self._verdict(candidates[index], per_candidate_targets[index], result)
                if verdict is None:
                    unjudged.append(index)
                else:
                    verdicts[index] = verdict
                    self.stats.fast += 1
            if stop_at_first and any(complete(v) for v in verdicts):
                winner = min(i for i, v in enumerate(verdicts) if complete(v))
                return [i for i in unjudged if i < winner]
            remaining = next_round
        return unjudged + remaining

    @staticmethod
    def _won_before(verdicts: list[Verdict | None], index: int) -> bool:
        return any(complete(v) for v in verdicts[:index])

    @staticmethod
    def _verdict(
        candidate: Candidate, targets: Sequence[str], result: Mapping[str, object]
    ) -> Verdict | None:
        if "unscreenable" in result or "cancelled" in result:
            return None
        if "crash" in result:
            return Verdict(candidate.id, False, f"the test process crashed: {result['crash']}")
        if "timeout" in result:
            return Verdict(candidate.id, False, "timed out: " + str(result["timeout"]))
        fixed = tuple(str(x) for x in result.get("fixed", []))  # type: ignore[attr-defined]
        broken = tuple(str(x) for x in result.get("broken", []))  # type: ignore[attr-defined]
        still = tuple(t for t in targets if t not in fixed)
        if not fixed:
            return Verdict(candidate.id, False, "the failing tests still fail", still_failing=still)
        if broken:
            return Verdict(candidate.id, False, f"breaks {broken[0]}", fixed, broken, still)
        return Verdict(candidate.id, True, "screened: fixes " + ", ".join(fixed), fixed, (), still)

    # ------------------------------------------------------------------ naive

    def _naive(
        self,
        candidate: Candidate,
        selection: TestSelection,
        baseline: TestRun,
    ) -> Verdict:
        targets = selection.targets_for(candidate)
        guards = [g for g in selection.guards_for(candidate) if g not in selection.targets]
        original = {
            e.path: (self.workspace.project_dir / e.path).read_text(encoding="utf-8")
            for e in candidate.edits
            if (self.workspace.project_dir / e.path).exists()
        }
        write_files(self.workspace, {e.path: e.new_text for e in candidate.edits})
        try:
            timeout = calibrated_timeout(baseline, [*targets, *guards], self.test_timeout)
            run = self.runner.run(
                [*targets, *guards],
                timeout=timeout + 30.0,
                per_test_timeout=per_test_timeout(baseline, self.test_timeout),
            )
        finally:
            restore_clean(self.workspace)
            write_files(self.workspace, original)
        return judge(candidate.id, run, targets, guards)


def judge(
    candidate_id: str, run: TestRun, targets: Sequence[str], guards: Sequence[str]
) -> Verdict:
    """Verdict from a real run of targets and guards (targets may be test files)."""
    by_id = run.by_id()
    if run.timed_out and not run.results:
        return Verdict(candidate_id, False, "the test run timed out")
    if run.collection_errors:
        return Verdict(
            candidate_id,
            False,
            "collection fails: " + run.collection_errors[0].message[:200],
            still_failing=tuple(targets),
        )

    def passed(nodeid: str) -> bool:
        if "::" not in nodeid:  # a whole test file that failed to collect at base
            inside = [r for r in run.results if r.nodeid.startswith(nodeid + "::")]
            return bool(inside) and any(r.outcome is Outcome.PASSED for r in inside)
        result = by_id.get(nodeid)
        return result is not None and result.outcome is Outcome.PASSED

    fixed = tuple(t for t in targets if passed(t))
    still = tuple(t for t in targets if t not in fixed)
    broken = tuple(g for g in guards if g in by_id and by_id[g].outcome.is_bad)
    if not fixed:
        return Verdict(candidate_id, False, "the failing tests still fail", still_failing=still)
    if broken:
        return Verdict(candidate_id, False, f"breaks {broken[0]}", fixed, broken, still)
    return Verdict(candidate_id, True, "fixes " + ", ".join(fixed), fixed, (), still)
