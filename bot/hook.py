"""The pre-commit hook: test the commit being made, repair it, hand the fix back.

The commit being made is the staged tree (``$GIT_INDEX_FILE`` when git set it, else the
index), snapshotted into a commit from a copy of the index. Only the tests related to the
staged Python files run, in a plain export of that snapshot. When they fail, the pipeline
repairs the snapshot on the ``mendbot/hook`` branch within a time budget, and the verified
patch is applied to the working tree, like a fixer such as ruff: the file changes, the hook
fails, the user reviews and stages.

The index is never written and nothing is committed to the user's branch; how the fix is
handed back without losing work is in :mod:`bot.handback`.
"""

from __future__ import annotations

import enum
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot import gitcmd
from bot import workspace as ws
from bot.analysis.dependencies import check_dependencies, sandbox_python
from bot.config import Settings
from bot.deadline import Deadline, bounded
from bot.errors import RepositoryError, TestSetupError
from bot.handback import HookRun, git_common_dir, hand_back, hook_run, patch_files
from bot.ignored import bring_ignored
from bot.models import RunResult, RunStatus, TestRun, Trigger, TriggerKind
from bot.pipeline import Progress
from bot.related import Related, load_coverage_map, related_tests, save_coverage_map
from bot.sandbox.base import Sandbox
from bot.testing.runner import TestRunner

HOOK_BRANCH = "mendbot/hook"
HOOK_ID = "mendbot"
DEFAULT_TIME_BUDGET = 60.0
CHECK_TIMEOUT_FLOOR = 600.0  # seconds the related tests may take before the check gives up
ZERO_SHA = "0" * 40
ALL_FILES_NOTE = (
    "nothing is staged (`pre-commit run --all-files` or `--files`): mendbot ran every test of "
    "the project, not only the ones related to staged files"
)

RepairFunction = Callable[[Trigger, Settings], RunResult]


class Mode(enum.StrEnum):
    APPLY = "apply"  # write the verified fix to the working tree
    REPORT_ONLY = "report-only"  # repair, print the fix, touch no file
    CHECK_ONLY = "check-only"  # run the related tests, no repair


class HookStatus(enum.StrEnum):
    SKIPPED = "skipped"
    NOTHING_TO_TEST = "nothing_to_test"
    PASSED = "passed"
    FAILED = "failed"  # check-only: the related tests fail
    FIXED = "fixed"  # the fix is in the working tree
    FIX_REPORTED = "fix_reported"  # a fix exists on the branch; no file was touched
    FIX_CONFLICT = "fix_conflict"  # the fix conflicts with the user's changes: theirs kept
    NOT_FIXED = "not_fixed"
    BUDGET = "budget_ran_out"


PASSING = (HookStatus.SKIPPED, HookStatus.NOTHING_TO_TEST, HookStatus.PASSED)


@dataclass(frozen=True)
class HookRequest:
    project: Path  # the project folder (pre-commit runs hooks at the repository's top)
    mode: Mode = Mode.APPLY
    run_all: bool = False  # every test instead of the related ones; records the coverage map
    files: tuple[str, ...] = ()  # changed files given on the command line (cwd-relative)
    environ: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HookReport:
    status: HookStatus
    message: str
    tests: tuple[str, ...] = ()  # the related tests, with the reason each was chosen
    details: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    diff: str = ""
    root_causes: tuple[str, ...] = ()
    branch: str = ""
    result: RunResult | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.status in PASSING else 1


# ---------------------------------------------------------------- environment


def skip_requested(environ: Mapping[str, str]) -> bool:
    """pre-commit's convention: ``SKIP=mendbot,other git commit`` skips these hook ids."""
    return HOOK_ID in {part.strip() for part in environ.get("SKIP", "").split(",")}


def coverage_map_path(top: Path) -> Path:
    return git_common_dir(top) / "mendbot" / "coverage-map.json"


# ---------------------------------------------------------------- what the commit is


@dataclass(frozen=True)
class Base:
    commit: str  # the snapshot the tests run on and the repair starts from
    changed: tuple[str, ...]  # repository-relative paths
    label: str
    can_apply: bool = True  # False: the working tree is not what the base was made from
    why_not: str = ""


def _changed_between(top: Path, old: str, new: str) -> tuple[str, ...]:
    out = ws.run_git(
        ["diff-tree", "-r", "-z", "--no-renames", "--name-only", "--no-commit-id", old, new], top
    )
    return tuple(p for p in out.split("\0") if p)


