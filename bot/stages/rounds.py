"""Round: a proven candidate's commit is kept (its gates as trailers, the round recorded), or
the round is rolled back to where it started, the attempt kept under a ref."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot import workspace as ws
from bot.analysis.classify import is_test_path
from bot.gates.base import GateResult, GateStatus, passed, trailer
from bot.gates.coverage import new_lines
from bot.gates.overfit import inspect_candidate
from bot.gates.ranking import Ranked
from bot.gates.reach import Wider
from bot.models import Candidate, Round, TestRun, Verdict, Workspace
from bot.stages.context import RoundInputs, Run


@dataclass
class Attempt:
    """A candidate committed for its proof run, and what the gates found so far."""

    candidate: Candidate
    verdict: Verdict
    ranked: Ranked | None
    gates: list[GateResult]
    previous: str  # the commit to roll back to
    commit: str
    started: float
    note: str  # the root-cause note
    written: list[str]  # tests the candidate writes
    old_texts: dict[str, str]  # the changed files before the candidate


@dataclass(frozen=True)
class Proof:
    """What the proof runs showed of an attempt that passed every gate."""

    raw: TestRun  # the proof run as pytest ran it
    run: TestRun  # the same, flaky tests masked
    fixed: list[str]
    wider: tuple[Wider, TestRun] | None  # the run beyond the selection, when there was one
    proved_by: str


def commit_message(
    number: int, candidate: Candidate, verdict: Verdict, note: str, workspace: Workspace
) -> str:
    first = verdict.fixed[0] if verdict.fixed else "failing tests"
    short = first.split("::")[-1]
    subject = f"mendbot: fix {short} ({candidate.template})"
    trailers = [
        f"Mendbot-Round: {number}",
        f"Mendbot-Engine: {candidate.engine}",
        f"Mendbot-Template: {candidate.template}",
        *[f"Mendbot-Fixed: {t}" for t in verdict.fixed],
        f"Mendbot-Run: {workspace.run_id}",
    ]
    return f"{subject}\n\n{note}\n\n" + "\n".join(trailers) + "\n"


def reject(run: Run, inputs: RoundInputs, attempt: Attempt, why: str) -> None:
    """Roll the round back, keeping the attempt under a ref, and record why."""
    number, candidate = inputs.number, attempt.candidate
    run.state.causes.rolled_back.append(why)
    ref = ws.rollback(run.workspace, attempt.previous, number)
    rejected = ws.run_git(["rev-parse", ref], run.workspace.worktree).strip()
    run.state.rounds.append(
        Round(
            number=number,
            engine=candidate.engine,
            commit=None,
            files=candidate.files,
            fixed_tests=(),
            reason=f"rolled back: {why}",
            template=candidate.template,
            description=candidate.description,
            rejected_ref=ref,
            duration_s=round(time.monotonic() - attempt.started, 3),
        )
    )
    run.ports.trace.write(
        "round",
        number=number,
        accepted=False,
        reason=why,
        rejected_ref=ref,
        rejected_commit=rejected,
        template=candidate.template,
        description=candidate.description,
        gates=[g.to_json() for g in attempt.gates],
    )


def keep(run: Run, inputs: RoundInputs, attempt: Attempt, proof: Proof) -> None:
    """Keep the proven commit: the gates as trailers, the round in the run's record."""
    candidate, gates = attempt.candidate, attempt.gates
    flags = _flags(inputs, attempt)
    gates.append(
        passed("overfitting guards", "flagged: " + "; ".join(flags) if flags else "nothing found")
    )
    note = _explain(run, inputs, proof.fixed, attempt.previous) or attempt.note
    message = commit_message(inputs.number, candidate, attempt.verdict, note, run.workspace)
    commit = _amend(run.workspace, message, gates)
    if proof.wider is not None:
        run.trust.reach.remember(commit, proof.wider[0], proof.wider[1])
    run.state.gates.extend(g.to_json(inputs.number) for g in gates)
    run.state.rounds.append(_kept_round(run, inputs, attempt, proof, commit, note))
    run.ports.trace.write(
        "round",
        number=inputs.number,
        accepted=True,
        commit=commit,
        fixed=proof.fixed,
        template=candidate.template,
        description=candidate.description,
        root_cause=note,
        engine=candidate.engine,
        gates=[g.to_json() for g in gates],
    )
    run.ports.progress.note(
        f"round {inputs.number}: {candidate.description} fixes {len(proof.fixed)} test(s)"
    )


def _flags(inputs: RoundInputs, attempt: Attempt) -> tuple[str, ...]:
    """What the overfitting guards flagged of the candidate (ranking found it already)."""
    if attempt.ranked is not None:
        return attempt.ranked.flags
    edits = [(e.path, attempt.old_texts[e.path], e.new_text) for e in attempt.candidate.edits]
    return tuple(f.describe() for f in inspect_candidate(edits, inputs.literals).flags)


def _kept_round(
    run: Run, inputs: RoundInputs, attempt: Attempt, proof: Proof, commit: str, note: str
) -> Round:
    duration = time.monotonic() - attempt.started
    candidate, old_texts = attempt.candidate, attempt.old_texts
    exercised = _exercising(old_texts, candidate, proof.run)
    if proof.wider:
        exercised += _exercising(old_texts, candidate, proof.wider[1])
    return Round(
        number=inputs.number,
        engine=candidate.engine,
        commit=commit,
        files=candidate.files,
        fixed_tests=tuple(proof.fixed),
        reason=attempt.verdict.reason,
        template=candidate.template,
        description=candidate.description,
        root_cause=note,
        candidates_tried=run.state.candidates_tried,
        duration_s=round(duration, 3),
        proved_by=proof.proved_by,
        exercised_by=tuple(dict.fromkeys(exercised)),
        doubts=tuple(
            f"{g.name}: {g.detail}"
            for g in attempt.gates
            if g.status is GateStatus.DOUBT
            or (g.name == "overfitting guards" and g.detail.startswith("flagged"))
        ),
    )


def _exercising(old_texts: Mapping[str, str], candidate: Candidate, run: TestRun) -> list[str]:
    """The passing tests of ``run`` that ran a line the candidate wrote."""
    written = {
        e.path: new_lines(old_texts.get(e.path, ""), e.new_text)
        for e in candidate.edits
        if not is_test_path(e.path)
    }
    return [
        nodeid
        for nodeid in run.passing
        if any(
            lines & run.coverage.get(nodeid, {}).get(path, frozenset())
            for path, lines in written.items()
        )
    ]


def _explain(run: Run, inputs: RoundInputs, fixed: Sequence[str], previous: str) -> str | None:
    """A model's five-whys note for the kept round, when a model is configured and answers
    usably; None keeps the deterministic note."""
    wanted = set(fixed)
    failures = [f for f in inputs.analysis.failures if f.nodeid in wanted]
    for engine in run.ports.engines:
        explain = getattr(engine, "explain", None)
        if explain is None:
            continue
        diff = ws.diff(run.workspace, previous, "HEAD")
        note = explain(failures or list(inputs.analysis.failures), diff)
        if isinstance(note, str) and note.strip():
            return note.strip()
    return None


def _amend(workspace: Workspace, message: str, gates: Sequence[GateResult]) -> str:
    """Add the gates the round passed to its commit message, as trailers."""
    ws.run_git(
        [
            "commit",
            "--amend",
            "--no-verify",
            "-q",
            "-m",
            message + "\n".join(trailer(gates)) + "\n",
        ],
        workspace.worktree,
    )
    return ws.current_commit(workspace)
