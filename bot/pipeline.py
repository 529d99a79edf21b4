"""The one sequencer: trigger -> workspace -> baseline -> flaky check -> analysis -> candidates
-> validation -> ranking -> gates -> round -> result. Stages do not call each other; this module
passes their values along.

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
children, and the final runs go beside the proof run on a copy of the committed tree."""

from __future__ import annotations

import dataclasses
import difflib
import shutil
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot import workspace as ws
from bot.analysis.classify import failures_of, is_test_path
from bot.analysis.dependencies import check_dependencies, sandbox_python
from bot.analysis.localize import localize
from bot.analysis.rca import root_cause_note
from bot.analysis.source import parse
from bot.config import Settings
from bot.deadline import Deadline, bounded
from bot.edits import check_path
from bot.engines.base import Engine, FeedbackLog, RepairContext
from bot.errors import LLMError, TestSetupError
from bot.gates import causes as causes_gate
from bot.gates import flaky as flaky_gate
from bot.gates import probe_plugin
from bot.gates.base import GateResult, GateStatus, first_failure, passed, trailer
from bot.gates.behaviour import PROBE_MODULE, Prober, Target, TargetResult, target_results
from bot.gates.causes import RoundCauses
from bot.gates.coverage import executed, measure, new_lines
from bot.gates.dangerous import candidate_refusal
from bot.gates.keeper import Keeper
from bot.gates.overfit import Literal, failing_test_literals, inspect_candidate
from bot.gates.ranking import Ranked, changed_targets, rank, tests_running
from bot.gates.reach import Reach, Wider, selects_tests
from bot.models import (
    Analysis,
    Candidate,
    Outcome,
    Round,
    RunResult,
    RunStatus,
    TestRun,
    Trigger,
    Verdict,
    Workspace,
)
from bot.sandbox.base import Sandbox
from bot.testing.outcomes import run_summary
from bot.testing.runner import TestRunner
from bot.trace import Trace
from bot.validate import Validator, complete, per_test_timeout

BATCH_SIZE = 48
STUCK_REPEATS = 3
# After the first complete candidate of a batch, screening goes on for this many more
# candidates (or until ``rank_pool`` complete ones are found) so that ranking has a choice.
RANK_SLICE = 16
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    "build",
    "dist",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
}


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


def collected_files(run: TestRun) -> frozenset[str]:
    """The files a run's tests were collected from (by their node ids)."""
    return frozenset(r.nodeid.split("::", 1)[0] for r in run.results if "::" in r.nodeid)


def read_sources(
    project_dir: Path, test_files: Collection[str] = ()
) -> tuple[dict[str, str], dict[str, str]]:
    """Project-relative Python files: (code under repair, tests). A file is a test file by
    its name (``is_test_path``) or because the suite collects tests from it (``test_files``,
    the files the baseline's node ids name: ``test.py``, ``checks.py``)."""
    code: dict[str, str] = {}
    tests: dict[str, str] = {}
    for path in sorted(project_dir.rglob("*.py")):
        relative = path.relative_to(project_dir)
        if any(part in SKIP_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        key = relative.as_posix()
        (tests if is_test_path(key) or key in test_files else code)[key] = text
    return code, tests


def changed_lines(old: str, new: str) -> set[int]:
    """Line numbers of ``old`` that an edit touches (an insertion touches its neighbours)."""
    lines: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, first, last, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        if first == last:
            lines.update({first, first + 1})
        else:
            lines.update(range(first + 1, last + 1))
    return lines


@dataclass
class RunState:
    started: float
    deadline: float  # ``clock.at``: the monotonic time the budget ends
    clock: Deadline = field(default_factory=Deadline.unbounded)
    suite_seconds: float = 0.0  # how long the whole selection took at the baseline
    candidates_tried: int = 0
    rounds: list[Round] = field(default_factory=list)
    fingerprints: dict[str, int] = field(default_factory=dict)
    rejected_texts: set[str] = field(default_factory=set)
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
    causes: RoundCauses = field(default_factory=RoundCauses)  # of the round under way

    @property
    def excluded(self) -> frozenset[str]:
        return self.flakiness.excluded


@dataclass
class Trust:
    """The gates and the behaviour probe of one run."""

    keeper: Keeper
    prober: Prober
    reach: Reach


def repair(
    trigger: Trigger,
    settings: Settings,
    ports: Ports,
    *,
    run_id: str | None = None,
    deadline: Deadline | None = None,
) -> RunResult:
    clock = deadline or Deadline.start(settings.time_budget)
    state = RunState(started=time.monotonic(), deadline=clock.at, clock=clock)
    # every command of the run, whoever starts it, ends by the deadline
    ports = dataclasses.replace(ports, sandbox=bounded(ports.sandbox, clock))
    with ws.open_workspace(trigger, run_id) as workspace:
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
        state.guard = ws.MetadataGuard(workspace.worktree)
        runner = TestRunner(
            ports.sandbox,
            workspace.worktree,
            workspace.project_dir,
            settings.pytest_args,
            autoload=settings.plugin_autoload,
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
                pytest_options=flaky_gate.option_arguments(
                    settings.pytest_args, workspace.project_dir
                ),
                autoload=settings.plugin_autoload,
            ),
        )
        try:
            result = _run(trigger, settings, ports, workspace, runner, state, trust)
            ws.verify_claim(workspace.repo_root, result.branch, result.head, result.base)
            return result
        except BaseException:
            if not workspace.reused_branch and not any(r.commit for r in state.rounds):
                _drop_branch(workspace)
            raise
        finally:
            runner.close()