def _repository_path(top: Path, given: str) -> str:
    try:
        return (Path.cwd() / given).resolve().relative_to(top).as_posix()
    except ValueError:
        return Path(given).as_posix()


def _resolve(top: Path, ref: str) -> str | None:
    out = ws.run_git(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], top, check=False)
    return out.strip() or None


def choose_base(top: Path, request: HookRequest, head: str, index: Path, run_id: str) -> Base:
    environ = request.environ
    to_ref = environ.get("PRE_COMMIT_TO_REF", "")
    from_ref = environ.get("PRE_COMMIT_FROM_REF", "")
    if to_ref:  # pre-push: the commits being pushed
        target = _resolve(top, to_ref)
        if target is None:
            raise RepositoryError(
                f"PRE_COMMIT_TO_REF={to_ref} is not a commit here",
                hint="pre-commit sets it for pre-push; unset it to check the staged files",
            )
        origin = _resolve(top, from_ref) if from_ref and from_ref != ZERO_SHA else None
        if origin is None:
            empty = ws.run_git(["hash-object", "-t", "tree", "/dev/null"], top).strip()
            changed = _changed_between(top, empty, target)
        else:
            merge_base = ws.run_git(["merge-base", origin, target], top, check=False).strip()
            changed = _changed_between(top, merge_base or origin, target)
        same = target == head
        # a commit of its own (same tree), so a repair never resumes an earlier run's branch
        tree = ws.run_git(["rev-parse", f"{target}^{{tree}}"], top).strip()
        message = f"mendbot: the pushed commit {target}\n\nSnapshot for the hook run {run_id}."
        snapshot = ws.run_git(["commit-tree", tree, "-p", target, "-m", message], top).strip()
        return Base(
            commit=snapshot,
            changed=changed,
            label=f"push of {target[:10]}",
            can_apply=same,
            why_not="" if same else f"the pushed commit {target[:10]} is not checked out",
        )
    message = (
        "mendbot: the staged tree of the commit being made\n\n"
        f"Snapshot for the pre-commit hook run {run_id}; the user's index is not changed."
    )
    snapshot = ws.snapshot_index(top, index, head, message)
    if request.files:
        changed = tuple(_repository_path(top, f) for f in request.files)
    else:
        changed = _changed_between(top, head, snapshot)
    return Base(commit=snapshot, changed=changed, label="the staged changes")


# ---------------------------------------------------------------- the hook


def _project_relative(changed: Sequence[str], subdir: str) -> list[str]:
    if not subdir:
        return list(changed)
    prefix = subdir + "/"
    return [c[len(prefix) :] for c in changed if c.startswith(prefix)]


def _failure_lines(run: TestRun) -> list[str]:
    by_id = run.by_id()
    lines = [f"failing: {n}: {by_id[n].message}".rstrip(": ") for n in run.failing]
    lines += [f"cannot collect {e.path or 'tests'}: {e.message}" for e in run.collection_errors]
    if run.timed_out:
        lines.append("the test run was stopped at its time limit")
    return lines[:20]


def _tried(result: RunResult) -> list[str]:
    engines = ", ".join(result.engines) or "none"
    lines = [f"tried: {result.candidates_tried} candidate fixes from {engines}"]
    for round_ in result.rounds:
        if not round_.commit:
            lines.append(f"  round {round_.number}: {round_.description} ({round_.reason})")
    lines += [f"still failing: {n}" for n in result.remaining_failures[:10]]
    return lines


def _unborn(folder: Path) -> bool:
    """Inside a repository that has no commit yet."""
    inside = ws.run_git(["rev-parse", "--git-dir"], folder, check=False)
    head = ws.run_git(["rev-parse", "-q", "--verify", "HEAD"], folder, check=False)
    return bool(inside.strip()) and not head.strip()


