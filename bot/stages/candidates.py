"""Candidates: what the engines propose, in batches, and which of them may be screened at all
(paths mendbot may write, code that compiles, the dangerous-call and overfitting guards)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.analysis.source import compile_error
from bot.edits import check_path
from bot.engines.base import Engine, RepairContext
from bot.errors import LLMError
from bot.gates.dangerous import candidate_refusal
from bot.models import Candidate, Verdict
from bot.stages.context import RoundInputs, Run
from bot.trace import Trace

BATCH_SIZE = 48


def batches(candidates: Iterator[Candidate], size: int) -> Iterator[list[Candidate]]:
    """Batches of candidates: a first small one (most bugs fall to the first few dozen),
    then larger ones, since each batch pays one worker start-up."""
    batch: list[Candidate] = []
    for candidate in candidates:
        batch.append(candidate)
        if len(batch) >= size:
            yield batch
            batch = []
            size = size if size == 1 else min(size * 2, 4 * BATCH_SIZE)
    if batch:
        yield batch


def guarded(run: Run, engine: Engine, context: RepairContext) -> Iterator[Candidate]:
    """The engine's candidates; under --engine auto a failing model ends only its own search,
    and the rounds the templates already kept stay."""
    try:
        yield from engine.propose(context)
    except LLMError as error:
        if run.settings.engine != "auto":
            raise
        run.state.notes.append(f"the LLM stopped: {error.message}")
        run.ports.trace.write("llm_error", message=error.message, hint=error.hint)
    stop_reason = getattr(engine, "stop_reason", "")
    if stop_reason:
        run.state.notes.append(f"the LLM engine stopped: {stop_reason}")


def admissible(run: Run, inputs: RoundInputs, candidate: Candidate) -> tuple[str, str]:
    """(stage, reason) when the candidate may not even be screened, else ("", "")."""
    settings, workspace = run.settings, run.workspace
    for edit in candidate.edits:
        relative = (workspace.project_subdir + "/" if workspace.project_subdir else "") + edit.path
        problem = check_path(
            relative, workspace.worktree, settings.protected, settings.allow_test_edits
        )
        if not problem and edit.path in inputs.tests and not settings.allow_test_edits:
            problem = (
                f"{edit.path} holds tests the suite collects; tests change only when test "
                "edits are allowed"
            )
        if problem:
            return "guard", problem
        if relative in workspace.ignored:
            return "guard", f"{relative} is a file git ignores (copied in for the tests)"
        before = inputs.code.get(edit.path, inputs.tests.get(edit.path, ""))
        error = compile_error(before, edit.new_text, edit.path)
        if error:
            return "guard", f"does not compile: {error}"
    unsafe = candidate_refusal(candidate, inputs.code, inputs.tests)
    if unsafe:
        run.state.notes.append(f"refused {candidate.engine} candidate {candidate.id}: {unsafe}")
        return "safety", unsafe
    return run.trust.keeper.refusal(candidate, inputs.code, inputs.tests, inputs.literals)


def trace_candidate(trace: Trace, candidate: Candidate, verdict: Verdict) -> None:
    trace.write(
        "candidate",
        id=candidate.id,
        engine=candidate.engine,
        template=candidate.template,
        description=candidate.description,
        accepted=verdict.accepted,
        reason=verdict.reason,
        stage=verdict.stage,
        fixed=list(verdict.fixed),
        size=candidate.size,
        prior=candidate.prior,
    )
