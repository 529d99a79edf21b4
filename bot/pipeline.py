"""The one sequencer, in the order of the README's "How it works": trigger -> workspace ->
baseline -> analysis -> candidates -> screening -> proof -> round -> result. The stages live
in ``bot/stages/``, one module each; they do not call each other across the round, this
module passes their values along.

A run's context (``Run``: settings, adapters, workspace, runner, validator, the one
``Deadline``, the trust gates, the state the stages add to) is built once; each round gets a
small value of its own (``RoundInputs``).

Trust, in order: failing tests that pass when run again are flaky and never targets; passing
tests that fail in reverse order are order-dependent: screening does not judge by them, but
every test that passed at base in the normal order must pass after the patch in the normal
order (``gates/flaky.py``).
Candidates that delete behaviour or special-case the failing test's literals are refused before
screening (``gates/overfit.py``). Screening gathers up to ``rank_pool`` plausible candidates,
which are ranked by flags, behaviour on the passing tests' calls, size and prior
(``gates/ranking.py``) and proven in that order: static tools, the whole suite, the import check,
coverage of the changed lines, then the final runs (``gates/keeper.py``). Every gate's result is
in the round's commit message, the trace and ``RunResult.extra["gates"]``.

Time: the runs that need nothing from each other share the two cores. The screening worker
starts beside the baseline run, the flakiness re-run (with per-test coverage) is one of its
children, and the final runs go beside the proof run on a copy of the committed tree. Every
command a run starts ends by its deadline (``deadline.bounded``)."""

from __future__ import annotations

import dataclasses
import shutil
import time

from bot import workspace as ws
from bot.config import Settings
from bot.deadline import Deadline, bounded
from bot.engines.mutations.learned import (
    MAX_RUNS,
    MAX_TRACE_BYTES,
    NO_LEARNED_PRIORS,
    LearnedPriors,
    learn,
)
from bot.errors import MendbotError
from bot.gates import flaky as flaky_gate
from bot.gates import probe_plugin
from bot.gates.behaviour import PROBE_MODULE, Prober
from bot.gates.keeper import Keeper
from bot.gates.reach import Reach
from bot.history import recent_records
from bot.models import Analysis, RunResult, RunStatus, TestRun, Trigger, Workspace
from bot.stages.analysis import SKIP_DIRS, analyse, collected_files, read_sources, stuck
from bot.stages.baseline import run_baseline
from bot.stages.budget import budget_reason, room_for_proof
from bot.stages.context import (
    Ports,
    Progress,
    RoundInputs,
    Run,
    RunState,
    SilentProgress,
    Trust,
)
from bot.stages.result import Ending, finish, give_up_reason, plain_failures
from bot.stages.screening import Selection, changed_lines
from bot.stages.search import search_round
from bot.testing.runner import TestRunner
from bot.validate import Validator

__all__ = [
    "SKIP_DIRS",
    "Ports",
    "Progress",
    "RoundInputs",
    "Run",
    "RunState",
    "Selection",
    "SilentProgress",
    "Trust",
    "changed_lines",
    "collected_files",
    "plain_failures",
    "read_sources",
    "repair",
]


def repair(
    trigger: Trigger,
    settings: Settings,
    ports: Ports,
    *,
    run_id: str | None = None,
    deadline: Deadline | None = None,
) -> RunResult:
    clock = deadline or Deadline.start(settings.time_budget)
    started = time.monotonic()
    # every command of the run, whoever starts it, ends by the deadline
    ports = dataclasses.replace(ports, sandbox=bounded(ports.sandbox, clock))
    with ws.open_workspace(trigger, run_id) as workspace:
        _trace_start(trigger, ports, workspace)
        run = _open_run(trigger, settings, ports, workspace, clock, started)
        try:
            result = _run(run)
            ws.verify_claim(workspace.repo_root, result.branch, result.head, result.base)
            return result
        except BaseException:
            if not workspace.reused_branch and not any(r.commit for r in run.state.rounds):
                _drop_branch(workspace)
            raise
        finally:
            run.runner.close()


def _trace_start(trigger: Trigger, ports: Ports, workspace: Workspace) -> None:
    ports.trace.write(
        "run_start",
        run_id=workspace.run_id,
        trigger=trigger.kind.value,
        base=workspace.base_commit,
        branch=workspace.branch,
        engines=[e.name for e in ports.engines],
        project=workspace.project_subdir,
        label=trigger.label,
    )
    for note in workspace.notes:
        ports.progress.note(note)


def _open_run(
    trigger: Trigger,
    settings: Settings,
    ports: Ports,
    workspace: Workspace,
    clock: Deadline,
    started: float,
) -> Run:
    """The run's context: its state (the git metadata as mendbot left it), the test runner,
    the validator and the trust gates."""
    state = RunState(guard=ws.MetadataGuard(workspace.worktree))
    runner = TestRunner(
        ports.sandbox,
        workspace.worktree,
        workspace.project_dir,
        settings.pytest_args,
        autoload=settings.plugin_autoload,
        checkout=workspace.repo_root,
    )
    # the screening worker compares complete candidates with the probe when it can
    shutil.copy2(probe_plugin.__file__, runner.support_dir / f"{PROBE_MODULE}.py")
    trust = Trust(
        keeper=Keeper.create(runner),
        reach=Reach(runner),
        prober=Prober(
            ports.sandbox,
            workspace.worktree,
            workspace.project_dir,
            runner.scratch / "probe",
            pytest_options=flaky_gate.option_arguments(settings.pytest_args, workspace.project_dir),
            autoload=settings.plugin_autoload,
        ),
    )
    validator = Validator(
        runner, workspace, settings.validation, settings.workers, settings.test_timeout
    )
    return Run(trigger, settings, ports, workspace, runner, validator, clock, trust, state, started)