def run_hook(
    request: HookRequest,
    settings: Settings,
    sandbox: Sandbox,
    repair: RepairFunction,
    progress: Progress,
) -> HookReport:
    if skip_requested(request.environ):
        return HookReport(HookStatus.SKIPPED, f"skipped (SKIP={request.environ.get('SKIP')})")
    try:
        repo, top, subdir = ws.open_repository(request.project)
    except RepositoryError:
        if request.project.is_dir() and _unborn(request.project):
            return HookReport(
                HookStatus.NOTHING_TO_TEST,
                "nothing to test: this is the repository's first commit (mendbot checks "
                "commits from the second one on)",
            )
        raise
    del repo
    # one budget for the related tests and the repair together (a check without repair may
    # take the check's own limit)
    clock = Deadline.start(
        max(CHECK_TIMEOUT_FLOOR, settings.time_budget)
        if request.mode is Mode.CHECK_ONLY
        else settings.time_budget
    )
    sandbox = bounded(sandbox, clock)
    head = ws.run_git(["rev-parse", "HEAD"], top).strip()
    index = ws.index_file(top, request.environ)
    run_id = ws.new_run_id()
    with hook_run(top, run_id) as run:
        base = choose_base(top, request, head, index, run_id)
        report = _check(
            request, settings, sandbox, repair, progress, run, subdir, base, index, clock
        )
    if run.notes:
        return replace(report, notes=(*run.notes, *report.notes))
    return report


def _check(
    request: HookRequest,
    settings: Settings,
    sandbox: Sandbox,
    repair: RepairFunction,
    progress: Progress,
    run: HookRun,
    subdir: str,
    base: Base,
    index: Path,
    clock: Deadline,
) -> HookReport:
    """Run the related tests of ``base``; repair when they fail, in the time left."""
    changed = _project_relative(base.changed, subdir)
    python_changed = [c for c in changed if c.endswith(".py")]
    # pre-commit runs the hook with nothing staged only for --all-files or --files (on a
    # commit it skips a hook no staged file matches): that asks for the whole project
    whole_project = (
        not request.run_all and not base.changed and request.environ.get("PRE_COMMIT") == "1"
    )
    if whole_project:
        progress.note(ALL_FILES_NOTE)
        request = replace(request, run_all=True)
    if not request.run_all and not python_changed:
        return HookReport(
            HookStatus.NOTHING_TO_TEST,
            f"nothing to test: no Python file of the project changed in {base.label}",
        )
    progress.stage("related tests", "finding the tests related to the changed files")
    export = run.scratch / "tree"
    ws.export_tree(run.top, base.commit, export)
    bring_ignored(run.top, export)  # generated files the tests may need, as in a fix run
    project_dir = export / subdir if subdir else export
    map_path = coverage_map_path(run.top)
    related = Related(tests=())
    if not request.run_all:
        related = related_tests(project_dir, python_changed, load_coverage_map(map_path, subdir))
        if not related.tests:
            shown = ", ".join(python_changed[:5]) + (" ..." if len(python_changed) > 5 else "")
            return HookReport(
                HookStatus.NOTHING_TO_TEST,
                f"nothing to test: no tests are related to {shown}",
            )
    described = tuple(related.describe()) if related.tests else ("all tests (--all)",)
    progress.stage("related tests", f"running {len(related.tests) or 'all'} test file(s)")
    runner = TestRunner(
        sandbox,
        export,
        project_dir,
        settings.pytest_args,
        autoload=settings.plugin_autoload,
        checkout=run.top,
    )
    try:
        check = runner.run(
            related.tests,
            timeout=clock.limit(),
            per_test_timeout=settings.test_timeout,
            coverage=request.run_all,
        )
    except TestSetupError as error:
        raise explain_setup_error(error, settings) from None
    finally:
        runner.close()
    check_dependencies(check, (project_dir, export), sandbox_python(sandbox))
    notes = [ALL_FILES_NOTE] if whole_project else []
    notes += runner.warnings
    if request.run_all and check.coverage:
        count = save_coverage_map(map_path, subdir, base.commit, check.coverage)
        notes.append(f"recorded which files {count} test(s) run in {map_path}")
    if not check.results and not check.collection_errors and not check.timed_out:
        return HookReport(
            HookStatus.NOTHING_TO_TEST,
            "nothing to test: pytest collected no tests from the related test files",
            tests=described,
            notes=tuple(notes),
        )
    if check.timed_out and request.mode is not Mode.CHECK_ONLY:
        return HookReport(
            HookStatus.BUDGET,
            f"the time budget of {settings.time_budget:g}s ran out before the related tests "
            "finished",
            tests=described,
            details=(_budget_hint(settings),),
            notes=tuple(notes),
        )
    if check.green:
        return HookReport(
            HookStatus.PASSED,
            f"{len(check.passing)} related test(s) passed in {check.duration:.1f}s",
            tests=described,
            notes=tuple(notes),
        )
    failures = _failure_lines(check)
    if request.mode is Mode.CHECK_ONLY:
        return HookReport(
            HookStatus.FAILED,
            f"{len(check.failing) + len(check.collection_errors)} related test(s) fail "
            "(--check-only: no repair was tried)",
            tests=described,
            details=tuple(failures),
            notes=tuple(notes),
        )
    progress.note(
        f"{len(check.failing) + len(check.collection_errors)} related test(s) fail; "
        f"repairing within {settings.time_budget:g}s"
    )
    trigger = Trigger(
        kind=TriggerKind.HOOK,
        repo_path=request.project,
        base_ref=base.commit,
        include_uncommitted=False,
        branch_name=HOOK_BRANCH,
        label=f"pre-commit hook: {base.label}",
    )
    selection = (*settings.pytest_args, *related.tests)
    try:
        result = repair(
            trigger, settings.replace(pytest_args=selection, time_budget=clock.remaining())
        )
    except TestSetupError as error:
        if not clock.expired():
            raise explain_setup_error(error, settings) from None
        return HookReport(
            HookStatus.BUDGET,
            f"the time budget of {settings.time_budget:g}s ran out before the tests finished",
            tests=described,
            details=(*failures, _budget_hint(settings)),
            notes=tuple(notes),
        )
    report = _after_repair(request, run, base, index, result, settings, failures)
    return replace(report, tests=described, notes=(*notes, *report.notes))