def _drop_branch(workspace: Workspace) -> None:
    """Remove the working branch this run created (it holds nothing of value)."""
    ws.run_git(["checkout", "-q", "--detach"], workspace.worktree, check=False)
    ws.delete_branch(workspace.repo_root, workspace.branch)


def _run(
    trigger: Trigger,
    settings: Settings,
    ports: Ports,
    workspace: Workspace,
    runner: TestRunner,
    state: RunState,
    trust: Trust,
) -> RunResult:
    progress, trace = ports.progress, ports.trace
    warnings = list(ports.sandbox.warnings()) + list(ports.notes)
    progress.stage("baseline", "running the tests at the base commit")
    # The screening worker collects the suite on the other core while the baseline runs.
    # Where there is one, per-test coverage comes from its flakiness re-run (a child of it,
    # no second start-up), so the baseline itself runs without coverage.
    tree = ws.tree_id(workspace) if settings.validation == "fast" else None
    worker = runner.warm(tree) if tree is not None else None
    baseline = runner.run(
        timeout=state.clock.limit(),
        per_test_timeout=settings.test_timeout,
        coverage=worker is None,
    )
    state.suite_seconds = baseline.duration
    trace.write("baseline", **_run_summary(baseline))
    check_dependencies(  # a test dependency that is not installed is a setup problem
        baseline, (workspace.project_dir, workspace.worktree), sandbox_python(ports.sandbox)
    )
    # the baseline's only wall-clock limit is the budget: a run it stopped is the budget's doing
    state.cut_short = baseline.timed_out
    if not baseline.results and not baseline.collection_errors:
        if baseline.timed_out:
            raise TestSetupError(
                "the test run did not finish within the time budget",
                hint="raise --time-budget or select fewer tests",
            )
        raise TestSetupError(
            f"no tests were collected in {trigger.repo_path}",
            hint="mendbot repairs code against its pytest tests; add tests or pass pytest "
            "arguments after `--` to select them",
        )
    if not baseline.green:
        progress.stage("flaky", "running the tests again, in reverse order")
        state.flakiness = flaky_gate.detect(
            runner,
            baseline,
            reruns=settings.flaky_reruns,
            per_test_timeout=per_test_timeout(baseline, settings.test_timeout),
            deadline=state.deadline,
            worker_tag=tree,
            coverage=worker is not None,
        )
        state.flakiness = flaky_gate.confirm(
            runner,
            state.flakiness,
            per_test_timeout=per_test_timeout(baseline, settings.test_timeout),
            deadline=state.deadline,
        )
        if worker is not None:
            baseline = _with_coverage(runner, baseline, state, settings, tree)
        trust.keeper.excluded = trust.reach.excluded = state.excluded
        trace.write("flaky", tests=state.flakiness.to_json(), reruns=state.flakiness.reruns)
        for item in state.flakiness.to_json():
            progress.note(f"{item['kind']} test left out: {item['test']} ({item['detail']})")
        baseline = flaky_gate.mask(baseline, state.excluded)
    tampered = _tampered(state)
    if tampered:
        raise TestSetupError(
            f"the test suite of {trigger.repo_path} {tampered} while mendbot ran it at the "
            "base commit; mendbot stopped",
            hint="tests must not write git's own files (.git, its config, hooks or objects); "
            "mendbot never runs git on what a test wrote",
        )
    first_failures = set(baseline.failing) | {e.path for e in baseline.collection_errors}
    earlier = ws.earlier_fix(workspace) if baseline.green else ""
    if earlier:
        return _finish(
            settings,
            ports,
            workspace,
            runner,
            state,
            baseline,
            baseline,
            RunStatus.FIXED,
            f"{workspace.branch} already holds the verified fix of run {earlier}; all selected "
            "tests pass on it",
            warnings,
            None,
        )
    if baseline.green:
        only_flaky = bool(state.flakiness.flaky)
        return _finish(
            settings,
            ports,
            workspace,
            runner,
            state,
            baseline,
            baseline,
            RunStatus.NOTHING_TO_FIX,
            "the only failing tests are flaky (they passed when run again): "
            + ", ".join(state.flakiness.flaky[:5])
            if only_flaky
            else "all selected tests pass",
            warnings,
            None,
        )
    state.base_sources = read_sources(workspace.project_dir)[0]
    state.start_head = ws.current_commit(workspace)
    validator = Validator(
        runner, workspace, settings.validation, settings.workers, settings.test_timeout
    )
    current = plain = baseline
    analysis: Analysis | None = None
    reason = ""
    for number in range(1, settings.max_rounds + 1):
        if state.clock.expired() or not _room_for_proof(state):
            reason = _budget_reason(state)
            break
        code, tests = read_sources(workspace.project_dir, collected_files(baseline))
        failures = failures_of(current, {**code, **tests})
        hint = (trigger.hint_path, trigger.hint_line or 1) if trigger.hint_path else None
        locations = localize(failures, current, code, tests, hint=_hint(hint, workspace))
        analysis = Analysis(failures=failures, locations=locations)
        trace.write(
            "analysis",
            round=number,
            failures=[
                {
                    "test": f.nodeid,
                    "class": f.failure_class.value,
                    "error": f.exception_type,
                    "message": f.message[:300],
                }
                for f in failures
            ],
            locations=[
                {
                    "file": loc.file,
                    "line": loc.line,
                    "function": loc.function,
                    "score": loc.score,
                    "reason": loc.reason,
                }
                for loc in locations[:10]
            ],
        )
        stuck = _stuck(state, failures)
        if stuck:
            reason = stuck
            break
        progress.stage(
            f"round {number}", f"{len(failures)} failing; {analysis.primary_class.value}"
        )
        outcome = _round(
            number,
            settings,
            ports,
            workspace,
            runner,
            validator,
            state,
            current,
            analysis,
            code,
            tests,
            trigger,
            trust,
        )
        if outcome is None:
            reason = _give_up_reason(state, analysis, number, current, settings, ports)
            break
        plain = outcome
        current = flaky_gate.mask(outcome, state.excluded)
        if current.green:
            break
    else:
        if not current.green:
            reason = f"stopped after {settings.max_rounds} rounds (--max-rounds)"
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
    result_extra = {
        "screening": {**validator.stats.__dict__, "worker_starts": runner.worker_starts},
        "first_failures": sorted(first_failures),
        "overfitting_rejected": dict(trust.keeper.rejected_kinds),
    }
    return _finish(
        settings,
        ports,
        workspace,
        runner,
        state,
        baseline,
        current,
        status,
        reason,
        warnings,
        analysis,
        result_extra,
        plain if status is RunStatus.FIXED else None,
    )


