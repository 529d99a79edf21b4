"""One round's search: each engine's candidates, in batches, admitted and screened; the
complete ones ranked and proven (``stages/proof.py``) until one is kept.

After the first complete candidate of a batch, screening goes on for ``RANK_SLICE`` more
candidates (or until ``rank_pool`` complete ones are found) so that ranking has a choice.
Partial fixes are kept in reserve: those that make some of the round's failing tests pass
but leave others failing, including a change on a line only some of them run (it cannot
reach the others). A candidate that fixes them all is preferred: only when none turns up
within ``PARTIAL_PATIENCE`` more batches (or most of the budget) are the best partial ones
proven. Two partial rounds can add up to code the tests pass and nobody meant (a modulus
`% 10` for `% 100` became `// 10 in (11, 1, 13)` when partial fixes were proven sooner).
Failing tests that never enter the changed function belong to another bug and do not make
a candidate partial, so a project with two bugs still gets its first fix early."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.engines.base import Engine, FeedbackLog, RepairContext
from bot.gates.causes import RoundCauses
from bot.models import Candidate, TestRun, Verdict
from bot.stages.budget import room_for_proof
from bot.stages.candidates import BATCH_SIZE, admissible, batches, guarded, trace_candidate
from bot.stages.context import RoundInputs, Run, tampered
from bot.stages.proof import prove, prove_ranked
from bot.stages.screening import Selection, probe_plan
from bot.validate import complete

RANK_SLICE = 16
# batches screened after the first partial fix before the partial ones are proven
PARTIAL_PATIENCE = 6
PARTIAL_PROVEN = 3  # partial fixes proven at a time, best first


@dataclass
class Search:
    """One engine's search in a round, as it goes."""

    engine: Engine
    selection: Selection
    feedback: FeedbackLog
    reserve_after: float  # past this monotonic time, only the partial fixes are proven
    tried: int = 0
    order: int = 0
    batches: int = 0
    partial: list[tuple[int, int, Candidate, Verdict]] = field(default_factory=list)
    partial_since: int | None = None  # the batch that found the first partial fix in reserve

    def partial_due(self) -> bool:
        since = self.partial_since
        return since is not None and self.batches - since >= PARTIAL_PATIENCE

    def take_partial(self) -> list[tuple[Candidate, Verdict]]:
        """The best partial fixes in reserve, taken out of it."""
        best = sorted(self.partial, key=lambda item: item[:2])[:PARTIAL_PROVEN]
        self.partial = [item for item in self.partial if item not in best]
        self.partial_since = self.batches if self.partial else None
        return [(candidate, verdict) for _, _, candidate, verdict in best]


def search_round(run: Run, inputs: RoundInputs) -> TestRun | None:
    """Search for a candidate, prove it, commit it. Returns the new run or None."""
    run.state.causes = RoundCauses()
    selection = Selection.of(
        inputs.current, inputs.targets, inputs.code, run.state.flakiness.unreliable_guards
    )
    feedback = FeedbackLog()
    for engine in run.ports.engines:
        context = RepairContext(
            project_dir=run.workspace.project_dir,
            sources=inputs.code,
            test_sources=inputs.tests,
            analysis=inputs.analysis,
            baseline=inputs.current,
            round_number=inputs.number,
            deadline=run.clock.at,
            feedback=feedback,
            instruction=run.trigger.instruction,
            allow_test_edits=run.settings.allow_test_edits,
            protected=run.settings.protected,
            learned=run.state.learned,
        )
        run.stage(inputs.stage, f"{engine.name}: searching")
        started = time.monotonic()
        search = Search(
            engine,
            selection,
            feedback,
            reserve_after=started + 0.6 * max(0.0, run.clock.at - started),
        )
        result = _search(run, inputs, search, context)
        if result is not None:
            return result
    return None


def _search(
    run: Run, inputs: RoundInputs, search: Search, context: RepairContext
) -> TestRun | None:
    size = 1 if search.engine.name == "llm" else BATCH_SIZE
    for batch in batches(guarded(run, search.engine, context), size):
        if time.monotonic() > search.reserve_after or search.tried >= run.settings.candidate_budget:
            break
        if not room_for_proof(run):
            break
        proven = _screen(run, inputs, search, batch)
        if proven is not None:
            return proven
        search.batches += 1
        if search.partial_due():
            proven = _prove_partial(run, inputs, search)
            if proven is not None:
                return proven
    return _prove_partial(run, inputs, search)


def _prove_partial(run: Run, inputs: RoundInputs, search: Search) -> TestRun | None:
    for candidate, verdict in search.take_partial():
        if not room_for_proof(run):
            break
        proven = prove(run, inputs, candidate, verdict)
        if proven is not None:
            return proven
    return None


def _screen(
    run: Run, inputs: RoundInputs, search: Search, batch: list[Candidate]
) -> TestRun | None:
    """Admit and screen one batch, then rank and prove its complete candidates."""
    allowed = _admit(run, inputs, search, batch)
    run.state.candidates_tried += len(batch)
    search.tried += len(batch)
    if not allowed:
        return None
    pool = run.settings.rank_pool
    verdicts = run.validator.screen(
        allowed,
        search.selection,
        inputs.current,
        want=pool,
        extra=RANK_SLICE if pool > 1 else 0,
        probe=lambda candidate: probe_plan(run, inputs, candidate),
    )
    changed = tampered(run.state)
    if changed:  # this batch's candidates ran with it: none of them is kept
        verdicts = [
            None if v is None else Verdict(v.candidate_id, False, changed, stage="git")
            for v in verdicts
        ]
    _record(run, search, allowed, verdicts)
    plausible = [
        (candidate, verdict)
        for candidate, verdict in zip(allowed, verdicts, strict=True)
        if verdict is not None and complete(verdict)
    ][:pool]
    if plausible:
        proven = prove_ranked(run, inputs, plausible, run.validator.last_probe)
        if proven is not None:
            return proven
    run.stage(inputs.stage, f"{search.engine.name}: {search.tried} candidates tried")
    return None


def _admit(
    run: Run, inputs: RoundInputs, search: Search, batch: list[Candidate]
) -> list[Candidate]:
    """The candidates of the batch that may be screened; the others are recorded as refused."""
    allowed: list[Candidate] = []
    for candidate in batch:
        stage, problem = admissible(run, inputs, candidate)
        if problem:
            _count(run, search, candidate, Verdict(candidate.id, False, problem, stage=stage))
            continue
        allowed.append(candidate)
    return allowed


def _record(
    run: Run, search: Search, screened: Sequence[Candidate], verdicts: Sequence[Verdict | None]
) -> None:
    """Record the screening verdicts; keep the partial fixes in reserve."""
    for candidate, verdict in zip(screened, verdicts, strict=True):
        if verdict is None:
            continue
        _count(run, search, candidate, verdict)
        search.order += 1
        if verdict.accepted and verdict.still_failing:
            search.partial.append((-len(verdict.fixed), search.order, candidate, verdict))
            if search.partial_since is None:
                search.partial_since = search.batches


def _count(run: Run, search: Search, candidate: Candidate, verdict: Verdict) -> None:
    search.feedback.add(candidate, verdict)
    trace_candidate(run.ports.trace, candidate, verdict)
    run.state.causes.count(verdict, candidate.description)
