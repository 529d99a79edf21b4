"""The one sequencer: trigger -> workspace -> baseline -> analysis -> candidates -> validation
-> round -> result. Stages do not call each other; this module passes their values along."""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot import workspace as ws
from bot.analysis.classify import failures_of, is_test_path
from bot.analysis.localize import localize
from bot.analysis.rca import root_cause_note
from bot.config import Settings
from bot.edits import check_path
from bot.engines.base import Engine, FeedbackLog, RepairContext
from bot.errors import TestSetupError
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
from bot.testing.runner import TestRunner
from bot.trace import Trace
from bot.validate import Validator, complete, per_test_timeout

BATCH_SIZE = 48
STUCK_REPEATS = 3
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


def read_sources(project_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Project-relative Python files: (code under repair, tests)."""
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
        (tests if is_test_path(key) else code)[key] = text
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
    deadline: float
    candidates_tried: int = 0
    rounds: list[Round] = field(default_factory=list)
    fingerprints: dict[str, int] = field(default_factory=dict)
    rejected_texts: set[str] = field(default_factory=set)


def repair(
    trigger: Trigger, settings: Settings, ports: Ports, *, run_id: str | None = None
) -> RunResult:
    started = time.monotonic()
    state = RunState(started=started, deadline=started + settings.time_budget)
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
        runner = TestRunner(
            ports.sandbox,
            workspace.worktree,
            workspace.project_dir,
            settings.pytest_args,
            autoload=settings.plugin_autoload,
        )
        try:
            return _run(trigger, settings, ports, workspace, runner, state)
        finally:
            runner.close()


def _run(
    trigger: Trigger,
    settings: Settings,
    ports: Ports,
    workspace: Workspace,
    runner: TestRunner,
    state: RunState,
) -> RunResult:
    progress, trace = ports.progress, ports.trace
    warnings = list(ports.sandbox.warnings()) + list(ports.notes)
    progress.stage("baseline", "running the tests at the base commit")
    baseline = runner.run(
        timeout=settings.time_budget, per_test_timeout=settings.test_timeout, coverage=True
    )
    trace.write("baseline", **_run_summary(baseline))
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
    first_failures = set(baseline.failing) | {e.path for e in baseline.collection_errors}
    if baseline.green:
        return _finish(
            settings,
            ports,
            workspace,
            runner,
            state,
            baseline,
            baseline,
            RunStatus.NOTHING_TO_FIX,
            "all selected tests pass",
            warnings,
            None,
        )
    validator = Validator(
        runner, workspace, settings.validation, settings.workers, settings.test_timeout
    )
    current = baseline
    analysis: Analysis | None = None
    reason = ""
    for number in range(1, settings.max_rounds + 1):
        if time.monotonic() > state.deadline:
            reason = f"the time budget of {settings.time_budget:.0f}s ran out"
            break
        code, tests = read_sources(workspace.project_dir)
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
        )
        if outcome is None:
            reason = _give_up_reason(state, analysis, number)
            break
        current = outcome
        if current.green:
            break
    else:
        if not current.green:
            reason = f"stopped after {settings.max_rounds} rounds (--max-rounds)"
    status = RunStatus.FIXED if current.green else RunStatus.NOT_FIXED
    if status is RunStatus.FIXED:
        reason = "all selected tests pass"
    result_extra = {"screening": validator.stats.__dict__, "first_failures": sorted(first_failures)}
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


def _give_up_reason(state: RunState, analysis: Analysis, number: int) -> str:
    if time.monotonic() > state.deadline:
        return "the time budget ran out before a verified fix was found"
    failing = ", ".join(f.nodeid for f in analysis.failures[:3])
    return (
        f"no candidate fixed {failing} without breaking a passing test "
        f"({state.candidates_tried} candidates tried by round {number})"
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
    def of(cls, current: TestRun, targets: Sequence[str], sources: Mapping[str, str]) -> Selection:
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
            passing=tuple(current.passing),
            failing_index=index([t for t in targets if "::" in t]),
            passing_index=index(current.passing),
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
) -> TestRun | None:
    """Search for a candidate, prove it, commit it. Returns the new run or None."""
    targets = list(current.failing) + [e.path for e in current.collection_errors if e.path]
    selection = Selection.of(current, targets, code)

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
        result = _search(
            engine,
            context,
            number,
            settings,
            ports,
            workspace,
            runner,
            validator,
            state,
            current,
            selection,
            feedback,
        )
        if result is not None:
            return result
    return None


def _batches(candidates: Iterator[Candidate], size: int) -> Iterator[list[Candidate]]:
    batch: list[Candidate] = []
    for candidate in candidates:
        batch.append(candidate)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _search(
    engine: Engine,
    context: RepairContext,
    number: int,
    settings: Settings,
    ports: Ports,
    workspace: Workspace,
    runner: TestRunner,
    validator: Validator,
    state: RunState,
    current: TestRun,
    selection: Selection,
    feedback: FeedbackLog,
) -> TestRun | None:
    trace = ports.trace
    tried_this_round = 0
    size = 1 if engine.name == "llm" else BATCH_SIZE
    round_started = time.monotonic()
    # Partial fixes (some of the failing tests that run the changed lines pass) are kept in
    # reserve: a candidate that fixes them all is preferred, and only when none turns up
    # within most of the budget is the best partial one proven.
    reserve_after = round_started + 0.6 * max(0.0, state.deadline - round_started)
    partial: list[tuple[int, int, Candidate, Verdict]] = []
    order = 0
    for batch in _batches(engine.propose(context), size):
        if time.monotonic() > reserve_after or tried_this_round >= settings.candidate_budget:
            break
        admissible: list[Candidate] = []
        for candidate in batch:
            problem = _admissible(candidate, context, settings, workspace)
            if problem:
                verdict = Verdict(candidate.id, False, problem, stage="guard")
                feedback.add(candidate, verdict)
                trace.write(
                    "candidate",
                    id=candidate.id,
                    engine=candidate.engine,
                    template=candidate.template,
                    description=candidate.description,
                    accepted=False,
                    reason=problem,
                    stage="guard",
                )
                continue
            admissible.append(candidate)
        state.candidates_tried += len(batch)
        tried_this_round += len(batch)
        if not admissible:
            continue
        verdicts = validator.screen(admissible, selection, current)
        for candidate, maybe in zip(admissible, verdicts, strict=True):
            if maybe is None:
                continue
            verdict = maybe
            feedback.add(candidate, verdict)
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
            order += 1
            if verdict.accepted and verdict.still_failing:
                partial.append((-len(verdict.fixed), order, candidate, verdict))
        for candidate, maybe in zip(admissible, verdicts, strict=True):
            if not complete(maybe):
                continue
            assert maybe is not None
            proven = _prove(
                candidate,
                maybe,
                number,
                settings,
                ports,
                workspace,
                runner,
                state,
                current,
                context.analysis,
            )
            if proven is not None:
                return proven
        ports.progress.stage(
            f"round {number}", f"{engine.name}: {tried_this_round} candidates tried"
        )
    for _, _, candidate, verdict in sorted(partial, key=lambda item: item[:2])[:3]:
        if time.monotonic() > state.deadline:
            break
        proven = _prove(
            candidate,
            verdict,
            number,
            settings,
            ports,
            workspace,
            runner,
            state,
            current,
            context.analysis,
        )
        if proven is not None:
            return proven
    return None


def _admissible(
    candidate: Candidate, context: RepairContext, settings: Settings, workspace: Workspace
) -> str:
    for edit in candidate.edits:
        relative = (workspace.project_subdir + "/" if workspace.project_subdir else "") + edit.path
        problem = check_path(
            relative, workspace.worktree, settings.protected, settings.allow_test_edits
        )
        if problem:
            return problem
        try:
            compile(edit.new_text, edit.path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as error:
            return f"does not compile: {error}"
    return ""


def _prove(
    candidate: Candidate,
    verdict: Verdict,
    number: int,
    settings: Settings,
    ports: Ports,
    workspace: Workspace,
    runner: TestRunner,
    state: RunState,
    current: TestRun,
    analysis: Analysis,
) -> TestRun | None:
    """Commit the candidate, run the whole suite from the committed tree, keep or roll back."""
    started = time.monotonic()
    previous = ws.current_commit(workspace)
    ws.write_files(workspace, {e.path: e.new_text for e in candidate.edits})
    passed_before = set(current.passing)
    note = root_cause_note(analysis, candidate, verdict.fixed, len(passed_before))
    message = _commit_message(number, candidate, verdict, note, workspace)
    commit = ws.commit_round(workspace, candidate.files, message)
    ports.progress.stage(f"round {number}", f"verifying {candidate.description[:60]}")
    run = runner.run(
        timeout=max(30.0, state.deadline - time.monotonic() + 30.0),
        per_test_timeout=per_test_timeout(current, settings.test_timeout),
        coverage=True,
    )
    ws.restore_clean(workspace)
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
    ports.trace.write(
        "verify",
        candidate=candidate.id,
        commit=commit,
        fixed=fixed,
        broken=broken,
        **_run_summary(run),
    )
    duration = time.monotonic() - started
    if broken or new_errors or not fixed or (run.timed_out and not run.results):
        why = (
            f"breaks {', '.join(broken[:3])}"
            if broken
            else "new collection errors"
            if new_errors
            else "the full run did not confirm the fix"
        )
        ref = ws.rollback(workspace, previous, number)
        state.rounds.append(
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
                duration_s=round(duration, 3),
            )
        )
        ports.trace.write(
            "round",
            number=number,
            accepted=False,
            reason=why,
            rejected_ref=ref,
            template=candidate.template,
            description=candidate.description,
        )
        return None
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
        )
    )
    ports.trace.write(
        "round",
        number=number,
        accepted=True,
        commit=commit,
        fixed=fixed,
        template=candidate.template,
        description=candidate.description,
        root_cause=note,
        engine=candidate.engine,
    )
    ports.progress.note(f"round {number}: {candidate.description} fixes {len(fixed)} test(s)")
    return run


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
    return {
        "passed": len(run.passing),
        "failing": list(run.failing),
        "collection_errors": [e.path for e in run.collection_errors],
        "duration": round(run.duration, 3),
        "timed_out": run.timed_out,
        "outcomes": {r.nodeid: r.outcome.value for r in run.results},
    }


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
) -> RunResult:
    head = ws.current_commit(workspace)
    accepted = [r for r in state.rounds if r.commit]
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
        warnings=tuple(dict.fromkeys([*warnings, *runner.warnings])),
        engines=tuple(e.name for e in ports.engines),
        analysis=analysis,
        project_subdir=workspace.project_subdir,
        worktree=str(workspace.worktree),
        extra={
            **(extra or {}),
            "baseline": _run_summary(baseline),
            "final": _run_summary(final),
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