def _tampered(state: RunState) -> str:
    """What the tests changed of the worktree's git metadata (restored), "" when nothing."""
    changed = state.guard.check() if state.guard is not None else []
    return ws.tampering_message(changed).removeprefix("the tests ") if changed else ""


def plain_failures(run: TestRun) -> list[str]:
    """The tests (and files that did not collect) that make plain pytest fail in ``run``,
    nothing masked."""
    return [r.nodeid for r in run.results if r.outcome.is_bad] + [
        e.path or "collection" for e in run.collection_errors
    ]


def _with_coverage(
    runner: TestRunner, baseline: TestRun, state: RunState, settings: Settings, tree: str | None
) -> TestRun:
    """The baseline with per-test coverage: from the worker's flakiness re-run, else from a
    child of the worker of its own, else from a pytest-cov run."""
    if not baseline.results:  # every test file failed to collect: no test to measure
        return dataclasses.replace(baseline, has_coverage=True)
    measured = state.flakiness.reversed_run
    if (measured is None or not measured.has_coverage) and tree is not None:
        measured = runner.run_forked(
            [r.nodeid for r in baseline.results],
            tag=tree,
            per_test_timeout=per_test_timeout(baseline, settings.test_timeout),
            timeout=state.clock.limit(),
            coverage=True,
        )
    if measured is None or not measured.has_coverage:
        measured = runner.run(
            timeout=state.clock.limit(),
            per_test_timeout=settings.test_timeout,
            coverage=True,
        )
    return dataclasses.replace(
        baseline,
        coverage=measured.coverage,
        has_coverage=measured.has_coverage,
        own_coverage=measured.own_coverage,
    )


def _hint(hint: tuple[str, int] | None, workspace: Workspace) -> tuple[str, int] | None:
    if hint is None:
        return None
    path, line = hint
    prefix = workspace.project_subdir + "/" if workspace.project_subdir else ""
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :]
    return path, line


def _stuck(state: RunState, failures: Sequence[object]) -> str:
    key = "|".join(sorted(f.fingerprint for f in failures))  # type: ignore[attr-defined]
    state.fingerprints[key] = state.fingerprints.get(key, 0) + 1
    if state.fingerprints[key] >= STUCK_REPEATS:
        return "stuck: the same failures came back three times"
    return ""


def _proof_seconds(state: RunState) -> float:
    """What one proof is expected to take: the whole selection again with coverage (the
    final runs go beside it on the other core), from the baseline's duration."""
    return 1.5 * state.suite_seconds + 2.0


def _room_for_proof(state: RunState) -> bool:
    """Whether a candidate found now could still be proven before the deadline; a proof
    that cannot finish is never started (it would prove nothing)."""
    if state.clock.fits(_proof_seconds(state)):
        return True
    state.out_of_time = True
    return False


def _budget_reason(state: RunState) -> str:
    if state.out_of_time and not state.clock.expired():
        return (
            f"the time budget ran out: {state.clock.remaining():.0f}s left, and proving a "
            f"candidate on the whole selection takes about {_proof_seconds(state):.0f}s"
        )
    return f"the time budget of {state.clock.budget:.0f}s ran out"


def _give_up_reason(
    state: RunState,
    analysis: Analysis,
    number: int,
    current: TestRun,
    settings: Settings,
    ports: Ports,
) -> str:
    """The round's real cause (``gates/causes.py``); the failing tests are listed apart."""
    if state.clock.expired() or state.cut_short or state.out_of_time:
        return (
            _budget_reason(state)
            + f" before a verified fix was found ({state.candidates_tried} candidates tried)"
        )
    broken_files = [e.path for e in current.collection_errors if e.path and is_test_path(e.path)]
    usage = {e.name: e.usage() for e in ports.engines}.get("llm")
    return causes_gate.headline(
        state.causes,
        localized=bool(analysis.locations),
        broken_test_files=[] if settings.allow_test_edits else broken_files,
        model_usage=usage,
        candidates_tried=state.candidates_tried,
        number=number,
    )


