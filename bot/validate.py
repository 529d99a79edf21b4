"""Candidate validation: screen many candidates cheaply, then prove the winner for real.

Screening answers one question per candidate: do some of the failing tests pass now, while the
passing tests that cover the changed lines still pass? Two paths answer it:

* ``fast``: a pytest worker collects the suite once and forks a child per candidate (see
  ``mendbot_pytest``), so a candidate costs a fork and its tests, not an interpreter and a
  pytest start-up. Files a candidate's child writes, changes or removes are saved first and
  put back when it ends (``mendbot_writes``), and the candidates that ran beside it are
  screened again. Where the sandbox allows it the worker stays up for every batch of the
  same tree (``bot/testing/worker.py``; the pipeline starts it beside the baseline run), so a
  repair pays one start-up per round, not one per batch. Candidates run in parallel, the
  verdict of each is keyed by its position, and the first plausible one in candidate order
  wins: the same run twice gives the same winner whatever finished first.
* ``naive``: a fresh pytest subprocess per candidate, with the files written into the
  worktree. It is the reference the fast path is measured against, and the fallback where
  the fast path cannot judge (a module that does not import, a change it cannot swap in,
  tests that start another program, which would run the code on disk).

Screening may only reject. The pipeline accepts a candidate only after a full pytest run in
the configured sandbox, from the committed tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from bot.models import Candidate, Outcome, TestRun, Verdict, Workspace
from bot.testing.runner import TestRunner
from bot.workspace import restore_clean, tree_id, write_files

# Per-test limits are a floor plus a multiple of the test's baseline duration. Screening's
# floor is lower than a real run's: a candidate that hangs costs screening that floor, and
# hanging candidates are the rule for a bug that hangs; a false timeout there only rejects.
TIMEOUT_FLOOR = 0.5
SCREEN_FLOOR = 0.25
# Gathering more complete candidates after the first one (for ranking) has a budget in
# candidates; one that runs out of time uses this many of it, since hangs are what make the
# gathering slow. Counting outcomes, never seconds, keeps the gathered set, and so the winner,
# the same from one run to the next.
TIMEOUT_COST = 8
# How the worker compares the behaviour of the complete candidates (see mendbot_probe).
PROBE_SETTINGS = {
    "same_path": True,
    "budget": 1.5,
    "max_calls": 12,
    "variations": 10,
    "call_timeout": 0.25,
}
ProbePlan = Callable[[Candidate], Mapping[str, Any] | None]

# A candidate is judged first on this many of the failing tests, spread over the list
# (failing tests of one file often fail alike): one that fixes none of them is out, whatever
# it does to the others. The worker stops there (``first`` of a screening entry); the naive
# path runs them all and judges by the same rule.
FIRST_TARGETS = 5


def first_targets(targets: Sequence[str]) -> list[str]:
    """The failing tests a candidate is judged on first."""
    count = len(targets)
    return list(dict.fromkeys(targets[i * count // FIRST_TARGETS] for i in range(FIRST_TARGETS)))


def first_ordered(targets: Sequence[str]) -> list[str]:
    """``targets`` with the ones a candidate is judged on first at the front."""
    if len(targets) <= FIRST_TARGETS:
        return list(targets)
    first = first_targets(targets)
    return first + [t for t in targets if t not in first]


class TestSelection(Protocol):
    """Which failing tests (targets) and passing tests (guards) judge a candidate."""

    @property
    def targets(self) -> tuple[str, ...]: ...

    def targets_for(self, candidate: Candidate) -> list[str]: ...

    def unreached_for(self, candidate: Candidate) -> list[str]: ...

    def guards_for(self, candidate: Candidate) -> list[str]: ...


TIMEOUT_FACTOR = 5.0
STARTUP_FLOOR = 5.0
STARTUP_FACTOR = 4.0


def calibrated_timeout(baseline: TestRun, nodeids: Sequence[str], cap: float) -> float:
    """A screening time limit for running ``nodeids``: each test's baseline duration times a
    factor plus a floor; a test that timed out at baseline gets the floor only."""
    by_id = baseline.by_id()
    total = 0.0
    for nodeid in nodeids:
        result = by_id.get(nodeid)
        duration = 0.0 if result is None or result.outcome is Outcome.TIMEOUT else result.duration
        total += SCREEN_FLOOR + TIMEOUT_FACTOR * duration
    return min(max(total, SCREEN_FLOOR), cap)


def per_test_timeout(baseline: TestRun, cap: float, floor: float = TIMEOUT_FLOOR) -> float:
    """One limit for every test of a run: the floor plus a multiple of the longest baseline
    duration."""
    durations = [
        r.duration for r in baseline.results if r.outcome not in (Outcome.TIMEOUT, Outcome.NOT_RUN)
    ]
    longest = max(durations, default=0.0)
    return min(floor + TIMEOUT_FACTOR * longest, cap)


def startup_allowance(baseline: TestRun) -> float:
    """How long a fresh pytest process may take beyond its tests: a multiple of what the
    baseline run spent outside its tests (start-up, collection, reporting), at least a few
    seconds. The per-test limits stop a hanging test; this stops a run whose test swallows
    that limit (``except BaseException`` in a loop) without waiting half a minute."""
    spent_in_tests = sum(r.duration for r in baseline.results)
    overhead = max(0.0, baseline.duration - spent_in_tests)
    return max(STARTUP_FLOOR, STARTUP_FACTOR * overhead)


def complete(verdict: Verdict | None) -> bool:
    """Accepted and fixing every failing test that runs the changed lines."""
    return verdict is not None and verdict.accepted and not verdict.still_failing


def cutoff(verdicts: Sequence[Verdict | None], want: int, extra: int) -> int | None:
    """The last candidate index screening still needs, once it is known; else None.

    Screening stops, in candidate order, at the ``want``-th complete candidate, or once the
    candidates after the first complete one have used up ``extra`` units (one each, or
    ``TIMEOUT_COST`` for one that ran out of time), whichever comes first. ``want=1`` stops
    at the first. The worker applies the same rule (``limit`` in ``mendbot_pytest``).
    """
    found = 0
    first = -1
    spent = 0
    for index, verdict in enumerate(verdicts):
        if first >= 0 and spent >= extra:
            return index - 1
        if first >= 0:
            spent += TIMEOUT_COST if verdict is not None and verdict.timed_out else 1
        if complete(verdict):
            found += 1
            first = index if first < 0 else first
            if found >= want:
                return index
    return None  # not decided by these verdicts


@dataclass
class ScreenStats:
    screened: int = 0
    fast: int = 0
    naive: int = 0
    seconds: float = 0.0
    worker_batches: int = 0
    # candidates the fast path could not judge, by cause (each was judged by a fresh pytest)
    fallbacks: dict[str, int] = field(default_factory=dict)

    def fell_back(self, cause: str) -> None:
        self.fallbacks[cause] = self.fallbacks.get(cause, 0) + 1


@dataclass
class Validator:
    runner: TestRunner
    workspace: Workspace
    mode: str  # "fast" | "naive"
    workers: int
    test_timeout: float  # cap for any per-test limit
    stats: ScreenStats = field(default_factory=ScreenStats)
    last_probe: dict[str, dict[str, Any]] | None = None

    def screen(
        self,
        candidates: Sequence[Candidate],
        selection: TestSelection,
        baseline: TestRun,
        *,
        stop_at_first: bool = True,
        want: int = 1,
        extra: int = 0,
        probe: ProbePlan | None = None,
    ) -> list[Verdict | None]:
        """One verdict per candidate, in order; ``None`` where screening stopped early.

        With ``stop_at_first``, screening stops at the ``want``-th complete candidate,
        or once the candidates after the first complete one used up ``extra`` units (see
        ``cutoff``). Verdicts past that point (a parallel worker may have finished some) are
        dropped, so the candidates returned never depend on timing.

        With ``probe`` (candidate -> its probe plan), the fast path also compares the
        behaviour of the complete candidates it found; the report is left in ``last_probe``
        (target key -> result, variants keyed by candidate id).
        """
        import time

        started = time.monotonic()
        self.last_probe = None
        verdicts: list[Verdict | None] = [None] * len(candidates)
        pending = {index: "" for index in range(len(candidates))}
        targets = selection.targets
        stop = (max(1, want), max(0, extra)) if stop_at_first else None
        if self.mode == "fast":
            if targets:
                pending = self._fast(candidates, selection, baseline, verdicts, stop, probe)
            else:
                pending = dict.fromkeys(pending, "no failing test to screen against")
        for index, cause in sorted(pending.items()):
            if stop is not None:
                limit = cutoff(verdicts[:index], *stop)
                if limit is not None and index > limit:
                    break
            verdicts[index] = self._naive(candidates[index], selection, baseline)
            self.stats.naive += 1
            if cause:
                self.stats.fell_back(cause)
        self.stats.screened += sum(1 for v in verdicts if v is not None)
        self.stats.seconds += time.monotonic() - started
        if stop is not None:
            limit = cutoff(verdicts, *stop)
            if limit is not None:
                verdicts[limit + 1 :] = [None] * (len(verdicts) - limit - 1)
        return verdicts

    # ------------------------------------------------------------------ fast

    def _fast(
        self,
        candidates: Sequence[Candidate],
        selection: TestSelection,
        baseline: TestRun,
        verdicts: list[Verdict | None],
        stop: tuple[int, int] | None,
        probe: ProbePlan | None = None,
    ) -> dict[int, str]:
        """Screen through the fork worker; returns the indices it could not judge, each with
        the reason why."""
        entries = []
        per_candidate_targets = []
        for candidate in candidates:
            targets = first_ordered(selection.targets_for(candidate))
            unreached = selection.unreached_for(candidate)
            per_candidate_targets.append((targets, unreached))
            guards = [g for g in selection.guards_for(candidate) if g not in selection.targets]
            # a failing file that did not collect has no baseline durations: its tests get
            # the limits the naive path gives them (see _naive)
            whole_files = any("::" not in t for t in targets)
            entries.append(
                {
                    "edits": {
                        str((self.workspace.project_dir / e.path).resolve()): e.new_text
                        for e in candidate.edits
                    },
                    "targets": list(targets),
                    "first": FIRST_TARGETS if len(targets) > FIRST_TARGETS else 0,
                    # a candidate that leaves these failing is partial, never complete
                    "unreached": len(unreached),
                    "guards": guards,
                    "timeout": calibrated_timeout(baseline, [*targets, *guards], self.test_timeout)
                    + 0.5
                    + (startup_allowance(baseline) if whole_files else 0.0),
                    "file_limit": per_test_timeout(baseline, self.test_timeout, SCREEN_FLOOR),
                    "limits": {
                        nodeid: calibrated_timeout(baseline, [nodeid], self.test_timeout)
                        for nodeid in [*targets, *guards]
                    },
                }
            )
            if stop is not None and stop != (1, 0):
                # the worker reads the batch's stopping rule from its candidates' entries
                entries[-1].update(
                    {"want": stop[0], "extra": stop[1], "timeout_cost": TIMEOUT_COST}
                )
                plan = probe(candidate) if probe is not None else None
                if plan is not None:
                    entries[-1].update({"probe": dict(plan), "probe_settings": PROBE_SETTINGS})
        remaining = list(range(len(candidates)))
        unjudged: dict[int, str] = {}
        attempts = 0
        worker_error = ""
        tag = tree_id(self.workspace)  # the worker for this tree screens every batch of it
        while remaining and attempts < 3:
            attempts += 1
            batch = [entries[i] for i in remaining]
            budget = sum(e["timeout"] for e in batch) / max(1, self.workers) + 60.0  # type: ignore[misc]
            results, error = self.runner.screen(
                batch,
                workers=self.workers,
                timeout=budget,
                stop_at_first=stop is not None,
                tag=tag,
            )
            self.stats.worker_batches += 1
            restore_clean(self.workspace)
            if error and not results:
                cause = "the screening worker failed: " + (
                    error.strip().splitlines()[-1][:200] if error.strip() else "no output"
                )
                return {**unjudged, **dict.fromkeys(remaining, cause)}
            worker_error = error.strip().splitlines()[-1][:200] if error.strip() else ""
            decided = results.pop(-1, None) is not None
            report = results.pop(-2, None)
            if report is not None and isinstance(report.get("probe"), dict):
                self.last_probe = _by_candidate_id(report["probe"], remaining, candidates)
            missing: list[int] = []
            for position, index in enumerate(remaining):
                result = results.get(position)
                verdict = (
                    None
                    if result is None
                    else self._verdict(candidates[index], *per_candidate_targets[index], result)
                )
                if verdict is not None:
                    verdicts[index] = verdict
                    self.stats.fast += 1
                elif result is not None and "cancelled" not in result:
                    # unscreenable here: the naive path judges it
                    unjudged[index] = "cannot apply the change in place: " + str(
                        result.get("unscreenable", "no verdict")
                    )
                else:
                    missing.append(index)  # not started, cancelled, or the worker died
            next_round = [
                index
                for index in missing
                if not (stop is not None and self._decided_before(verdicts, index, stop, decided))
            ]
            if stop is not None and not next_round:
                completes = [i for i, v in enumerate(verdicts) if complete(v)]
                if completes:  # later unscreenable ones would only widen the choice
                    return {i: c for i, c in unjudged.items() if i < completes[0]}
            remaining = next_round
        cause = "the screening worker stopped before judging it" + (
            f": {worker_error}" if worker_error else " (three attempts)"
        )
        return {**unjudged, **dict.fromkeys(remaining, cause)}

    @staticmethod
    def _decided_before(
        verdicts: list[Verdict | None], index: int, stop: tuple[int, int], decided: bool
    ) -> bool:
        """Whether screening was decided without the candidate at ``index``: it lies past the
        stopping point, or the worker said so and a complete candidate comes before it."""
        limit = cutoff(verdicts[:index], *stop)
        if limit is not None and index > limit:
            return True
        return decided and any(complete(v) for v in verdicts[:index])

    @staticmethod
    def _verdict(
        candidate: Candidate,
        targets: Sequence[str],
        unreached: Sequence[str],
        result: Mapping[str, object],
    ) -> Verdict | None:
        if "unscreenable" in result or "cancelled" in result:
            return None
        if "crash" in result:
            return Verdict(candidate.id, False, f"the test process crashed: {result['crash']}")
        if "timeout" in result:
            return Verdict(
                candidate.id, False, "timed out: " + str(result["timeout"]), timed_out=True
            )
        fixed = tuple(str(x) for x in result.get("fixed", []))  # type: ignore[attr-defined]
        broken = tuple(str(x) for x in result.get("broken", []))  # type: ignore[attr-defined]
        still = (*(t for t in targets if t not in fixed), *unreached)
        found = result.get("outcomes", {})
        outcomes = found if isinstance(found, Mapping) else {}
        # the tests that ran past their limit (the worker's slice counts these, too)
        hung = [n for n, o in outcomes.items() if isinstance(o, list) and o[:1] == ["timeout"]]
        hung_targets = [t for t in targets if t in hung]
        if not fixed and hung_targets:
            verdict = Verdict(
                candidate.id,
                False,
                f"timed out: {hung_targets[0]} ran past its limit",
                still_failing=still,
            )
        elif not fixed:
            verdict = Verdict(
                candidate.id, False, "the failing tests still fail", still_failing=still
            )
        elif broken:
            verdict = Verdict(candidate.id, False, f"breaks {broken[0]}", fixed, broken, still)
        else:
            verdict = Verdict(
                candidate.id, True, "screened: fixes " + ", ".join(fixed), fixed, (), still
            )
        return replace(verdict, timed_out=bool(hung))

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
                timeout=timeout + startup_allowance(baseline),
                per_test_timeout=per_test_timeout(baseline, self.test_timeout, SCREEN_FLOOR),
            )
        finally:
            restore_clean(self.workspace)
            write_files(self.workspace, original)
        verdict = judge(candidate.id, run, targets, guards)
        unreached = selection.unreached_for(candidate)
        if verdict.accepted and unreached:
            return replace(verdict, still_failing=(*verdict.still_failing, *unreached))
        return verdict


def judge(
    candidate_id: str, run: TestRun, targets: Sequence[str], guards: Sequence[str]
) -> Verdict:
    """Verdict from a real run of targets and guards (targets may be test files)."""
    by_id = run.by_id()
    if run.timed_out and not run.results:
        return Verdict(candidate_id, False, "the test run timed out", timed_out=True)
    if run.damage:  # what its tests removed of the worktree (restored since)
        return Verdict(candidate_id, False, run.damage, still_failing=tuple(targets))
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
    if len(targets) > FIRST_TARGETS and not any(passed(t) for t in first_targets(targets)):
        fixed = ()  # the worker's rule: out when none of the first few failing tests passes
    still = tuple(t for t in targets if t not in fixed)
    broken = tuple(g for g in guards if g in by_id and by_id[g].outcome.is_bad)
    if not fixed:
        verdict = Verdict(candidate_id, False, "the failing tests still fail", still_failing=still)
    elif broken:
        verdict = Verdict(candidate_id, False, f"breaks {broken[0]}", fixed, broken, still)
    else:
        verdict = Verdict(candidate_id, True, "fixes " + ", ".join(fixed), fixed, (), still)
    slow = run.timed_out or any(r.outcome is Outcome.TIMEOUT for r in run.results)
    return replace(verdict, timed_out=slow)


def _by_candidate_id(
    report: Mapping[str, Any], positions: Sequence[int], candidates: Sequence[Candidate]
) -> dict[str, dict[str, Any]]:
    """The worker's probe report with batch positions turned back into candidate ids."""

    def renamed(values: object) -> dict[str, Any]:
        if not isinstance(values, Mapping):
            return {}
        found = {}
        for key, value in values.items():
            position = int(key) if str(key).isdigit() else -1
            if 0 <= position < len(positions):
                found[candidates[positions[position]].id] = value
        return found

    translated: dict[str, dict[str, Any]] = {}
    for key, result in report.items():
        if not isinstance(result, Mapping):
            continue
        translated[str(key)] = {
            **result,
            "differences": renamed(result.get("differences")),
            "examples": renamed(result.get("examples")),
            "unloadable": [
                candidates[positions[int(k)]].id
                for k in result.get("unloadable", [])
                if str(k).isdigit() and int(k) < len(positions)
            ],
        }
    return translated