def _drop_branch(workspace: Workspace) -> None:
    """Remove the working branch this run created (it holds nothing of value)."""
    ws.run_git(["checkout", "-q", "--detach"], workspace.worktree, check=False)
    ws.delete_branch(workspace.repo_root, workspace.branch)


def _run(run: Run) -> RunResult:
    warnings = list(run.ports.sandbox.warnings()) + list(run.ports.notes)
    baseline = run_baseline(run)
    run.state.test_files = collected_files(baseline)
    first_failures = set(baseline.failing) | {e.path for e in baseline.collection_errors}
    if baseline.green:
        return finish(run, _settled(run, baseline, warnings))
    run.state.base_sources = read_sources(run.workspace.project_dir)[0]
    run.state.learned = _learned_priors(run)
    run.state.start_head = ws.current_commit(run.workspace)
    current, plain, analysis, reason = _rounds(run, baseline)
    status = RunStatus.FIXED if current.green else RunStatus.NOT_FIXED
    if status is RunStatus.FIXED:
        reason = "all selected tests pass"
        disagree = plain_failures(plain)
        if disagree:
            # claims are about plain pytest: whatever was left out as flaky, the user's own
            # run of the selection on the final tree must pass for the run to say "fixed"
            status, current = RunStatus.NOT_FIXED, plain
            shown = ", ".join(disagree[:5])
            reason = f"plain pytest of the selection still fails on the patched tree: {shown}"
    extra = {
        "screening": {**run.validator.stats.__dict__, "worker_starts": run.runner.worker_starts},
        "first_failures": sorted(first_failures),
        "overfitting_rejected": dict(run.trust.keeper.rejected_kinds),
        "learned_priors": {"enabled": run.settings.learned_priors, **run.state.learned.to_json()},
    }
    shown_final = plain if status is RunStatus.FIXED else None
    return finish(
        run, Ending(status, reason, baseline, current, warnings, analysis, extra, shown_final)
    )


def _learned_priors(run: Run) -> LearnedPriors:
    """What the repository's earlier stored runs teach about the order of the templates, read
    once before the first round (nothing when ``learned_priors`` is off)."""
    if not run.settings.learned_priors:
        return NO_LEARNED_PRIORS
    try:
        records = recent_records(run.workspace.repo_root, MAX_RUNS, MAX_TRACE_BYTES)
    except MendbotError as problem:
        run.state.notes.append(f"the earlier runs could not be read for priors: {problem.message}")
        return NO_LEARNED_PRIORS
    learned = learn(records)
    if learned.changed:
        run.ports.progress.note(
            f"priors learned from {learned.runs} earlier run(s) here order the templates "
            "(--no-learned-priors: the built-in order)"
        )
    return learned


def _settled(run: Run, baseline: TestRun, warnings: list[str]) -> Ending:
    """A baseline with nothing failing: the branch holds an earlier run's fix, or there is
    nothing to fix (beyond flaky tests)."""
    earlier = ws.earlier_fix(run.workspace)
    if earlier:
        reason = (
            f"{run.workspace.branch} already holds the verified fix of run {earlier}; all "
            "selected tests pass on it"
        )
        return Ending(RunStatus.FIXED, reason, baseline, baseline, warnings)
    flaky = run.state.flakiness.flaky
    reason = (
        "the only failing tests are flaky (they passed when run again): " + ", ".join(flaky[:5])
        if flaky
        else "all selected tests pass"
    )
    return Ending(RunStatus.NOTHING_TO_FIX, reason, baseline, baseline, warnings)


def _rounds(run: Run, baseline: TestRun) -> tuple[TestRun, TestRun, Analysis | None, str]:
    """Rounds until every selected test passes: (the last run masked, as pytest ran it, the
    last round's analysis, why the rounds stopped short)."""
    current = plain = baseline
    analysis: Analysis | None = None
    for number in range(1, run.settings.max_rounds + 1):
        if run.clock.expired() or not room_for_proof(run):
            return current, plain, analysis, budget_reason(run)
        inputs = analyse(run, number, current)
        analysis = inputs.analysis
        going_round = stuck(run.state, analysis.failures)
        if going_round:
            return current, plain, analysis, going_round
        run.stage(inputs.stage, f"{len(analysis.failures)} failing; {analysis.primary_class.value}")
        outcome = search_round(run, inputs)
        if outcome is None:
            return current, plain, analysis, give_up_reason(run, inputs)
        plain = outcome
        current = flaky_gate.mask(outcome, run.state.excluded)
        if current.green:
            return current, plain, analysis, ""
    return (
        current,
        plain,
        analysis,
        f"stopped after {run.settings.max_rounds} rounds (--max-rounds)",
    )