@dataclass(frozen=True)
class Selection:
    """Which tests judge a candidate, from the per-test coverage of the round's last run.

    Targets are the failing tests that execute the lines a candidate changes (all failing
    tests when coverage says none does); guards are the passing tests that execute them.
    """

    targets: tuple[str, ...]
    passing: tuple[str, ...]
    failing_index: Mapping[str, Mapping[int, tuple[str, ...]]]
    passing_index: Mapping[str, Mapping[int, tuple[str, ...]]]
    sources: Mapping[str, str]
    has_coverage: bool

    @classmethod
    def of(
        cls,
        current: TestRun,
        targets: Sequence[str],
        sources: Mapping[str, str],
        unreliable: frozenset[str] = frozenset(),
    ) -> Selection:
        """``unreliable``: passing tests screening does not judge by (their outcome depends
        on the order; the proof, in the normal order, still requires them)."""
        passing = tuple(n for n in current.passing if n not in unreliable)

        def index(nodeids: Sequence[str]) -> dict[str, dict[int, tuple[str, ...]]]:
            built: dict[str, dict[int, list[str]]] = {}
            for nodeid in nodeids:
                for file, lines in current.coverage.get(nodeid, {}).items():
                    if file in sources:
                        per_line = built.setdefault(file, {})
                        for line in lines:
                            per_line.setdefault(line, []).append(nodeid)
            return {f: {n: tuple(t) for n, t in lines.items()} for f, lines in built.items()}

        return cls(
            targets=tuple(targets),
            passing=passing,
            failing_index=index([t for t in targets if "::" in t]),
            passing_index=index(passing),
            sources=sources,
            has_coverage=bool(current.coverage),
        )

    def _touching(
        self, candidate: Candidate, index: Mapping[str, Mapping[int, tuple[str, ...]]]
    ) -> list[str]:
        selected: list[str] = []
        for edit in candidate.edits:
            old = self.sources.get(edit.path, "")
            per_line = index.get(edit.path, {})
            for line in sorted(changed_lines(old, edit.new_text)):
                for nodeid in per_line.get(line, ()):
                    if nodeid not in selected:
                        selected.append(nodeid)
        return selected

    def targets_for(self, candidate: Candidate) -> list[str]:
        if not self.has_coverage:
            return list(self.targets)
        touching = self._touching(candidate, self.failing_index)
        return touching or list(self.targets)

    def guards_for(self, candidate: Candidate) -> list[str]:
        if not self.has_coverage:
            return list(self.passing)
        return self._touching(candidate, self.passing_index)


@dataclass(frozen=True)
class RoundInputs:
    """What every step of one round reads: the run so far and the round's sources."""

    number: int
    settings: Settings
    ports: Ports
    workspace: Workspace
    runner: TestRunner
    state: RunState
    current: TestRun
    analysis: Analysis
    code: Mapping[str, str]
    tests: Mapping[str, str]
    trust: Trust
    literals: frozenset[Literal]  # written in the failing tests (special-casing guard)


def _round(
    number: int,
    settings: Settings,
    ports: Ports,
    workspace: Workspace,
    runner: TestRunner,
    validator: Validator,
    state: RunState,
    current: TestRun,
    analysis: Analysis,
    code: dict[str, str],
    tests: dict[str, str],
    trigger: Trigger,
    trust: Trust,
) -> TestRun | None:
    """Search for a candidate, prove it, commit it. Returns the new run or None."""
    state.causes = RoundCauses()
    targets = list(current.failing) + [e.path for e in current.collection_errors if e.path]
    selection = Selection.of(current, targets, code, state.flakiness.unreliable_guards)
    inputs = RoundInputs(
        number=number,
        settings=settings,
        ports=ports,
        workspace=workspace,
        runner=runner,
        state=state,
        current=current,
        analysis=analysis,
        code=code,
        tests=tests,
        trust=trust,
        literals=failing_test_literals(tests, targets),
    )
    feedback = FeedbackLog()
    for engine in ports.engines:
        context = RepairContext(
            project_dir=workspace.project_dir,
            sources=code,
            test_sources=tests,
            analysis=analysis,
            baseline=current,
            round_number=number,
            deadline=state.deadline,
            feedback=feedback,
            instruction=trigger.instruction,
            allow_test_edits=settings.allow_test_edits,
            protected=settings.protected,
        )
        ports.progress.stage(f"round {number}", f"{engine.name}: searching")
        result = _search(engine, context, inputs, validator, selection, feedback)
        if result is not None:
            return result
    return None


def _batches(candidates: Iterator[Candidate], size: int) -> Iterator[list[Candidate]]:
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


def _trace_candidate(trace: Trace, candidate: Candidate, verdict: Verdict) -> None:
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


