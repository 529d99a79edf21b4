"""Result: what the run says at its end (status, the real cause when it did not fix, the
branch and diff, every gate, coverage, the runners-up) and what it leaves in the repository:
the proven branch, or the partial rounds set aside under a ref of the run."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot import workspace as ws
from bot.analysis.classify import is_test_path
from bot.gates import causes as causes_gate
from bot.gates.coverage import executed, measure
from bot.models import Analysis, RunResult, RunStatus, TestRun
from bot.stages.analysis import read_sources
from bot.stages.budget import budget_reason
from bot.stages.context import RoundInputs, Run
from bot.testing.outcomes import run_summary

PARTIAL_PREFIX = "refs/mendbot/partial"


@dataclass(frozen=True)
class Ending:
    """How a run ended, for ``finish``."""

    status: RunStatus
    reason: str
    baseline: TestRun
    final: TestRun  # the final tree's run, flaky tests masked
    warnings: list[str]
    analysis: Analysis | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    shown_final: TestRun | None = None  # the final tree's run as pytest ran it, unmasked


def plain_failures(run: TestRun) -> list[str]:
    """The tests (and files that did not collect) that make plain pytest fail in ``run``,
    nothing masked."""
    return [r.nodeid for r in run.results if r.outcome.is_bad] + [
        e.path or "collection" for e in run.collection_errors
    ]


def give_up_reason(run: Run, inputs: RoundInputs) -> str:
    """The round's real cause (``gates/causes.py``); the failing tests are listed apart."""
    state = run.state
    if run.clock.expired() or state.cut_short or state.out_of_time:
        return (
            budget_reason(run)
            + f" before a verified fix was found ({state.candidates_tried} candidates tried)"
        )
    current = inputs.current
    broken_files = [e.path for e in current.collection_errors if e.path and is_test_path(e.path)]
    usage = {e.name: e.usage() for e in run.ports.engines}.get("llm")
    return causes_gate.headline(
        state.causes,
        localized=bool(inputs.analysis.locations),
        broken_test_files=[] if run.settings.allow_test_edits else broken_files,
        model_usage=usage,
        candidates_tried=state.candidates_tried,
        number=inputs.number,
    )


def finish(run: Run, ending: Ending) -> RunResult:
    state, workspace = run.state, run.workspace
    partial: dict[str, object] = {}
    if ending.status is not RunStatus.FIXED and any(r.commit for r in state.rounds):
        partial = _set_aside(run)
    head = ws.current_commit(workspace)
    accepted = [r for r in state.rounds if r.commit and not r.partial]
    branch = workspace.branch
    if not accepted and not workspace.reused_branch:
        ws.run_git(["checkout", "-q", "--detach"], workspace.worktree)
        ws.delete_branch(workspace.repo_root, branch)
        branch = ""
    diff = (
        ws.diff(workspace, workspace.base_commit, head)
        if accepted or workspace.reused_branch
        else ""
    )
    final = ending.final
    remaining = tuple(final.failing) + tuple(e.path for e in final.collection_errors if e.path)
    trust_extra = _trust_summary(run, ending.baseline, final, bool(accepted))
    result = RunResult(
        status=ending.status,
        base=workspace.base_commit,
        branch=branch,
        head=head,
        rounds=tuple(state.rounds),
        fixed_tests=tuple(t for r in accepted for t in r.fixed_tests),
        remaining_failures=remaining,
        diff=diff,
        candidates_tried=state.candidates_tried,
        duration_s=round(time.monotonic() - run.started, 3),
        reason=ending.reason,
        run_id=workspace.run_id,
        warnings=_warnings(run, ending.warnings),
        engines=tuple(e.name for e in run.ports.engines),
        analysis=ending.analysis,
        project_subdir=workspace.project_subdir,
        worktree=str(workspace.worktree),
        extra={
            **ending.extra,
            **trust_extra,
            **({"partial": partial} if partial else {}),
            "baseline": run_summary(ending.baseline),
            "final": run_summary(ending.shown_final or final),
            "usage": {e.name: dict(e.usage()) for e in run.ports.engines},
        },
    )
    _trace_end(run, result)
    return result


def _warnings(run: Run, warnings: list[str]) -> tuple[str, ...]:
    """The run's warnings: the sandbox's, the runner's, every flag and doubt of a gate."""
    flagged = [
        f"round {g['round']}: the overfitting guards flagged the patch ({g['detail']}); review it"
        for g in run.state.gates
        if g["name"] == "overfitting guards" and str(g["detail"]).startswith("flagged")
    ] + [
        f"round {g['round']}: {g['name']} raised a doubt: {g['detail']}"
        for g in run.state.gates
        if g["status"] == "doubt"
    ]
    return tuple(dict.fromkeys([*warnings, *run.runner.warnings, *flagged, *run.state.notes]))


def _trace_end(run: Run, result: RunResult) -> None:
    run.ports.trace.write(
        "run_end",
        status=result.status.value,
        reason=result.reason,
        branch=result.branch,
        head=result.head,
        rounds=len(run.state.rounds),
        candidates_tried=run.state.candidates_tried,
        duration_s=result.duration_s,
    )


def _set_aside(run: Run) -> dict[str, object]:
    """Rounds kept on the way to a run that did not end fixed are partial and unproven: the
    run offers nothing to merge or apply. They stay reachable under a ref of the run, and
    the branch goes back to where it was before the first round."""
    workspace, state = run.workspace, run.state
    ref = f"{PARTIAL_PREFIX}/{workspace.run_id}"
    head = ws.current_commit(workspace)
    ws.run_git(["update-ref", ref, head], workspace.worktree)
    ws.run_git(["reset", "-q", "--hard", state.start_head], workspace.worktree)
    kept = [r for r in state.rounds if r.commit]
    state.rounds[:] = [
        dataclasses.replace(r, partial=True) if r.commit else r for r in state.rounds
    ]
    return {
        "ref": ref,
        "commit": head,
        "rounds": [r.number for r in kept],
        "tests_passing": sorted({t for r in kept for t in r.fixed_tests}),
        "note": (
            "partial and unproven: these rounds made some failing tests pass, but the run "
            "did not end fixed, so they are not offered for merge; inspect them with "
            f"`git diff {state.start_head[:10]} {ref}`"
        ),
    }


def _trust_summary(run: Run, baseline: TestRun, final: TestRun, changed: bool) -> dict[str, object]:
    """What the result says about trust: flaky tests, every gate, coverage, the runners-up."""
    state = run.state
    gates: list[dict[str, object]] = [state.flakiness.gate().to_json()]
    gates += state.gates
    found: dict[str, object] = {
        "flaky": state.flakiness.to_json(),
        "gates": gates,
        "runners_up": list(state.runners_up),
        "ranking": list(state.ranking),
    }
    if changed and state.base_sources and run.runner.coverage_available:
        now = read_sources(run.workspace.project_dir)[0]
        measured = measure(state.base_sources, now, executed(baseline), executed(final))
        found["coverage"] = measured.to_json()
    return found