def pre_commit_stash(environ: Mapping[str, str]) -> Path | None:
    """The patch in which the pre-commit framework set the user's unstaged changes aside for
    this hook run (it names it after its own process, the hook's parent), if it did."""
    if environ.get("PRE_COMMIT") != "1":
        return None
    home = environ.get("PRE_COMMIT_HOME")
    if home:
        store = Path(home)
    else:
        cache = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        store = Path(cache) / "pre-commit"
    found = sorted(store.glob(f"patch*-{os.getppid()}"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _reapplies(top: Path, patch: Path) -> bool:
    """Whether pre-commit can put the set-aside changes back over the working tree as it
    is now (it runs ``git apply`` on them; when that fails, it rolls the hook's fixes back)."""
    check = gitcmd.run(
        ["apply", "--check", "--whitespace=nowarn", str(patch)], ws.place(top), timeout=60
    )
    return check.returncode == 0 and not check.timed_out


def _restored_with_fix(top: Path, staged: str, set_aside: Path, fix: str) -> bool:
    """Whether the files pre-commit restores (the staged ones with the set-aside changes
    applied) already hold the fix: the user had made the same change, unstaged."""
    files = {*patch_files(top, set_aside.read_text(encoding="utf-8", errors="replace"))}
    files |= set(patch_files(top, fix))
    with tempfile.TemporaryDirectory(prefix="mendbot-restored-") as folder:
        for name in files:
            target = Path(folder, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            found = gitcmd.run(["cat-file", "blob", f"{staged}:{name}"], ws.place(top))
            if found.returncode == 0:
                target.write_text(found.stdout)
        (Path(folder) / FIX_FILE).write_text(fix, encoding="utf-8")
        steps = (
            ["apply", "--whitespace=nowarn", str(set_aside)],
            ["apply", "--check", "--reverse", "--whitespace=nowarn", FIX_FILE],
        )
        for step in steps:
            done = gitcmd.run(step, gitcmd.Place(Path(folder)), timeout=60)
            if done.returncode != 0 or done.timed_out:
                return False
    return True


FIX_FILE = ".mendbot-fix.patch"


def _budget_hint(settings: Settings) -> str:
    return (
        f"give it more time: mendbot hook --time-budget {max(120.0, settings.time_budget * 2):g} "
        "(in .pre-commit-config.yaml: args: [--time-budget=...])"
    )


def explain_setup_error(error: TestSetupError, settings: Settings) -> TestSetupError:
    """The same error, naming the interpreter and how to change it."""
    python = settings.python or sys.executable
    if "No module named pytest" in error.message:
        return TestSetupError(
            f"pytest is not installed for {python}, the interpreter that runs the tests",
            hint=f"install it (`{python} -m pip install pytest`), or name an interpreter that "
            "has it: python = '...' in [tool.mendbot], MENDBOT_PYTHON, or --python",
        )
    return TestSetupError(f"{error.message} (tests run with {python})", hint=error.hint)


def _after_repair(
    request: HookRequest,
    run: HookRun,
    base: Base,
    index: Path,
    result: RunResult,
    settings: Settings,
    failures: Sequence[str],
) -> HookReport:
    kept = [r for r in result.rounds if r.commit and not r.partial]
    causes = tuple(r.root_cause for r in kept if r.root_cause)
    if not kept:
        ws.delete_branch(run.top, HOOK_BRANCH)  # it only holds the snapshot: nothing to take
    take = f"git diff {result.base[:12]} {HOOK_BRANCH} | git apply"
    if result.status is RunStatus.NOTHING_TO_FIX:
        return HookReport(
            HookStatus.FAILED,
            "the related tests failed, then passed when run again: is one of them flaky?",
            details=tuple(failures),
            result=result,
        )
    if result.status is not RunStatus.FIXED:
        aside = result.extra.get("partial")
        partial = (
            (
                f"rounds that fixed some tests are partial and unproven, kept under {aside['ref']} "
                "and not offered",
            )
            if isinstance(aside, dict)
            else ()
        )
        if "time budget" in result.reason:
            return HookReport(
                HookStatus.BUDGET,
                f"the time budget of {settings.time_budget:g}s ran out before a verified fix "
                "was found",
                details=(*failures, *_tried(result), *partial, _budget_hint(settings)),
                diff=result.diff if kept else "",
                root_causes=causes,
                branch=HOOK_BRANCH if kept else "",
                result=result,
            )
        return HookReport(
            HookStatus.NOT_FIXED,
            f"could not repair: {result.reason}",
            details=(*failures, *_tried(result), *partial),
            diff=result.diff if kept else "",
            root_causes=causes,
            branch=HOOK_BRANCH if kept else "",
            result=result,
        )
    fixed = len(result.fixed_tests)
    if request.mode is Mode.REPORT_ONLY or not base.can_apply:
        why = "--report-only" if request.mode is Mode.REPORT_ONLY else base.why_not
        return HookReport(
            HookStatus.FIX_REPORTED,
            f"found a verified fix for {fixed} test(s); no file was changed ({why})",
            details=(f"the fix is on branch {HOOK_BRANCH}; take it with: {take}",),
            diff=result.diff,
            root_causes=causes,
            branch=HOOK_BRANCH,
            result=result,
        )
    outcome = hand_back(run.top, run.folder, index, result.diff)
    set_aside = pre_commit_stash(request.environ)
    if (
        outcome.applied
        and set_aside is not None
        and not _reapplies(run.top, set_aside)
        and not _restored_with_fix(run.top, base.commit, set_aside, result.diff)
    ):
        # pre-commit put the user's unstaged changes aside before the hook; they touch the
        # lines the fix changed, so when it puts them back it rolls the fix back first
        return HookReport(
            HookStatus.FIX_CONFLICT,
            f"found a verified fix for {fixed} test(s), but your unstaged changes touch the "
            "same lines: pre-commit will roll the fix back when it restores them, so your "
            "working tree keeps your version",
            details=(
                f"the fix is on branch {HOOK_BRANCH}; after pre-commit restored your changes, "
                f"take it with: {take}",
            ),
            diff=result.diff,
            root_causes=causes,
            branch=HOOK_BRANCH,
            result=result,
        )
    if outcome.applied:
        where = "was already" if outcome.already else "is"
        return HookReport(
            HookStatus.FIXED,
            f"fixed {fixed} failing test(s): the verified fix {where} in your working tree "
            "(not staged); review it, `git add` it and commit again",
            details=(f"the fix is also on branch {HOOK_BRANCH}",),
            diff=result.diff,
            root_causes=causes,
            branch=HOOK_BRANCH,
            result=result,
        )
    return HookReport(
        HookStatus.FIX_CONFLICT,
        f"found a verified fix for {fixed} test(s), but {outcome.reason} in "
        f"{', '.join(outcome.conflict_files)}: your version was kept",
        details=(f"the fix is on branch {HOOK_BRANCH}; take it with: {take}",),
        diff=result.diff,
        root_causes=causes,
        branch=HOOK_BRANCH,
        result=result,
    )