def _search(
    engine: Engine,
    context: RepairContext,
    inputs: RoundInputs,
    validator: Validator,
    selection: Selection,
    feedback: FeedbackLog,
) -> TestRun | None:
    settings, state, trace = inputs.settings, inputs.state, inputs.ports.trace
    number = inputs.number
    tried_this_round = 0
    size = 1 if engine.name == "llm" else BATCH_SIZE
    round_started = time.monotonic()
    # Partial fixes (some of the failing tests that run the changed lines pass) are kept in
    # reserve: a candidate that fixes them all is preferred, and only when none turns up
    # within most of the budget is the best partial one proven.
    reserve_after = round_started + 0.6 * max(0.0, state.deadline - round_started)
    partial: list[tuple[int, int, Candidate, Verdict]] = []
    order = 0
    pool = settings.rank_pool
    for batch in _batches(_guarded(engine, context, inputs), size):
        if time.monotonic() > reserve_after or tried_this_round >= settings.candidate_budget:
            break
        if not _room_for_proof(state):
            break
        admissible: list[Candidate] = []
        for candidate in batch:
            stage, problem = _admissible(candidate, inputs)
            if problem:
                verdict = Verdict(candidate.id, False, problem, stage=stage)
                feedback.add(candidate, verdict)
                _trace_candidate(trace, candidate, verdict)
                state.causes.count(verdict)
                continue
            admissible.append(candidate)
        state.candidates_tried += len(batch)
        tried_this_round += len(batch)
        if not admissible:
            continue
        verdicts = validator.screen(
            admissible,
            selection,
            inputs.current,
            want=pool,
            extra=RANK_SLICE if pool > 1 else 0,
            probe=lambda candidate: _probe_plan(candidate, inputs),
        )
        tampered = _tampered(state)
        if tampered:  # this batch's candidates ran with it: none of them is kept
            verdicts = [
                None if v is None else Verdict(v.candidate_id, False, tampered, stage="git")
                for v in verdicts
            ]
        for candidate, maybe in zip(admissible, verdicts, strict=True):
            if maybe is None:
                continue
            verdict = maybe
            feedback.add(candidate, verdict)
            _trace_candidate(trace, candidate, verdict)
            state.causes.count(verdict)
            order += 1
            if verdict.accepted and verdict.still_failing:
                partial.append((-len(verdict.fixed), order, candidate, verdict))
        plausible = [
            (candidate, verdict)
            for candidate, verdict in zip(admissible, verdicts, strict=True)
            if verdict is not None and complete(verdict)
        ][:pool]
        if plausible:
            proven = _prove_ranked(plausible, inputs, validator.last_probe)
            if proven is not None:
                return proven
        inputs.ports.progress.stage(
            f"round {number}", f"{engine.name}: {tried_this_round} candidates tried"
        )
    for _, _, candidate, verdict in sorted(partial, key=lambda item: item[:2])[:3]:
        if not _room_for_proof(state):
            break
        proven = _prove(candidate, verdict, inputs)
        if proven is not None:
            return proven
    return None


def _probe_plan(candidate: Candidate, inputs: RoundInputs) -> dict[str, object] | None:
    """What the screening worker's probe needs for a candidate: the functions it changes and
    the passing tests that call them."""
    found = changed_targets(candidate, inputs.code)
    tests = tests_running(found, inputs.code, inputs.current)
    if not found or not tests:
        return None
    project = inputs.workspace.project_dir
    return {
        "targets": [
            {"key": f"{path}::{name}", "file": str((project / path).resolve()), "qualname": name}
            for path, name in found
        ],
        "tests": tests,
    }


def _prove_ranked(
    plausible: list[tuple[Candidate, Verdict]],
    inputs: RoundInputs,
    screened: Mapping[str, Mapping[str, object]] | None = None,
) -> TestRun | None:
    """Rank the plausible candidates and prove them in that order; record the runners-up.

    Behaviour comes from the screening worker's probe when it compared these candidates
    (``screened``), else from a probe run of its own."""
    trust, state = inputs.trust, inputs.state

    def probe(targets: Sequence[Target], tests: Sequence[str]) -> dict[str, TargetResult] | str:
        if screened is not None:
            found = target_results(screened)
            if all(
                t.key in found and set(t.variants) <= set(found[t.key].differences) for t in targets
            ):
                return found
        inputs.ports.progress.stage(
            f"round {inputs.number}", f"comparing {len(plausible)} plausible candidates"
        )
        return trust.prober.probe(
            targets,
            tests,
            same_path=True,
            test_timeout=per_test_timeout(inputs.current, inputs.settings.test_timeout),
        )

    ranked, note = rank(
        plausible, inputs.code, inputs.current, literals=inputs.literals, probe=probe
    )
    inputs.ports.trace.write(
        "ranking",
        round=inputs.number,
        note=note,
        order=[
            {
                "id": r.candidate.id,
                "flags": list(r.flags),
                "recorded": r.recorded_distance,
                "variations": r.variation_distance,
                "size": r.candidate.size,
                "prior": r.candidate.prior,
            }
            for r in ranked
        ],
    )
    for position, item in enumerate(ranked):
        if not _room_for_proof(state):
            break
        proven = _prove(item.candidate, item.verdict, inputs, ranked=item)
        if proven is not None:
            state.ranking.append(
                {
                    "round": inputs.number,
                    "plausible": len(ranked),
                    "chosen": item.candidate.id,
                    "position": position + 1,
                    "note": note,
                }
            )
            for other in ranked[position + 1 :]:
                state.runners_up.append({"round": inputs.number, **other.to_json(inputs.code)})
            return proven
    return None


def _admissible(candidate: Candidate, inputs: RoundInputs) -> tuple[str, str]:
    """(stage, reason) when the candidate may not even be screened, else ("", "")."""
    settings, workspace = inputs.settings, inputs.workspace
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
        tree = parse(edit.new_text)  # the engine parsed it already: cached
        try:
            compile(
                tree if tree is not None else edit.new_text, edit.path, "exec", dont_inherit=True
            )
        except (SyntaxError, ValueError) as error:
            return "guard", f"does not compile: {error}"
    unsafe = candidate_refusal(candidate, inputs.code, inputs.tests)
    if unsafe:
        inputs.state.notes.append(f"refused {candidate.engine} candidate {candidate.id}: {unsafe}")
        return "safety", unsafe
    return inputs.trust.keeper.refusal(candidate, inputs.code, inputs.tests, inputs.literals)


def _reject(
    inputs: RoundInputs,
    candidate: Candidate,
    previous: str,
    why: str,
    started: float,
    gates: Sequence[GateResult],
) -> None:
    """Roll the round back, keeping the attempt under a ref, and record why."""
    number = inputs.number
    inputs.state.causes.rolled_back.append(why)
    ref = ws.rollback(inputs.workspace, previous, number)
    rejected = ws.run_git(["rev-parse", ref], inputs.workspace.worktree).strip()
    inputs.state.rounds.append(
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
            duration_s=round(time.monotonic() - started, 3),
        )
    )
    inputs.ports.trace.write(
        "round",
        number=number,
        accepted=False,
        reason=why,
        rejected_ref=ref,
        rejected_commit=rejected,
        template=candidate.template,
        description=candidate.description,
        gates=[g.to_json() for g in gates],
    )


def _prove(
    candidate: Candidate,
    verdict: Verdict,
    inputs: RoundInputs,
    *,
    ranked: Ranked | None = None,
) -> TestRun | None:
    """Commit the candidate, run the gates and the whole suite from the committed tree, keep
    it or roll it back. Cheap gates run first: static tools, then tests, then coverage."""
    settings, workspace, runner = inputs.settings, inputs.workspace, inputs.runner
    state, current, keeper, number = (
        inputs.state,
        inputs.current,
        inputs.trust.keeper,
        inputs.number,
    )
    started = time.monotonic()
    tampered = _tampered(state)  # by a probe run of the candidates
    if tampered:
        inputs.ports.trace.write("candidate", id=candidate.id, accepted=False, reason=tampered)
        return None
    previous = ws.current_commit(workspace)
    timeout_per_test = per_test_timeout(current, settings.test_timeout)
    gates: list[GateResult] = [
        passed("syntax", f"{len(candidate.edits)} changed file(s) compile"),
    ]
    written = keeper.written_tests(candidate, inputs.tests)
    if written:
        # a written test must fail on the code before the fix: write only the test files
        ws.write_files(
            workspace, {e.path: e.new_text for e in candidate.edits if is_test_path(e.path)}
        )
        options = flaky_gate.option_arguments(settings.pytest_args, workspace.project_dir)
        before_run = runner.run(
            [*options, *written],
            timeout=60.0,
            per_test_timeout=timeout_per_test,
            selection=False,
        )
        ws.restore_clean(workspace)
        gates.append(keeper.written_tests_before(before_run, written))
    static_before = keeper.static_before(candidate)
    old_texts = {
        e.path: inputs.code.get(e.path, inputs.tests.get(e.path, "")) for e in candidate.edits
    }
    ws.write_files(workspace, {e.path: e.new_text for e in candidate.edits})
    passed_before = set(current.passing)
    note = root_cause_note(inputs.analysis, candidate, verdict.fixed, len(passed_before))
    message = _commit_message(number, candidate, verdict, note, workspace)
    commit = ws.commit_round(workspace, candidate.files, message)
    gates += keeper.static_after(candidate, static_before)
    problem = first_failure(gates)
    if problem is not None:
        _reject(inputs, candidate, previous, f"{problem.name}: {problem.detail}", started, gates)
        return None
    inputs.ports.progress.stage(f"round {number}", f"verifying {candidate.description[:60]}")
    final = (
        flaky_gate.FinalRunsJob(
            runner,
            commit,
            workspace.project_subdir,
            settings.final_runs,
            state.excluded,
            per_test_timeout=timeout_per_test,
            deadline=state.deadline,
        )
        if settings.final_runs > 0
        else None
    )
    attempt = Attempt(
        candidate, verdict, ranked, gates, previous, commit, started, note, written, old_texts
    )
    try:
        return _verify(inputs, attempt, final)
    finally:
        if final is not None:
            final.cancel()  # a no-op once its result was taken


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


def _verify(
    inputs: RoundInputs, attempt: Attempt, final: flaky_gate.FinalRunsJob | None
) -> TestRun | None:
    """The proof run from the committed tree, the gates on it, and the final runs."""
    settings, workspace, runner = inputs.settings, inputs.workspace, inputs.runner
    state, current, keeper, number = (
        inputs.state,
        inputs.current,
        inputs.trust.keeper,
        inputs.number,
    )
    candidate, verdict, ranked, gates = (
        attempt.candidate,
        attempt.verdict,
        attempt.ranked,
        attempt.gates,
    )
    previous, started, note, commit = (
        attempt.previous,
        attempt.started,
        attempt.note,
        attempt.commit,
    )
    written, old_texts = attempt.written, attempt.old_texts
    timeout_per_test = per_test_timeout(current, settings.test_timeout)
    passed_before = set(current.passing)
    raw = runner.run(timeout=state.clock.limit(), per_test_timeout=timeout_per_test, coverage=True)
    tampered = _tampered(state)
    ws.restore_clean(workspace)
    if tampered:
        _reject(inputs, candidate, previous, tampered, started, gates)
        return None
    if raw.timed_out:
        # cut by the budget: a run that did not finish proves nothing, and the tests it did
        # not reach are not broken
        state.cut_short = True
        why = "the proof run did not finish before the time budget ran out (it proves nothing)"
        _reject(inputs, candidate, previous, why, started, gates)
        return None
    run = flaky_gate.mask(raw, state.excluded)
    by_id = run.by_id()
    broken = sorted(n for n in passed_before if n not in by_id or by_id[n].outcome.is_bad)
    fixed = sorted(n for n in current.failing if n in by_id and by_id[n].outcome is Outcome.PASSED)
    fixed += [
        e.path
        for e in current.collection_errors
        if e.path and not any(c.path == e.path for c in run.collection_errors)
    ]
    new_errors = [
        e
        for e in run.collection_errors
        if not any(c.path == e.path for c in current.collection_errors)
    ]
    inputs.ports.trace.write(
        "verify",
        candidate=candidate.id,
        commit=commit,
        fixed=fixed,
        broken=broken,
        **_run_summary(raw),  # as pytest ran it: a test that ran shows how it ended
    )
    if run.damage or broken or new_errors or not fixed:
        why = (
            run.damage  # what it removed of the worktree (restored)
            if run.damage
            else f"breaks {', '.join(broken[:3])}"
            if broken
            else "new collection errors"
            if new_errors
            else "the full run did not confirm the fix"
        )
        _reject(inputs, candidate, previous, why, started, gates)
        return None
    gates.append(passed("tests", f"fixes {len(fixed)}, no test that passed before fails"))
    wider, refused = _prove_wider(inputs, attempt)
    if refused:
        _reject(inputs, candidate, previous, refused, started, gates)
        return None
    proved_by = _proved_by(inputs, wider, run)
    gates.append(passed("proved by", proved_by))
    if written:
        gates.append(keeper.written_tests_after(run, written))
    gates.append(keeper.imports(candidate, old_texts, run))
    new_code = dict(inputs.code)
    new_code.update({e.path: e.new_text for e in candidate.edits if e.path not in inputs.tests})
    gates += keeper.coverage(inputs.code, new_code, current, run)[0]
    problem = first_failure(gates)
    if problem is None and run.green:
        inputs.ports.progress.stage(f"round {number}", "final runs of the whole suite")
        gates.append(
            final.result()
            if final is not None
            else keeper.final(0, per_test_timeout=timeout_per_test, deadline=state.deadline)
        )
        problem = first_failure(gates)
    if problem is not None:
        _reject(inputs, candidate, previous, f"{problem.name}: {problem.detail}", started, gates)
        return None
    flags = (
        ranked.flags
        if ranked is not None
        else tuple(
            f.describe()
            for f in inspect_candidate(
                [(e.path, old_texts[e.path], e.new_text) for e in candidate.edits], inputs.literals
            ).flags
        )
    )
    gates.append(
        passed("overfitting guards", "flagged: " + "; ".join(flags) if flags else "nothing found")
    )
    note = _explain(inputs, fixed, previous) or note
    message = _commit_message(number, candidate, verdict, note, workspace)
    commit = _amend(workspace, message, gates)
    if wider is not None:
        inputs.trust.reach.remember(commit, wider[0], wider[1])
    state.gates.extend(g.to_json(number) for g in gates)
    duration = time.monotonic() - started
    state.rounds.append(
        Round(
            number=number,
            engine=candidate.engine,
            commit=commit,
            files=candidate.files,
            fixed_tests=tuple(fixed),
            reason=verdict.reason,
            template=candidate.template,
            description=candidate.description,
            root_cause=note,
            candidates_tried=state.candidates_tried,
            duration_s=round(duration, 3),
            proved_by=proved_by,
            exercised_by=tuple(
                dict.fromkeys(
                    _exercising(old_texts, candidate, run)
                    + (_exercising(old_texts, candidate, wider[1]) if wider else [])
                )
            ),
            doubts=tuple(
                f"{g.name}: {g.detail}"
                for g in gates
                if g.status is GateStatus.DOUBT
                or (g.name == "overfitting guards" and g.detail.startswith("flagged"))
            ),
        )
    )
    inputs.ports.trace.write(
        "round",
        number=number,
        accepted=True,
        commit=commit,
        fixed=fixed,
        template=candidate.template,
        description=candidate.description,
        root_cause=note,
        engine=candidate.engine,
        gates=[g.to_json() for g in gates],
    )
    inputs.ports.progress.note(
        f"round {number}: {candidate.description} fixes {len(fixed)} test(s)"
    )
    return raw


def _prove_wider(inputs: RoundInputs, attempt: Attempt) -> tuple[tuple[Wider, TestRun] | None, str]:
    """The tests beyond the user's selection that reach the change, run on the patched tree
    and compared with the base (``gates/reach.py``): (what ran, why the patch is rolled back
    or "")."""
    settings, workspace, reach = inputs.settings, inputs.workspace, inputs.trust.reach
    timeout_per_test = per_test_timeout(inputs.current, settings.test_timeout)
    changed = [e.path for e in attempt.candidate.edits if not is_test_path(e.path)]
    wider = reach.wider(
        attempt.previous,
        changed,
        inputs.tests,
        inputs.code,
        per_test_timeout=timeout_per_test,
        deadline=inputs.state.deadline,
    )
    if wider is None:
        return None, ""
    inputs.ports.progress.stage(f"round {inputs.number}", f"proving on the {wider.mode}")
    after = inputs.runner.run(
        list(wider.arguments),
        timeout=inputs.state.clock.limit(),
        per_test_timeout=timeout_per_test,
        coverage=True,
        selection=False,
    )
    ws.restore_clean(workspace)
    inputs.ports.trace.write(
        "verify_wider", candidate=attempt.candidate.id, mode=wider.mode, **_run_summary(after)
    )
    if after.timed_out or wider.base.timed_out:
        # cut by the budget: a run that did not finish proves nothing either way
        inputs.state.cut_short = True
        return (wider, after), (
            f"the proof beyond the selection ({wider.mode}) did not finish before the time "
            "budget ran out (it proves nothing)"
        )
    broken = reach.regressions(wider, after)
    return (wider, after), f"breaks {', '.join(broken[:3])}" if broken else ""


def _proved_by(inputs: RoundInputs, wider: tuple[Wider, TestRun] | None, run: TestRun) -> str:
    if wider is not None:
        return wider[0].describe(len(run.results))
    if selects_tests(inputs.runner):
        return (
            f"the selection ({len(run.results)} tests): no test outside it imports the changed code"
        )
    return f"whole suite ({len(run.results)} tests)"


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


def _explain(inputs: RoundInputs, fixed: Sequence[str], previous: str) -> str | None:
    """A model's five-whys note for the kept round, when a model is configured and answers
    usably; None keeps the deterministic note."""
    wanted = set(fixed)
    failures = [f for f in inputs.analysis.failures if f.nodeid in wanted]
    for engine in inputs.ports.engines:
        explain = getattr(engine, "explain", None)
        if explain is None:
            continue
        diff = ws.diff(inputs.workspace, previous, "HEAD")
        note = explain(failures or list(inputs.analysis.failures), diff)
        if isinstance(note, str) and note.strip():
            return note.strip()
    return None


def _guarded(engine: Engine, context: RepairContext, inputs: RoundInputs) -> Iterator[Candidate]:
    """The engine's candidates; under --engine auto a failing model ends only its own search,
    and the rounds the templates already kept stay."""
    try:
        yield from engine.propose(context)
    except LLMError as error:
        if inputs.settings.engine != "auto":
            raise
        inputs.state.notes.append(f"the LLM stopped: {error.message}")
        inputs.ports.trace.write("llm_error", message=error.message, hint=error.hint)
    stop_reason = getattr(engine, "stop_reason", "")
    if stop_reason:
        inputs.state.notes.append(f"the LLM engine stopped: {stop_reason}")


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


def _commit_message(
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


def _run_summary(run: TestRun) -> dict[str, object]:
    return run_summary(run)  # bounded: big suites list the tests that did not pass


def _finish(
    settings: Settings,
    ports: Ports,
    workspace: Workspace,
    runner: TestRunner,
    state: RunState,
    baseline: TestRun,
    final: TestRun,
    status: RunStatus,
    reason: str,
    warnings: list[str],
    analysis: Analysis | None,
    extra: Mapping[str, object] | None = None,
    shown_final: TestRun | None = None,  # the final tree's run as pytest ran it, unmasked
) -> RunResult:
    partial: dict[str, object] = {}
    if status is not RunStatus.FIXED and any(r.commit for r in state.rounds):
        partial = _set_aside(workspace, state)
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
    remaining = tuple(final.failing) + tuple(e.path for e in final.collection_errors if e.path)
    fixed_tests = tuple(t for r in accepted for t in r.fixed_tests)
    trust_extra = _trust_summary(state, runner, workspace, baseline, final, bool(accepted))
    flagged = [
        f"round {g['round']}: the overfitting guards flagged the patch ({g['detail']}); review it"
        for g in state.gates
        if g["name"] == "overfitting guards" and str(g["detail"]).startswith("flagged")
    ] + [
        f"round {g['round']}: {g['name']} raised a doubt: {g['detail']}"
        for g in state.gates
        if g["status"] == "doubt"
    ]
    result = RunResult(
        status=status,
        base=workspace.base_commit,
        branch=branch,
        head=head,
        rounds=tuple(state.rounds),
        fixed_tests=fixed_tests,
        remaining_failures=remaining,
        diff=diff,
        candidates_tried=state.candidates_tried,
        duration_s=round(time.monotonic() - state.started, 3),
        reason=reason,
        run_id=workspace.run_id,
        warnings=tuple(dict.fromkeys([*warnings, *runner.warnings, *flagged, *state.notes])),
        engines=tuple(e.name for e in ports.engines),
        analysis=analysis,
        project_subdir=workspace.project_subdir,
        worktree=str(workspace.worktree),
        extra={
            **(extra or {}),
            **trust_extra,
            **({"partial": partial} if partial else {}),
            "baseline": _run_summary(baseline),
            "final": _run_summary(shown_final or final),
            "usage": {e.name: dict(e.usage()) for e in ports.engines},
        },
    )
    ports.trace.write(
        "run_end",
        status=status.value,
        reason=reason,
        branch=branch,
        head=head,
        rounds=len(state.rounds),
        candidates_tried=state.candidates_tried,
        duration_s=result.duration_s,
    )
    return result


PARTIAL_PREFIX = "refs/mendbot/partial"


def _set_aside(workspace: Workspace, state: RunState) -> dict[str, object]:
    """Rounds kept on the way to a run that did not end fixed are partial and unproven: the
    run offers nothing to merge or apply. They stay reachable under a ref of the run, and
    the branch goes back to where it was before the first round."""
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


def _trust_summary(
    state: RunState,
    runner: TestRunner,
    workspace: Workspace,
    baseline: TestRun,
    final: TestRun,
    changed: bool,
) -> dict[str, object]:
    """What the result says about trust: flaky tests, every gate, coverage, the runners-up."""
    gates: list[dict[str, object]] = [state.flakiness.gate().to_json()]
    gates += state.gates
    found: dict[str, object] = {
        "flaky": state.flakiness.to_json(),
        "gates": gates,
        "runners_up": list(state.runners_up),
        "ranking": list(state.ranking),
    }
    if changed and state.base_sources and runner.coverage_available:
        now = read_sources(workspace.project_dir)[0]
        measured = measure(state.base_sources, now, executed(baseline), executed(final))
        found["coverage"] = measured.to_json()
    return found
